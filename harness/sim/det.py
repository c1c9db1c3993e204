"""Deterministic values: ids, seeds, draws and timestamps derived from hashes, never clocks.

A re-record of an unchanged case must change nothing, so every value the simulator invents
(response ids, interaction ids, file names, code-part ids, timestamps, random draws) is a pure
function of what identifies the exchange: case, model, sample and the request body.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

_SEP = "\x1f"  # unit separator: ("a", "bc") and ("ab", "c") must not hash alike
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
# Timestamps land in 2025, plausibly "recent" for recordings, and never read the clock.
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_YEAR_S = 365 * 24 * 3600


def digest(*parts: object) -> bytes:
    """SHA-256 of the parts, each turned into text, with a separator between them."""
    return hashlib.sha256(_SEP.join(str(p) for p in parts).encode("utf-8")).digest()


def unit(*parts: object) -> float:
    """A uniform draw in [0, 1) fixed by the parts."""
    return int.from_bytes(digest(*parts)[:8], "big") / 2**64


def seed(*parts: object) -> int:
    """A 31-bit seed (fits every RNG's seed argument) fixed by the parts."""
    return int.from_bytes(digest(*parts)[:4], "big") & 0x7FFFFFFF


def token(*parts: object, length: int = 22) -> str:
    """URL-safe base64 text, like the API's ``responseId`` (22 characters by default)."""
    text = base64.urlsafe_b64encode(digest(*parts)).decode("ascii").rstrip("=")
    return text[:length]


def short_id(*parts: object, length: int = 8) -> str:
    """Lower-case letters and digits, like the ids on code-execution parts."""
    number = int.from_bytes(digest(*parts), "big")
    out = []
    for _ in range(length):
        number, rem = divmod(number, len(_ALPHABET))
        out.append(_ALPHABET[rem])
    return "".join(out)


def timestamp(*parts: object, offset_s: int = 0) -> str:
    """An ISO-8601 UTC time in 2025 fixed by the parts, plus ``offset_s`` seconds."""
    when = _EPOCH + timedelta(seconds=int(unit(*parts) * _YEAR_S) + offset_s)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
