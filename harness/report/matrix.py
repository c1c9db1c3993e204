"""The case x model matrix: one row per case, one column per model, each cell opens a transcript.

Cells are coloured by verdict (with samples > 1: the pass fraction, amber when mixed), and
candidate cells carry the comparison's transition (▼ now failing, ▲ now passing, ~ flaky).
Radio buttons and sibling selectors filter the rows without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.report.panels import Limits, e, panel_html

CaseKey = tuple[str, str]
MARKS = {"now_failing": ("▼", "now failing"), "now_passing": ("▲", "now passing"),
         "flaky": ("~", "flaky")}


@dataclass(frozen=True)
class Grid:
    """Records arranged for the matrix.

    Attributes:
        cases: ``(suite, case)`` in row order.
        models: Models in column order.
        cells: ``{(case, model): records sorted by sample}``.

    """

    cases: list[CaseKey]
    models: list[str]
    cells: dict[tuple[CaseKey, str], list[Mapping[str, Any]]]

    def row_id(self, row: int) -> str:
        """Fragment of a case's row."""
        return f"case-{row}"

    def panel_id(self, row: int, col: int) -> str:
        """Fragment of a cell's transcript panel."""
        return f"t-{row}-{col}"


def build_grid(records: Sequence[Mapping[str, Any]], models: Sequence[str]) -> Grid:
    """Group records by case and model; suites keep their first-seen order, cases likewise."""
    cells: dict[tuple[CaseKey, str], list[Mapping[str, Any]]] = {}
    order: dict[CaseKey, int] = {}
    suites: dict[str, int] = {}
    cols = list(dict.fromkeys([*models, *(str(r.get("model", "")) for r in records)]))
    for rec in records:
        key = (str(rec.get("suite", "")), str(rec.get("case", "")))
        suites.setdefault(key[0], len(suites))
        order.setdefault(key, len(order))
        cells.setdefault((key, str(rec.get("model", ""))), []).append(rec)
    for recs in cells.values():
        recs.sort(key=lambda r: int(r.get("sample") or 1))
    cases = sorted(order, key=lambda k: (suites[k[0]], order[k]))
    return Grid(cases, cols, cells)


def cell_state(recs: Sequence[Mapping[str, Any]]) -> tuple[str, str, str]:
    """``(css class, text shown, description)`` of one cell."""
    if not recs:
        return "v-none", "", "not run"
    verdicts = [str(r.get("verdict")) for r in recs]
    passed, failed = verdicts.count("pass"), verdicts.count("fail")
    errors, skipped = verdicts.count("error"), verdicts.count("skipped")
    judged = passed + failed
    if len(recs) == 1:
        v = verdicts[0]
        glyph = {"pass": "✓", "fail": "✗", "error": "E", "skipped": "-"}.get(v, "?")
        return f"v-{v}", glyph, v
    if errors:
        cls = "v-error"
    elif not judged:
        cls = "v-skipped"
    elif passed == judged:
        cls = "v-pass"
    elif passed == 0:
        cls = "v-fail"
    else:
        cls = "v-mixed"
    counts = [f"{n}{s}" for n, s in ((errors, "E"), (skipped, "S")) if n]
    text = " ".join(([f"{passed}/{judged}"] if judged else []) + counts)
    desc = f"{passed} of {judged} judged samples passed" + (
        f", {errors} ERROR" if errors else "") + (f", {skipped} skipped" if skipped else "")
    return cls, text, desc


def transitions(summary: Mapping[str, Any]) -> dict[tuple[str, str, str], str]:
    """``{(candidate, suite, case): transition}`` from the run's comparisons."""
    out: dict[tuple[str, str, str], str] = {}
    for comp in summary.get("comparisons", []):
        for c in comp.get("cases") or []:
            out[(str(comp.get("candidate")), str(c.get("suite")), str(c.get("id")))] = \
                str(c.get("transition"))
    return out


