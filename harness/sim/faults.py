"""Fault injection: which request fails how, reproducibly, and the raw responses that do it.

Kinds (:data:`FAULT_KINDS`):

* ``429``: RESOURCE_EXHAUSTED with ``Retry-After`` (and a RetryInfo detail).
* ``500``: INTERNAL. ``503``: UNAVAILABLE ("The model is overloaded").
* ``reset``: the connection is reset (TCP RST) before any response byte.
* ``truncate``: the connection ends mid-response: streams stop in the middle of an event,
  unary bodies stop half-way through their ``Content-Length``.
* ``nofinish`` (streams only): the stream ends cleanly but without the chunk carrying
  ``finishReason`` (interactions: without ``interaction.completed`` and ``[DONE]``).
* ``malformed``: a 200 whose JSON is broken (streams: one event of broken JSON).
* ``unreadable`` (generateContent only): a 200 of valid JSON the SDK cannot read: the
  finish reason is a number (``"finishReason": 5``), as a server sending proto enums as
  numbers would. The Interactions SDK reads any JSON leniently, so it has no such fault.
* ``latency``: the normal response after ``latency_s`` seconds.

A fault applies to model calls only (generateContent, streamGenerateContent, interactions
create); uploads, gets and errors never fault. The decision is a pure function of
(seed, case, model, sample, request, attempt), so a retry (the next attempt) gets a fresh draw
and a re-run with the same seed fails the same way. Unary requests skip stream-only kinds, so
their overall fault rate is lower by those kinds' rates.

Resetting needs the connection's transport, which ASGI does not expose: :class:`WithTransport`
picks it off uvicorn's request cycle (``receive.__self__.transport``, present in both of
uvicorn's HTTP implementations) and puts it in the scope. Without it (another server), a reset
or truncation falls back to raising, which the server turns into a 500 or a dropped connection.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from harness.sim import det

FAULT_KINDS = ("429", "500", "503", "reset", "truncate", "nofinish", "malformed", "unreadable",
               "latency")
STREAM_ONLY = frozenset({"nofinish"})
GENERATE_ONLY = frozenset({"unreadable"})
ENV_VAR = "HARNESS_SIM_FAULTS"
FAULT_HEADER = "x-harness-fault"
ATTEMPT_HEADER = "x-harness-attempt"
TRANSPORT_KEY = "harness.sim.transport"


class FaultSpecError(ValueError):
    """A fault specification that cannot be parsed (says which item and the valid kinds)."""


def _parse_force(item: str) -> tuple[str, int | None]:
    kind, _, count = item.partition("@")
    kind = kind.strip()
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"unknown fault kind {kind!r}; valid: {', '.join(FAULT_KINDS)}")
    if not count:
        return kind, None
    try:
        return kind, int(count)
    except ValueError:
        raise FaultSpecError(f"{item!r}: the part after '@' must be a number of attempts, "
                             "e.g. 503@2") from None


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject, how often, and with what seed.

    Attributes:
        rates: Probability per request of each kind (keys from :data:`FAULT_KINDS`);
            their sum must be at most 1 (one fault per request at most).
        seed: Changes every draw; the same seed reproduces the same faults.
        latency_s: Delay added by a ``latency`` fault.
        retry_after_s: ``Retry-After`` seconds sent with a 429.
        force: ``(kind, n)``: every model call gets ``kind`` on its first ``n`` attempts
            (all attempts when ``n`` is None), regardless of rates.

    """

    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    latency_s: float = 1.0
    retry_after_s: int = 1
    force: tuple[str, int | None] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rates) - set(FAULT_KINDS))
        if unknown:
            raise FaultSpecError(f"unknown fault kind(s) {unknown}; valid: "
                                 + ", ".join(FAULT_KINDS))
        if any(not 0 <= r <= 1 for r in self.rates.values()) or sum(self.rates.values()) > 1:
            raise FaultSpecError("fault rates must each be in [0, 1] and sum to at most 1, got "
                                 + ", ".join(f"{k}={v}" for k, v in self.rates.items()))

    @classmethod
    def uniform(cls, rate: float, **kwargs: Any) -> FaultConfig:
        """``rate`` spread evenly over every kind (each gets ``rate / len(FAULT_KINDS)``)."""
        return cls(rates={k: rate / len(FAULT_KINDS) for k in FAULT_KINDS}, **kwargs)

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """Parse ``"rate=0.3,seed=7"``, ``"429=0.1,latency=0.2,delay=0.5"`` or ``"503@2"``.

        The one grammar of ``$HARNESS_SIM_FAULTS`` and of ``harness sim --fault``. Items,
        comma-separated: ``KIND=RATE`` (``latency=0.2`` too: a rate, like every kind);
        ``rate=R`` (spread over every kind); ``seed=N``; ``delay=SECONDS`` (what a latency
        fault adds); ``retry_after=SECONDS``; ``KIND@N`` (force KIND on the first N attempts of
        every model call; ``KIND`` alone: on every attempt).

        Raises:
            FaultSpecError: an unknown key or kind, or a value that is not a number.

        """
        rates: dict[str, float] = {}
        opts: dict[str, Any] = {}
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq:
                opts["force"] = _parse_force(item)
                continue
            try:
                number = float(value)
            except ValueError:
                raise FaultSpecError(f"{item!r}: {value!r} is not a number") from None
            if key == "rate":
                rates.update({k: number / len(FAULT_KINDS) for k in FAULT_KINDS})
            elif key == "seed":
                opts["seed"] = int(number)
            elif key == "delay":
                opts["latency_s"] = number
            elif key == "retry_after":
                opts["retry_after_s"] = int(number)
            elif key in FAULT_KINDS:
                rates[key] = number
            else:
                raise FaultSpecError(f"unknown fault setting {key!r}; use KIND=RATE (kinds: "
                                     f"{', '.join(FAULT_KINDS)}), rate=, seed=, delay=, "
                                     "retry_after= or KIND@N")
        return cls(rates=rates, **opts)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaultConfig | None:
        """The config in ``$HARNESS_SIM_FAULTS`` (None when unset or empty)."""
        spec = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
        return cls.parse(spec) if spec else None

    def decide(self, ident: tuple[object, ...], attempt: int, *, stream: bool,
               generate: bool = True, forced: str | None = None) -> str | None:
        """The fault for attempt ``attempt`` (1-based) of the request ``ident``, or None.

        Args:
            ident: What identifies the request: case, model, sample, endpoint, body digest.
            attempt: How many times this request has been seen, this one included.
            stream: Streaming request (stream-only kinds apply).
            generate: A generateContent request (generateContent-only kinds apply).
            forced: An ``x-harness-fault`` header value (``KIND`` or ``KIND@N``), which wins.

        """
        for force in (_parse_force(forced) if forced else None, self.force):
            if force is not None:
                kind, count = force
                if count is None or attempt <= count:
                    return kind if self._applies(kind, stream, generate) else None
                return None
        draw, total = det.unit("fault", self.seed, *ident, attempt), 0.0
        for kind in FAULT_KINDS:
            if not self._applies(kind, stream, generate):
                continue
            total += self.rates.get(kind, 0.0)
            if draw < total:
                return kind
        return None


    @staticmethod
    def _applies(kind: str, stream: bool, generate: bool) -> bool:
        return not ((kind in STREAM_ONLY and not stream) or (kind in GENERATE_ONLY
                                                              and not generate))


