"""Raw response bodies and cassettes -> plain Python data (no SDK here).

`harness.transcript` hands what this module produces to the SDK's own types. This module only
splits and decodes: bytes to text (gzip/deflate), SSE into events, cassette YAML (vcrpy,
pydantic-ai's ``parsed_body`` variant, Ruby VCR) into exchanges, and says what a body looks like.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

BodyKind = Literal["generate", "interaction", "interaction_events"]

GZIP_MAGIC = b"\x1f\x8b"
INTERACTION_EVENTS = frozenset({
    "interaction.created", "interaction.completed", "interaction.status_update",
    "step.start", "step.delta", "step.stop", "error",
})
CONTENT_TYPES = frozenset({"text", "image", "audio", "document", "video"})
_GENERATE_KEYS = ("candidates", "usageMetadata", "promptFeedback", "usage_metadata",
                  "prompt_feedback", "modelVersion", "model_version")
# SSE messages end at a blank line; the SDK's parser accepts all three line-end styles.
_SSE_BOUNDARY = re.compile(r"\r\n\r\n|\n\n|\r\r")
_LINE = re.compile(r"\r\n|\n|\r")
_CASSETTE_KEY = re.compile(r"^(?:interactions|http_interactions):", re.M)
_SSE_FIELD = re.compile(r"^(?:data|event|id):", re.M)


class TranscriptError(ValueError):
    """A body or recording that cannot be turned into a transcript (says what and where)."""


@dataclass(frozen=True)
class SSEEvent:
    """One server-sent event: its ``event:`` name (if any) and its joined ``data:`` lines."""

    event: str | None
    data: str


@dataclass(frozen=True)
class Exchange:
    """One request/response pair of a cassette, whatever tool recorded it.

    Attributes:
        index: Position in the cassette's interaction list (0-based).
        method: Upper-cased HTTP method.
        uri: The request URI as recorded.
        status: The response status code, when recorded.
        headers: Response headers, names lower-cased, values joined with ``, ``.
        body: The response body: ``str``/``bytes`` as recorded, or an already-decoded JSON
            value (pydantic-ai's ``parsed_body``), or None when absent.

    """

    index: int
    method: str
    uri: str
    status: int | None
    headers: dict[str, str]
    body: Any

    @property
    def path(self) -> str:
        """The URI's path (no host, no query)."""
        return urlsplit(self.uri).path

    @property
    def is_model_call(self) -> bool:
        """True for a generateContent / streamGenerateContent / interactions POST."""
        path = self.path.rstrip("/")
        return self.method == "POST" and (
            path.endswith((":generateContent", ":streamGenerateContent", "/interactions")))

    @property
    def ok(self) -> bool:
        """True for a 2xx response (or when no status was recorded)."""
        return self.status is None or 200 <= self.status < 300

    @property
    def is_interactions_call(self) -> bool:
        """True for a ``POST .../interactions``."""
        return self.method == "POST" and self.path.rstrip("/").endswith("/interactions")


def to_text(data: str | bytes, *, where: str, encoding: str | None = None) -> str:
    """Decode a body to text, undoing gzip/deflate (by header or by gzip's magic bytes).

    Raises:
        TranscriptError: compressed with something Python cannot undo, or not UTF-8.

    """
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    enc = (encoding or "").lower()
    try:
        if data.startswith(GZIP_MAGIC):
            data = gzip.decompress(data)
        elif "deflate" in enc:
            data = zlib.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise TranscriptError(f"{where}: the body looks compressed but does not decompress "
                              f"({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        hint = (f" (content-encoding {enc!r} is not supported; record with vcrpy's "
                "decode_compressed_response=True)") if enc else ""
        raise TranscriptError(f"{where}: the body is not UTF-8 text{hint}") from None


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


def load_cassette(text: str, *, where: str) -> tuple[list[Exchange], dict[str, Any]]:
    """Parse a cassette YAML into exchanges plus its top-level ``metadata`` mapping.

    Raises:
        TranscriptError: not YAML, or no ``interactions``/``http_interactions`` list.

    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise TranscriptError(f"{where}: not a readable cassette YAML ({exc})") from None
    items = doc.get("interactions", doc.get("http_interactions")) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise TranscriptError(f"{where}: expected a cassette with a top-level `interactions:` "
                              "list (vcrpy) or `http_interactions:` (Ruby VCR)")
    meta = doc.get("metadata")
    return [_exchange(i, it) for i, it in enumerate(items)], meta if isinstance(meta, dict) else {}


def select_exchange(exchanges: list[Exchange], interaction: int | None, *,
                    where: str) -> Exchange:
    """Pick exchange ``interaction``, or by default the last model call.

    ``interaction`` is 0-based (negative counts from the end). A model call is a
    generateContent / streamGenerateContent / interactions POST; 2xx ones are preferred.

    Raises:
        TranscriptError: index out of range, or no model call in the cassette.

    """
    if interaction is not None:
        try:
            return exchanges[interaction]
        except IndexError:
            raise TranscriptError(f"{where}: interaction={interaction} is out of range; the "
                                  f"cassette has {len(exchanges)} interactions "
                                  f"(0..{len(exchanges) - 1})") from None
    calls = [e for e in exchanges if e.is_model_call]
    if not calls:
        seen = ", ".join(f"{e.method} {e.path}" for e in exchanges[:5]) or "nothing"
        raise TranscriptError(f"{where}: no generateContent, streamGenerateContent or "
                              f"interactions POST in the cassette (found: {seen}); pass "
                              "interaction=N to pick an exchange")
    return ([e for e in calls if e.ok] or calls)[-1]


def stored_timing(meta: dict[str, Any]) -> dict[str, float | None]:
    """Return the record-time ``latency_s``/``ttft_s`` kept in ``metadata.harness``."""
    stored = meta.get("harness")
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items()
            if k in ("latency_s", "ttft_s") and isinstance(v, (int, float))}


def _exchange(index: int, item: Any) -> Exchange:
    req, resp = _dict(_dict(item).get("request")), _dict(_dict(item).get("response"))
    status = resp.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    headers = {str(k).lower(): ", ".join(map(str, v)) if isinstance(v, list) else str(v)
               for k, v in _dict(resp.get("headers")).items()}
    return Exchange(index=index, method=str(req.get("method", "")).upper(),
                    uri=str(req.get("uri", "")), status=code if isinstance(code, int) else None,
                    headers=headers, body=_body(resp))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _body(resp: dict[str, Any]) -> Any:
    body = resp.get("body")
    if isinstance(body, dict):
        if "string" in body:                    # vcrpy, Ruby VCR
            return body["string"]
        if "base64_string" in body:             # Ruby VCR for binary bodies
            return base64.b64decode(str(body["base64_string"]))
        if "content" in body:                   # older pydantic-ai: {type: json|text, content}
            return body["content"]
    if body is None and "parsed_body" in resp:  # pydantic-ai stores decoded JSON
        return resp["parsed_body"]
    return body


def exchange_text_or_json(ex: Exchange, *, where: str) -> str | dict[str, Any] | list[Any]:
    """Return an exchange's body as text (decompressed) or as the JSON it was stored as.

    Raises:
        TranscriptError: no body recorded.

    """
    body = ex.body
    if isinstance(body, (dict, list)):
        return body
    if body is None:
        raise TranscriptError(f"{where}: interaction {ex.index} ({ex.method} {ex.uri}) has "
                              "no response body")
    if isinstance(body, (bytes, str)):
        return to_text(body, where=where, encoding=ex.headers.get("content-encoding"))
    raise TranscriptError(f"{where}: interaction {ex.index} has a {type(body).__name__} body; "
                          "expected text, bytes or JSON")


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into :class:`TranscriptError`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read ({exc.strerror or exc})") from None


def maybe_json(body: Any) -> Any:
    """``body`` decoded as JSON when it is JSON text, else unchanged."""
    if isinstance(body, str):
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            return body
    return body


def continuation_hops(exchanges: list[Exchange], chosen: Exchange) -> list[dict[str, Any]]:
    """Return the unary hops of an automatically continued interaction before ``chosen``.

    The SDK continues an interaction whose status is ``requires_continuation`` by itself, with
    more ``POST .../interactions``; the cassette then holds one exchange per hop.
    """
    hops: list[dict[str, Any]] = []
    if not chosen.is_interactions_call:
        return hops
    for ex in reversed(exchanges[:chosen.index]):
        try:
            body = maybe_json(exchange_text_or_json(ex, where=""))
        except TranscriptError:
            break
        if not (ex.is_interactions_call and isinstance(body, dict)
                and body.get("status") == "requires_continuation"):
            break
        hops.insert(0, body)
    return hops


def legacy_outputs_as_steps(outputs: list[Any]) -> list[Any]:
    """Read the older flat ``outputs`` list (content blocks and tool items) as wire steps."""
    steps: list[Any] = []
    in_output = False
    for item in outputs:
        is_content = isinstance(item, dict) and item.get("type") in CONTENT_TYPES
        if is_content and in_output:
            steps[-1]["content"].append(item)
        else:
            steps.append({"type": "model_output", "content": [item]} if is_content else item)
        in_output = is_content
    return steps


class StreamedSteps:
    """Wire-shaped interaction steps assembled from ``step.start`` / ``step.delta`` payloads."""

    def __init__(self) -> None:
        self._steps: dict[int, dict[str, Any]] = {}

    def start(self, index: Any, step: dict[str, Any]) -> None:
        """Begin step ``index`` (``step.start``)."""
        if isinstance(index, int):
            self._steps[index] = dict(step)

    def delta(self, index: Any, delta: dict[str, Any]) -> None:
        """Fold one ``step.delta`` payload into step ``index``."""
        if not isinstance(index, int):
            return
        step = self._steps.setdefault(index, {})
        kind = delta.get("type")
        if kind in CONTENT_TYPES:
            step.setdefault("type", "model_output")
            _append_content(step.setdefault("content", []), delta)
        elif kind == "thought_summary" and isinstance(delta.get("content"), dict):
            step.setdefault("type", "thought")
            _append_content(step.setdefault("summary", []), delta["content"])
        elif kind == "code_execution_call":
            step.setdefault("type", "code_execution_call")
            args = step.setdefault("arguments", {})
            new = delta.get("arguments") or {}
            if isinstance(new.get("code"), str):
                args["code"] = (args.get("code") or "") + new["code"]
            if new.get("language"):
                args["language"] = new["language"]
        elif kind == "arguments_delta" and isinstance(delta.get("arguments"), str):
            step["_partial"] = step.get("_partial", "") + delta["arguments"]
        elif kind == "code_execution_result":
            step.setdefault("type", "code_execution_result")
            prev = step.get("result")
            more = str(delta.get("result") or "")
            step["result"] = (prev if isinstance(prev, str) else "") + more
            if delta.get("is_error"):
                step["is_error"] = True

    def steps(self) -> list[dict[str, Any]]:
        """Return the assembled steps in index order."""
        out = []
        for index in sorted(self._steps):
            step = dict(self._steps[index])
            partial = step.pop("_partial", None)
            if partial is not None:  # arguments streamed as JSON text fragments
                parsed = maybe_json(partial)
                if isinstance(parsed, dict):
                    step["arguments"] = {**(step.get("arguments") or {}), **parsed}
            out.append(step)
        return out


def _append_content(contents: list[Any], new: dict[str, Any]) -> None:
    last = contents[-1] if contents else None
    if (new.get("type") == "text" and isinstance(last, dict) and last.get("type") == "text"
            and isinstance(new.get("text"), str)):
        last["text"] = str(last.get("text") or "") + new["text"]
    else:
        contents.append(dict(new))
