"""Fault injection: each fault as the unmodified SDK sees it, retries that recover, and
decisions that are reproducible per (seed, case, model, sample, attempt)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import _interactions, errors, types

from harness.sim import devexec
from harness.sim.catalog import SimCase
from harness.sim.faults import ENV_VAR, FAULT_KINDS, FaultConfig, FaultSpecError
from harness.sim.server import SimServer
from harness.sim.server import start as start_sim

PROMPT = "What is sum(range(10))? Run code."
CASES = [SimCase("demo/sum", PROMPT, "print(sum(range(10)))")]
_ALIVE: list[genai.Client] = []


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    faults = FaultConfig(latency_s=0.3, retry_after_s=7)
    with start_sim(CASES, executor=devexec.run, faults=faults) as s:
        yield s


def client(server: SimServer, fault: str | None = None, attempts: int = 1,
           sample: int | None = None) -> genai.Client:
    headers = {"x-harness-fault": fault} if fault else {}
    if sample is not None:
        headers["x-harness-sample"] = str(sample)
    c = genai.Client(api_key="k", http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1beta", headers=headers,
        retry_options=types.HttpRetryOptions(attempts=attempts, initial_delay=0.01,
                                             max_delay=0.05, jitter=0)))
    _ALIVE.append(c)
    return c


def unary(c: genai.Client) -> types.GenerateContentResponse:
    return c.models.generate_content(model="sim-oracle", contents=PROMPT)


def stream(c: genai.Client) -> list[types.GenerateContentResponse]:
    return list(c.models.generate_content_stream(model="sim-oracle", contents=PROMPT))


def interaction(c: genai.Client) -> Any:
    return c.interactions.create(model="sim-oracle", input=PROMPT)


def interaction_events(c: genai.Client) -> list[Any]:
    return list(c.interactions.create(model="sim-oracle", input=PROMPT, stream=True))


@pytest.mark.parametrize("fault,code", [("429", 429), ("500", 500), ("503", 503)])
def test_http_errors(server: SimServer, fault: str, code: int) -> None:
    c = client(server, fault)
    for call in (unary, stream):
        with pytest.raises(errors.APIError) as info:
            call(c)
        assert info.value.code == code
        assert isinstance(info.value, errors.ClientError if code < 500 else errors.ServerError)
    if fault == "429":
        assert info.value.response.headers["retry-after"] == "7"
        assert info.value.details["error"]["details"][0]["retryDelay"] == "7s"
    for call in (interaction, interaction_events):
        with pytest.raises(_interactions.APIStatusError) as ierr:
            call(c)
        assert ierr.value.status_code == code


def test_reset(server: SimServer) -> None:
    c = client(server, "reset")
    for call in (unary, stream):
        with pytest.raises(httpx2.TransportError):
            call(c)
    for call in (interaction, interaction_events):
        with pytest.raises(_interactions.APIConnectionError):
            call(c)


def test_truncate(server: SimServer) -> None:
    c = client(server, "truncate")
    for call in (unary, stream):
        with pytest.raises(httpx2.RemoteProtocolError):
            call(c)
    for call in (interaction, interaction_events):
        with pytest.raises(_interactions.APIConnectionError):
            call(c)


def test_nofinish_stream_ends_without_finish_reason(server: SimServer) -> None:
    c = client(server, "nofinish")
    chunks = stream(c)
    assert chunks and all(ch.candidates[0].finish_reason is None for ch in chunks)
    assert all(ch.usage_metadata.candidates_token_count is None for ch in chunks)  # partial only
    kinds = [e.event_type for e in interaction_events(c)]
    assert "interaction.completed" not in kinds and kinds[-1] == "step.stop"
    assert unary(c).candidates[0].finish_reason == types.FinishReason.STOP  # stream-only kind


def test_malformed_json(server: SimServer) -> None:
    c = client(server, "malformed")
    with pytest.raises(json.JSONDecodeError):
        unary(c)
    with pytest.raises(errors.UnknownApiResponseError):
        stream(c)
    with pytest.raises(_interactions.APIResponseValidationError):
        interaction(c)
    # The SDK's interactions stream does not validate events: the broken one arrives as text.
    events = interaction_events(c)
    assert [e for e in events if isinstance(e, str)] == ['{"event_type": "step.delta", "index": ']


def test_latency(server: SimServer) -> None:
    c = client(server, "latency")
    start = time.perf_counter()
    assert unary(c).text
    assert time.perf_counter() - start >= 0.3


def test_sdk_retry_recovers_after_forced_attempts(server: SimServer) -> None:
    # attempts 1-2 fail, the 3rd succeeds (the server counts attempts per request and sample)
    r = unary(client(server, "503@2", attempts=3, sample=101))
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    with pytest.raises(errors.ServerError):
        unary(client(server, "503@2", attempts=2, sample=102))


def test_attempt_header_drives_forced_faults(server: SimServer) -> None:
    url = f"{server.base_url}/v1beta/models/sim-oracle:generateContent"
    body = {"contents": [{"parts": [{"text": PROMPT}]}]}
    for attempt, status in (("1", 503), ("2", 503), ("3", 200)):
        r = httpx2.post(url, json=body, headers={"x-goog-api-key": "k",
                                                  "x-harness-fault": "503@2",
                                                  "x-harness-attempt": attempt})
        assert r.status_code == status


def test_unknown_forced_fault_is_400(server: SimServer) -> None:
    with pytest.raises(errors.ClientError) as info:
        unary(client(server, "teapot"))
    assert info.value.code == 400 and "valid:" in (info.value.message or "")


def test_rates_are_reproducible_and_retries_get_fresh_draws() -> None:
    cfg = FaultConfig.uniform(0.4, seed=3)
    draws = [cfg.decide(("s/c", "sim-oracle", k, "stream", "b"), 1, stream=True)
             for k in range(2000)]
    assert draws == [cfg.decide(("s/c", "sim-oracle", k, "stream", "b"), 1, stream=True)
                     for k in range(2000)]
    share = sum(d is not None for d in draws) / len(draws)
    assert 0.35 < share < 0.45
    assert set(Counter(draws)) == {None, *FAULT_KINDS}
    retried = [cfg.decide(("s/c", "sim-oracle", k, "stream", "b"), 2, stream=True)
               for k in range(2000)]
    assert retried != draws
    other_seed = FaultConfig.uniform(0.4, seed=4)
    assert draws != [other_seed.decide(("s/c", "sim-oracle", k, "stream", "b"), 1, stream=True)
                     for k in range(2000)]
    unary_draws = {cfg.decide(("s/c", "m", k, "generate", "b"), 1, stream=False)
                   for k in range(2000)}
    assert "nofinish" not in unary_draws


def test_rate_driven_faults_through_the_server() -> None:
    faults = FaultConfig(rates={"503": 0.5}, seed=11)
    with start_sim(CASES, executor=devexec.run, faults=faults) as s:
        seen = []
        for k in range(1, 13):
            try:
                unary(client(s, sample=k))
                seen.append("ok")
            except errors.ServerError:
                seen.append("503")
        assert "ok" in seen and "503" in seen
        # With the SDK's retries every sample gets through (each retry is a new attempt).
        assert all(unary(client(s, attempts=10, sample=k)).text for k in range(20, 26))


def test_generate_only_and_stream_only_kinds() -> None:
    cfg = FaultConfig.parse("unreadable=0.5,nofinish=0.5")
    draws = {cfg.decide(("c", "m", k, "s", "b"), 1, stream=True) for k in range(200)}
    assert draws == {"unreadable", "nofinish"}
    assert {cfg.decide(("c", "m", k, "s", "b"), 1, stream=True, generate=False)
            for k in range(200)} == {None, "nofinish"}
    assert {cfg.decide(("c", "m", k, "s", "b"), 1, stream=False) for k in range(200)} == {
        None, "unreadable"}
    assert FaultConfig(force=("unreadable", None)).decide(("c",), 1, stream=False,
                                                          generate=False) is None


def test_fault_spec_parsing() -> None:
    cfg = FaultConfig.parse("rate=0.4, 429=0.1, seed=7, delay=0.2, retry_after=3")
    assert cfg.rates["429"] == 0.1 and cfg.rates["500"] == pytest.approx(0.4 / len(FAULT_KINDS))
    assert (cfg.seed, cfg.latency_s, cfg.retry_after_s) == (7, 0.2, 3)
    # latency=R is the latency kind's rate, as every KIND=R is (delay= sets the seconds)
    assert FaultConfig.parse("latency=0.5").rates == {"latency": 0.5}
    assert FaultConfig.parse("503@2").force == ("503", 2)
    assert FaultConfig.parse("reset").force == ("reset", None)
    assert FaultConfig.from_env({}) is None
    assert FaultConfig.from_env({ENV_VAR: "500=1"}).rates == {"500": 1.0}  # type: ignore[union-attr]
    for bad in ("teapot=0.1", "429=lots", "503@x", "429=0.8,500=0.8"):
        with pytest.raises(FaultSpecError):
            FaultConfig.parse(bad)


def test_env_var_configures_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "429@1")
    with start_sim(CASES, executor=devexec.run) as s:
        with pytest.raises(errors.ClientError):
            unary(client(s))
        assert unary(client(s, attempts=2)).text


async def _async_faults(server: SimServer, transport_error: type[BaseException],
                        cut_error: type[BaseException], **http: Any) -> None:
    def make(fault: str) -> genai.Client:
        c = genai.Client(api_key="k", http_options=types.HttpOptions(
            base_url=server.base_url, api_version="v1beta", headers={"x-harness-fault": fault},
            **http))
        _ALIVE.append(c)
        return c

    with pytest.raises(errors.ServerError):
        await make("503").aio.models.generate_content(model="sim-oracle", contents=PROMPT)
    with pytest.raises(transport_error):
        await make("reset").aio.models.generate_content(model="sim-oracle", contents=PROMPT)
    with pytest.raises(cut_error):
        async for _ in await make("truncate").aio.models.generate_content_stream(
                model="sim-oracle", contents=PROMPT):
            pass
    with pytest.raises(_interactions.APIConnectionError):  # always httpx2, even with aiohttp
        await make("reset").aio.interactions.create(model="sim-oracle", input=PROMPT)


def test_async_faults_with_httpx2(server: SimServer) -> None:
    asyncio.run(_async_faults(server, httpx2.TransportError, httpx2.RemoteProtocolError,
                              httpx_async_client=httpx2.AsyncClient()))


def test_async_faults_with_aiohttp(server: SimServer) -> None:
    aiohttp = pytest.importorskip("aiohttp", reason="aiohttp is not installed")
    # Through aiohttp, transport faults surface as aiohttp errors, not httpx2 ones.
    asyncio.run(_async_faults(server, aiohttp.ClientError, aiohttp.ClientPayloadError))
