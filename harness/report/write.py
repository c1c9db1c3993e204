"""Write a run's reports (``write_reports``) and re-render an earlier run (``render_run``)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.redact import redact
from harness.report.history import read_history
from harness.report.markdown import append_step_summary, render_markdown
from harness.report.panels import Limits

if TYPE_CHECKING:
    from harness.stats.pricing import Price



def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file so a crash never leaves half a report behind."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(redact(text))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600: reports are for everyone who reads the run
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(run_dir: Path, records: Sequence[Mapping[str, Any]],
                  summary: Mapping[str, Any], *,
                  history: Sequence[Mapping[str, Any]] | None = None,
                  run_id: str | None = None, limits: Limits | None = None) -> dict[str, Path]:
    """Write ``summary.json``, ``report.md`` and ``report.html`` into the run directory.

    Args:
        run_dir: ``reports/<run-id>`` (created if missing; images are read from it).
        records: The run's records; give them deduplicated
            (:func:`harness.stats.tally.dedupe_items`) so re-run items appear once.
        summary: :func:`harness.report.summary.summary_json` of those records.
        history: ``reports/history.jsonl`` lines (:func:`read_history`) for the history chart.
        run_id: Shown in titles (default: the run directory's name).
        limits: Size caps of the HTML.

    Returns:
        ``{"summary": path, "markdown": path, "html": path}``.

    """
    from harness.report.html import render_html

    run_dir.mkdir(parents=True, exist_ok=True)
    run_id = run_id or run_dir.resolve().name
    paths = {"summary": run_dir / "summary.json", "markdown": run_dir / "report.md",
             "html": run_dir / "report.html"}
    _write_atomic(paths["summary"],
                  json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    _write_atomic(paths["markdown"], render_markdown(summary, run_id=run_id))
    _write_atomic(paths["html"], render_html(records, summary, run_dir=run_dir, run_id=run_id,
                                             history=history, limits=limits))
    return paths


def render_run(run: Path, *, baseline: str | None = None, alpha: float | None = None,
               prices: Mapping[str, Price] | None = None, history_path: Path | None = None,
               step_summary: bool = False) -> dict[str, Path]:
    """Re-render a finished run's reports from its ``results.jsonl`` (``harness report RUN``).

    The baseline, alpha and confidence default to those in the run's existing ``summary.json``,
    so a re-render reproduces what the run reported unless told otherwise.

    Args:
        run: A run directory (``reports/<run-id>``, ``reports/latest``) or its results.jsonl.
        baseline: Baseline model (default: the one recorded in summary.json).
        alpha: Significance level (default: recorded, else 0.05).
        prices: Price table by model (:class:`harness.stats.pricing.Price` values).
        history_path: History file (default: ``history.jsonl`` beside the run directory).
        step_summary: Also append report.md to ``$GITHUB_STEP_SUMMARY``.

    Returns:
        The paths written, as :func:`write_reports` returns them.

    Raises:
        FileNotFoundError: No results at ``run``.
        ValueError: A malformed record.

    """
    from harness.report.summary import summary_json
    from harness.results.records import read_results
    from harness.stats.tally import dedupe_items

    run_dir = (run.parent if run.is_file() else run).resolve()
    results = run if run.is_file() else run_dir / "results.jsonl"
    if not results.is_file():
        raise FileNotFoundError(f"{run}: no results.jsonl here; give a run directory "
                                "(reports/<run-id>, reports/latest) or its results.jsonl")
    old: dict[str, Any] = {}
    if (run_dir / "summary.json").is_file():
        try:
            old = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            old = {}  # a broken old summary is replaced, not trusted
    records = dedupe_items(read_results(results))
    summary = summary_json(records, baseline=baseline or old.get("baseline"),
                           alpha=alpha if alpha is not None else float(old.get("alpha", 0.05)),
                           confidence=float(old.get("confidence", 0.95)),
                           prices=prices)
    history = read_history(history_path or run_dir.parent / "history.jsonl")
    paths = write_reports(run_dir, records, summary, history=history)
    if step_summary:
        append_step_summary(paths["markdown"].read_text(encoding="utf-8"))
    return paths
