"""generateContent wire JSON read as the SDK's response objects read, without importing the SDK.

Direct replay (:mod:`harness.cassettes.fast`) reads recordings whose requests are known to be
unchanged. Their responses were parsed by the SDK when they were recorded, so they are valid;
what remains is to read them exactly as :mod:`harness.transcript.generate` reads the SDK's
objects. :class:`Wire` gives a JSON object the SDK's attribute names (``usage_metadata`` for
``usageMetadata``), with the SDK's conversions for the fields the transcript reads (inline
data decoded from base64), so the same code builds the transcript from either. Importing
google.genai costs about 0.55 s, a fifth of replaying 1,000 cases.

Tests hold the two readers equal on the conformance corpus, every committed cassette and
random streams.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

# Fields the SDK stores as bytes (base64 in JSON), and those it keeps as plain JSON values.
_BYTES = frozenset({"data", "thought_signature"})
_PLAIN = frozenset({"args", "response", "partial_args"})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class WireError(ValueError):
    """A value the SDK would not have read this way (the caller falls back to the SDK)."""


def wrap(value: Any) -> Any:
    """JSON objects as :class:`Wire`, lists element by element, scalars as they are."""
    if isinstance(value, dict):
        return Wire(value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


class Wire:
    """A JSON object read by snake_case attribute, as the SDK's pydantic models are.

    Missing fields read as None (the SDK's default); camelCase and snake_case keys are both
    accepted, as the SDK accepts both.
    """

    __slots__ = ("_d",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._d = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        d = self._d
        value = d.get(_camel(name), d.get(name))
        if name in _BYTES and value is not None:
            return _bytes(value)
        if name in _PLAIN:
            return value
        return wrap(value)


def _bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise WireError(f"expected base64 text, got {type(value).__name__}")
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WireError(f"not base64: {exc}") from None
