"""``reports/history.jsonl``: one line per model per record run, for the pass-rate-over-time chart.

Only the caller knows whether a run should count (record runs that ran eval items do; replays,
``-k`` subsets and test runs do not), so this module just appends and reads.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.redact import redact

HISTORY_KEYS = ("run_id", "time", "model", "model_version", "pass_rate", "ci_low", "ci_high",
                "items")


def model_versions(records: Iterable[Mapping[str, Any]]) -> dict[str, str | None]:
    """The most common reported ``model_version`` per model (None when none was reported)."""
    seen: dict[str, Counter[str]] = {}
    for rec in records:
        counter = seen.setdefault(str(rec.get("model", "")), Counter())
        version = rec.get("model_version")
        if version:
            counter[str(version)] += 1
    return {m: (c.most_common(1)[0][0] if c else None) for m, c in seen.items()}


def history_lines(summary: Mapping[str, Any], run_id: str, time: str | datetime, *,
                  records: Iterable[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The lines a run adds: one per model that had judged items.

    Args:
        summary: The run's ``summary.json`` dict.
        run_id: The run's id.
        time: When the run happened (a datetime is stored as ISO 8601).
        records: The run's records, to find each model's reported version.

    Returns:
        One dict per model with the :data:`HISTORY_KEYS`.

    """
    when = time.isoformat(timespec="seconds") if isinstance(time, datetime) else str(time)
    versions = model_versions(records) if records is not None else {}
    lines = []
    for model, m in summary.get("models", {}).items():
        if m.get("pass_rate") is None:  # nothing judged: no point on a pass-rate chart
            continue
        lines.append({"run_id": run_id, "time": when, "model": model,
                      "model_version": m.get("model_version") or versions.get(model),
                      "pass_rate": m["pass_rate"], "ci_low": m.get("ci_low"),
                      "ci_high": m.get("ci_high"), "items": m.get("items")})
    return lines


def append_history(path: Path, summary: Mapping[str, Any], run_id: str, time: str | datetime,
                   *, records: Iterable[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Append the run's lines to the history file (created with its directory if missing).

    Args:
        path: ``reports/history.jsonl``.
        summary: The run's ``summary.json`` dict.
        run_id: The run's id.
        time: When the run happened.
        records: The run's records (for model versions).

    Returns:
        The lines appended.

    """
    lines = history_lines(summary, run_id, time, records=records)
    if lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write call per run: concurrent runs appending to the same file do not interleave
        # within a run's block on POSIX filesystems (O_APPEND).
        text = "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"
                       for line in lines)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(redact(text))
    return lines


def read_history(path: Path) -> list[dict[str, Any]]:
    """Read the history file; a missing file is an empty history.

    The file is appended to by many runs over months (and merged in git), so a broken line is
    skipped with a warning rather than failing the report.
    """
    if not path.is_file():
        return []
    out: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                warnings.warn(f"{path}:{n}: skipped, not JSON: {exc}", stacklevel=2)
                continue
            if not isinstance(entry, dict) or "model" not in entry or "pass_rate" not in entry:
                warnings.warn(f"{path}:{n}: skipped, not a history line (needs model and "
                              "pass_rate)", stacklevel=2)
                continue
            out.append(entry)
    return out
