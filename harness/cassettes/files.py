"""Recording files -> the one response body to parse -> its Transcript.

A recording is a cassette (vcrpy, pydantic-ai's ``parsed_body`` variant, Ruby VCR) or a raw
response body saved to a file. For a cassette this module picks the exchange (by default the
last model call), refuses a non-2xx one, and gathers what the harness stored beside it: the
record-time timing, the hops of an automatically continued interaction, and a conversation's
earlier turns.
:func:`transcript_from_path` (``harness transcript``) hands what :func:`read_recording` returns
to :mod:`harness.transcript.parse`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.transcript.bodies import TranscriptError, api_error, maybe_json, sniff, to_text

if TYPE_CHECKING:
    from harness.transcript.values import Transcript


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
        request_body: The request body as recorded (None when absent).

    """

    index: int
    method: str
    uri: str
    status: int | None
    headers: dict[str, str]
    body: Any
    request_body: Any = None

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


@dataclass(frozen=True)
class Recording:
    """The response a recording file holds, ready for parsing.

    Attributes:
        source: Where it came from, for error messages (for a cassette, names the exchange).
        body: The response body: text, or the JSON a cassette stored it as.
        timing: Record-time ``latency_s``/``ttft_s`` the harness stored, when they apply.
        hops: The unary hops of an automatically continued interaction before ``body``.
        earlier: The conversation's earlier turns, oldest first (:func:`earlier_turns`).

    """

    source: str
    body: str | dict[str, Any] | list[Any]
    timing: dict[str, float | None]
    hops: list[dict[str, Any]]
    earlier: tuple[Recording, ...] = ()


def read_recording(path: Path, interaction: int | None = None) -> Recording:
    """Read a recording file and pick the response body to parse.

    Args:
        path: A cassette, a raw JSON response body, or an SSE body; the kind is recognised by
            content, not name.
        interaction: For a cassette, the 0-based index into its ``interactions`` list (negative
            counts from the end). Default: the last model call with a 2xx status, with the
            timing the harness stored and the continuation hops before it.

    Raises:
        TranscriptError: unreadable file, no model call in the cassette, index out of range,
            or a non-2xx exchange.

    """
    where = str(path)
    text = to_text(read_bytes(path), where=where)
    if sniff(text) != "cassette":
        return Recording(where, text, {}, [])
    exchanges, meta = load_cassette(text, where=where)
    return cassette_recording(exchanges, meta, path, interaction)


def cassette_recording(exchanges: list[Exchange], meta: dict[str, Any], path: Path,
                       interaction: int | None = None) -> Recording:
    """Pick the response to parse from a loaded cassette (see :func:`read_recording`).

    Raises:
        TranscriptError: no model call, index out of range, or a non-2xx exchange.
    """
    where = str(path)
    chosen = select_exchange(exchanges, interaction, where=where)
    where = f"{where} (interaction {chosen.index}: {chosen.method} {chosen.path})"
    body = _with_blobs(exchange_text_or_json(chosen, where=where), path)
    if not chosen.ok:
        detail = api_error(maybe_json(body)) or str(body)[:200]
        raise TranscriptError(f"{where}: HTTP {chosen.status} response, not a model answer: "
                              f"{detail}")
    if interaction is not None:  # the stored timing is for the item's call, not a hand pick
        return Recording(where, body, {}, [])
    earlier = tuple(
        Recording(f"{path} (interaction {e.index}: {e.method} {e.path})",
                  _with_blobs(exchange_text_or_json(e, where=str(path)), path), {},
                  continuation_hops(exchanges, e))
        for e in earlier_turns(exchanges, chosen))
    return Recording(where, body, stored_timing(meta), continuation_hops(exchanges, chosen),
                     earlier)


