"""Helpers for Live API tests: a self-signed certificate (the SDK always connects with
``wss``), the simulator served over TLS, and a client that trusts it."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from google import genai
from google.genai import types

from harness.sim import devexec
from harness.sim.catalog import SimCase
from harness.sim.faults import FaultConfig
from harness.sim.server import SimServer
from harness.sim.server import start as start_sim
from harness.sim.tls import self_signed

SUM = "What is sum(range(10))? Run code."
CASES = [SimCase("demo/sum", SUM, "print(sum(range(10)))"),
         SimCase("demo/mul", "What is 6*7? Run code.", "print(6*7)")]
LIVE_CONFIG: dict[str, Any] = {"response_modalities": ["TEXT"], "tools": [{"code_execution": {}}]}


def start_tls_sim(directory: Path) -> tuple[SimServer, ssl.SSLContext]:
    """The simulator over TLS, and an SSL context trusting it."""
    certfile, keyfile = self_signed(directory)
    server = start_sim(CASES, executor=devexec.run, deadline_s=2.0, faults=FaultConfig(),
                       tls=(certfile, keyfile))
    return server, ssl.create_default_context(cafile=certfile)


def live_client(base_url: str, ctx: ssl.SSLContext | None, *, key: str = "sim-key",
                headers: dict[str, str] | None = None) -> genai.Client:
    """A Gemini API client whose Live connections go to ``base_url`` trusting ``ctx``."""
    return genai.Client(api_key=key, http_options=types.HttpOptions(
        base_url=base_url, api_version="v1beta", headers=headers,
        async_client_args={"ssl": ctx} if ctx is not None else None))


async def ask(client: genai.Client, prompts: list[str],
              model: str = "sim-oracle") -> list[list[types.LiveServerMessage]]:
    """One Live session: each prompt as a turn; the messages of each turn."""
    turns: list[list[types.LiveServerMessage]] = []
    async with client.aio.live.connect(model=model, config=LIVE_CONFIG) as session:
        for prompt in prompts:
            await session.send_client_content(
                turns={"role": "user", "parts": [{"text": prompt}]}, turn_complete=True)
            messages = []
            async for message in session.receive():
                messages.append(message)
            turns.append(messages)
    return turns
