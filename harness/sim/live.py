"""The Live API's ``BidiGenerateContent`` websocket, answered by the sim models.

Framing only: the first client frame is ``setup`` (answered ``setupComplete``); each
``clientContent`` turn with ``turnComplete: true`` is answered by one ``serverContent`` frame per
part (code, result, text: the same script ``generateContent`` gives), then
``{"serverContent": {"turnComplete": true}, "usageMetadata": ...}`` (usage in the Live API's
names). Turns accumulate, as a chat's history does. A bad frame closes the socket with a
1007/1008 code and a reason, as the API does; an injected fault (:mod:`harness.sim.faults`,
decided per turn and attempt) closes it with 1011 after the turn's first part.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from harness.sim import det, parse, wire
from harness.sim.faults import ATTEMPT_HEADER, FAULT_HEADER, FaultSpecError
from harness.sim.models import SIM_MODELS, Ask, is_sim_model
from harness.sim.state import SimState

LIVE_PATH = "/ws/google.ai.generativelanguage.{ver}.GenerativeService.BidiGenerateContent"
CLOSE_INVALID = 1007  # invalid frame payload
CLOSE_POLICY = 1008  # what the API uses for a bad setup, model or key
CLOSE_INTERNAL = 1011  # a backend failure mid-session


class _Closed(Exception):
    """Close the socket with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    return obj.get(camel, obj.get(snake))


async def _frame(ws: WebSocket) -> dict[str, Any]:
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    raw = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
    try:
        frame = json.loads(raw)
    except ValueError as exc:
        raise _Closed(CLOSE_INVALID, f"Invalid JSON payload received. {exc}.") from None
    if not isinstance(frame, dict):
        raise _Closed(CLOSE_INVALID, "Invalid JSON payload received. Expected an object.")
    return frame


def _fault(ws: WebSocket, state: SimState, ident: tuple[object, ...]) -> str | None:
    """The fault for this turn (HARNESS_SIM_FAULTS, or ``x-harness-fault`` at the handshake)."""
    attempt = ws.headers.get(ATTEMPT_HEADER, "1")
    try:
        return state.faults.decide(ident, int(attempt) if attempt.isdigit() else 1,
                                   stream=True, generate=False,
                                   forced=ws.headers.get(FAULT_HEADER))
    except FaultSpecError as exc:
        raise _Closed(CLOSE_INVALID, f"{FAULT_HEADER}: {exc}") from None


def _model(setup: Any) -> str:
    if not isinstance(setup, dict):
        raise _Closed(CLOSE_POLICY, "The first message must be `setup`.")
    model = str(setup.get("model") or "").removeprefix("models/")
    if not is_sim_model(model):
        raise _Closed(CLOSE_POLICY, f"models/{model} is not found for bidiGenerateContent. "
                      f"The harness simulator serves: {', '.join(SIM_MODELS)}.")
    return model


async def _answer(ws: WebSocket, state: SimState, setup: dict[str, Any],
                  history: list[dict[str, Any]]) -> None:
    """Answer the latest turn: the parts one frame each, then turn-complete with usage."""
    model = _model(setup)
    # The session's setup carries what a generateContent body would: the system
    # instruction and the generation config (thinking), read the same way.
    body = {"contents": history,
            "generationConfig": _get(setup, "generationConfig", "generation_config") or {},
            "systemInstruction": _get(setup, "systemInstruction", "system_instruction")}
    try:
        parsed = parse.generate_request(body, state.lookup_file)
    except parse.BadRequest as exc:
        raise _Closed(CLOSE_INVALID, str(exc)) from None
    sample = ws.headers.get("x-harness-sample", "1")
    case = state.catalog.by_key(ws.headers.get("x-harness-case"))
    for text in parsed.texts:
        case = case or state.catalog.by_prompt(text)
    key = case.key if case else "prompt:" + det.token(parsed.text)
    body_id = det.token(json.dumps(history, sort_keys=True, ensure_ascii=False))
    fault = _fault(ws, state, (key, model, sample, "live", body_id))
    if fault == "latency":
        await anyio.sleep(state.faults.latency_s)
    script = await state.writer.script(Ask(model, case, int(sample) if sample.isdigit() else 1,
                                           parsed.text, parsed.files))
    meta = wire.Meta(model=model, response_id=det.token(key, model, "live", body_id),
                     created=det.timestamp(key, model, body_id),
                     updated=det.timestamp(key, model, body_id, offset_s=2))
    response = wire.generate_response(
        script, meta, wire.usage(script, parsed.prompt_tokens, thinking=parsed.thinking))
    parts: list[dict[str, Any]] = response["candidates"][0]["content"]["parts"]
    for part in parts:
        await ws.send_text(json.dumps({"serverContent": {"modelTurn": {"parts": [part]}}}))
        if fault is not None and fault != "latency":
            # Every other kind drops the session mid-turn, as a Live server does when a
            # backend fails: the client has a partial turn and a close code, no turnComplete.
            raise _Closed(CLOSE_INTERNAL, "Internal error occurred.")
    await ws.send_text(json.dumps({"serverContent": {"turnComplete": True},
                                   "usageMetadata": live_usage(response["usageMetadata"])}))
    history.append({"role": "model", "parts": parts})


def live_usage(meta: dict[str, Any]) -> dict[str, Any]:
    """The ``usageMetadata`` of generateContent in the Live API's words (``responseTokenCount``)."""
    names = {"candidatesTokenCount": "responseTokenCount",
             "candidatesTokensDetails": "responseTokensDetails"}
    return {names.get(key, key): value for key, value in meta.items()}


async def _session(ws: WebSocket, state: SimState) -> None:
    setup = (await _frame(ws)).get("setup")
    _model(setup)  # refuse a non-object or an unknown model before setupComplete, as the API does
    assert isinstance(setup, dict)  # _model refused anything else
    await ws.send_text(json.dumps({"setupComplete": {}}))
    history: list[dict[str, Any]] = []
    while True:
        frame = await _frame(ws)
        content = _get(frame, "clientContent", "client_content")
        if not isinstance(content, dict):
            raise _Closed(CLOSE_INVALID, "The simulator's Live API takes `clientContent` frames "
                          f"only; got {', '.join(sorted(frame)) or 'an empty object'}.")
        turns = content.get("turns") or []
        if not isinstance(turns, list):
            raise _Closed(CLOSE_INVALID, "`clientContent.turns` must be a list.")
        history.extend(t for t in turns if isinstance(t, dict))
        if _get(content, "turnComplete", "turn_complete") is True:
            await _answer(ws, state, setup, history)


async def bidi_generate_content(ws: WebSocket) -> None:
    """The ``BidiGenerateContent`` websocket (Gemini API; key in ``x-goog-api-key``)."""
    state: SimState = ws.app.state.sim
    if not ws.headers.get("x-goog-api-key", "").strip():
        await ws.close(code=CLOSE_POLICY, reason="Method doesn't allow unregistered callers "
                       "(callers without established identity). Please use API Key.")
        return
    await ws.accept()
    try:
        await _session(ws, state)
    except WebSocketDisconnect:
        return
    except _Closed as exc:
        await ws.close(code=exc.code, reason=exc.reason[:120])
