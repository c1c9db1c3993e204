"""Grounding metadata -> Transcript.grounding: hand-made wire shapes, the real grounding stream
in ../shared/conformance/, Interactions steps, and joining across chunks and turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.transcript.generate import from_chunks
from harness.transcript.interactions import from_interaction_events, from_interaction_hops
from harness.transcript.values import (
    Grounding,
    Source,
    Support,
    Transcript,
    combine_turns,
    merge_groundings,
)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
FILE_SEARCH = CORPUS / "pydantic-g25pro-filesearch-thought-executablecode" / "response_3.sse"


def chunk(parts: list[dict[str, Any]], **candidate: Any) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0,
                            **candidate}]}


SEARCHED = chunk(
    [{"text": "Paris has 2.1 million people."}], finishReason="STOP",
    groundingMetadata={
        "webSearchQueries": ["population of Paris", "population of Paris"],
        "searchEntryPoint": {"renderedContent": "<div/>"},
        "groundingChunks": [
            {"web": {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/x",
                     "title": "wikipedia.org"}},
            {"web": {"uri": "https://insee.fr/paris", "title": "INSEE", "domain": "insee.fr"}}],
        "groundingSupports": [{"segment": {"endIndex": 29, "text": "Paris has 2.1 million people."},
                               "groundingChunkIndices": [0, 1]}]},
    urlContextMetadata={"urlMetadata": [{"retrievedUrl": "https://example.org/a",
                                         "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}]})


def test_generate_content_grounding_is_read() -> None:
    g = from_chunks([SEARCHED], "hand-made").grounding
    assert g is not None
    assert g.queries == ("population of Paris",)  # repeats dropped
    assert g.sources == (
        Source("web", uri="https://vertexaisearch.cloud.google.com/grounding-api-redirect/x",
               title="wikipedia.org"),
        Source("web", uri="https://insee.fr/paris", title="INSEE", domain="insee.fr"),
        Source("url_context", uri="https://example.org/a",
               status="URL_RETRIEVAL_STATUS_SUCCESS"))
    assert g.supports == (Support("Paris has 2.1 million people.", 0, 29, (0, 1)),)


def test_no_metadata_no_grounding_and_json_unchanged() -> None:
    t = from_chunks([chunk([{"text": "hi"}], finishReason="STOP")], "hand-made")
    assert t.grounding is None and "grounding" not in t.to_json()
    grounded = from_chunks([SEARCHED], "hand-made").to_json()["grounding"]
    assert grounded["queries"] == ["population of Paris"]
    assert grounded["sources"][2] == {"kind": "url_context", "uri": "https://example.org/a",
                                      "status": "URL_RETRIEVAL_STATUS_SUCCESS"}
    assert grounded["supports"] == [{"text": "Paris has 2.1 million people.", "start": 0,
                                     "end": 29, "sources": [0, 1]}]


def test_stream_chunk_indices_count_across_chunks() -> None:
    first = chunk([{"text": "A."}], groundingMetadata={
        "groundingChunks": [{"web": {"uri": "https://a.example/", "title": "a"}}]})
    last = chunk([{"text": " B."}], finishReason="STOP", groundingMetadata={
        "groundingChunks": [{"web": {"uri": "https://b.example/", "title": "b"}}],
        "groundingSupports": [{"segment": {"startIndex": 3, "endIndex": 5, "text": "B."},
                               "groundingChunkIndices": [1, 7]}]})  # 7: out of range, dropped
    g = from_chunks([first, last], "hand-made").grounding
    assert g is not None
    assert [s.uri for s in g.sources] == ["https://a.example/", "https://b.example/"]
    assert g.supports == (Support("B.", 3, 5, (1,)),)


def test_merge_maps_each_parts_indices_and_drops_repeats() -> None:
    a, b = Source(uri="https://a/"), Source(uri="https://b/")
    one = Grounding(("q1",), (a,), (Support("x", 0, 1, (0,)),))
    two = Grounding(("q1", "q2"), (b, a), (Support("y", 0, 1, (0, 1)),))
    merged = merge_groundings([one, None, two])
    assert merged == Grounding(("q1", "q2"), (a, b), (Support("x", 0, 1, (0,)),
                                                      Support("y", 0, 1, (1, 0))))
    assert merge_groundings([None, None]) is None
    turns = combine_turns([Transcript(grounding=one), Transcript(), Transcript(grounding=two)])
    assert turns.grounding == merged


@pytest.mark.skipif(not FILE_SEARCH.is_file(), reason=f"conformance file not found at "
                    f"{FILE_SEARCH} (../shared/conformance beside the checkout)")
def test_conformance_file_search_grounding_stream() -> None:
    """A real Gemini 2.5 Pro stream: retrievedContext chunks in two chunks, supports that cite
    index 1 from the last chunk (which lists one grounding chunk): one source, two supports."""
    raw = FILE_SEARCH.read_text()
    chunks = [json.loads(event.strip().removeprefix("data:"))
              for event in raw.replace("\r\n", "\n").split("\n\n") if event.strip()]
    t = from_chunks(chunks, FILE_SEARCH.name)
    assert t.grounding is not None
    assert t.grounding.queries == ()
    (source,) = t.grounding.sources
    assert source.kind == "retrieved" and source.uri is None
    assert source.text == ("Paris is the capital of France. The Eiffel Tower is a famous "
                           "landmark in Paris.")
    assert t.grounding.supports == (
        Support("The capital of France is Paris.", 0, 31, (0,)),
        Support("A famous landmark in Paris is the Eiffel Tower.", 32, 79, (0,)))
    assert t.final_text.startswith("The capital of France is Paris.")


STEPS: list[dict[str, Any]] = [
    {"type": "user_input", "content": [{"type": "text", "text": "q"}]},
    {"type": "google_search_call", "id": "s1", "arguments": {"queries": ["heights"]}},
    {"type": "google_search_result", "call_id": "s1", "result": [{"search_suggestions": "x"}]},
    {"type": "url_context_call", "id": "u1", "arguments": {"urls": ["https://x.example/"]}},
    {"type": "url_context_result", "call_id": "u1",
     "result": [{"url": "https://x.example/", "status": "paywall"}]},
    {"type": "model_output", "content": [
        {"type": "text", "text": "Intro. "},
        {"type": "text", "text": "Tall: 828 m.", "annotations": [
            {"type": "url_citation", "url": "https://en.wikipedia.org/wiki/Burj_Khalifa",
             "title": "Burj Khalifa", "start_index": 6, "end_index": 12}]}]}]


def test_interaction_steps_grounding() -> None:
    t = from_interaction_hops([{"id": "i", "status": "completed", "steps": STEPS}])
    g = t.grounding
    assert g is not None and g.queries == ("heights",)
    assert g.sources == (Source("url_context", uri="https://x.example/", status="paywall"),
                         Source("web", uri="https://en.wikipedia.org/wiki/Burj_Khalifa",
                                title="Burj Khalifa"))
    # offsets move to the whole answer text; the text is the cited bytes
    assert g.supports == (Support("828 m.", 13, 19, (1,)),)
    assert t.final_text == "Intro. Tall: 828 m."


def test_streamed_interaction_grounding_from_deltas() -> None:
    events: list[dict[str, Any]] = [
        {"event_type": "interaction.created", "interaction": {"id": "i", "status": "in_progress"}},
        {"event_type": "step.start", "index": 0,
         "step": {"type": "google_search_call", "id": "s1", "arguments": {}}},
        {"event_type": "step.delta", "index": 0,
         "delta": {"type": "google_search_call", "arguments": {"queries": ["a", "b"]}}},
        {"event_type": "step.start", "index": 1, "step": {"type": "model_output"}},
        {"event_type": "step.delta", "index": 1, "delta": {"type": "text", "text": "It is 5."}},
        {"event_type": "step.delta", "index": 1, "delta": {
            "type": "text_annotation_delta", "annotations": [
                {"type": "url_citation", "url": "https://a.example/", "start_index": 0,
                 "end_index": 8}]}},
        {"event_type": "interaction.completed", "interaction": {"id": "i", "status": "completed"}}]
    g = from_interaction_events(events).grounding
    assert g is not None and g.queries == ("a", "b")
    assert g.sources == (Source("web", uri="https://a.example/"),)
    assert g.supports == (Support("It is 5.", 0, 8, (0,)),)
