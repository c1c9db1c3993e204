"""Raw response bodies -> plain Python data, and what kind of response they hold (no SDK here).

`harness.transcript` hands what this module produces to the SDK's own types. This module only
decodes and recognises: bytes to text (gzip/deflate), SSE into events, JSON into values, and says
what a body is (generateContent response(s), an interaction or interaction events), or why it is
none of them. Recording files are read by :mod:`harness.cassettes.files`.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from typing import Any, Literal

BodyKind = Literal["generate", "interaction", "interaction_events"]

GZIP_MAGIC = b"\x1f\x8b"
MAX_INFLATED = 256 * 2**20  # bytes a compressed body may inflate to
INTERACTION_EVENTS = frozenset({
    "interaction.created", "interaction.completed", "interaction.status_update",
    "step.start", "step.delta", "step.stop", "error",
})
_GENERATE_KEYS = ("candidates", "usageMetadata", "promptFeedback", "usage_metadata",
                  "prompt_feedback", "modelVersion", "model_version")
# SSE messages end at a blank line; the SDK's parser accepts all three line-end styles.
_SSE_BOUNDARY = re.compile(r"\r\n\r\n|\n\n|\r\r")
_LINE = re.compile(r"\r\n|\n|\r")
_CASSETTE_KEY = re.compile(r"^(?:interactions|http_interactions):", re.M)
TOO_DEEP = "the JSON is nested too deep to read (no response nests more than a few levels)"
_SSE_FIELD = re.compile(r"^(?:data|event|id):", re.M)


class TranscriptError(ValueError):
    """A body or recording that cannot be turned into a transcript (says what and where)."""


@dataclass(frozen=True)
class SSEEvent:
    """One server-sent event: its ``event:`` name (if any) and its joined ``data:`` lines."""

    event: str | None
    data: str


def to_text(data: str | bytes, *, where: str, encoding: str | None = None) -> str:
    """Decode a body to text, undoing gzip/deflate (by header or by gzip's magic bytes).

    Raises:
        TranscriptError: compressed with something Python cannot undo, or not UTF-8.

    """
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    enc = (encoding or "").lower()
    data = inflate(data, enc, where=where)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        hint = (f" (content-encoding {enc!r} is not supported; record with vcrpy's "
                "decode_compressed_response=True)") if enc else ""
        raise TranscriptError(f"{where}: the body is not UTF-8 text{hint}") from None


def inflate(data: bytes, encoding: str = "", *, where: str, limit: int | None = None) -> bytes:
    """Undo gzip (by header or by its magic bytes) or deflate, up to ``limit`` bytes out.

    A hand-edited cassette can hold a few kilobytes that inflate to gigabytes; no response
    the API sends comes near the limit, so a body that would pass it is refused, not read.

    Raises:
        TranscriptError: it does not decompress, or it would inflate beyond ``limit``
            (default :data:`MAX_INFLATED`).
    """
    limit = MAX_INFLATED if limit is None else limit
    enc = encoding.lower()
    if data.startswith(GZIP_MAGIC):
        wbits = 31
    elif "deflate" in enc:
        wbits = 15 if data[:1] == b"\x78" else -15  # zlib-wrapped, or raw as some servers send
    else:
        return data
    out = bytearray()
    try:
        while data:  # gzip allows several members one after another
            engine = zlib.decompressobj(wbits)
            out += engine.decompress(data, limit + 1 - len(out))
            if len(out) > limit or engine.unconsumed_tail:
                raise TranscriptError(f"{where}: the compressed body inflates beyond "
                                      f"{limit // 2**20} MiB; no API response is that large, so "
                                      "it is not read (re-record the cassette)")
            if not engine.eof:
                raise TranscriptError(f"{where}: the compressed body is cut short")
            data = engine.unused_data if wbits == 31 else b""
    except zlib.error as exc:
        raise TranscriptError(f"{where}: the body looks compressed but does not decompress "
                              f"({exc})") from None
    return bytes(out)


def sniff(text: str) -> Literal["json", "cassette", "sse", "unknown"]:
    """Say what a text looks like, by content only."""
    head = text.lstrip()
    if head[:1] in ("{", "["):
        return "json"
    if _CASSETTE_KEY.search(text):
        return "cassette"
    if _SSE_FIELD.search(text):
        return "sse"
    return "unknown"


def body_format(text: str, *, where: str) -> Literal["json", "sse"]:
    """Say whether a response body is JSON or SSE.

    Raises:
        TranscriptError: it is a cassette, or neither.

    """
    kind = sniff(text)
    if kind == "cassette":
        raise TranscriptError(f"{where}: this is a cassette, not a response body; "
                              "read it with transcript_from_path")
    if kind == "unknown":
        found = repr(text.strip()[:60]) if text.strip() else "an empty body"
        raise TranscriptError(f"{where}: expected a JSON response, a JSON array of stream "
                              f"chunks or an SSE body with `data:` lines; found {found}")
    return kind


def decode_json(text: str, *, where: str) -> Any:
    """Decode a JSON response body.

    Raises:
        TranscriptError: it is not valid JSON.

    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{where}: expected a JSON response body, but it is not valid "
                              f"JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise TranscriptError(f"{where}: {TOO_DEEP}") from None


def response_kind(value: Any, *, where: str) -> BodyKind:
    """Say what a decoded JSON body is (see :func:`classify`).

    Raises:
        TranscriptError: it is an API error body, or no response at all.

    """
    if (message := api_error(value)) is not None:
        raise TranscriptError(f"{where}: the body is an API error, not a response: {message}")
    kind = classify(value)
    if kind is None:
        raise TranscriptError(f"{where}: expected a GenerateContentResponse (candidates, "
                              "usageMetadata), a list of stream chunks, or an Interaction "
                              f"(steps, status and id); found {describe(value)}")
    return kind


def split_sse(text: str) -> list[SSEEvent]:
    """Split an SSE body into events (``data: [DONE]`` and comment-only blocks dropped)."""
    events: list[SSEEvent] = []
    for block in _SSE_BOUNDARY.split(text):
        name: str | None = None
        data: list[str] = []
        for line in _LINE.split(block):
            field, sep, value = line.partition(":")
            if not sep or not field:
                continue  # blank line, or ":comment"
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        joined = "\n".join(data)
        if data and joined.strip() != "[DONE]":
            events.append(SSEEvent(name, joined))
    return events


def sse_payloads(events: list[SSEEvent], *,
                 where: str) -> tuple[BodyKind, list[tuple[str | None, Any]]]:
    """Decode each event's JSON and say whether they are interaction events or chunks.

    Raises:
        TranscriptError: an event's data is not JSON, or there is no data event at all.

    """
    payloads: list[tuple[str | None, Any]] = []
    for i, ev in enumerate(events):
        try:
            payloads.append((ev.event, json.loads(ev.data)))
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{where}: SSE event {i} is not JSON ({exc.msg}): "
                                  f"{ev.data[:80]!r}") from None
        except RecursionError:
            raise TranscriptError(f"{where}: SSE event {i}: {TOO_DEEP}") from None
    if not payloads:
        raise TranscriptError(f"{where}: the SSE body has no data events")
    interaction = any((name in INTERACTION_EVENTS and name != "error")
                      or (isinstance(data, dict) and "event_type" in data)
                      for name, data in payloads)
    return ("interaction_events" if interaction else "generate"), payloads


