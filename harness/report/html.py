"""``report.html``: one self-contained page for a run (no script, nothing fetched).

Layout: gate banner, model table, charts, comparisons, the case x model matrix with transcript
panels, history. Text from the run is untrusted: every interpolation is escaped (``e``), and the
Content-Security-Policy forbids scripts, plugins, frames and any network load, so even a missed
escape could not run code or phone home.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.report import charts, fmt
from harness.report.history import model_versions
from harness.report.matrix import Grid, build_grid, matrix_html, panels_html
from harness.report.panels import Limits, e
from harness.report.provenance import HEAD as PROVENANCE_HEAD
from harness.report.provenance import provenance_rows
from harness.report.style import CSS

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")


def outcome_mix(records: Sequence[Mapping[str, Any]],
                models: Sequence[str]) -> dict[str, dict[str, int]]:
    """Code-run outcomes per model: ``{model: {"OK", "FAILED", "DEADLINE", "OTHER": n}}``."""
    names = {"OUTCOME_OK": "OK", "OUTCOME_FAILED": "FAILED",
             "OUTCOME_DEADLINE_EXCEEDED": "DEADLINE"}
    mix: dict[str, Counter[str]] = {m: Counter() for m in models}
    for rec in records:
        counter = mix.setdefault(str(rec.get("model", "")), Counter())
        for outcome in rec.get("outcomes") or []:
            counter[names.get(str(outcome), "OTHER")] += 1
    return {m: {k: c[k] for k in ("OK", "FAILED", "DEADLINE", "OTHER")} for m, c in mix.items()}


def _gate(summary: Mapping[str, Any], limit: int = 20) -> str:
    gate = summary.get("gate") or {"ok": True, "reasons": []}
    notes = "".join(f"<li>{e(n)}</li>" for n in summary.get("notes") or [])
    notes = f'<ul class="muted">{notes}</ul>' if notes else ""
    if not summary.get("comparisons"):
        return f'<div class="gate none"><b>No comparison</b> — the gate had nothing to judge.' \
               f"{notes}</div>"
    warns = "".join(f"<li>{e(w)}</li>" for w in gate.get("warnings") or [])
    warns = f'<ul class="muted">{warns}</ul>' if warns else ""
    if gate.get("ok"):
        return (f'<div class="gate ok"><b>✓ Gate passed</b> — no candidate regressed.{warns}'
                f"{notes}</div>")
    reasons = list(gate.get("reasons") or [])
    items = "".join(f"<li>{e(fmt.truncate(r, 1500)[0])}</li>" for r in reasons[:limit])
    more = f"<li>… and {len(reasons) - limit} more (summary.json)</li>" \
        if len(reasons) > limit else ""
    return (f'<div class="gate bad"><b>✗ Gate failed</b><ul>{items}{more}</ul>{warns}'
            f"{notes}</div>")


def provenance_html(summary: Mapping[str, Any]) -> str:
    """Where the recordings came from, per model, with what that warns of."""
    rows = [[e(c) for c in row] for row in provenance_rows(summary.get("provenance") or {})]
    warns = "".join(f"<li>⚠️ {e(w)}</li>" for w in summary.get("provenance_warnings") or [])
    return _table(PROVENANCE_HEAD, rows) + (f'<ul class="muted">{warns}</ul>' if warns else "")


def _ci_bar(low: float | None, high: float | None, rate: float | None) -> str:
    if low is None or high is None or rate is None:
        return ""
    return (f'<span class="cibar" aria-hidden="true"><i style="left:{100 * low:.1f}%;'
            f'width:{100 * (high - low):.1f}%"></i><b style="left:calc({100 * rate:.1f}% - 1px)">'
            "</b></span>")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    ths = "".join(f'<th scope="col">{e(h)}</th>' for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<div class="tw"><table class="models"><thead><tr>{ths}</tr></thead>'
            f"<tbody>{trs}</tbody></table></div>")


def models_table(summary: Mapping[str, Any], versions: Mapping[str, str | None]) -> str:
    """Two per-model tables: verdicts with the pass-rate interval drawn, then how and at what cost.

    One table with every figure is too wide to read; the split keeps the decision (pass rate)
    apart from the diagnosis (attempts, deadlines, tokens, cost).
    """
    models = summary.get("models", {})
    multi = fmt.samples_of(summary) > 1
    conf = round(100 * float(summary.get("confidence") or 0.95))
    first = ["model", "items", "passed", "failed", "errors", "skipped",
             f"pass rate ({conf}% CI)"] + (["pass@k", "pass^k"] if multi else [])
    second = ["model", "first try", "recovered after a failed run", "deadline exceeded",
              "mean attempts", "check score", "tokens", "latency p50 / p90", "cost",
              "retried calls"] + (["verified"] if fmt.verifies(summary) else [])
    rows1, rows2 = [], []
    for name, m in models.items():
        rate = m.get("pass_rate")
        lat = m.get("latency_s") or {}
        version = versions.get(name)
        label = f"<b>{e(name)}</b>" + (f'<span class="ver">{e(version)}</span>' if version
                                        else "")
        row = [label, *(e(m.get(k, 0)) for k in ("items", "passed", "failed", "errors",
                                                  "skipped")),
               f"<b>{e(fmt.pct(rate))}</b> <span class='muted'>"
               f"{e(fmt.interval(m.get('ci_low'), m.get('ci_high')))}</span>"
               + _ci_bar(m.get("ci_low"), m.get("ci_high"), rate)]
        if multi:
            for key in ("pass_at_k", "pass_hat_k"):
                top = fmt.top_k(m, key)
                row.append("n/a" if top is None else
                           f"{e(fmt.pct(top[1]))} <span class='muted'>k={top[0]}</span>")
        rows1.append(row)
        rows2.append([label, e(fmt.pct(m.get("first_try_rate"))),
                      e(fmt.pct(m.get("recovered_rate"))),
                      e(fmt.pct(m.get("deadline_exceeded_rate"))),
                      e(fmt.num(m.get("mean_attempts"))), e(fmt.pct(m.get("check_score"))),
                      e(fmt.count(fmt.total_tokens(m))),
                      e(f"{fmt.seconds(lat.get('median'))} / {fmt.seconds(lat.get('p90'))}"),
                      e(fmt.cost(m.get("cost_usd"))), e(str(m.get("retries", 0))),
                      *([e(fmt.verified(m))] if fmt.verifies(summary) else [])])
    return (_table(first, rows1) + '<p class="muted small">Rates are over judged items '
            "(passed + failed); ERRORs and skips are counted apart. First try + recovered = "
            "pass rate.</p>" + _table(second, rows2))


def _case_item(label: str, detail: Mapping[str, Any] | None, href: str | None) -> str:
    frac = ""
    if detail:
        b, c = detail.get("baseline") or {}, detail.get("candidate") or {}
        frac = (f' <span class="muted">{b.get("passed")}/{b.get("judged")} → '
                f'{c.get("passed")}/{c.get("judged")}</span>')
    name = f'<a href="#{e(href)}">{e(label)}</a>' if href else e(label)
    return f"<li>{name}{frac}</li>"


def comparison_card(c: Mapping[str, Any], grid: Grid, limit: int = 200) -> str:
    """One baseline-vs-candidate card; case names link to the candidate's transcript."""
    verdict = str(c.get("verdict"))
    conf = round(100 * float(c.get("confidence") or 0.95))
    details = {str(d.get("case")): d for d in c.get("cases") or []}
    rows = {f"{s}::{k}": r for r, (s, k) in enumerate(grid.cases)}
    col = grid.models.index(c["candidate"]) if c.get("candidate") in grid.models else None

    def href(label: str) -> str | None:
        r = rows.get(label)
        return None if r is None or col is None else grid.panel_id(r, col)

    lists = []
    for key, title, opened in (("regressed", "Regressed", True), ("improved", "Improved", True),
                               ("now_failing", "Now failing", True),
                               ("now_passing", "Now passing", True),
                               ("flaky", "Flaky", False), ("still_failing", "Still failing",
                                                           False)):
        labels = list(c.get(key) or [])
        if not labels:
            continue
        items = "".join(_case_item(lb, details.get(lb), href(lb)) for lb in labels[:limit])
        more = f"<li>… and {len(labels) - limit} more</li>" if len(labels) > limit else ""
        lists.append(f'<details{" open" if opened else ""}><summary>{e(title)} '
                     f'({len(labels)})</summary><ul class="cases">{items}{more}</ul></details>')
    extra = [(f"{x.get('case')}: {x.get('reason')}") for x in c.get("excluded") or []]
    for key, title in (("only_baseline", "only the baseline ran"),
                       ("only_candidate", "only the candidate ran")):
        extra += [f"{lb}: {title}" for lb in c.get(key) or []]
    if extra:
        items = "".join(f"<li>{e(x)}</li>" for x in extra[:limit])
        lists.append(f"<details><summary>Not compared ({len(extra)})</summary>"
                     f'<ul class="cases">{items}</ul></details>')
    counts = "".join(f"<span>{e(k.replace('_', ' '))} {len(c.get(k) or [])}</span>"
                     for k in ("regressed", "improved", "now_failing", "now_passing", "flaky",
                               "still_passing", "still_failing"))
    return (f'<article class="cmp {e(verdict)}"><h3>{e(c.get("candidate"))} '
            f'<span class="muted">vs</span> {e(c.get("baseline"))}'
            f'<span class="verdict">{e(verdict)}</span></h3>'
            f'<p class="big">{e(fmt.pct(c.get("baseline_rate")))} → '
            f'{e(fmt.pct(c.get("candidate_rate")))} <span>{e(fmt.pts(c.get("difference")))} '
            f'{conf}% CI {e(fmt.pts_interval(c.get("ci_low"), c.get("ci_high")))}</span></p>'
            f'<p class="muted">{e(c.get("test"))} p = {e(fmt.p_value(c.get("p_value")))} · '
            f'{e(c.get("down", 0))} cases worse, {e(c.get("up", 0))} better · '
            f'{e(c.get("paired_cases", 0))} paired cases · alpha {e(c.get("alpha"))}</p>'
            f'<div class="counts">{counts}</div>{"".join(lists)}</article>')


