"""Wire JSON -> SDK types, parsed as the SDK parses responses (lenient, validate=False)."""

from __future__ import annotations

import functools
from typing import Any

from harness.transcript.bodies import TranscriptError


def parse_sdk(value: Any, typ: Any) -> Any:
    """Parse wire JSON into SDK types as the SDK does for responses (lenient, validate=False)."""
    from google.genai._gaos.utils.serializers import (
        ALLOW_UNKNOWN_UNION_VARIANTS,
        construct_unvalidated,
    )

    try:  # the SDK's validation, minus its per-call pydantic model creation (~3 ms each)
        return _adapter(typ).validate_python(value, context={ALLOW_UNKNOWN_UNION_VARIANTS: True})
    except (ValueError, TypeError):  # TypeError: the SDK's union parser on odd values
        result = construct_unvalidated(value, typ)  # what the SDK falls back to
    if result is value and value is not None:
        raise TranscriptError(f"the SDK could not parse {str(value)[:80]!r} as {typ}")
    return result


@functools.cache
def _adapter(typ: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(typ)


def sdk_event(name: str | None, data: Any) -> Any:
    """An Interactions stream event (SSE event name and data) as the SDK's typed event."""
    from google.genai import interactions as gi

    wrapped = {"data": data} if name is None else {"event": name, "data": data}
    return parse_sdk(wrapped, gi.InteractionSSEStreamEvent).data