def _head(grid: Grid, summary: Mapping[str, Any]) -> str:
    models = summary.get("models", {})
    base = summary.get("baseline")
    ths = []
    for m in grid.models:
        rate = (models.get(m) or {}).get("pass_rate")
        sub = "" if rate is None else f"{100 * rate:.0f}%"
        tag = ' <span class="tag">baseline</span>' if m == base else ""
        ths.append(f'<th scope="col" title="{e(m)}"><span class="mname">{e(m)}</span>{tag}'
                   f'<span class="sub">{e(sub)}</span></th>')
    return f'<thead><tr><th scope="col" class="corner">case</th>{"".join(ths)}</tr></thead>'


def matrix_html(grid: Grid, summary: Mapping[str, Any]) -> str:
    """The matrix table with its filters (panels are rendered by :func:`panels_html`)."""
    trans = transitions(summary)
    rows = []
    multi_suite = len({s for s, _ in grid.cases}) > 1
    for r, (suite, case) in enumerate(grid.cases):
        tds, states = [], []
        for c, model in enumerate(grid.models):
            recs = grid.cells.get(((suite, case), model), [])
            cls, text, desc = cell_state(recs)
            states.append(cls)
            if not recs:
                tds.append('<td class="v-none" title="not run"></td>')
                continue
            mark = MARKS.get(trans.get((model, suite, case), ""))
            badge = f'<i class="mk" title="{mark[1]}">{mark[0]}</i>' if mark else ""
            label = f"{case} · {model}: {desc}" + (f" ({mark[1]})" if mark else "")
            tds.append(f'<td class="{cls}"><a href="#{grid.panel_id(r, c)}" '
                       f'title="{e(label)}">{e(text)}{badge}</a></td>')
        run = [s for s in states if s != "v-none"]
        flags = ["clean" if all(s == "v-pass" for s in run) else "bad",
                 "same" if len(set(run)) <= 1 else "diff"]
        suite_tag = f'<span class="suite">{e(suite)}</span>' if multi_suite else ""
        rows.append(f'<tr id="{grid.row_id(r)}" class="{" ".join(flags)}"><th scope="row">'
                    f'<span class="case">{e(case)}</span>{suite_tag}</th>{"".join(tds)}</tr>')
    filters = ('<div class="filters">'
               '<input type="radio" name="mf" id="mf-all" checked>'
               '<label for="mf-all">all cases</label>'
               '<input type="radio" name="mf" id="mf-bad"><label for="mf-bad">'
               "cases with a failure, error or skip</label>"
               '<input type="radio" name="mf" id="mf-diff"><label for="mf-diff">'
               "cases where models differ</label>")
    legend = ('<p class="legend"><span class="sw v-pass">✓</span> pass '
              '<span class="sw v-fail">✗</span> fail <span class="sw v-mixed">1/3</span> '
              'some samples pass <span class="sw v-error">E</span> ERROR (infrastructure) '
              '<span class="sw v-skipped">-</span> skipped · ▼ now failing ▲ now passing ~ flaky '
              "against the baseline · click a cell for its transcript</p>")
    return (f"{legend}{filters}<div class=\"mwrap\"><table class=\"matrix\">"
            f"{_head(grid, summary)}<tbody>{''.join(rows)}</tbody></table></div></div>")


def panels_html(grid: Grid, run_dir: Path | None, limits: Limits) -> str:
    """Every cell's transcript panel (hidden until targeted)."""
    out = []
    for r, case in enumerate(grid.cases):
        siblings = [(m, grid.panel_id(r, c)) for c, m in enumerate(grid.models)
                    if grid.cells.get((case, m))]
        for c, model in enumerate(grid.models):
            recs = grid.cells.get((case, model))
            if recs:
                out.append(panel_html(grid.panel_id(r, c), grid.row_id(r), case, model, recs,
                                      siblings, run_dir, limits))
    return "".join(out)


def case_links(grid: Grid) -> dict[tuple[str, str], tuple[int, dict[str, int]]]:
    """``{"suite::case" parts: (row, {model: column})}`` for linking case lists to panels."""
    cols = {m: c for c, m in enumerate(grid.models)}
    return {case: (r, cols) for r, case in enumerate(grid.cases)}
