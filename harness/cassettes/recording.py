"""An item's cassette while its call runs: opened for replay or for a safe recording.

Decisions this module implements (DESIGN.md): one cassette per item; match on upper-cased
method, path, query and JSON body (never host/port); secrets, Vertex project/location and
hosts are scrubbed before recording *and* before matching (:mod:`~harness.cassettes.scrub`);
only 2xx exchanges are stored; recording goes to a temporary file that replaces the old
cassette only when the call succeeded; replay refuses every socket and a miss says what
differs (:mod:`~harness.cassettes.misses`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cassettes.misses import describe_miss
from harness.cassettes.paths import is_replay
from harness.cassettes.scrub import before_record_request, before_record_response
from harness.errors import CassetteError
from harness.paths import display_path, sweep_stale
from harness.results import provenance

METADATA_KEY = "harness"
FINGERPRINT_KEY = "request_fingerprint"
SDK_KEY = provenance.SDK
# A recording in progress is `.<k>.recording-<pid>.yaml` beside its cassette (blobs are found
# from the cassette's path). The cassette root's .gitignore keeps such files out of commits,
# and the next recording run removes those whose process died (a kill -9 mid-recording).
TEMP_GLOB = ".*.recording-*.yaml"
TEMP_NAME = re.compile(r"^\..*\.recording-(?P<pid>[0-9]+)\.yaml$")
GITIGNORE = ("# written by harness: recordings in progress (never commit them)\n"
             f"{TEMP_GLOB}\n")
_prepared: set[Path] = set()


def prepare_root(root: Path) -> list[Path]:
    """Once per process and cassette root: add its .gitignore, sweep stale recordings.

    Returns:
        The stale temporary files removed.
    """
    if root in _prepared:
        return []
    _prepared.add(root)
    root.mkdir(parents=True, exist_ok=True)
    ignore = root / ".gitignore"
    try:
        current = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
        if TEMP_GLOB not in current.splitlines():
            ignore.write_text(current + ("\n" if current and not current.endswith("\n") else "")
                              + GITIGNORE, encoding="utf-8")
    except OSError:
        pass  # a read-only checkout still records; only the ignore rule is missing
    return sweep_stale(root.rglob(TEMP_GLOB), TEMP_NAME)


def make_vcr(pytestconfig: Any | None = None) -> Any:
    """The session's vcrpy VCR: matchers, scrubbing, blobs; pytest-recording's hook may adjust."""
    import vcr

    from harness.cassettes import blobs

    my_vcr = vcr.VCR(
        match_on=("method", "path", "query", "body"),
        before_record_request=before_record_request,
        # Decompression is capped in before_record_response (vcrpy's own inflates whatever
        # size a hand-edited body claims), for recording and loading alike.
        before_record_response=before_record_response,
        # Figures and other large base64 payloads are stored once, in <target>/_blobs/.
        before_save_interaction=blobs.before_save,
        after_load_interaction=blobs.after_load,
    )
    if pytestconfig is not None and hasattr(pytestconfig.hook, "pytest_recording_configure"):
        pytestconfig.hook.pytest_recording_configure(config=pytestconfig, vcr=my_vcr)
    return my_vcr


@dataclass
class Recording:
    """The cassette of one item while its call runs.

    Attributes:
        cassette: vcrpy's Cassette.
        path: The final cassette path.
        replaying: True in replay.
        meta: What the harness keeps beside the exchanges (record-time timing, the request
            fingerprint): a top-level ``harness:`` mapping of the cassette file. Not vcrpy's
            ``metadata``, which pytest-recording (0.15) cannot load.
    """

    cassette: Any
    path: Path
    replaying: bool
    meta: dict[str, Any] = field(default_factory=dict)

    def mark(self) -> int:
        """A point to roll back to if the next attempt fails (see :meth:`rollback`)."""
        return len(self.cassette.data)

    def rollback(self, mark: int) -> None:
        """Forget exchanges recorded since ``mark`` (a 2xx that still failed, e.g. a cut stream)."""
        if not self.replaying:
            del self.cassette.data[mark:]

    def last_response(self, mark: int) -> tuple[int, Any, str] | None:
        """The newest response since ``mark``: (status, body, content-encoding), or None.

        Recording, that is the last exchange appended since the mark; replaying, the last
        response played (the call after ``mark`` is the only one playing).
        """
        if self.replaying:
            from harness.cassettes import replay

            response = replay.TRANSPORT.last_played
            replay.TRANSPORT.last_played = None
        else:
            response = self.cassette.data[-1][1] if len(self.cassette.data) > mark else None
        if not isinstance(response, dict):
            return None
        status = (response.get("status") or {}).get("code")
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        encoding = ",".join(headers.get("content-encoding") or [])
        return (status if isinstance(status, int) else 0,
                (response.get("body") or {}).get("string"), encoding)

    def store_timing(self, timing: dict[str, float | None]) -> None:
        """Keep record-time latency in the cassette (replay reports it; replay is instant)."""
        self._store(timing)

    def store_fingerprint(self, fingerprint: str, sdk: str) -> None:
        """Keep the digest of what shaped the requests (:mod:`harness.calls.fingerprint`).

        Args:
            fingerprint: The digest.
            sdk: The google-genai version that sent them (part of the digest; kept in the
                clear so a replay on another version can say why it took the SDK path).
        """
        self._store({FINGERPRINT_KEY: fingerprint, SDK_KEY: sdk})

    def store_provenance(self, values: dict[str, str]) -> None:
        """Keep where the recording came from (:mod:`harness.results.provenance`).

        ``recorded_via`` becomes ``normal`` unless the recorder (a batch) already set it.
        """
        if not self.replaying:
            self.meta.update(values)
            self.meta.setdefault(provenance.VIA, provenance.NORMAL)

    def _store(self, values: dict[str, Any]) -> None:
        if not self.replaying:
            self.meta.update(values)

    def stored_timing(self) -> dict[str, float | None]:
        """Timing stored when the cassette was recorded ({} for older cassettes)."""
        from harness.cassettes.files import stored_timing

        return stored_timing({METADATA_KEY: self.meta})


@contextmanager
def use_cassette(my_vcr: Any, path: Path, record_mode: str, rerecord_hint: str, *,
                 root: Path | None = None, block: bool = True) -> Iterator[Recording]:
    """Open the item's cassette for replay or for a safe recording.

    Args:
        my_vcr: From :func:`make_vcr`.
        path: The final cassette path.
        record_mode: pytest-recording's ``--record-mode`` value.
        rerecord_hint: The command that records this item (for error messages).
        root: The cassette root (``cassette_dir``): recording prepares it once
            (:func:`prepare_root`).
        block: Refuse every socket while replaying (False while other threads record: the
            replay client cannot reach the network anyway, but the block is process-wide).

    Raises:
        CassetteError: replaying without a cassette, or a request that matches nothing.

    """
    import vcr.errors

    replaying = is_replay(record_mode, path)
    if replaying:
        if not path.exists():
            raise CassetteError(
                f"no cassette for this item: {display_path(path)} does not exist.\n"
                f"To record it: {rerecord_hint}")
        from pytest_recording.network import blocking_context

        from harness.cassettes import replay

        try:
            cas = replay.load_cassette(my_vcr, path)
        except CassetteError:
            raise
        except Exception as exc:  # YAML errors and the like: the file, not the model
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CassetteError(f"{display_path(path)} is not a readable cassette ({first}).\n"
                                f"To record it again: {rerecord_hint}") from None
        if not cas.data:  # vcrpy drops what the filters refuse and reads junk as empty
            raise CassetteError(f"{display_path(path)} {_why_empty(path)}.\n"
                                f"To record it again: {rerecord_hint}")
        replay.TRANSPORT.cassette, replay.TRANSPORT.last_played = cas, None
        try:
            with blocking_context(allowed_hosts=None) if block else contextlib.nullcontext():
                yield Recording(cas, path, replaying=True, meta=stored_meta(path))
        except vcr.errors.CannotOverwriteExistingCassetteException as exc:
            raise CassetteError(describe_miss(exc, path, rerecord_hint)) from None
        finally:
            replay.TRANSPORT.cassette = None
        return

    tmp = temp_cassette(path, record_mode, root)
    vcr_mode = "all" if record_mode == "all" else "new_episodes"
    try:
        with my_vcr.use_cassette(str(tmp), record_mode=vcr_mode) as cas:
            rec = Recording(cas, path, replaying=False)
            yield rec
        if tmp.exists() and rec.meta:
            keep_unchanged_date(tmp, path, rec.meta)
            append_meta(tmp, rec.meta)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed re-record must not touch the good cassette
        raise
    if tmp.exists():
        os.replace(tmp, path)


def keep_unchanged_date(tmp: Path, path: Path, meta: dict[str, Any]) -> None:
    """A re-record that changed nothing but the day keeps the old cassette's record date.

    The record date says since when a cassette holds what it holds. When the new exchanges
    are byte for byte the old ones (vcrpy's text before the ``harness:`` block) and every
    other ``harness:`` value is the same, the recording is the same recording: its old date
    stays, so re-recording an unchanged (deterministic) case leaves the file byte-identical
    on any day. Any other difference (an exchange, a version, the fingerprint) dates it today.

    Args:
        tmp: The new recording, as vcrpy left it (before its new ``harness:`` block).
        path: The cassette it replaces (may not exist).
        meta: The new ``harness:`` mapping; its ``record_date`` may be set back.
    """
    if provenance.RECORD_DATE not in meta or not path.exists():
        return
    try:
        old, new = path.read_text(encoding="utf-8"), tmp.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if _exchanges_text(old) != _exchanges_text(new):
        return
    from harness.cassettes.files import harness_meta

    before = harness_meta(old)
    date = before.get(provenance.RECORD_DATE)
    if isinstance(date, str) and {**before, provenance.RECORD_DATE: None} == \
            {**meta, provenance.RECORD_DATE: None}:
        meta[provenance.RECORD_DATE] = date


def temp_cassette(path: Path, record_mode: str, root: Path | None) -> Path:
    """The empty (or, for ``new_episodes``/``all``, copied) temporary file a recording goes to.

    Beside the cassette, so the final ``os.replace`` is atomic; per process, so xdist workers
    never share one.
    """
    if root is not None:
        prepare_root(root)
    tmp = path.with_name(f".{path.stem}.recording-{os.getpid()}.yaml")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    if record_mode in ("new_episodes", "all") and path.exists():
        shutil.copyfile(path, tmp)
    return tmp


def append_meta(path: Path, meta: dict[str, Any]) -> None:
    """Add the harness's top-level ``harness:`` mapping to a cassette vcrpy just wrote.

    vcrpy and pytest-recording read only ``interactions`` (and ``metadata``): a key of its
    own keeps the file theirs to read.
    """
    import yaml

    block = yaml.safe_dump({METADATA_KEY: meta}, sort_keys=False, default_flow_style=False)
    text = path.read_text(encoding="utf-8")
    # vcrpy leaves the file as it was when nothing new was recorded (new_episodes over a
    # cassette that served every request): its old block is replaced, not followed by another.
    path.write_text(_exchanges_text(text) + block, encoding="utf-8")


def _exchanges_text(text: str) -> str:
    """A cassette's text without its ``harness:`` block (vcrpy's part of the file)."""
    at = text.rfind(f"\n{METADATA_KEY}:\n")
    return text if at < 0 else text[:at + 1]


def stored_meta(path: Path) -> dict[str, Any]:
    """The ``harness:`` mapping of a cassette (older cassettes: vcrpy's ``metadata.harness``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    from harness.cassettes.files import harness_meta

    return harness_meta(text)




def _why_empty(path: Path) -> str:
    """Why a cassette gave vcrpy nothing to replay (read again, only on this error path)."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return "is not a readable cassette"
    items = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        return "holds no recorded exchanges (it is empty or not a cassette)"
    statuses = sorted({str(((i.get("response") or {}).get("status") or {}).get("code", "?"))
                       for i in items if isinstance(i, dict)})
    return (f"holds only non-2xx exchanges (status {', '.join(statuses)}): a recording keeps "
            "successful responses only, so this file was edited or written by another tool")
