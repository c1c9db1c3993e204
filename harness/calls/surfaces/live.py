"""``api: live``: one Live API session (``client.aio.live.connect``), one turn per user turn.

The session is set up with code execution and text out (``response_modalities: [TEXT]``);
each turn goes with ``send_client_content(turns=..., turn_complete=True)`` and is read from
``receive()`` until the server says the turn is complete. The Live API keeps the
conversation itself, so later turns send only the new user message.

The SDK's Live API is async only; :meth:`Live.call` is synchronous like every surface and
runs the session on its own event loop. Its websocket failures are turned into what the
harness's retry policy reads (:mod:`harness.calls.retry`): a session that closed mid-turn is
:class:`~harness.calls.retry.SessionDropped` (retried), a refused connection
:class:`~harness.calls.retry.TransportFailure`, and a close for a bad request, model or key
(1007, 1008) an :class:`~harness.errors.ApiError` at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from harness.calls.retry import SessionDropped, TransportFailure
from harness.calls.surfaces.protocol import Timing
from harness.errors import ApiError, SetupError

if TYPE_CHECKING:
    from harness.spec.case import Case, Turn
    from harness.transcript.values import Transcript

_T = TypeVar("_T")
# Close codes that say the request itself is wrong: retrying cannot help.
_FINAL_CLOSE = {1002: "protocol error", 1003: "unsupported data", 1007: "invalid payload",
                1008: "policy violation", 1009: "message too big", 1010: "missing extension"}


def live_config(case: Case, headers: dict[str, str] | None) -> Any:
    """The SDK's ``LiveConnectConfig`` for a case: code execution on, text out.

    Args:
        case: The case whose ``config:`` it reflects.
        headers: Extra handshake headers (the simulator's case headers), or None: they go
            in the session's ``http_options``, so the recorder never sees them in a frame.
    """
    from google.genai import types

    cfg = case.config
    thinking = None
    if cfg.thinking is not None:
        thinking = types.ThinkingConfig(thinking_budget=cfg.thinking.budget,
                                        include_thoughts=cfg.thinking.include_thoughts)
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        tools=[types.Tool(code_execution=types.ToolCodeExecution())],
        temperature=cfg.temperature, top_p=cfg.top_p, seed=cfg.seed,
        max_output_tokens=cfg.max_output_tokens, thinking_config=thinking,
        system_instruction=(types.Content(parts=[types.Part(text=cfg.system_instruction)])
                            if cfg.system_instruction is not None else None),
        http_options=types.HttpOptions(headers=headers) if headers else None)


def live_turn(case: Case, turn: Turn) -> Any:
    """A user turn as Live ``clientContent``: its inline files, then its text.

    Raises:
        SetupError: an input asks for the Files API (the loader refuses it; this guards
            cases built in code).
    """
    from google.genai import types

    parts = []
    for item in turn.inputs:
        if item.upload:
            raise SetupError(f"{case.location()}: case {case.id!r}: input {item.name!r} has "
                             "`upload: true`, which `api: live` does not support; send it "
                             "inline (remove `upload: true`)")
        parts.append(types.Part.from_bytes(data=item.read(), mime_type=item.mime_type))
    parts.append(types.Part.from_text(text=turn.prompt))
    return types.Content(role="user", parts=parts)


class Live:
    """The Live API surface (BidiGenerateContent over a websocket)."""

    name = "live"

    def call(self, client: Any, case: Case, model: str,
             headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        """Run the session, every turn in order; see :class:`~.protocol.Surface`.

        Raises:
            SessionDropped: the websocket closed before a turn completed (retried).
            TransportFailure: no connection could be made (retried).
            ApiError: the server closed the session for a bad request, model or key.
        """
        return _run(self._session(client, case, model, headers))

    async def _session(self, client: Any, case: Case, model: str,
                       headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        from google.genai import errors
        from websockets.exceptions import InvalidHandshake, InvalidStatus

        from harness.transcript.live import from_live_turns

        turns: list[list[Any]] = []
        latencies: list[float] = []
        where = "while connecting"
        try:
            async with client.aio.live.connect(model=model,
                                               config=live_config(case, headers)) as session:
                for k, turn in enumerate(case.conversation, 1):
                    where = f"in turn {k} of {len(case.conversation)}"
                    start = time.perf_counter()
                    await session.send_client_content(turns=live_turn(case, turn),
                                                      turn_complete=True)
                    messages = [m async for m in session.receive()]
                    latencies.append(time.perf_counter() - start)
                    turns.append(messages)
        except errors.APIError as exc:
            if not 1000 <= (exc.code or 0) < 5000:  # an HTTP-style status from elsewhere
                raise
            # The SDK raises a close as APIError(code, reason): the reason lands in `details`.
            details = exc.details if isinstance(exc.details, str) else None
            reason = exc.message or details or exc.status or "no reason given"
            if exc.code in _FINAL_CLOSE:
                raise ApiError(_final_message(case, model, exc.code, reason, where)) from None
            raise SessionDropped(f"the Live API closed the websocket {where} (close code "
                                 f"{exc.code}: {reason})") from None
        except InvalidStatus as exc:
            status = exc.response.status_code
            body = exc.response.body.decode("utf-8", "replace").strip() if exc.response.body \
                else ""
            raise errors.APIError(status, {"error": {
                "code": status, "message": f"the Live API refused the websocket handshake "
                f"(HTTP {status}){': ' + body[:200] if body else ''}"}}) from None
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise TransportFailure(f"cannot open the Live API websocket: {type(exc).__name__}: "
                                   f"{exc}") from None
        total = sum(latencies)
        return from_live_turns(turns, latencies=latencies), Timing(total, None)


def _final_message(case: Case, model: str, code: int, reason: str, where: str) -> str:
    hint = ""
    if "not found" in reason or "not supported" in reason:
        hint = (f"\nIs {model!r} a model the Live API serves? Check --model or `models` in "
                "[tool.harness] (Live models have their own names).")
    elif "API key" in reason or "unregistered callers" in reason:
        hint = "\nCheck GEMINI_API_KEY."
    return (f"API error calling live for case {case.id!r} with model {model!r}: the server "
            f"closed the websocket {where} with code {code} ({_FINAL_CLOSE[code]}): "
            f"{reason}{hint}")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to its end from synchronous code, even under a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from inside a loop (an async caller of the harness): a fresh loop on a thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
