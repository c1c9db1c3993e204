"""The unmodified SDK's Live API (``client.aio.live.connect``) against the simulator's
``BidiGenerateContent`` websocket, over TLS as the SDK insists."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.genai import errors, types

from harness.sim.server import SimServer
from tests.livesim import SUM, ask, live_client, start_tls_sim


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, ssl.SSLContext]]:
    server, ctx = start_tls_sim(Path(tmp_path_factory.mktemp("tls")))
    with server:
        yield server, ctx


def _parts(messages: list[types.LiveServerMessage]) -> list[types.Part]:
    return [p for m in messages if m.server_content and m.server_content.model_turn
            for p in m.server_content.model_turn.parts or []]


def test_live_turn_runs_code_like_generate_content(sim: tuple[SimServer, ssl.SSLContext]) -> None:
    server, ctx = sim
    [messages] = asyncio.run(ask(live_client(server.base_url, ctx), [SUM]))
    parts = _parts(messages)
    code = [p.executable_code.code for p in parts if p.executable_code]
    results = [p.code_execution_result for p in parts if p.code_execution_result]
    assert code == ["print(sum(range(10)))"]
    assert [(r.outcome, r.output) for r in results] == [(types.Outcome.OUTCOME_OK, "45\n")]
    assert parts[-1].text == "The result is **45**."
    last = messages[-1]
    assert last.server_content and last.server_content.turn_complete is True
    assert last.usage_metadata and last.usage_metadata.total_token_count


def test_live_second_turn_in_the_same_session(sim: tuple[SimServer, ssl.SSLContext]) -> None:
    server, ctx = sim
    _, second = asyncio.run(ask(live_client(server.base_url, ctx),
                                    [SUM, "What is 6*7? Run code."]))
    assert [p.executable_code.code for p in _parts(second) if p.executable_code] == ["print(6*7)"]
    assert _parts(second)[-1].text == "The result is **42**."


def test_live_unknown_model_closes_with_a_reason(sim: tuple[SimServer, ssl.SSLContext]) -> None:
    server, ctx = sim
    with pytest.raises(errors.APIError, match="not found") as info:
        asyncio.run(ask(live_client(server.base_url, ctx),
                        [SUM], model="gemini-nope"))
    assert info.value.code == 1008


def _raw_session(server: SimServer, ctx: ssl.SSLContext, frames: list[str],
                 headers: dict[str, str]) -> tuple[list[str], int | None, str]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    from harness.sim.live import LIVE_PATH

    async def run() -> tuple[list[str], int | None, str]:
        url = server.base_url.replace("https", "wss") + LIVE_PATH.format(ver="v1beta")
        got: list[str] = []
        try:
            async with connect(url, additional_headers=headers, ssl=ctx) as ws:
                for frame in frames:
                    await ws.send(frame)
                try:
                    while True:
                        got.append(str(await ws.recv()))
                except ConnectionClosed as exc:
                    return got, exc.rcvd.code if exc.rcvd else None, (
                        exc.rcvd.reason if exc.rcvd else "")
        except InvalidStatus as exc:
            return got, exc.response.status_code, ""
        return got, None, ""
    return asyncio.run(run())


def test_live_frames_the_simulator_refuses(sim: tuple[SimServer, ssl.SSLContext]) -> None:
    server, ctx = sim
    setup = '{"setup": {"model": "models/sim-oracle"}}'
    got, code, reason = _raw_session(server, ctx, [setup, '{"realtimeInput": {}}'],
                                     {"x-goog-api-key": "k"})
    assert got == ['{"setupComplete": {}}'] and code == 1007 and "clientContent" in reason
    _, code, reason = _raw_session(server, ctx, ["not json"], {"x-goog-api-key": "k"})
    assert code == 1007 and "Invalid JSON" in reason
    _, code, _ = _raw_session(server, ctx, [setup], {})
    assert code == 403  # no key: refused at the handshake