def describe(value: Any) -> str:
    """Describe a JSON value in a few words, for error messages."""
    if isinstance(value, dict):
        return f"an object with keys {sorted(value)[:8]}"
    return f"a JSON {type(value).__name__}"


def classify(value: Any) -> BodyKind | None:
    """Say what a decoded JSON value is: generate-content response(s), interaction or events."""
    items = value if isinstance(value, list) else [value]
    dicts = [v for v in items if isinstance(v, dict)]
    if not dicts or len(dicts) != len(items):
        return None
    if any("event_type" in d for d in dicts):
        return "interaction_events"
    if isinstance(value, list):
        return "generate" if all(_is_generate(d) for d in dicts) else None
    if _is_generate(value):
        return "generate"
    if "steps" in value or "outputs" in value or ("status" in value and "id" in value):
        return "interaction"
    return None


def _is_generate(d: dict[str, Any]) -> bool:
    return any(k in d for k in _GENERATE_KEYS) or "error" in d


def api_error(value: Any) -> str | None:
    """Return the message of a Google API error body (``{"error": {...}}``), else None."""
    if not isinstance(value, dict) or not isinstance(value.get("error"), dict):
        return None
    err = value["error"]
    parts = [str(err[k]) for k in ("code", "status") if err.get(k) is not None]
    return " ".join(parts) + (": " if parts else "") + str(err.get("message", err))


def maybe_json(body: Any) -> Any:
    """``body`` decoded as JSON when it is JSON text, else unchanged."""
    if isinstance(body, str):
        try:
            return json.loads(body)
        except (json.JSONDecodeError, RecursionError):
            return body
    return body
