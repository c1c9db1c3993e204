"""Replay without the SDK: a recording whose requests are known to be unchanged is read directly.

When the request fingerprint stored with a cassette (:mod:`harness.calls.fingerprint`)
equals the one the case gives now, the SDK would send exactly the recorded requests and be
served exactly the recorded responses. The transcript is then built from those responses
with the same reader ``harness transcript`` and the conformance corpus use
(:mod:`harness.cassettes.files`), with the C YAML loader and no vcrpy machinery.

Anything unusual (no fingerprint, another one, a non-2xx exchange, a body that does not
parse) returns None, and the item takes the full path, which reports problems precisely.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cassettes.files import cassette_recording, load_cassette, recording_transcript
from harness.cassettes.recording import FINGERPRINT_KEY, METADATA_KEY
from harness.errors import HarnessError
from harness.redact import redact
from harness.transcript.bodies import TranscriptError
from harness.transcript.rawjson import WireError

if TYPE_CHECKING:
    from harness.transcript.values import Transcript


def recorded_transcript(path: Path,
                        fingerprint: str) -> tuple[Transcript, dict[str, Any]] | None:
    """The transcript recorded at ``path`` if its stored fingerprint is ``fingerprint``.

    Args:
        path: The item's cassette.
        fingerprint: What the case, model and environment give now.

    Returns:
        The transcript and the cassette's ``harness:`` mapping (its provenance, read in the
        same pass), or None when the full replay path must decide.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    # A cheap look before redacting and parsing: most mismatches lack the key at all.
    if fingerprint not in text:
        return None
    text = redact(text)
    from pytest_recording.network import blocking_context

    try:
        # Nothing here talks to the network; the guard holds as on the full path regardless.
        with blocking_context(allowed_hosts=None):
            return _transcript(text, path, fingerprint)
    except (TranscriptError, HarnessError, WireError):
        return None


def _transcript(text: str, path: Path,
                fingerprint: str) -> tuple[Transcript, dict[str, Any]] | None:
    exchanges, meta = load_cassette(text, where=str(path))
    stored = meta.get(METADATA_KEY)
    if not isinstance(stored, dict) or stored.get(FINGERPRINT_KEY) != fingerprint:
        return None
    if not exchanges or not all(e.ok for e in exchanges):
        return None  # vcrpy drops these on load: let the full path say what it makes of it
    return (recording_transcript(cassette_recording(exchanges, meta, path), raw=True),
            dict(stored))
