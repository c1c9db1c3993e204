"""Sending a reply, or the fault injected into it: whole, cut, broken, late or never.

The normal paths are plain starlette responses (JSON, or SSE through ``StreamingResponse``);
the faults that must misbehave below HTTP (reset, truncation) write raw ASGI messages and
close the transport themselves (see :mod:`harness.sim.faults`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from harness.sim import faults, wire
from harness.sim.errors import COMMON_HEADERS, api_error

FAULT_NOTE = " (harness simulator: injected fault)"
_ERRORS = {
    "429": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "500": (500, "INTERNAL", "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"),
    "503": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
}
BROKEN_CHUNK = b'data: {"candidates": [{"content": {"parts": [{"text": "The res\r\n\r\n'
BROKEN_EVENT = b'event: step.delta\ndata: {"event_type": "step.delta", "index": \n\n'


class RawResponse(Response):
    """A response that is any ASGI callable (for the faults that break HTTP)."""

    def __init__(self, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        super().__init__()
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the handler instead of sending a normal response."""
        await self.handler(scope, receive, send)


def early_fault(fault: str | None, retry_after_s: int) -> Response | None:
    """The response for a fault that replaces the reply entirely (429, 5xx, reset)."""
    if fault in _ERRORS:
        code, status, message = _ERRORS[fault]
        if fault == "429":
            return api_error(code, status, message + FAULT_NOTE,
                             headers={"Retry-After": str(retry_after_s)},
                             details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                       "retryDelay": f"{retry_after_s}s"}])
        return api_error(code, status, message + FAULT_NOTE)
    if fault == "reset":
        return RawResponse(lambda scope, receive, _send: faults.reset(scope, receive))
    return None


def unary(body: bytes, fault: str | None, headers: dict[str, str]) -> Response:
    """A JSON reply; ``truncate`` cuts the connection half-way, ``malformed`` the JSON."""
    all_headers = {**COMMON_HEADERS, **headers}
    if fault == "truncate":
        raw = [(b"content-type", wire.JSON_TYPE.encode()),
               (b"content-length", str(len(body)).encode()),
               *((k.encode(), v.encode()) for k, v in all_headers.items())]
        half = body[: len(body) // 2]

        async def cut(scope: Scope, receive: Receive, send: Send) -> None:
            await faults.cut(scope, receive, send, status=200, headers=raw, pieces=[half])

        return RawResponse(cut)
    if fault == "malformed":
        body = body[: len(body) // 2]
    return Response(body, media_type=wire.JSON_TYPE, headers=all_headers)


def stream(events: list[bytes], fault: str | None, headers: dict[str, str], *,
           finishing: int, broken: bytes) -> Response:
    """An SSE reply, or one of its faults.

    Args:
        events: The encoded events in order.
        fault: The fault to inject, if any.
        headers: Extra response headers.
        finishing: How many trailing events finish the stream (dropped by ``nofinish``).
        broken: The broken-JSON event ``malformed`` inserts half-way.

    """
    all_headers = {**COMMON_HEADERS, **headers}
    if fault == "nofinish":
        events = events[:-finishing] if finishing else events
    elif fault == "malformed":
        mid = len(events) // 2
        events = [*events[:mid], broken, *events[mid:]]
    elif fault == "truncate":
        mid = len(events) // 2
        pieces = [*events[:mid], events[mid][: len(events[mid]) // 2]]
        raw = [(b"content-type", wire.SSE_TYPE.encode()),
               *((k.encode(), v.encode()) for k, v in all_headers.items())]

        async def cut(scope: Scope, receive: Receive, send: Send) -> None:
            await faults.cut(scope, receive, send, status=200, headers=raw, pieces=pieces)

        return RawResponse(cut)

    async def body() -> AsyncIterator[bytes]:
        for event in events:
            yield event
            await anyio.sleep(0)  # one write per event, as a real stream arrives

    return StreamingResponse(body(), media_type=wire.SSE_TYPE, headers=all_headers)