NO_FAULTS = FaultConfig()


class WithTransport:
    """ASGI wrapper that puts uvicorn's connection transport in ``scope[TRANSPORT_KEY]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record the transport, then call the app."""
        if scope["type"] == "http":
            cycle = getattr(receive, "__self__", None)
            scope[TRANSPORT_KEY] = getattr(cycle, "transport", None)
        await self.app(scope, receive, send)


async def _until_disconnected(receive: Receive) -> None:
    # Returning before uvicorn has seen the connection go would make it log "returned without
    # starting response" and try to send a 500 on the dead socket.
    with anyio.move_on_after(2):
        while (await receive())["type"] != "http.disconnect":
            pass


async def reset(scope: Scope, receive: Receive) -> None:
    """Reset the connection (RST: SO_LINGER 0, then abort) without sending anything.

    Raises:
        ConnectionResetError: no transport in the scope (not running under uvicorn).

    """
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        raise ConnectionResetError("sim fault: reset (no transport to abort)")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Without SO_LINGER a plain abort still drops the connection, with FIN, not RST.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await _until_disconnected(receive)


async def cut(scope: Scope, receive: Receive, send: Send, *, status: int,
              headers: list[tuple[bytes, bytes]], pieces: list[bytes]) -> None:
    """Send the status, headers and ``pieces``, then close the connection mid-response.

    The close is graceful (FIN) so the client surely reads what was sent before it; the
    response is still incomplete (chunked encoding unterminated, or fewer bytes than
    ``Content-Length``), which the client reports as a protocol error.

    Raises:
        ConnectionAbortedError: no transport in the scope (not running under uvicorn).

    """
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        raise ConnectionAbortedError("sim fault: truncate (no transport to close)")
    await send({"type": "http.response.start", "status": status, "headers": headers})
    for piece in pieces:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    transport.close()
    await _until_disconnected(receive)
