"""Lenient readers of the values the SDK parsed (the SDK itself is not imported here).

The SDK parses responses leniently: an unknown enum value becomes a pseudo-member, and a field
whose value does not fit its type keeps the value as it came. `harness.transcript` reads every
such field through these, and maps the two APIs' usage fields onto
:class:`harness.transcript.values.Usage`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from harness.transcript.values import Usage

GENERATE_USAGE = (("prompt_token_count", "prompt_tokens"),
                  ("candidates_token_count", "output_tokens"),
                  ("tool_use_prompt_token_count", "tool_use_prompt_tokens"),
                  ("thoughts_token_count", "thought_tokens"),
                  ("total_token_count", "total_tokens"))
INTERACTION_USAGE = (("total_input_tokens", "prompt_tokens"),
                     ("total_output_tokens", "output_tokens"),
                     ("total_tool_use_tokens", "tool_use_prompt_tokens"),
                     ("total_thought_tokens", "thought_tokens"),
                     ("total_tokens", "total_tokens"))


def dump(model: Any) -> dict[str, Any]:
    """Return an SDK model (or a dict) as wire JSON; anything else as ``{}``."""
    if hasattr(model, "model_dump"):
        try:
            dumped = model.model_dump(mode="json", by_alias=True, exclude_none=True,
                                      warnings=False)
        except (ValueError, TypeError):  # a leniently parsed field pydantic cannot serialise
            return {}
        return dumped if isinstance(dumped, dict) else {}
    return dict(model) if isinstance(model, dict) else {}


def last_usage(usages: Iterable[Any], mapping: tuple[tuple[str, str], ...]) -> Usage:
    """Return each usage field from the last of ``usages`` carrying it as an int.

    ``mapping`` pairs the SDK's field names with :class:`harness.transcript.values.Usage`'s.
    """
    values: dict[str, int | None] = dict.fromkeys(dst for _, dst in mapping)
    for usage in usages:
        for src, dst in mapping:
            value = getattr(usage, src, None) if usage is not None else None
            if isinstance(value, int) and not isinstance(value, bool):
                values[dst] = value
    return Usage(**values)


def enum_str(value: Any) -> str | None:
    """Return the API string of an SDK enum (unknown values are pseudo-members holding it)."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def as_list(value: Any) -> list[Any]:
    """Return ``value`` if it is a list, else ``[]``."""
    return value if isinstance(value, list) else []  # lenient SDK parsing keeps odd values


def as_str(value: Any) -> str | None:
    """Return ``value`` if it is a string, else None."""
    return value if isinstance(value, str) else None


def error_text(error: Any) -> str:
    """Return an API error as ``code: message`` (whichever parts it has; ``""`` for none)."""
    parts = [str(p) for p in (getattr(error, "code", None), getattr(error, "message", None))
             if p not in (None, "")]
    return ": ".join(parts)
