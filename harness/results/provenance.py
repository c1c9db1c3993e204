"""Provenance: where a recording came from, kept in its cassette and carried by its record.

A new recording stores, in its cassette's top-level ``harness:`` mapping (which matching
never reads), the harness version, the google-genai version, the model version the API
reported, the UTC day it was recorded, the target and how it was recorded (``normal`` or
``batch``). Replay reads them back into each result record as ``item["provenance"]``;
cassettes from before provenance give ``unknown`` for what they lack.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from importlib import metadata
from typing import Any

HARNESS_VERSION = "harness_version"
SDK = "google_genai"
MODEL_VERSION = "model_version"
RECORD_DATE = "record_date"
TARGET = "target"
VIA = "recorded_via"
BATCH_JOB = "batch_job"
# What a record's provenance holds, in the order reports show it.
FIELDS = (HARNESS_VERSION, SDK, MODEL_VERSION, RECORD_DATE, TARGET, VIA)
UNKNOWN = "unknown"
NORMAL = "normal"


@cache
def harness_version() -> str:
    """The installed harness distribution's version (``unknown`` when run from a bare tree)."""
    try:
        return metadata.version("harness")
    except metadata.PackageNotFoundError:
        return UNKNOWN


def recording_values(target: str, model_version: str | None, *,
                     today: date | None = None) -> dict[str, str]:
    """What a new recording stores beside its request fingerprint (which holds the SDK version).

    Args:
        target: ``gemini``, ``vertex`` or ``sim``.
        model_version: The ``modelVersion`` the API reported (None: it reported none, and
            nothing is stored, so replay says ``unknown``).
        today: The record day (default: today in UTC).

    Returns:
        The values, in the order they are written. ``recorded_via`` is not among them: the
        recorder sets it only when no other path (a batch) set it first.
    """
    values = {HARNESS_VERSION: harness_version()}
    if model_version:
        values[MODEL_VERSION] = str(model_version)
    values[RECORD_DATE] = (today or datetime.now(UTC).date()).isoformat()
    values[TARGET] = target
    return values


def from_meta(meta: Mapping[str, Any] | None, model_version: str | None = None) -> dict[str, str]:
    """A record's provenance from its cassette's ``harness:`` mapping.

    Args:
        meta: The mapping (None or {} for a cassette without one).
        model_version: The transcript's reported model version: it was read from the same
            recorded responses, so it stands in when the cassette predates provenance.

    Returns:
        Every field of :data:`FIELDS` (``unknown`` when not stored), plus ``batch_job`` when
        the recording came from a batch.
    """
    meta = meta or {}
    out = {k: str(meta[k]) if meta.get(k) not in (None, "") else UNKNOWN for k in FIELDS}
    if out[MODEL_VERSION] == UNKNOWN and model_version:
        out[MODEL_VERSION] = str(model_version)
    if meta.get(BATCH_JOB):
        out[BATCH_JOB] = str(meta[BATCH_JOB])
    return out
