"""Batch recording's bookkeeping: chunks under the inline size limit, and the jobs file.

The jobs file (``<report_dir>/batch-jobs.json``) lists every submitted job that has not been
collected yet, with the items it answers (key, request fingerprint, cassette). It is written
right after each submission, so a run stopped while jobs run (Ctrl+C, a CI timeout, the
wait running out) leaves it behind, and the next run with ``--harness-batch`` collects those
jobs instead of submitting their items again. An item is claimed by a saved job only if its
request fingerprint is still the one submitted: a changed case is submitted afresh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import SetupError

FORMAT = 1
STATE_NAME = "batch-jobs.json"
# The Batch API takes inlined requests up to 20 MB per job; the envelope around each
# request (its key, metadata, JSON punctuation) is counted per item below, and this margin
# covers what an estimate from the SDK's own serialisation may miss.
INLINE_LIMIT_BYTES = 20_000_000
SAFETY_MARGIN = 0.9
ITEM_OVERHEAD_BYTES = 256
T = TypeVar("T")


def chunk(items: Sequence[T], sizes: Sequence[int], *,
          limit_bytes: int = int(INLINE_LIMIT_BYTES * SAFETY_MARGIN),
          max_items: int | None = None) -> tuple[list[list[T]], list[T]]:
    """Split items, in order, into jobs whose inlined requests stay under ``limit_bytes``.

    Args:
        items: The items (one model's).
        sizes: Each item's serialised request size in bytes.
        limit_bytes: The most a job's requests may add up to.
        max_items: The most items per job (None: no limit).

    Returns:
        (the chunks, the items too large for any job on their own: record them normally).
    """
    chunks: list[list[T]] = []
    too_large: list[T] = []
    current: list[T] = []
    used = 0
    for item, size in zip(items, sizes, strict=True):
        size += ITEM_OVERHEAD_BYTES
        if size > limit_bytes:
            too_large.append(item)
            continue
        if current and (used + size > limit_bytes
                        or (max_items is not None and len(current) >= max_items)):
            chunks.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        chunks.append(current)
    return chunks, too_large


@dataclass
class SavedItem:
    """One submitted item: what it was submitted as, and where its cassette goes."""

    fingerprint: str
    cassette: str


@dataclass
class SavedJob:
    """A submitted job not collected yet."""

    name: str
    model: str
    target: str
    submitted: str
    items: dict[str, SavedItem] = field(default_factory=dict)


class JobsFile:
    """The jobs file of a report directory: load, change, save atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.jobs: dict[str, SavedJob] = {}

    @classmethod
    def load(cls, report_dir: Path) -> JobsFile:
        """The saved jobs (none if the file does not exist).

        Raises:
            SetupError: the file exists but is not a jobs file (names it and what to do).
        """
        jobs = cls(report_dir / STATE_NAME)
        try:
            text = jobs.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return jobs
        except OSError as exc:
            raise SetupError(f"cannot read {jobs.path}: {exc}") from None
        try:
            data = json.loads(text)
            for raw in data["jobs"]:
                items = {k: SavedItem(**v) for k, v in raw.pop("items").items()}
                job = SavedJob(**raw, items=items)
                jobs.jobs[job.name] = job
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SetupError(
                f"{jobs.path} is not a batch jobs file harness can read ({exc!r}). It lists "
                "batch jobs still to collect; delete it to submit their items again (the "
                "jobs already submitted are then not collected).") from None
        return jobs

    def add(self, job: SavedJob) -> None:
        """Remember a submitted job and save at once (a stop right after must not lose it)."""
        self.jobs[job.name] = job
        self.save()

    def remove(self, name: str) -> None:
        """Forget a collected (or abandoned) job and save."""
        if self.jobs.pop(name, None) is not None:
            self.save()

    def save(self) -> None:
        """Write the file atomically; an empty list removes it."""
        if not self.jobs:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {"format": FORMAT, "jobs": [asdict(j) for j in
                                                         self.jobs.values()]}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def claim(self, wanted: dict[str, SavedItem], target: str) -> tuple[dict[str, list[str]],
                                                                         list[str]]:
        """Which saved jobs answer which of the items wanted now.

        Args:
            wanted: Item key -> its request fingerprint and cassette now (both must be the
                ones submitted).
            target: This run's target (another target's jobs are left alone).

        Returns:
            (job name -> the keys it answers, the names of this target's jobs that answer
            none of them: their items were recorded since or have changed).
        """
        claimed: dict[str, list[str]] = {}
        stale: list[str] = []
        taken: set[str] = set()  # an item submitted twice is collected from the first job
        for job in self.jobs.values():
            if job.target != target:
                continue
            keys = [k for k, item in job.items.items()
                    if wanted.get(k) == item and k not in taken]
            taken.update(keys)
            if keys:
                claimed[job.name] = keys
            else:
                stale.append(job.name)
        return claimed, stale
