"""Raw response bodies, recognised by their content, -> one Transcript.

A body may be a generateContent JSON object, a JSON array of stream chunks, an Interaction,
or an SSE stream of either; :mod:`harness.transcript.bodies` decodes and recognises it, and
the module for its wire shape (:mod:`~harness.transcript.generate`,
:mod:`~harness.transcript.interactions`) builds the transcript.
"""

from __future__ import annotations

from typing import Any

from harness.transcript import bodies
from harness.transcript.bodies import TranscriptError
from harness.transcript.generate import from_chunks
from harness.transcript.interactions import from_interaction, from_interaction_events
from harness.transcript.sdkparse import parse_sdk, sdk_event
from harness.transcript.values import Transcript


def parse_body(text: str | bytes, *, source: str = "body", latency_s: float | None = None,
               ttft_s: float | None = None, encoding: str | None = None,
               raw: bool = False) -> Transcript:
    """Build a transcript from a raw response body, recognised by its content.

    Args:
        text: A generateContent JSON object, a JSON array of stream chunks, an Interaction JSON
            object, or an SSE body (generateContent chunks or interaction events); bytes may be
            gzip-compressed.
        source: Where the body came from, for error messages.
        latency_s: Record-time wall time, if known.
        ttft_s: Record-time time to first chunk, if known.
        encoding: The response's content-encoding header, if any.
        raw: Read generateContent JSON without the SDK's types (a response the SDK already
            accepted when it was recorded; see :mod:`harness.transcript.rawjson`).

    Raises:
        TranscriptError: the body is none of those, or is an API error body.

    """
    text = bodies.to_text(text, where=source, encoding=encoding)
    if bodies.body_format(text, where=source) == "sse":
        return _from_sse(bodies.split_sse(text), source, raw, latency_s=latency_s,
                         ttft_s=ttft_s)
    return from_json(bodies.decode_json(text, where=source), source, raw=raw,
                     latency_s=latency_s, ttft_s=ttft_s)


def from_json(value: Any, source: str, *, raw: bool = False,
              **timing: float | None) -> Transcript:
    """Build a transcript from a decoded JSON body (see :func:`parse_body`)."""
    kind = bodies.response_kind(value, where=source)
    if kind == "generate":
        return from_chunks(value if isinstance(value, list) else [value], source, raw=raw,
                           **timing)
    if kind == "interaction":
        from google.genai import interactions as gi

        return from_interaction(parse_sdk(value, gi.Interaction), **timing)
    return from_interaction_events(value, **timing)


def _from_sse(events: list[bodies.SSEEvent], source: str, raw: bool = False,
              **timing: float | None) -> Transcript:
    kind, payloads = bodies.sse_payloads(events, where=source)
    if kind == "interaction_events":
        for i, (_, data) in enumerate(payloads):
            if not isinstance(data, dict):
                raise TranscriptError(f"{source}: SSE event {i} is {bodies.describe(data)}, "
                                      "expected an object")
        return from_interaction_events([sdk_event(n, d) for n, d in payloads], **timing)
    return from_chunks([d for _, d in payloads], source, raw=raw, **timing)
