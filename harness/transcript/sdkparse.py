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



def parse_response(chunk: dict[str, Any], typ: Any) -> Any:
    """Parse one wire response with the SDK's own response path (``typ._from_response``).

    Raises:
        TranscriptError: the SDK cannot read it; the reason names the first field whose value
            does not fit (``candidates[0].finishReason: 5 is not a string``) when one can be
            found, else repeats the SDK's message on one line.
    """
    try:
        return typ._from_response(response=chunk, kwargs={})
    except (TypeError, ValueError, AttributeError) as exc:  # AttributeError: an enum's _missing_
        raise TranscriptError(misfit(chunk, typ) or validation_reason(exc)) from None


def validation_reason(exc: Exception) -> str:
    """A pydantic ValidationError's first error as ``where: what (got value)``; else its text."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        return (f"{where.lstrip('.') or 'the body'}: {first['msg'].lower()} "
                f"(got {json_repr(first.get('input'))})")
    return " ".join(str(exc).split())[:300]


def misfit(value: Any, typ: Any, path: str = "") -> str | None:
    """Say where wire JSON first gives an SDK enum field something other than a string.

    The SDK's enums upper-case what they are given, so a number there ends the parse with an
    AttributeError that names no field; this finds the field. Returns None if every enum
    field holds a string (or nothing).
    """
    import enum
    import types
    import typing

    from pydantic import BaseModel

    if value is None:
        return None
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(typ):
            if arg is not type(None) and (found := misfit(value, arg, path)) is not None:
                return found
        return None
    if origin is list:
        (item,) = typing.get_args(typ) or (Any,)
        if isinstance(value, list):
            for i, v in enumerate(value):
                if (found := misfit(v, item, f"{path}[{i}]")) is not None:
                    return found
        return None
    if isinstance(typ, type) and issubclass(typ, enum.Enum):
        if isinstance(value, str):
            return None
        return f"{path or 'the body'}: {json_repr(value)} is not a string ({typ.__name__})"
    if isinstance(typ, type) and issubclass(typ, BaseModel) and isinstance(value, dict):
        fields = {}
        for name, info in typ.model_fields.items():
            fields[name] = info.annotation
            if info.alias:
                fields[info.alias] = info.annotation
        for key, v in value.items():
            if key in fields:
                sub = f"{path}.{key}" if path else str(key)
                if (found := misfit(v, fields[key], sub)) is not None:
                    return found
    return None


def json_repr(value: Any) -> str:
    """A JSON value as a few characters of JSON, for a reason."""
    import json

    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
