"""The simulator's Google Search / URL context, through the real SDK and harness.transcript."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types

from harness.sim import devexec, grounding
from harness.sim.catalog import SimCase
from harness.sim.faults import FaultConfig
from harness.sim.server import SimServer
from harness.sim.server import start as start_sim
from harness.transcript.generate import from_generate_content
from harness.transcript.interactions import from_interaction, from_interaction_events

PROMPT = "Search for the populations of Paris and Lyon, then add them with code."
HINT = {"search": {"queries": ["population of Paris", "population of Lyon"],
                   "sources": [{"title": "Paris", "uri": "https://example.org/paris"},
                               {"title": "Lyon", "uri": "https://www.example.com/lyon"}]}}
CASES = [SimCase("demo/search", PROMPT, "print(2102650 + 522250)", hint=HINT),
         SimCase("demo/plain", "What is 6*7? Run code.", "print(6*7)")]
SEARCH = [types.Tool(code_execution=types.ToolCodeExecution()),
          types.Tool(google_search=types.GoogleSearch())]


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with start_sim(CASES, executor=devexec.run, deadline_s=1.0, faults=FaultConfig()) as s:
        yield s


@pytest.fixture(scope="module")
def client(server: SimServer) -> genai.Client:
    return genai.Client(api_key="sim-key", http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1beta",
        retry_options=types.HttpRetryOptions(attempts=1)))


def test_generate_content_carries_the_hinted_search(client: genai.Client) -> None:
    r = client.models.generate_content(model="sim-oracle", contents=PROMPT,
                                       config=types.GenerateContentConfig(tools=SEARCH))
    meta = r.candidates[0].grounding_metadata
    assert meta.web_search_queries == ["population of Paris", "population of Lyon"]
    assert [c.web.uri for c in meta.grounding_chunks] == ["https://example.org/paris",
                                                         "https://www.example.com/lyon"]
    assert grounding.NOTICE in meta.search_entry_point.rendered_content
    t = from_generate_content(r)
    assert t.final_text == "The result is **2624900**."
    assert t.grounding is not None and t.grounding.queries == tuple(meta.web_search_queries)
    (support,) = t.grounding.supports
    assert support.text == t.final_text and support.source_indices == (0, 1)


def test_no_tool_no_grounding_and_default_search(client: genai.Client) -> None:
    plain = client.models.generate_content(model="sim-oracle", contents=PROMPT)
    assert from_generate_content(plain).grounding is None
    r = client.models.generate_content(model="sim-oracle", contents="What is 6*7? Run code.",
                                       config=types.GenerateContentConfig(tools=SEARCH))
    g = from_generate_content(r).grounding
    assert g is not None and g.queries == ("What is 6*7? Run code.",)
    (source,) = g.sources
    assert source.uri is not None and source.uri.startswith("https://sim-search.invalid/")
    assert source.title is not None and source.title.startswith("sim-search:")


def test_stream_puts_metadata_in_the_last_chunk(client: genai.Client) -> None:
    chunks = list(client.models.generate_content_stream(
        model="sim-oracle", contents=PROMPT, config=types.GenerateContentConfig(tools=SEARCH)))
    has_meta = [c.candidates[0].grounding_metadata is not None for c in chunks]
    assert has_meta[-1] and not any(has_meta[:-1])
    g = from_generate_content(chunks).grounding
    assert g is not None and len(g.sources) == 2 and g.supports[0].source_indices == (0, 1)


def test_url_context_reports_the_prompts_urls(client: genai.Client) -> None:
    prompt = "Read https://example.net/a.csv, and sum its column with code."
    r = client.models.generate_content(model="sim-oracle", contents=prompt,
                                       config=types.GenerateContentConfig(tools=[
                                           types.Tool(url_context=types.UrlContext())]))
    (meta,) = r.candidates[0].url_context_metadata.url_metadata
    assert meta.retrieved_url == "https://example.net/a.csv"
    g = from_generate_content(r).grounding
    assert g is not None and g.queries == () and g.sources[0].kind == "url_context"


@pytest.mark.parametrize("stream", [False, True])
def test_interactions_search_steps_and_citations(client: genai.Client, stream: bool) -> None:
    tools = [{"type": "code_execution"}, {"type": "google_search"}]
    result = client.interactions.create(model="sim-oracle", input=PROMPT, tools=tools,
                                        stream=stream)
    t = (from_interaction_events(result) if stream else from_interaction(result))
    assert t.grounding is not None, t
    assert t.grounding.queries == ("population of Paris", "population of Lyon")
    assert [s.uri for s in t.grounding.sources] == ["https://example.org/paris",
                                                    "https://www.example.com/lyon"]
    assert t.grounding.supports[0].text == t.final_text == "The result is **2624900**."
    assert t.code_runs[0].output == "2624900\n"


def test_interactions_url_context(client: genai.Client) -> None:
    result = client.interactions.create(
        model="sim-oracle", input="Summarise https://example.net/x please.",
        tools=[{"type": "code_execution"}, {"type": "url_context"}])
    t = from_interaction(result)
    assert t.grounding is not None and t.grounding.queries == ()
    assert [(s.kind, s.uri, s.status) for s in t.grounding.sources] == [
        ("url_context", "https://example.net/x", "success")]
