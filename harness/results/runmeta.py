"""``reports/<run-id>/run.json``: what a run was, so that shard runs can be merged safely.

Written at the end of every run (after its reports): the run id, its shard (if any), the
settings the summary and the gate depend on, the record mode, whether it was a full run, and
pytest's own exit status. ``harness merge`` reads it to refuse overlapping, inconsistent or
missing shards. A re-render (``harness report``) leaves it alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RUN_META = "run.json"
FORMAT = 1

# The settings a merged summary and gate depend on: shards must agree on all of them.
CONSISTENT = ("models", "baseline", "target", "samples", "alpha", "gate", "gate_underpowered")


def run_meta(*, run_id: str, settings: Mapping[str, Any], record_mode: str, full_run: bool,
             exitstatus: int, other_failures: int, items: int,
             shard: Mapping[str, Any] | None = None,
             merged_from: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The ``run.json`` document.

    Args:
        run_id: The run's id.
        settings: At least the :data:`CONSISTENT` keys.
        record_mode: pytest-recording's ``--record-mode`` (``none`` is a replay).
        full_run: Nothing was left out but by the shard split (no ``-k``, ``-m``, ``--lf``).
        exitstatus: pytest's exit status before the gate was applied.
        other_failures: Failures that were not eval FAILs (ERRORs, failing tests).
        items: Result records written.
        shard: :meth:`harness.shard.Selection.to_json`, or None for an unsharded run.
        merged_from: For a merged run: each shard's run id, directory and shard.
    """
    meta: dict[str, Any] = {
        "format": FORMAT, "run_id": run_id, "shard": dict(shard) if shard else None,
        "settings": {k: settings.get(k) for k in CONSISTENT}, "record_mode": record_mode,
        "full_run": full_run, "exitstatus": exitstatus, "other_failures": other_failures,
        "items": items}
    if merged_from is not None:
        meta["merged_from"] = merged_from
    return meta


def write_run_meta(run_dir: Path, meta: Mapping[str, Any]) -> Path:
    """Write ``run.json`` atomically; returns its path."""
    path = run_dir / RUN_META
    tmp = path.with_name(f".{RUN_META}.{os.getpid()}")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_run_meta(run_dir: Path) -> dict[str, Any] | None:
    """The run's ``run.json``; None when the run has none (it did not finish, or predates it).

    Raises:
        ValueError: a ``run.json`` that is not a JSON object (names the file).
    """
    path = run_dir / RUN_META
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: not a JSON object")
    return value
