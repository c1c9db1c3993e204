"""``harness merge``: the runs of ``--harness-shard 1/N ... N/N`` combined into one run.

The merged run directory is what one unsharded session would have written: every shard's
records in ``results.jsonl``, their images, ``summary.json`` (comparisons and gate over the
whole suite), ``report.md``/``report.html``, a ``run.json`` naming the shards, and a
``history.jsonl`` line when the shards were full record runs. Shards that overlap, disagree
on the settings or the collected items, or are missing, are refused with a message naming
the run directories and the fix.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.paths import display_path
from harness.results.runmeta import CONSISTENT, read_run_meta
from harness.stats.tally import ItemKey, item_key

if TYPE_CHECKING:
    from harness.stats.pricing import Price


class MergeError(Exception):
    """Shard runs that cannot be merged; the message names them and says how to fix it."""


@dataclass
class ShardRun:
    """One shard's run directory, read for merging."""

    path: Path
    meta: dict[str, Any]
    keys: set[ItemKey] = field(default_factory=set)
    lines: list[tuple[tuple[Any, ...], int, int]] = field(default_factory=list)
    """(collection-order key, byte offset, length) of each record line."""

    @property
    def shard(self) -> dict[str, Any]:
        """The ``shard`` entry of its ``run.json``."""
        return dict(self.meta["shard"])

    @property
    def name(self) -> str:
        """How messages name it: the directory as given."""
        return display_path(self.path)

    @property
    def label(self) -> str:
        """``reports/<id> (shard I/N)``."""
        return f"{self.name} (shard {self.shard['index']}/{self.shard['count']})"


@dataclass(frozen=True)
class Merged:
    """What a merge wrote."""

    run_dir: Path
    run_id: str
    summary: dict[str, Any]
    meta: dict[str, Any]
    paths: dict[str, Path]
    warnings: list[str]
    history_appended: bool


def _label(key: ItemKey) -> str:
    suite, case, model, sample = key
    return f"{suite}::{case}[{model}#{sample}]"


