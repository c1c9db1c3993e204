"""The end of a run: summary, reports, history and the regression gate's exit code.

Plain functions the plugin calls once per session in the controlling process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.config import Settings


@dataclass
class RunEnd:
    """What the end of a run produced, for the terminal summary."""

    summary: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)
    history_appended: bool = False


def finish_run(run_dir: Path, run_id: str, settings: Settings, *,
               append_to_history: bool, compare_previous: bool = False) -> RunEnd:
    """Summarize the run's records and write its reports (and a history line if asked).

    Args:
        run_dir: ``reports/<run-id>`` holding ``results.jsonl``.
        run_id: The run's id.
        settings: Baseline, alpha, prices.
        append_to_history: True for a full record run (not a replay, a ``-k`` subset or a
            run with errors in selection); adds one line per model to ``history.jsonl``.
        compare_previous: A record run: the reports say what changed in how the model worked
            since the previous run (:mod:`harness.report.changes`).
    """
    from harness.report.history import append_history, read_history
    from harness.report.markdown import append_step_summary
    from harness.report.summary import summary_json
    from harness.report.write import write_reports
    from harness.results.records import prune_runs, read_slim
    from harness.stats.tally import dedupe_items

    # Transcripts stay on disk until a report panel shows one: memory stays flat with size.
    records = dedupe_items(read_slim(run_dir))
    summary = summary_json(records, baseline=settings.baseline, alpha=settings.alpha,
                           prices=settings.prices,
                           gate_underpowered=settings.gate_underpowered)
    if compare_previous:
        from harness.report.changes import what_changed

        changes = what_changed(run_dir, run_id)
        if changes is not None:
            summary["what_changed"] = changes
    history_path = settings.report_dir / "history.jsonl"
    if append_to_history:
        append_history(history_path, summary, run_id, datetime.now(UTC), records=records)
    paths = write_reports(run_dir, records, summary, history=read_history(history_path),
                          run_id=run_id)
    append_step_summary(paths["markdown"].read_text(encoding="utf-8"))
    prune_runs(settings.report_dir, settings.keep_runs, current=run_id)
    return RunEnd(summary, paths, append_to_history)


def settings_meta(settings: Settings) -> dict[str, Any]:
    """The settings a run's summary and gate depend on, for ``run.json``."""
    return {"models": list(settings.models), "baseline": settings.baseline,
            "target": settings.target, "samples": settings.samples, "alpha": settings.alpha,
            "gate": settings.gate, "gate_underpowered": settings.gate_underpowered}


def write_meta(run_dir: Path, run_id: str, settings: Settings, *, record_mode: str,
               full_run: bool, exitstatus: int, other_failures: int, items: int,
               shard: dict[str, Any] | None) -> Path:
    """Write the run's ``run.json`` (:mod:`harness.results.runmeta`), read by ``harness merge``."""
    from harness.results.runmeta import run_meta, write_run_meta

    return write_run_meta(run_dir, run_meta(
        run_id=run_id, settings=settings_meta(settings), record_mode=record_mode,
        full_run=full_run, exitstatus=exitstatus, other_failures=other_failures, items=items,
        shard=shard))


def gate_exit_status(mode: str, exitstatus: int, gate_ok: bool, *,
                     only_eval_failures: bool) -> int:
    """The exit code under a gate mode.

    Args:
        mode: ``off`` | ``on`` | ``only`` (see :class:`harness.config.Settings`).
        exitstatus: pytest's own exit status.
        gate_ok: Whether the regression gate passed.
        only_eval_failures: True when every failure of the run is an eval item's FAIL (no
            ERROR of any kind, no failing non-eval test).

    Returns:
        The status to exit with: ``on`` turns a passing run into 1 when the gate fails;
        ``only`` turns a run whose only failures are eval FAILs into 0 when the gate passes
        (and 1 when it does not). Interrupts, usage errors and ERRORs are never hidden.
    """
    if mode == "off" or exitstatus not in (0, 1):
        return exitstatus
    if not gate_ok:
        return 1
    if mode == "only" and exitstatus == 1 and only_eval_failures:
        return 0
    return exitstatus