def _with_blobs(body: Any, path: Path) -> Any:
    """Put back the payloads the harness stored in ``_blobs/`` (:mod:`~harness.cassettes.blobs`)."""
    if not isinstance(body, str) or "harness-blob:" not in body:
        return body
    from harness.cassettes import blobs
    from harness.errors import CassetteError

    for parent in path.resolve().parents:  # the nearest <target>/_blobs above the cassette
        if (parent / "_blobs").is_dir():
            try:
                return blobs.restore_text(body.encode("utf-8"), parent / "_blobs").decode()
            except CassetteError as exc:
                raise TranscriptError(f"{path}: {exc}") from None
    raise TranscriptError(f"{path}: the cassette refers to stored payloads, but no `_blobs/` "
                          "directory was found above it")


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
    meta = dict(meta) if isinstance(meta, dict) else {}
    if isinstance(doc.get("harness"), dict):  # the harness's own top-level mapping
        meta["harness"] = doc["harness"]
    return [_exchange(i, it) for i, it in enumerate(items)], meta


def harness_meta(text: str) -> dict[str, Any]:
    """A cassette's ``harness:`` mapping, read without parsing the exchanges before it.

    It is the file's last top-level key (appended after vcrpy wrote the file); cassettes
    from before that kept it in vcrpy's ``metadata.harness``.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    at = text.rfind("\nharness:\n")
    if at >= 0:
        try:
            block = yaml.load(text[at + 1:], Loader=loader)
        except yaml.YAMLError:
            block = None
        if isinstance(block, dict) and isinstance(block.get("harness"), dict):
            return dict(block["harness"])
    if "\nmetadata:" in text:
        try:
            doc = yaml.load(text, Loader=loader)
        except yaml.YAMLError:
            return {}
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        old = meta.get("harness") if isinstance(meta, dict) else None
        return dict(old) if isinstance(old, dict) else {}
    return {}


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
    """Return the record-time ``latency_s``/``ttft_s`` kept in ``meta["harness"]``."""
    stored = meta.get("harness")
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items()
            if k in ("latency_s", "ttft_s") and isinstance(v, (int, float))}


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


def continuation_hops(exchanges: list[Exchange], chosen: Exchange) -> list[dict[str, Any]]:
    """Return the unary hops of an automatically continued interaction before ``chosen``.

    The SDK continues an interaction whose status is ``requires_continuation`` by itself, with
    more ``POST .../interactions``; the cassette then holds one exchange per hop.
    """
    hops: list[dict[str, Any]] = []
    if not chosen.is_interactions_call:
        return hops
    for ex in reversed(exchanges[:chosen.index]):
        body = _response_json(ex)
        if not (ex.is_interactions_call and isinstance(body, dict)
                and body.get("status") == "requires_continuation"):
            break
        hops.insert(0, body)
    return hops


def earlier_turns(exchanges: list[Exchange], chosen: Exchange) -> list[Exchange]:
    """The model calls of the conversation's earlier turns, oldest first ([] for one turn).

    A harness conversation is one cassette (DESIGN: one item, one cassette). A chat turn
    resends the history, so the chosen request's ``contents`` counts the turns (one ``user``
    entry each): the earlier turns are that many 2xx calls to the same method before it. An
    interactions turn names the one before it by ``previous_interaction_id``; its own
    continuation hops come with it (:func:`continuation_hops`).
    """
    calls = [e for e in exchanges[:chosen.index] if e.is_model_call and e.ok]
    if chosen.is_interactions_call:
        by_id: dict[str, Exchange] = {}
        for ex in calls:
            body = _response_json(ex)
            if isinstance(body, dict) and isinstance(body.get("id"), str):
                by_id[body["id"]] = ex
        turns: list[Exchange] = []
        current = _response_json(chosen)
        while isinstance(current, dict) and current.get("previous_interaction_id") in by_id:
            ex = by_id.pop(current["previous_interaction_id"])
            turns.insert(0, ex)
            current = _response_json(ex)
        return turns
    request = _request_json(chosen)
    contents = request.get("contents") if isinstance(request, dict) else None
    if not isinstance(contents, list):
        return []
    users = sum(1 for c in contents if isinstance(c, dict) and c.get("role", "user") == "user")
    same = [e for e in calls if e.path == chosen.path]
    return same[len(same) - (users - 1):] if 1 < users <= len(same) + 1 else []


def _response_json(ex: Exchange) -> Any:
    try:
        return maybe_json(exchange_text_or_json(ex, where=""))
    except TranscriptError:
        return None


def _request_json(ex: Exchange) -> Any:
    body = ex.request_body
    if isinstance(body, (bytes, str)):
        try:
            return maybe_json(to_text(body, where=""))
        except TranscriptError:
            return None
    return body


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into :class:`TranscriptError`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _exchange(index: int, item: Any) -> Exchange:
    req, resp = _dict(_dict(item).get("request")), _dict(_dict(item).get("response"))
    status = resp.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    headers = {str(k).lower(): ", ".join(map(str, v)) if isinstance(v, list) else str(v)
               for k, v in _dict(resp.get("headers")).items()}
    return Exchange(index=index, method=str(req.get("method", "")).upper(),
                    uri=str(req.get("uri", "")), status=code if isinstance(code, int) else None,
                    headers=headers, body=_body(resp), request_body=_body(req))


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


def transcript_from_path(path: Path, interaction: int | None = None) -> Transcript:
    """Read a recording file and build its transcript.

    Args:
        path: A vcrpy cassette (also pydantic-ai's ``parsed_body`` variant and Ruby VCR), a raw
            JSON response body, or an SSE body; the kind is recognised by content, not name.
            A Live API frame cassette (``*.live.yaml``) gives every turn of its session.
        interaction: For a cassette, the 0-based index into its ``interactions`` list (negative
            counts from the end). Default: the last generateContent / streamGenerateContent /
            interactions POST with a 2xx status; automatic-continuation hops before it are
            merged as the SDK merges them, and the timing the harness stored is attached.
            A conversation (chat history resent, or interactions chained by
            ``previous_interaction_id``) gives every turn, as replay's transcript does.

    Raises:
        TranscriptError: unreadable file, no model call in the cassette, index out of range,
            a non-2xx exchange, or a body that is not a response.

    """
    if path.name.endswith(".live.yaml"):
        return _live_transcript(path)
    return recording_transcript(read_recording(path, interaction))


def recording_transcript(recording: Recording, *, raw: bool = False) -> Transcript:
    """The transcript of a picked recording, with a conversation's earlier turns.

    Args:
        recording: From :func:`read_recording` or :func:`cassette_recording`.
        raw: Read generateContent bodies without the SDK's types (only for responses the
            SDK accepted when they were recorded: :mod:`harness.transcript.rawjson`).
    """
    from harness.transcript.values import combine_turns

    if recording.earlier:
        return combine_turns([*(_parse(r, raw) for r in recording.earlier),
                              _parse(recording, raw)])
    return _parse(recording, raw)


def _live_transcript(path: Path) -> Transcript:
    """Every turn of a live cassette's session, with the timing stored at record time."""
    from dataclasses import replace

    from harness.cassettes.live import LiveCassetteError, read_cassette
    from harness.transcript.live import from_live_frames

    try:
        metadata, frames = read_cassette(path)
    except LiveCassetteError as exc:
        raise TranscriptError(str(exc)) from None
    transcript = from_live_frames([f.get("json") for f in frames if f["direction"] == "recv"],
                                  str(path))
    latency = metadata.get("latency_s")
    return replace(transcript, latency_s=latency) if isinstance(latency, int | float) \
        else transcript


def _parse(recording: Recording, raw: bool = False) -> Transcript:
    """One turn's transcript from its response (and its continuation hops)."""
    from harness.transcript.interactions import from_interaction_hops
    from harness.transcript.parse import from_json, parse_body

    final = maybe_json(recording.body)
    if recording.hops and isinstance(final, dict):
        return from_interaction_hops([*recording.hops, final], **recording.timing)
    if isinstance(recording.body, str):
        return parse_body(recording.body, source=recording.source,
                          latency_s=recording.timing.get("latency_s"),
                          ttft_s=recording.timing.get("ttft_s"), raw=raw)
    return from_json(recording.body, recording.source, raw=raw, **recording.timing)