def load_run(path: Path) -> ShardRun:
    """Read a shard run's ``run.json`` and the keys of its records.

    Raises:
        MergeError: not a finished shard run.
    """
    name = display_path(path)
    if not (path / "results.jsonl").is_file():
        raise MergeError(f"{name}: no results.jsonl here; give the run directories the "
                         "shards wrote (reports/<run-id>, one per shard)")
    try:
        meta = read_run_meta(path)
    except ValueError as exc:
        raise MergeError(str(exc)) from None
    if meta is None:
        raise MergeError(f"{name}: no run.json: the run did not finish (killed, or its job "
                         "timed out) or an older harness made it; re-run that shard")
    if not meta.get("shard"):
        raise MergeError(f"{name}: not a shard run (it ran without --harness-shard); merge "
                         "combines the runs of `pytest ... --harness-shard I/N` for I = 1..N")
    run = ShardRun(path, meta)
    models = list(meta.get("settings", {}).get("models") or [])
    results = path / "results.jsonl"
    with results.open("rb") as fh:
        for n, line in enumerate(iter(fh.readline, b""), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MergeError(f"{display_path(results)}:{n}: not a JSON record: "
                                 f"{exc}") from None
            key = item_key(record)
            run.keys.add(key)
            run.lines.append((order_key(record, models), fh.tell() - len(line), len(line)))
    return run


def order_key(record: Mapping[str, Any], models: Sequence[str]) -> tuple[Any, ...]:
    """Where an unsharded session would have run the item: file, case line, model, sample.

    The merged ``results.jsonl`` follows it, so the merged reports list items as one run
    would, and sums over cases add up in the same order (the same figures to the last bit).
    """
    file, _, line = str(record.get("location") or "").rpartition(":")
    model = str(record.get("model", ""))
    where = models.index(model) if model in models else len(models)
    _, _, _, sample = item_key(record)
    return (Path(file).parts, int(line) if line.isdigit() else 0, where, model, sample)


def _differ(runs: Sequence[ShardRun], get: Any) -> str | None:
    seen: dict[str, list[str]] = {}
    for run in runs:
        seen.setdefault(repr(get(run)), []).append(run.name)
    if len(seen) < 2:
        return None
    return "; ".join(f"{value} in {', '.join(names)}" for value, names in seen.items())


def check_runs(runs: Sequence[ShardRun], *, allow_missing: bool = False) -> list[str]:
    """Refuse runs that cannot be merged into one; the warnings of those that can.

    Args:
        runs: The shard runs.
        allow_missing: Merge even when shards are missing or incomplete (warned, and the
            merged run counts as partial: no history line).

    Returns:
        Warnings (missing or incomplete shards under ``allow_missing``).

    Raises:
        MergeError: overlapping, inconsistent, duplicated, missing or incomplete shards.
    """
    if not runs:
        raise MergeError("no run directories given")
    by_id: dict[str, ShardRun] = {}
    for run in runs:
        other = by_id.setdefault(str(run.meta.get("run_id")), run)
        if other is not run:
            raise MergeError(f"{other.name} and {run.name} are the same run (run id "
                             f"{run.meta.get('run_id')}); give each shard's run once")
    counts = _differ(runs, lambda r: r.shard["count"])
    if counts:
        raise MergeError(f"the runs split the suite into different numbers of shards (N = "
                         f"{counts}); merge the runs of one sharded job, all with the same N")
    for name in CONSISTENT:
        diff = _differ(runs, lambda r, k=name: r.meta.get("settings", {}).get(k))
        if diff:
            raise MergeError(f"the shards ran with different {name}: {diff}; re-run them with "
                             "the same [tool.harness] and command line (--model, --baseline, "
                             "--target, --samples)")
    if _differ(runs, lambda r: r.shard["digest"]):
        seen = ", ".join(f"{r.name}: {r.shard['total_items']} items in "
                         f"{r.shard['total_groups']} cases" for r in runs)
        raise MergeError(f"the shards collected different items ({seen}); run every shard "
                         "from the same commit with the same paths, -k and -m")
    claimed: dict[int, ShardRun] = {}
    for run in runs:
        other = claimed.setdefault(int(run.shard["index"]), run)
        if other is not run:
            raise MergeError(f"{other.name} and {run.name} both are shard "
                             f"{run.shard['index']}/{run.shard['count']} (a retried job?); "
                             "keep one of them, the one from the latest attempt")
    owner: dict[ItemKey, ShardRun] = {}
    for run in runs:
        for key in sorted(run.keys):
            other = owner.setdefault(key, run)
            if other is not run:
                both = sorted(other.keys & run.keys)
                more = f" (and {len(both) - 1} more)" if len(both) > 1 else ""
                raise MergeError(f"{other.label} and {run.label} both hold {_label(both[0])}"
                                 f"{more}: the shards overlap; run them again from one commit")
    problems = []
    count = int(runs[0].shard["count"])
    missing = sorted(set(range(1, count + 1)) - set(claimed))
    if missing:
        have = ", ".join(str(i) for i in sorted(claimed))
        problems.append(
            f"shard{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"{i}/{count}" for i in missing) + f" missing (given: {have}): "
            "download every shard's run directory, or re-run `pytest ... --harness-shard "
            f"{missing[0]}/{count}`")
    for run in sorted(runs, key=lambda r: int(r.shard["index"])):
        if len(run.keys) < int(run.shard["items"]):
            problems.append(
                f"{run.label} holds {len(run.keys)} of its {run.shard['items']} items (pytest "
                f"exit status {run.meta.get('exitstatus')}: interrupted, -x or --maxfail?); "
                "re-run that shard")
    if problems and not allow_missing:
        raise MergeError("; ".join(problems) + ". A merge of part of the suite would gate "
                         "only that part; --allow-missing merges anyway and says so")
    return [p + " (merged without it: the gate judges part of the suite)" for p in problems]


def combined_exitstatus(statuses: Sequence[int]) -> int:
    """The pytest exit status one session over every shard would have had.

    An interrupt, internal or usage error (anything but 0, 1 and 5) wins; then a failure.
    """
    worst = [s for s in statuses if s not in (0, 1, 5)]
    if worst:
        return max(worst)
    return 1 if 1 in statuses else 0


def merge_runs(paths: Sequence[Path], report_dir: Path, *, out: Path | None = None,
               prices: Mapping[str, Price] | None = None,
               allow_missing: bool = False) -> Merged:
    """Merge shard runs into one run directory.

    Args:
        paths: Each shard's run directory.
        report_dir: Where the merged run goes without ``out`` (``reports/<new-run-id>``,
            and ``reports/latest`` points at it).
        out: The merged run's directory instead (must not hold results yet).
        prices: Price table by model (for the cost figures).
        allow_missing: See :func:`check_runs`.

    Returns:
        What was written.

    Raises:
        MergeError: runs that cannot be merged, or an ``out`` that already holds a run.
    """
    from harness.report.history import append_history, read_history
    from harness.report.markdown import append_step_summary
    from harness.report.summary import summary_json
    from harness.report.write import write_reports
    from harness.results.records import new_run_id, point_latest, read_slim
    from harness.results.runmeta import run_meta, write_run_meta
    from harness.stats.tally import dedupe_items

    runs = sorted((load_run(p.resolve()) for p in paths), key=lambda r: int(r.shard["index"]))
    warnings = check_runs(runs, allow_missing=allow_missing)
    run_id = new_run_id()
    run_dir = (out if out is not None else report_dir / run_id).resolve()
    if run_dir in {r.path for r in runs}:
        raise MergeError(f"--out {display_path(run_dir)} is one of the shard runs; give a "
                         "new directory")
    if (run_dir / "results.jsonl").exists():
        raise MergeError(f"{display_path(run_dir)} already holds a run; give a new --out "
                         "directory (or remove that one)")
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = sorted((key, i, offset, length) for i, run in enumerate(runs)
                   for key, offset, length in run.lines)
    sources = [(run.path / "results.jsonl").open("rb") for run in runs]
    try:
        with (run_dir / "results.jsonl").open("wb") as fh:
            for _, i, offset, length in lines:  # verbatim: images keep their names
                sources[i].seek(offset)
                fh.write(sources[i].read(length))
    finally:
        for src in sources:
            src.close()
    for run in runs:
        for image in sorted((run.path / "images").glob("*")):
            target = run_dir / "images" / image.name
            if not target.exists():  # content-addressed: shards share many
                target.parent.mkdir(exist_ok=True)
                shutil.copyfile(image, target)
    settings = runs[0].meta.get("settings", {})
    records = dedupe_items(read_slim(run_dir))
    summary = summary_json(records, baseline=settings.get("baseline"),
                           alpha=float(settings.get("alpha") or 0.05), prices=prices,
                           gate_underpowered=str(settings.get("gate_underpowered") or "warn"))
    modes = {str(r.meta.get("record_mode")) for r in runs}
    full = not warnings and all(r.meta.get("full_run") for r in runs)
    record_run = full and "none" not in modes
    history_path = run_dir.parent / "history.jsonl"
    if record_run:
        append_history(history_path, summary, run_id, datetime.now(UTC), records=records)
    paths_out = write_reports(run_dir, records, summary, history=read_history(history_path),
                              run_id=run_id)
    append_step_summary(paths_out["markdown"].read_text(encoding="utf-8"))
    meta = run_meta(
        run_id=run_id, settings=settings,
        record_mode=modes.pop() if len(modes) == 1 else "mixed", full_run=full,
        exitstatus=combined_exitstatus([int(r.meta.get("exitstatus", 0)) for r in runs]),
        other_failures=sum(int(r.meta.get("other_failures", 0)) for r in runs),
        items=len(records),
        merged_from=[{"run_id": r.meta.get("run_id"), "dir": str(r.path),
                      "shard": f"{r.shard['index']}/{r.shard['count']}"} for r in runs])
    paths_out["run"] = write_run_meta(run_dir, meta)
    if out is None:
        point_latest(report_dir, run_id)
    return Merged(run_dir, run_id, summary, meta, paths_out, warnings, record_run)
