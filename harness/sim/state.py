"""The simulator's in-memory state: cases, faults, scripts, interactions, uploads and files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.sim.batch_config import BatchConfig, SimBatch
from harness.sim.catalog import Catalog
from harness.sim.executor import Runner
from harness.sim.faults import NO_FAULTS, FaultConfig
from harness.sim.models import ScriptWriter

FILE_URI_BASE = "https://harness-sim.invalid"  # port-free: file URIs end up in request bodies


@dataclass
class PendingUpload:
    """A resumable upload between its ``start`` and its ``finalize``."""

    display_name: str | None
    mime_type: str
    data: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file (``files/<id>``) and its API resource."""

    display_name: str | None
    mime_type: str
    data: bytes
    resource: dict[str, Any]


class SimState:
    """Everything one simulator instance remembers (lives as long as the server).

    Attributes:
        catalog: Known cases.
        faults: The fault configuration.
        writer: Writes and caches the sim models' scripts.
        interactions: Interaction resources by id (for get and ``previous_interaction_id``).
        interaction_asks: What each interaction was asked, as (the user's texts, function
            results so far): a request that only sends function results continues its
            predecessor's turn.
        uploads: Resumable uploads in progress, by upload id.
        files: Uploaded files by id (the part after ``files/``).
        attempts: How often each model-call request was seen (drives fault decisions).
        batch_config: How batch jobs behave (:mod:`harness.sim.batches`).
        batches: Batch jobs by name (``batches/<id>``).

    """

    def __init__(self, catalog: Catalog, faults: FaultConfig | None, runner: Runner,
                 batch: BatchConfig | None = None) -> None:
        self.catalog = catalog
        self.faults = faults or NO_FAULTS
        self.writer = ScriptWriter(runner)
        self.interactions: dict[str, dict[str, Any]] = {}
        self.interaction_asks: dict[str, tuple[list[str], int]] = {}
        self.uploads: dict[str, PendingUpload] = {}
        self.files: dict[str, StoredFile] = {}
        self.attempts: Counter[tuple[object, ...]] = Counter()
        self.batch_config = batch or BatchConfig()
        self.batches: dict[str, SimBatch] = {}

    def lookup_file(self, uri: str) -> StoredFile | None:
        """An uploaded file by URI or ``files/<id>`` name."""
        _, sep, file_id = uri.rpartition("files/")
        return self.files.get(file_id) if sep else None

    def next_attempt(self, ident: tuple[object, ...]) -> int:
        """Count one more sighting of the request ``ident``; returns its attempt number."""
        self.attempts[ident] += 1
        return self.attempts[ident]
