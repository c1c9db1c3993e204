"""An ``api: live`` item's frame cassette (``<k>.live.yaml``) while its session runs.

The same lifecycle as the HTTP cassettes of :mod:`harness.cassettes.recording`: replay needs
the file, refuses every socket, and a frame the recording cannot serve is a
:class:`~harness.errors.CassetteError` that ends with the re-record command; recording goes to
a temporary file (``.<k>.live.recording-<pid>.yaml``, covered by the cassette root's
.gitignore) that replaces the old cassette only when the item's call succeeded; an attempt
the retry policy gives up on is rolled back out of it.

Record modes: a Live session is one episode, recorded whole or not at all. ``none`` replays;
``once`` and ``new_episodes`` replay an existing cassette and record a missing one; ``all``
and ``rewrite`` record it again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cassettes import live
from harness.cassettes.recording import prepare_root
from harness.errors import CassetteError
from harness.paths import display_path
from harness.results import provenance

LIVE_SUFFIX = ".live.yaml"


def live_path(http_path: Path) -> Path:
    """The live cassette beside where the item's HTTP cassette would be: ``<k>.live.yaml``."""
    return http_path.with_name(http_path.name.removesuffix(".yaml") + LIVE_SUFFIX)


def is_live_replay(record_mode: str, path: Path) -> bool:
    """Whether a live item replays under ``record_mode`` (see the module docstring)."""
    return record_mode == "none" or (record_mode in ("once", "new_episodes") and path.exists())


@dataclass
class LiveCassette:
    """The item's live cassette, with the interface :func:`harness.calls.run.run_case` uses.

    Attributes:
        path: The final cassette path.
        replaying: True when frames come from the file (no network).
        recording: What is being recorded (None when replaying).
        replay: What is being replayed (None when recording).
        metadata: Record-time timing read from the file (replay).

    """

    path: Path
    replaying: bool
    recording: live.LiveRecording | None = None
    replay: live.LiveReplay | None = None
    metadata: dict[str, Any] | None = None

    def mark(self) -> int:
        """A point to roll back to if the next attempt fails."""
        return len(self.recording.frames) if self.recording is not None else 0

    def rollback(self, mark: int) -> None:
        """Forget the frames of a failed attempt: the cassette keeps one whole session."""
        if self.recording is not None:
            del self.recording.frames[mark:]

    def last_response(self, mark: int) -> tuple[int, Any, str] | None:
        """None: a websocket frame is no HTTP response to re-read for a parse error."""
        return None

    def store_timing(self, timing: dict[str, float | None]) -> None:
        """Keep record-time latency in the cassette (replay reports it)."""
        if self.recording is not None:
            self.recording.metadata.update(timing)

    def store_fingerprint(self, fingerprint: str, sdk: str) -> None:
        """Keep only the SDK version: a Live replay always checks every frame it plays."""
        if self.recording is not None:
            self.recording.metadata[provenance.SDK] = sdk

    def store_provenance(self, values: dict[str, str]) -> None:
        """Keep where the recording came from (:mod:`harness.results.provenance`)."""
        if self.recording is not None:
            self.recording.metadata.update(values)
            self.recording.metadata.setdefault(provenance.VIA, provenance.NORMAL)

    @property
    def meta(self) -> dict[str, Any]:
        """The cassette's ``harness:`` mapping: as stored (replay) or as it will be written."""
        if self.recording is not None:
            return self.recording.metadata
        return dict(self.metadata or {})

    def stored_timing(self) -> dict[str, float | None]:
        """Timing stored when the cassette was recorded ({} when none was)."""
        return dict(self.metadata or {})


@contextmanager
def use_live_cassette(path: Path, record_mode: str, rerecord_hint: str, *,
                      root: Path | None = None) -> Iterator[LiveCassette]:
    """Open an ``api: live`` item's cassette for replay or for a safe recording.

    Args:
        path: The final cassette path (``<k>.live.yaml``).
        record_mode: pytest-recording's ``--record-mode`` value.
        rerecord_hint: The command that records this item (ends every error message).
        root: The cassette root: recording prepares it once (its .gitignore, stale files).

    Raises:
        CassetteError: replaying without a cassette, a damaged one, an outbound frame that
            differs from the recording, a recording that ends early or has frames left over.

    """
    if is_live_replay(record_mode, path):
        if not path.exists():
            raise CassetteError(
                f"no cassette for this item: {display_path(path)} does not exist.\n"
                f"To record it: {rerecord_hint}")
        from pytest_recording.network import blocking_context

        try:
            metadata, frames = live.read_cassette(path)
            with blocking_context(allowed_hosts=None), \
                    live.replaying(path, frames=frames) as replay:
                cassette = LiveCassette(path, True, replay=replay, metadata=metadata)
                yield cassette
        except live.LiveMismatch as exc:
            raise CassetteError(f"{_relative(exc, path)}\n"
                                "The eval changed since it was recorded. To re-record: "
                                f"{rerecord_hint}") from None
        except CassetteError as exc:
            raise CassetteError(f"{_relative(exc, path)}\nTo record it again: "
                                f"{rerecord_hint}") from None
        left = replay.unplayed()
        if left:
            raise CassetteError(
                f"{display_path(path)}: {left} recorded frame(s) were never played: this item "
                "now sends fewer turns than when it was recorded.\nThe eval changed since it "
                f"was recorded. To re-record: {rerecord_hint}")
        return

    if root is not None:
        prepare_root(root)
    tmp = path.with_name(f".{path.name.removesuffix(LIVE_SUFFIX)}.live.recording-"
                         f"{os.getpid()}.yaml")
    tmp.unlink(missing_ok=True)
    try:
        with live.recording(tmp) as rec:
            yield LiveCassette(path, False, recording=rec)
            _keep_unchanged_date(path, rec)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed re-record must not touch the good cassette
        raise
    if not rec.frames:  # the call never reached the socket: nothing worth keeping
        tmp.unlink(missing_ok=True)
        return
    os.replace(tmp, path)


def _keep_unchanged_date(path: Path, rec: live.LiveRecording) -> None:
    """Frames and metadata as before but for the day: the old record date stays.

    The same rule as :func:`harness.cassettes.recording.keep_unchanged_date`.
    """
    if provenance.RECORD_DATE not in rec.metadata or not path.exists():
        return
    try:
        metadata, frames = live.read_cassette(path)
    except CassetteError:
        return
    date = metadata.get(provenance.RECORD_DATE)
    if isinstance(date, str) and frames == rec.frames and \
            {**metadata, provenance.RECORD_DATE: None} == \
            {**rec.metadata, provenance.RECORD_DATE: None}:
        rec.metadata[provenance.RECORD_DATE] = date


def _relative(exc: BaseException, path: Path) -> str:
    """The error's message with the cassette's absolute path shown relative to the project."""
    return str(exc).replace(str(path), display_path(path))