def _section(sid: str, title: str, body: str) -> str:
    return f'<section class="card" id="{sid}"><h2>{e(title)}</h2>{body}</section>'


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{e(caption)}</figcaption>{svg}</figure>"


def render_html(records: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], *,
                run_dir: Path | None = None, run_id: str | None = None,
                history: Sequence[Mapping[str, Any]] | None = None,
                limits: Limits | None = None) -> str:
    """The whole ``report.html``.

    Args:
        records: The run's result records (deduplicated: one per case, model and sample).
        summary: Its ``summary.json`` dict.
        run_dir: The run directory, where image files are read from.
        run_id: Shown in the title.
        history: ``reports/history.jsonl`` lines for the pass-rate-over-time chart.
        limits: Size caps (defaults suit thousands of items).

    Returns:
        The HTML document.

    """
    limits = (limits or Limits()).for_items(len(records))
    models = summary.get("models", {})
    grid = build_grid(records, list(models))
    versions = model_versions(records)
    conf = float(summary.get("confidence") or 0.95)
    comps = summary.get("comparisons") or []
    items = sum(int(m.get("items") or 0) for m in models.values())
    target = next((str(r["target"]) for r in records if r.get("target")), None)
    meta = (f"{items:,} items · {len(grid.cases):,} cases · {len(grid.models)} models · "
            f"{fmt.samples_of(summary)} sample(s) per case"
            + (f" · baseline {summary['baseline']}" if summary.get("baseline") else "")
            + (f" · target {target}" if target else ""))
    toc = [("models", "Models"), ("charts", "Charts")] + (
        [("comparisons", "Comparisons")] if comps else []) + [("matrix", "Case matrix")] + (
        [("provenance", "Provenance")] if summary.get("provenance") else []) + (
        [("history", "History")] if history else []) + [("methods", "Methods")]
    sections = [_section("models", "Models", models_table(summary, versions)
                         if models else '<p class="muted">No eval items ran.</p>')]
    if models:
        mix = outcome_mix(records, list(models))
        sections.append(_section("charts", "Charts", '<div class="charts">' + "".join([
            _figure(f"Pass rate with {round(100 * conf)}% interval",
                    charts.pass_rate_chart(models, conf)),
            _figure("Outcome of every code run", charts.outcome_chart(mix)),
            _figure("Mean tokens per item by kind", charts.token_chart(models))]) + "</div>"))
    if comps:
        sections.append(_section(
            "comparisons", "Comparisons",
            _figure("Difference in pass rate with interval", charts.difference_chart(comps))
            + '<div class="cmps">' + "".join(comparison_card(c, grid) for c in comps)
            + "</div>"))
    if summary.get("what_changed"):
        from harness.report.changes import changes_html

        toc.insert(toc.index(("matrix", "Case matrix")), ("changes", "What changed"))
        sections.append(_section("changes", "What changed", changes_html(summary["what_changed"])))
    sections.append(_section("matrix", "Case matrix", matrix_html(grid, summary)))
    if summary.get("provenance"):
        sections.append(_section("provenance", "Provenance", provenance_html(summary)))
    if history:
        sections.append(_section("history", "History", _figure(
            "Pass rate per model over record runs (hover a point for its release)",
            charts.history_chart(history))))
    methods = "".join(f"<dt>{e(k.replace('_', ' '))}</dt><dd>{e(v)}</dd>"
                      for k, v in (summary.get("methods") or {}).items())
    sections.append(_section("methods", "Methods", "<details><summary>How the numbers are "
                             f'computed</summary><dl class="methods">{methods}</dl></details>'))
    title = "Eval report" + (f" — {run_id}" if run_id else "")
    nav = "".join(f'<a href="#{sid}">{e(label)}</a>' for sid, label in toc)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
            f'<header class="top"><div class="in"><h1>{e(title)}</h1>'
            f'<div class="muted">{e(meta)}</div><nav class="toc">{nav}</nav></div></header>'
            f"<main>{_gate(summary)}{''.join(sections)}</main>"
            f'<div id="transcripts">{panels_html(grid, run_dir, limits)}</div>'
            "</body></html>\n")
