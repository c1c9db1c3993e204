"""The unmodified google-genai SDK, called directly, against the bundled simulator: every
endpoint (Gemini API, Vertex AI, interactions, files), sync and async, errors, determinism."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types
from google.oauth2.credentials import Credentials

from harness.sim import devexec
from harness.sim.catalog import SimCase
from harness.sim.faults import FaultConfig
from harness.sim.models import SIM_MODELS
from harness.sim.server import SimServer
from harness.sim.server import start as start_sim

SUM = "What is sum(range(10))? Run code."
CSV = "How many rows does data.csv have?"
CASES = [
    SimCase("demo/sum", SUM, "print(sum(range(10)))"),
    SimCase("demo/other", "Same reference, other case.", "print(sum(range(10)))"),
    SimCase("demo/noref", "A case without a reference."),
    SimCase("demo/csv", CSV, "print(len(open('data.csv').read().splitlines()))"),
    SimCase("demo/chat", "What is 6*7? Run code.", "print(6*7)",
                turns=("I have a maths question.", "What is 6*7? Run code.")),
]
CODE_EXEC = types.GenerateContentConfig(
    tools=[types.Tool(code_execution=types.ToolCodeExecution())])


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with start_sim(CASES, executor=devexec.run, deadline_s=1.0, faults=FaultConfig()) as s:
        yield s


_ALIVE: list[genai.Client] = []  # a collected Client closes its HTTP client under its users


def client(server: SimServer, *, headers: dict[str, str] | None = None,
           **http: Any) -> genai.Client:
    c = genai.Client(api_key="sim-key", http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1beta", headers=headers,
        retry_options=types.HttpRetryOptions(attempts=1), **http))
    _ALIVE.append(c)
    return c


def outcomes(response: types.GenerateContentResponse) -> list[str]:
    parts = response.candidates[0].content.parts
    return [p.code_execution_result.outcome.value for p in parts
            if p.code_execution_result]


def text(response: types.GenerateContentResponse) -> str:
    parts = response.candidates[0].content.parts
    return "".join(p.text for p in parts if p.text)


# --- generateContent --------------------------------------------------------------------

def test_generate_content(server: SimServer) -> None:
    r = client(server).models.generate_content(model="sim-oracle", contents=SUM, config=CODE_EXEC)
    parts = r.candidates[0].content.parts
    assert [bool(p.text) for p in parts] == [True, False, False, True]
    assert parts[1].executable_code.code == "print(sum(range(10)))"
    assert parts[2].code_execution_result.output == "45\n"
    assert parts[1].executable_code.id == parts[2].code_execution_result.id
    assert outcomes(r) == ["OUTCOME_OK"]
    assert parts[-1].text == "The result is **45**."
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.model_version == "sim-oracle-001" and r.response_id
    u = r.usage_metadata
    assert u is not None and u.thoughts_token_count is None
    assert u.tool_use_prompt_token_count and u.prompt_token_count and u.candidates_token_count
    assert u.total_token_count == (u.prompt_token_count + u.candidates_token_count
                                   + u.tool_use_prompt_token_count)


def test_stream_splits_parts_and_puts_usage_last(server: SimServer) -> None:
    c = client(server)
    chunks = list(c.models.generate_content_stream(model="sim-oracle", contents=SUM,
                                                   config=CODE_EXEC))
    assert len(chunks) >= 4
    # every chunk carries usage, as real streams do: partial (the prompt) until the last
    assert [ch.usage_metadata.candidates_token_count is not None for ch in chunks] == [
        False] * (len(chunks) - 1) + [True]
    assert {ch.usage_metadata.prompt_token_count for ch in chunks} == {
        chunks[-1].usage_metadata.prompt_token_count}
    assert [ch.candidates[0].finish_reason for ch in chunks][-1] == types.FinishReason.STOP
    assert all(ch.candidates[0].finish_reason is None for ch in chunks[:-1])
    whole = c.models.generate_content(model="sim-oracle", contents=SUM, config=CODE_EXEC)
    streamed = "".join(p.text or "" for ch in chunks
                       for p in ch.candidates[0].content.parts)
    assert streamed == text(whole)
    assert chunks[-1].usage_metadata.total_token_count == whole.usage_metadata.total_token_count


def test_stream_raw_sse_framing(server: SimServer) -> None:
    r = httpx2.post(f"{server.base_url}/v1beta/models/sim-oracle:streamGenerateContent?alt=sse",
                    json={"contents": [{"role": "user", "parts": [{"text": SUM}]}]},
                    headers={"x-goog-api-key": "k"})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = r.text.split("\r\n\r\n")
    assert events[-1] == "" and all(e.startswith("data: {") for e in events[:-1])


def test_chat_turns(server: SimServer) -> None:
    chat = client(server).chats.create(model="sim-oracle", config=CODE_EXEC)
    first = chat.send_message("I have a maths question.")
    assert outcomes(first) == [] and "go ahead" in text(first)
    second = chat.send_message("What is 6*7? Run code.")
    assert outcomes(second) == ["OUTCOME_OK"] and "**42**" in text(second)


def test_case_without_reference_and_unknown_prompt_get_plain_text(server: SimServer) -> None:
    c = client(server)
    for model in SIM_MODELS:
        r = c.models.generate_content(model=model, contents="A case without a reference.")
        assert outcomes(r) == [] and "no `reference:`" in text(r)
    r = c.models.generate_content(model="sim-oracle", contents="Never seen before.")
    assert outcomes(r) == [] and "knows no eval case" in text(r)


def test_headers_select_case_and_sample(server: SimServer) -> None:
    by_header = client(server, headers={"x-harness-case": "demo/sum", "x-harness-sample": "2"})
    r = by_header.models.generate_content(model="sim-oracle", contents="Unrelated text")
    assert outcomes(r) == ["OUTCOME_OK"]
    sample1 = client(server, headers={"x-harness-case": "demo/sum"}).models.generate_content(
        model="sim-oracle", contents="Unrelated text")
    assert sample1.response_id != r.response_id  # samples are told apart


# --- determinism ----------------------------------------------------------------------

def _raw(base: str, path: str, body: dict[str, Any], case: str | None = "demo/sum") -> bytes:
    headers = {"x-goog-api-key": "k", **({"x-harness-case": case} if case else {})}
    r = httpx2.post(base + path, json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.content


@pytest.mark.parametrize("path,body", [
    ("/v1beta/models/sim-retry:generateContent",
     {"contents": [{"role": "user", "parts": [{"text": SUM}]}]}),
    ("/v1beta/models/sim-flaky:streamGenerateContent?alt=sse",
     {"contents": [{"role": "user", "parts": [{"text": SUM}]}]}),
    ("/v1beta/interactions", {"model": "sim-wrong", "input": SUM}),
    ("/v1beta/interactions", {"model": "sim-oracle", "input": SUM, "stream": True}),
])
def test_identical_requests_get_byte_identical_bodies(server: SimServer, path: str,
                                                       body: dict[str, Any]) -> None:
    first = _raw(server.base_url, path, body)
    assert _raw(server.base_url, path, body) == first
    with start_sim(CASES, executor=devexec.run, faults=FaultConfig()) as fresh:
        assert _raw(fresh.base_url, path, body) == first  # a re-record changes nothing


# --- interactions ---------------------------------------------------------------------

def test_interactions_create_get_and_chain(server: SimServer) -> None:
    c = client(server)
    first = c.interactions.create(model="sim-retry", input=SUM, tools=[{"type": "code_execution"}])
    kinds = [s.type for s in first.steps]
    assert kinds == ["model_output", "code_execution_call", "code_execution_result",
                     "model_output", "code_execution_call", "code_execution_result",
                     "model_output"]
    results = [s for s in first.steps if s.type == "code_execution_result"]
    assert [r.is_error for r in results] == [True, False]
    assert "NameError" in results[0].result
    assert first.status == "completed" and first.output_text == "The result is **45**."
    assert first.usage.total_tool_use_tokens and first.usage.total_tokens
    got = c.interactions.get(first.id)
    assert got.id == first.id and got.output_text == first.output_text
    chained = c.interactions.create(model="sim-oracle", input="Same reference, other case.",
                                    previous_interaction_id=first.id)
    assert chained.previous_interaction_id == first.id and chained.id != first.id
    assert chained.usage.total_input_tokens > first.usage.total_input_tokens


def test_interactions_stream_events(server: SimServer) -> None:
    events = list(client(server).interactions.create(model="sim-oracle", input=SUM, stream=True))
    kinds = [e.event_type for e in events]
    assert kinds[:2] == ["interaction.created", "interaction.status_update"]
    assert kinds[-1] == "interaction.completed"
    assert kinds.count("step.start") == kinds.count("step.stop") == 4
    deltas = [e.delta for e in events if e.event_type == "step.delta"]
    assert any(getattr(d, "result", None) == "45\n" for d in deltas)
    assert events[-1].interaction.usage.total_tokens


def test_interactions_unknown_previous_id_is_404(server: SimServer) -> None:
    from google.genai import _interactions

    with pytest.raises(_interactions.NotFoundError):
        client(server).interactions.create(model="sim-oracle", input=SUM,
                                           previous_interaction_id="v1_nope")


# --- files ----------------------------------------------------------------------------

def test_files_upload_then_generate(server: SimServer, tmp_path: Any) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    c = client(server)
    config = types.UploadFileConfig(mime_type="text/csv", display_name="data.csv")
    f = c.files.upload(file=path, config=config)
    assert f.name and f.name.startswith("files/") and f.uri and f.state == types.FileState.ACTIVE
    r = c.models.generate_content(model="sim-oracle", contents=[f, CSV], config=CODE_EXEC)
    assert outcomes(r) == ["OUTCOME_OK"] and "**3**" in text(r)
    assert c.files.upload(file=path, config=config).uri == f.uri  # same file, same id


def test_inline_file(server: SimServer) -> None:
    c = client(server, headers={"x-harness-case": "demo/csv"})
    part = types.Part.from_bytes(data=b"x\n1\n2\n3\n4\n", mime_type="text/csv")
    r = c.models.generate_content(model="sim-oracle", contents=[part, CSV])
    # sent inline the file has no name (input_file_0.csv): the reference's open() fails, for real
    assert outcomes(r) == ["OUTCOME_FAILED"] and "FileNotFoundError" in text(r)


def test_case_inputs_reach_the_code(server: SimServer, tmp_path: Any) -> None:
    (tmp_path / "rows.csv").write_text("a\n1\n2\n")
    server.add_cases([SimCase("demo/inputs", "Count the rows of rows.csv.",
                                  "print(len(open('rows.csv').read().splitlines()))",
                                  inputs=(tmp_path / "rows.csv",))])
    r = client(server).models.generate_content(model="sim-oracle",
                                               contents="Count the rows of rows.csv.")
    assert outcomes(r) == ["OUTCOME_OK"] and "**3**" in text(r)


# --- Vertex AI ------------------------------------------------------------------------

def test_vertex_project_location(server: SimServer) -> None:
    c = genai.Client(vertexai=True, project="p", location="us-central1",
                     credentials=Credentials(token="x"),
                     http_options=types.HttpOptions(base_url=server.base_url))
    r = c.models.generate_content(model="sim-oracle", contents=SUM, config=CODE_EXEC)
    assert outcomes(r) == ["OUTCOME_OK"]
    chunks = list(c.models.generate_content_stream(model="sim-wrong", contents=SUM))
    assert "**46**" in (chunks[-1].candidates[0].content.parts[0].text or "")
    inter = c.interactions.create(model="sim-oracle", input=SUM)
    assert inter.output_text == "The result is **45**."


def test_vertex_express(server: SimServer) -> None:
    c = genai.Client(vertexai=True, api_key="express-key",
                     http_options=types.HttpOptions(base_url=server.base_url))
    assert outcomes(c.models.generate_content(model="sim-retry", contents=SUM)) == [
        "OUTCOME_FAILED", "OUTCOME_OK"]


# --- errors ---------------------------------------------------------------------------

def test_unknown_model_is_404(server: SimServer) -> None:
    with pytest.raises(errors.ClientError) as info:
        client(server).models.generate_content(model="gemini-2.5-flash", contents=SUM)
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"
    assert "sim-oracle" in (info.value.message or "")


@pytest.mark.parametrize("body,needle", [(b"{not json", "Invalid JSON payload"),
                                         (b'{"contents": []}', "contents is not specified")])
def test_malformed_body_is_400(server: SimServer, body: bytes, needle: str) -> None:
    r = httpx2.post(f"{server.base_url}/v1beta/models/sim-oracle:generateContent", content=body,
                    headers={"x-goog-api-key": "k", "content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT" and needle in r.text


@pytest.mark.parametrize("path,code,status", [
    ("/v1beta/models/sim-oracle:generateContent", 403, "PERMISSION_DENIED"),
    ("/v1beta1/projects/p/locations/l/publishers/google/models/sim-oracle:generateContent",
     401, "UNAUTHENTICATED"),
    ("/v1beta1/publishers/google/models/sim-oracle:generateContent", 401, "UNAUTHENTICATED"),
])
def test_missing_credentials(server: SimServer, path: str, code: int, status: str) -> None:
    r = httpx2.post(server.base_url + path, json={"contents": [{"parts": [{"text": "hi"}]}]})
    assert r.status_code == code and r.json()["error"]["status"] == status


def test_missing_key_through_the_sdk(server: SimServer) -> None:
    # The SDK refuses to start without a key; an empty header value reaches the server.
    c = client(server, headers={"x-goog-api-key": ""})
    with pytest.raises(errors.ClientError) as info:
        c.models.generate_content(model="sim-oracle", contents=SUM)
    assert info.value.code == 403


# --- async ----------------------------------------------------------------------------

async def _async_calls(c: genai.Client) -> None:
    r = await c.aio.models.generate_content(model="sim-oracle", contents=SUM, config=CODE_EXEC)
    assert outcomes(r) == ["OUTCOME_OK"]
    chunks = [ch async for ch in await c.aio.models.generate_content_stream(
        model="sim-retry", contents=SUM)]
    assert chunks[-1].usage_metadata is not None
    inter = await c.aio.interactions.create(model="sim-oracle", input=SUM)
    assert inter.output_text == "The result is **45**."
    stream = await c.aio.interactions.create(model="sim-oracle", input=SUM, stream=True)
    assert [e.event_type async for e in stream][-1] == "interaction.completed"
    with pytest.raises(errors.ClientError):
        await c.aio.models.generate_content(model="not-a-sim-model", contents=SUM)


def test_async_with_httpx2(server: SimServer) -> None:
    async def main() -> None:
        await _async_calls(client(server, httpx_async_client=httpx2.AsyncClient()))

    asyncio.run(main())


@pytest.mark.skipif(importlib.util.find_spec("aiohttp") is None,
                    reason="aiohttp is not installed (the SDK's async path without it is "
                           "test_async_with_httpx2)")
def test_async_with_aiohttp(server: SimServer) -> None:
    asyncio.run(_async_calls(client(server)))


# --- what the harness reads back ------------------------------------------------------

def test_harness_transcript_reads_sim_responses(server: SimServer) -> None:
    from harness.transcript.generate import from_generate_content
    from harness.transcript.interactions import from_interaction

    c = client(server)
    r = c.models.generate_content(model="sim-retry", contents=SUM, config=CODE_EXEC)
    t = from_generate_content([r])
    assert [s.outcome for s in t.steps if s.type == "result"] == [
        "OUTCOME_FAILED", "OUTCOME_OK"]
    assert t.model_version == "sim-retry-001" and t.usage.tool_use_prompt_tokens
    i = from_interaction(c.interactions.create(model="sim-timeout", input=SUM))
    assert [s.outcome for s in i.steps if s.type == "result"] == ["OUTCOME_FAILED"]


def test_figures_become_inline_images(server: SimServer) -> None:
    pytest.importorskip("matplotlib")
    server.add_cases([SimCase("demo/plot", "Plot y = x.", "import matplotlib.pyplot as plt\n"
                                  "plt.plot([0, 1], [0, 1])\nprint('plotted')")])
    r = client(server).models.generate_content(model="sim-oracle", contents="Plot y = x.")
    parts = r.candidates[0].content.parts
    images = [p.inline_data for p in parts if p.inline_data]
    assert len(images) == 1 and images[0].data.startswith(b"\x89PNG")
    assert images[0].mime_type == "image/png"
    raw = _raw(server.base_url, "/v1beta/interactions",
               {"model": "sim-oracle", "input": "Plot y = x."}, case=None)
    assert base64.b64encode(images[0].data).decode()[:40].encode() in raw
