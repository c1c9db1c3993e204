"""Result records: one JSON object per item, in ``reports/<run-id>/results.jsonl``.

Images travel inside records as base64 (so pytest-xdist can forward them); the writer, which
runs only in the controlling process, stores them as content-hashed files beside the run and
keeps the file name in the record.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.checks.api import CheckResult
from harness.redact import redact
from harness.transcript.values import Transcript

_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


_RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$")


def new_run_id() -> str:
    """Sortable and unique: ``20261121-104512-3fa9``."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def prune_runs(report_dir: Path, keep: int, current: str) -> list[Path]:
    """Remove all but the newest ``keep`` run directories (0 keeps every run).

    Only directories named like a run id are touched: ``history.jsonl``, ``latest``, a
    README and anything else in the report directory stay, and so does the current run.

    Returns:
        The run directories removed, oldest first.
    """
    if keep <= 0:
        return []
    runs = sorted(p for p in report_dir.iterdir()
                  if _RUN_ID.match(p.name) and p.is_dir() and not p.is_symlink())
    removed = []
    for run in runs[:-keep]:
        if run.name == current:
            continue
        shutil.rmtree(run, ignore_errors=True)
        removed.append(run)
    return removed


def make_record(*, item: dict[str, Any], verdict: str, transcript: Transcript | None,
                checks: list[CheckResult], error: dict[str, str] | None) -> dict[str, Any]:
    """Build one result record (JSON-ready).

    Args:
        item: suite, case, model, sample, nodeid, location, cassette, api, target.
        verdict: ``pass`` | ``fail`` | ``error`` | ``skipped``.
        transcript: What the model produced (None when the call itself failed).
        checks: Each check's result (empty unless the checks ran).
        error: ``{"kind", "message"}`` for ERRORs.

    """
    record: dict[str, Any] = {**item, "verdict": verdict, "error": error,
                              "checks": [c.to_json() for c in checks]}
    if transcript is not None:
        record.update(
            attempts=transcript.attempts, outcomes=transcript.outcomes,
            usage=transcript.usage.to_json(), model_version=transcript.model_version,
            finish_reason=transcript.finish_reason, latency_s=transcript.latency_s,
            ttft_s=transcript.ttft_s,
            transcript={**transcript.to_json(), "error": transcript.error})
    # A JSON round trip turns SDK str/enum subclasses into plain values: xdist's
    # serializer (execnet) accepts only builtin types.
    return json.loads(json.dumps(record, default=str))  # type: ignore[no-any-return]


class ResultsWriter:
    """Appends records to a run directory created on the first record.

    An xdist worker writes its own ``results.<worker>.jsonl`` (``part``), so that records
    do not travel through xdist's pipe; the controller appends the parts to
    ``results.jsonl`` at the end (:func:`merge_parts`).
    """

    def __init__(self, report_dir: Path, run_id: str | None = None, *,
                 part: str | None = None) -> None:
        self.report_dir = report_dir
        self.run_id = run_id or new_run_id()
        self.part = part
        self.count = 0
        self._fh: Any = None

    @property
    def run_dir(self) -> Path:
        """``<report_dir>/<run-id>``."""
        return self.report_dir / self.run_id

    @property
    def results_path(self) -> Path:
        """The run's ``results.jsonl`` (a worker's part: ``results.<worker>.jsonl``)."""
        return self.run_dir / (f"results.{self.part}.jsonl" if self.part else "results.jsonl")

    def start(self) -> None:
        """Create the run directory and open the results file (the first write does it too)."""
        if self._fh is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._fh = self.results_path.open("a", encoding="utf-8")
            if self.part is None:
                self._point_latest()

    def write(self, record: dict[str, Any]) -> None:
        """Store images as files, then append the record as one line."""
        self.start()
        for step in (record.get("transcript") or {}).get("steps", []):
            if step.get("type") == "image" and "data" in step:
                step["file"] = self._store_image(step.pop("data"), step.get("mime_type"),
                                                 step.get("sha256"))
        self._fh.write(redact(json.dumps(record, ensure_ascii=False, sort_keys=True)) + "\n")
        self._fh.flush()  # a crashed run still leaves every finished item on disk
        self.count += 1

    def close(self) -> None:
        """Close the results file (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _store_image(self, data_b64: str, mime: str | None, sha: str | None) -> str:
        raw = base64.b64decode(data_b64)
        import hashlib

        digest = sha or hashlib.sha256(raw).hexdigest()
        rel = f"images/{digest}.{_EXT.get(mime or '', 'bin')}"
        path = self.run_dir / rel
        if not path.exists():  # content-addressed: xdist workers may write the same one
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_bytes(raw)
            os.replace(tmp, path)
        return rel

    def _point_latest(self) -> None:
        point_latest(self.report_dir, self.run_id)


def point_latest(report_dir: Path, run_id: str) -> None:
    """Point ``<report_dir>/latest`` at the run ``run_id`` (a symlink, else a file naming it)."""
    latest = report_dir / "latest"
    tmp = report_dir / f".latest-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id, target_is_directory=True)
        os.replace(tmp, latest)
    except OSError:  # no symlinks (some Windows setups): a file naming the run instead
        tmp.unlink(missing_ok=True)
        if latest.is_dir() and not latest.is_symlink():
            return
        latest.unlink(missing_ok=True)
        latest.write_text(run_id + "\n", encoding="utf-8")


def merge_parts(run_dir: Path) -> int:
    """Append the xdist workers' ``results.<worker>.jsonl`` to ``results.jsonl``; remove them.

    Returns:
        How many records were appended.
    """
    parts = sorted(run_dir.glob("results.*.jsonl"))
    count = 0
    if not parts:
        return count
    with (run_dir / "results.jsonl").open("a", encoding="utf-8") as out:
        for part in parts:
            text = part.read_text(encoding="utf-8")
            out.write(text)
            count += text.count("\n")
            part.unlink()
    return count


class StoredTranscript:
    """A record's transcript left in ``results.jsonl``, read again only when it is shown.

    The end of a run needs every record's verdict, checks and usage, but only a few whole
    transcripts (the HTML report shows a capped number): holding all of them made the peak
    memory grow with the suite. Truthy, like the transcript it stands for.
    """

    __slots__ = ("_offset", "_path")

    def __init__(self, path: Path, offset: int) -> None:
        self._path, self._offset = path, offset

    def load(self) -> dict[str, Any]:
        """The transcript, parsed from its line again."""
        with self._path.open("rb") as fh:
            fh.seek(self._offset)
            value = json.loads(fh.readline())["transcript"]
        return value if isinstance(value, dict) else {}


def transcript_of(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """A record's transcript, whether it is held or was left on disk (:class:`StoredTranscript`)."""
    value = record.get("transcript")
    if isinstance(value, StoredTranscript):
        return value.load()
    return value if isinstance(value, dict) else None


def read_slim(path: Path) -> Iterator[dict[str, Any]]:
    """Records as :func:`read_results` gives them, transcripts left on disk until asked for.

    Raises:
        ValueError: a line that is not a JSON record (names the file and line).
    """
    if path.is_dir():
        path = path / "results.jsonl"
    with path.open("rb") as fh:
        n = 0
        while True:
            offset = fh.tell()
            line = fh.readline()
            if not line:
                return
            n += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not a JSON record: {exc}") from None
            if isinstance(record.get("transcript"), dict):
                record["transcript"] = StoredTranscript(path, offset)
            yield record


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """Records from a results.jsonl file or a run directory (``reports/latest`` works)."""
    if path.is_dir():
        path = path / "results.jsonl"
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not a JSON record: {exc}") from None
