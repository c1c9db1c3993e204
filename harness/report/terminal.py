"""The terminal summary that closes a pytest run: one table of models, one line per comparison.

Plain text lines (no colour codes): pytest's terminal reporter decides about markup, and the
same lines read well in CI logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report import fmt

_HEAD = ("model", "pass rate", "95% CI", "pass/fail/err/skip", "first-try", "attempts")


def _model_rows(summary: Mapping[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, m in summary.get("models", {}).items():
        counts = f"{m.get('passed', 0)}/{m.get('failed', 0)}/{m.get('errors', 0)}/" \
                 f"{m.get('skipped', 0)}"
        rows.append((str(name), fmt.pct(m.get("pass_rate")),
                     fmt.interval(m.get("ci_low"), m.get("ci_high")), counts,
                     fmt.pct(m.get("first_try_rate")), fmt.num(m.get("mean_attempts"))))
    return rows


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    # Left-align the model name, right-align the figures so decimals line up.
    def line(r: tuple[str, ...]) -> str:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:],
                                                                          strict=True)]
        return "  ".join(cells).rstrip()
    return [line(head), *(line(r) for r in rows)]


def comparison_line(c: Mapping[str, Any], width: int = 60) -> str:
    """One line per comparison: verdict, p-value, difference, then the case lists."""
    conf = round(100 * float(c.get("confidence") or 0.95))
    line = (f"{c.get('candidate')} vs {c.get('baseline')}: {c.get('verdict')} "
            f"(p={fmt.p_value(c.get('p_value'))}, {fmt.pts(c.get('difference'))} "
            f"{conf}% CI {fmt.pts_interval(c.get('ci_low'), c.get('ci_high'))}, "
            f"{c.get('paired_cases', 0)} paired cases)")
    parts = [line]
    for key, label, always in (("regressed", "regressed", True), ("improved", "improved", False),
                               ("now_failing", "now failing", True),
                               ("now_passing", "now passing", True), ("flaky", "flaky", False)):
        cases = list(c.get(key) or [])
        if always or cases:
            parts.append(f"    {label} {len(cases)}: {fmt.names(cases, 5, width)}")
    if c.get("can_reach_significance") is False:
        parts.append(f"    cannot reach significance: smallest possible p = "
                     f"{fmt.p_value(c.get('min_p'))}")
    return "\n".join(parts)


def render_terminal(summary: Mapping[str, Any], *, reasons_limit: int = 10) -> list[str]:
    """Lines for pytest's terminal summary.

    Args:
        summary: A ``summary.json`` dict (:func:`harness.report.summary.summary_json`).
        reasons_limit: The gate's reasons shown before "+N more" (the Markdown has them all).

    Returns:
        The lines, without trailing newlines.

    """
    lines: list[str] = []
    rows = _model_rows(summary)
    if rows and fmt.verifies(summary):  # verify_output ran: how much recorded code reproduced
        rows = [(*r, fmt.verified(m)) for r, m in zip(rows, summary["models"].values(),
                                                       strict=True)]
        lines += _table((*_HEAD, "verified"), rows)
    elif rows:
        lines += _table(_HEAD, rows)
    else:
        lines.append("no eval items ran")
    for comp in summary.get("comparisons", []):
        lines += comparison_line(comp).splitlines()
    for note in summary.get("notes", []):
        lines.append(f"note: {note}")
    gate = summary.get("gate") or {"ok": True, "reasons": []}
    if not summary.get("comparisons"):
        lines.append("gate: passed (no comparisons)" if gate.get("ok") else "gate: FAILED")
    elif gate.get("ok"):
        lines.append("gate: passed")
    else:
        reasons = list(gate.get("reasons") or [])
        lines.append(f"gate: FAILED ({len(reasons)} reason{'s' if len(reasons) != 1 else ''})")
        # A REGRESSED reason lists every worse case; keep the terminal line readable.
        lines += [f"  - {fmt.truncate(r, 400)[0]}{'…' if len(r) > 400 else ''}"
                  for r in reasons[:reasons_limit]]
        if len(reasons) > reasons_limit:
            lines.append(f"  ... +{len(reasons) - reasons_limit} more (see report.md)")
    lines += [f"gate warning: {w}" for w in gate.get("warnings") or []]
    lines += [f"provenance warning: {w}" for w in summary.get("provenance_warnings") or []]
    return lines
