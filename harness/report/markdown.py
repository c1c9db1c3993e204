"""``report.md``: the run in Markdown, also appended to GitHub's ``$GITHUB_STEP_SUMMARY``.

Case ids and model names end up in Markdown tables and GitHub renders inline HTML, so every
piece of text from the run is escaped (:func:`md`). Case lists are capped: GitHub refuses a
step summary over 1 MiB, and a list of 400 case ids is not read by anyone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.report import fmt
from harness.report.fmt import md
from harness.report.provenance import HEAD, provenance_rows

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub's documented maximum per step


def _code(text: object) -> str:
    """Inline code for a case id; backticks inside are replaced (ids are filename-safe)."""
    return "`" + str(text).replace("`", "'").replace("\n", " ") + "`"


def _case_list(label: str, items: list[str], limit: int,
               reasons: list[str] | None = None) -> str:
    if not items:
        return f"- {label} (0): none"
    why = [f" ({md(r)})" for r in reasons] if reasons else [""] * len(items)
    shown = ", ".join(_code(i) + w for i, w in zip(items[:limit], why, strict=False))
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return f"- {label} ({len(items)}): {shown}{more}"


def model_table(summary: Mapping[str, Any]) -> list[str]:
    """The per-model table."""
    conf = round(100 * float(summary.get("confidence") or 0.95))
    lines = [f"| Model | Items | Passed | Failed | Errors | Skipped | Pass rate ({conf}% CI) "
             "| First try | Mean attempts | Tokens | Cost | Retries |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for name, m in summary.get("models", {}).items():
        rate = f"{fmt.pct(m.get('pass_rate'))} {fmt.interval(m.get('ci_low'), m.get('ci_high'))}"
        lines.append(
            f"| {md(name)} | {m.get('items', 0)} | {m.get('passed', 0)} | {m.get('failed', 0)} "
            f"| {m.get('errors', 0)} | {m.get('skipped', 0)} | {md(rate)} "
            f"| {fmt.pct(m.get('first_try_rate'))} | {fmt.num(m.get('mean_attempts'))} "
            f"| {fmt.count(fmt.total_tokens(m))} | {md(fmt.cost(m.get('cost_usd')))} "
            f"| {m.get('retries', 0)} |")
    if fmt.verifies(summary):
        lines += ["", "| Model | Verified (recorded code re-run here reproduced) |", "|---|--:|",
                  *(f"| {md(name)} | {fmt.verified(m)} |"
                    for name, m in summary.get("models", {}).items())]
    return lines


def _samples_table(summary: Mapping[str, Any]) -> list[str]:
    models = summary.get("models", {})
    if fmt.samples_of(summary) <= 1:
        return []
    lines = ["", "| Model | Samples per case | pass@1 | pass@k | pass^k |",
             "|---|--:|--:|--:|--:|"]
    for name, m in models.items():
        at, hat = fmt.top_k(m, "pass_at_k"), fmt.top_k(m, "pass_hat_k")
        p1 = (m.get("pass_at_k") or {}).get("1")
        lines.append(f"| {md(name)} | {m.get('samples', 0)} | {fmt.pct(p1)} "
                     f"| {'n/a' if at is None else f'{fmt.pct(at[1])} (k={at[0]})'} "
                     f"| {'n/a' if hat is None else f'{fmt.pct(hat[1])} (k={hat[0]})'} |")
    return lines


def comparison_block(c: Mapping[str, Any], limit: int = 30) -> list[str]:
    """One comparison: verdict, numbers, and the case lists."""
    conf = round(100 * float(c.get("confidence") or 0.95))
    verdict = str(c.get("verdict"))
    icon = {"REGRESSED": "🔻", "IMPROVED": "🔺"}.get(verdict, "▫️")
    lines = [f"### {md(c.get('candidate'))} vs {md(c.get('baseline'))}: {icon} **{verdict}**",
             "",
             f"- Pass rate over {c.get('paired_cases', 0)} paired cases: "
             f"{fmt.pct(c.get('baseline_rate'))} → {fmt.pct(c.get('candidate_rate'))}, "
             f"difference {fmt.pts(c.get('difference'))} "
             f"({conf}% CI {fmt.pts_interval(c.get('ci_low'), c.get('ci_high'))})",
             f"- {md(c.get('test', 'paired test'))}: p = {fmt.p_value(c.get('p_value'))} "
             f"({c.get('down', 0)} cases worse, {c.get('up', 0)} better) at alpha "
             f"{c.get('alpha', 0.05):g}",
             _case_list("Regressed (per-case test, Holm-adjusted)",
                        list(c.get("regressed") or []), limit),
             _case_list("Now failing", list(c.get("now_failing") or []), limit),
             _case_list("Now passing", list(c.get("now_passing") or []), limit),
             f"- Still passing: {len(c.get('still_passing') or [])}, still failing: "
             f"{len(c.get('still_failing') or [])}"]
    if c.get("improved"):
        lines.insert(5, _case_list("Improved (per-case test, Holm-adjusted)",
                                   list(c["improved"]), limit))
    if c.get("can_reach_significance") is False:
        lines.append(f"- ⚠️ This suite cannot reach significance: the smallest possible p is "
                     f"{fmt.p_value(c.get('min_p'))}; add cases or samples")
    if c.get("flaky"):  # only with samples > 1 (one sample is plainly pass or fail)
        lines.append(_case_list("Flaky", list(c["flaky"]), limit))
    excluded = list(c.get("excluded") or [])
    if excluded:
        lines.append(_case_list("Not compared (ERROR or nothing judged)",
                                [str(x.get("case")) for x in excluded], limit,
                                [str(x.get("reason")) for x in excluded]))
    for key, label in (("only_baseline", "Only the baseline ran"),
                       ("only_candidate", "Only the candidate ran")):
        if c.get(key):
            lines.append(_case_list(label, list(c[key]), limit))
    return lines


def provenance_block(summary: Mapping[str, Any]) -> list[str]:
    """Where the recordings came from, per model, and what that warns of ([] without any)."""
    table = summary.get("provenance") or {}
    if not table:
        return []
    lines = ["## Provenance", "", "| " + " | ".join(HEAD) + " |",
             "|---|--:|" + "---|" * (len(HEAD) - 2)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in provenance_rows(table)]
    warnings = summary.get("provenance_warnings") or []
    return lines + (["", *(f"- ⚠️ {md(w)}" for w in warnings)] if warnings else [])


def gate_block(summary: Mapping[str, Any], limit: int = 50) -> list[str]:
    """The gate's decision and its reasons."""
    gate = summary.get("gate") or {"ok": True, "reasons": []}
    if not summary.get("comparisons"):
        return ["## Gate", "", "✅ passed: no comparisons to judge"]
    warnings = [f"- ⚠️ {md(w)}" for w in gate.get("warnings") or []]
    if gate.get("ok"):
        return ["## Gate", "", "✅ passed: no candidate regressed",
                *(["", *warnings] if warnings else [])]
    reasons = list(gate.get("reasons") or [])
    lines = ["## Gate", "",
             f"❌ **failed** ({len(reasons)} reason{'s' if len(reasons) != 1 else ''})", ""]
    lines += [f"- {md(fmt.truncate(r, 2000)[0])}" for r in reasons[:limit]]
    if len(reasons) > limit:
        lines.append(f"- and {len(reasons) - limit} more (summary.json has them all)")
    return lines + warnings


