"""The reports' "What changed" section: a record run's behaviour against the previous run.

A record run re-recorded its items, so what the model did may differ from what the previous
run in ``reports/`` saw (answers, outcome sequences, attempts, libraries, code size, tokens,
images, latency: :mod:`harness.report.diff`). The section lists those changes, each with links
to both transcripts. The previous run is the run directory whose results were written last:
``history.jsonl`` holds only per-model rates, and a replay reproduces its recordings, so an
earlier run's records are exactly what its cassettes held then. Replay runs get no section
(their recordings come from a commit: ``harness diff A B`` compares any two runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.report.diff import KINDS, Change, Diff, diff_markdown, diff_sides, side_from_run
from harness.report.panels import e

LIMIT = 50  # changes listed per kind in summary.json and the reports


def previous_run(report_dir: Path, run_id: str) -> Path | None:
    """The run directory whose results were written last before this run's, or None.

    By the results' time, not the id: two runs started in the same second have ids that differ
    only in their random suffix.
    """
    if not report_dir.is_dir():
        return None
    earlier = []
    for d in report_dir.iterdir():
        results = d / "results.jsonl"
        if d.name not in (run_id, "latest") and not d.is_symlink() and results.is_file():
            earlier.append((results.stat().st_mtime_ns, d.name, d))
    return max(earlier)[2] if earlier else None


def what_changed(run_dir: Path, run_id: str) -> dict[str, Any] | None:
    """The diff of this run against the previous one, as JSON (None: no earlier run).

    Args:
        run_dir: ``reports/<run-id>`` with this run's ``results.jsonl`` written.
        run_id: This run's id.
    """
    before = previous_run(run_dir.parent, run_id)
    if before is None:
        return None
    try:
        a = side_from_run(before, report=f"../{before.name}/report.html")
    except (OSError, ValueError):  # a damaged earlier run: no section rather than no report
        return None
    b = side_from_run(run_dir, report="")
    diff = diff_sides(a, b)
    return diff.to_json(limit=LIMIT) if diff.compared else None


def _diff_of(wc: Mapping[str, Any]) -> Diff:
    groups = {k: [Change(**c) for c in v] for k, v in wc.get("groups", {}).items()}
    return Diff(str(wc["a"]), str(wc["b"]), int(wc["compared"]), groups,
                list(wc.get("only_a", [])), list(wc.get("only_b", [])))


def changes_markdown(wc: Mapping[str, Any]) -> list[str]:
    """The section for ``report.md``."""
    lines = diff_markdown(_diff_of(wc), limit=LIMIT, heading="##",
                          title=f"What changed since run {wc['a']}")
    return [*lines, *_more_lines(wc)]


def _more_lines(wc: Mapping[str, Any]) -> list[str]:
    cut = {k: n - len(wc["groups"].get(k, [])) for k, n in wc.get("counts", {}).items()}
    return [f"- {KINDS[k]}: {n} more in summary.json's limit" for k, n in cut.items() if n > 0]


def changes_html(wc: Mapping[str, Any]) -> str:
    """The section body for ``report.html``."""
    compared, changed = int(wc["compared"]), int(wc.get("changed", 0))
    head = (f"<p>{compared:,} items paired with run {e(str(wc['a']))}: "
            f"{changed:,} changed.</p>")
    if not wc.get("groups"):
        return head + ('<p class="muted">No change in answer, outcomes, attempts, libraries, '
                       "code size, tokens, images or latency.</p>")
    body = [head]
    for kind, changes in wc["groups"].items():
        count = wc.get("counts", {}).get(kind, len(changes))
        body.append(f"<h3>{e(KINDS[kind])} ({count:,})</h3><ul>")
        for c in changes:
            links = " ".join(f'<a href="{e(href)}">{label}</a>'
                             for label, href in (("before", c.get("a_href")),
                                                 ("now", c.get("b_href"))) if href)
            body.append(f"<li><code>{e(c['item'])}</code>: {e(c['summary'])} {links}</li>")
        if count > len(changes):
            body.append(f"<li>and {count - len(changes):,} more</li>")
        body.append("</ul>")
    return "".join(body)