def render_markdown(summary: Mapping[str, Any], *, run_id: str | None = None,
                    case_limit: int = 30) -> str:
    """The whole ``report.md``.

    Args:
        summary: A ``summary.json`` dict.
        run_id: Named in the title when given.
        case_limit: Case ids listed per transition before "and N more".

    Returns:
        Markdown text ending in a newline.

    """
    title = "# Eval report" + (f": {md(run_id)}" if run_id else "")
    models = summary.get("models", {})
    items = sum(int(m.get("items") or 0) for m in models.values())
    base = summary.get("baseline")
    lines = [title, "",
             f"{items} items, {len(models)} model{'s' if len(models) != 1 else ''}"
             + (f", baseline {md(base)}" if base else "")
             + f", {fmt.samples_of(summary)} sample(s) per case.", "", "## Models", ""]
    lines += model_table(summary) if models else ["No eval items ran."]
    lines += _samples_table(summary)
    comps = summary.get("comparisons", [])
    if comps:
        lines += ["", "## Comparisons", ""]
        for c in comps:
            lines += [*comparison_block(c, case_limit), ""]
    lines += ["", *gate_block(summary)]
    if summary.get("what_changed"):
        from harness.report.changes import changes_markdown

        lines += ["", *changes_markdown(summary["what_changed"])]
    prov = provenance_block(summary)
    lines += ["", *prov] if prov else []
    notes = summary.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {md(n)}" for n in notes]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> Path | None:
    """Append the report to ``$GITHUB_STEP_SUMMARY`` when that is set.

    Args:
        markdown: The report (:func:`render_markdown`).
        env: The environment (default ``os.environ``).

    Returns:
        The file appended to, or None when the variable is unset or empty.

    """
    target = (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    used = path.stat().st_size if path.exists() else 0
    room = STEP_SUMMARY_LIMIT - used - 200
    data = markdown.encode("utf-8")
    if len(data) > room:
        # Over the limit GitHub drops the whole summary with an error; cut it instead.
        note = "\n\n… report cut to fit GitHub's 1 MiB step summary; see report.md\n"
        data = data[: max(0, room)].decode("utf-8", errors="ignore").encode("utf-8")
        data += note.encode("utf-8")
    with path.open("ab") as fh:
        fh.write(b"\n" + data)
    return path
