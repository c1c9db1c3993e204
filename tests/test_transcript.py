"""Unit tests of harness.transcript with small hand-written responses."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.genai import types

from harness.cassettes.files import transcript_from_path
from harness.transcript import bodies
from harness.transcript.bodies import TranscriptError
from harness.transcript.generate import from_generate_content
from harness.transcript.interactions import from_interaction, from_interaction_events
from harness.transcript.parse import parse_body
from harness.transcript.values import Transcript

PNG = b"\x89PNG\r\n\x1a\nfake"
PNG_B64 = base64.b64encode(PNG).decode()


def resp(parts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A generateContent response body in API (camelCase) JSON."""
    cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}}
    if "finishReason" in extra:
        cand["finishReason"] = extra.pop("finishReason")
    return {"candidates": [cand], **extra}


def sdk(d: dict[str, Any]) -> types.GenerateContentResponse:
    return types.GenerateContentResponse._from_response(response=json.loads(json.dumps(d)),
                                                        kwargs={})


def code(src: str, **kw: Any) -> dict[str, Any]:
    return {"executableCode": {"language": "PYTHON", "code": src, **kw.pop("ec", {})}, **kw}


def result(outcome: str, output: str, **kw: Any) -> dict[str, Any]:
    return {"codeExecutionResult": {"outcome": outcome, "output": output}, **kw}


UNARY = resp([
    {"text": "Let me think.", "thought": True},
    {"text": " Still thinking.", "thought": True},
    code("print(1/0)", ec={"id": "a1"}, thoughtSignature="c2ln"),
    {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "ZeroDivisionError",
                             "id": "a1"}},
    {"functionCall": {"name": "lookup", "args": {"q": "zero"}, "id": "f1"}},
    {"text": "Retrying."},
    code("print(55)"),
    result("OUTCOME_OK", "55\n"),
    {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
    {"text": "The sum is "},
    {"text": "**55**."},
], finishReason="STOP", modelVersion="gemini-2.5-flash",
    usageMetadata={"promptTokenCount": 21, "candidatesTokenCount": 57, "totalTokenCount": 512,
                   "toolUsePromptTokenCount": 180, "thoughtsTokenCount": 254})


# --- generateContent ------------------------------------------------------------------------

def test_unary_response() -> None:
    t = from_generate_content([sdk(UNARY)], latency_s=1.5)
    assert [s.type for s in t.steps] == ["thought", "code", "result", "call", "text", "code",
                                         "result", "image", "text"]
    assert (t.steps[3].name, t.steps[3].args, t.steps[3].id) == ("lookup", {"q": "zero"}, "f1")
    assert t.steps[0].text == "Let me think. Still thinking." and t.steps[0].thought
    assert t.steps[1].id == t.steps[2].id == "a1" and t.steps[1].language == "PYTHON"
    assert [(r.code, r.outcome, r.output) for r in t.code_runs] == [
        ("print(1/0)", "OUTCOME_FAILED", "ZeroDivisionError"), ("print(55)", "OUTCOME_OK", "55\n")]
    assert t.attempts == 2 and t.outcomes == ["OUTCOME_FAILED", "OUTCOME_OK"]
    assert t.final_text == "The sum is **55**."
    assert t.images[0].data == PNG and t.images[0].mime_type == "image/png"
    assert t.usage.to_json() == {"prompt_tokens": 21, "output_tokens": 57,
                                 "tool_use_prompt_tokens": 180, "thought_tokens": 254,
                                 "total_tokens": 512}
    assert (t.model_version, t.finish_reason, t.latency_s, t.error) == (
        "gemini-2.5-flash", "STOP", 1.5, None)


def test_a_single_response_object_is_accepted() -> None:
    assert from_generate_content(sdk(UNARY)).to_json() == from_generate_content(
        [sdk(UNARY)]).to_json()


def test_stream_usage_only_in_last_chunk_and_finish_reason_mid_stream() -> None:
    chunks = [
        resp([{"text": "Comp"}], finishReason="STOP", modelVersion="m-1",
             usageMetadata={"trafficType": "ON_DEMAND"}),
        resp([{"text": "uting"}, code("print(2)")], usageMetadata={"thoughtsTokenCount": 9}),
        resp([result("OUTCOME_OK", "2\n")], finishReason="STOP"),
        resp([{"text": "It is "}]),
        resp([{"text": "2."}, {"text": "", "thoughtSignature": "c2ln"}], finishReason="MAX_TOKENS",
             modelVersion="m-2", usageMetadata={"promptTokenCount": 5, "totalTokenCount": 20}),
    ]
    t = from_generate_content([sdk(c) for c in chunks], ttft_s=0.2)
    assert [s.type for s in t.steps] == ["text", "code", "result", "text"]
    assert t.steps[0].text == "Computing" and t.final_text == "It is 2."
    assert t.finish_reason == "MAX_TOKENS" and t.model_version == "m-2"
    assert t.usage.to_json() == {"prompt_tokens": 5, "output_tokens": None,
                                 "tool_use_prompt_tokens": None, "thought_tokens": 9,
                                 "total_tokens": 20}
    assert t.ttft_s == 0.2


def test_code_part_without_result_and_thought_flagged_code() -> None:
    t = from_generate_content([sdk(resp([
        code("scratch()", thought=True), result("OUTCOME_OK", "x", thought=True),
        code("real()"), {"text": "done"}]))])
    assert [(r.code, r.outcome, r.output, r.thought) for r in t.code_runs] == [
        ("scratch()", "OUTCOME_OK", "x", True), ("real()", None, None, False)]
    assert t.steps[1].thought and t.attempts == 1 and t.outcomes == [None]
    assert t.final_text == "done"


def test_one_code_two_results() -> None:
    t = from_generate_content([sdk(resp([code("c"), result("OUTCOME_OK", "a"),
                                         result("OUTCOME_DEADLINE_EXCEEDED", "b")]))])
    assert [(r.outcome, r.output) for r in t.code_runs] == [("OUTCOME_DEADLINE_EXCEEDED", "ab")]
    assert t.final_text == ""


def test_final_text_is_all_non_thought_text_without_code() -> None:
    t = from_generate_content([sdk(resp([{"text": "a"}, {"text": "hm", "thought": True},
                                         {"text": "b"}]))])
    assert t.final_text == "ab" and t.code_runs == ()


def test_missing_outcome_output_and_language_follow_proto_defaults() -> None:
    t = from_generate_content([sdk(resp([{"executableCode": {"code": "x"}},
                                         {"codeExecutionResult": {}}]))])
    assert t.steps[0].language is None
    assert (t.steps[1].outcome, t.steps[1].output) == ("OUTCOME_UNSPECIFIED", "")


def test_unknown_enum_values_become_their_strings() -> None:
    with pytest.warns(UserWarning):
        t = from_generate_content([sdk(resp([code("x"), result("OUTCOME_BRAND_NEW", "")],
                                            finishReason="NEW_REASON"))])
    assert t.code_runs[0].outcome == "OUTCOME_BRAND_NEW" and t.finish_reason == "NEW_REASON"


def test_only_candidate_zero_counts() -> None:
    body = resp([{"text": "zero"}])
    body["candidates"].append({"index": 1, "content": {"parts": [{"text": "one"}]}})
    t = from_generate_content([sdk(body), sdk({"candidates": [
        {"index": 1, "content": {"parts": [{"text": "more of one"}]}}]})])
    assert t.final_text == "zero" and t.error is None


def test_blocked_prompt_and_no_candidates_are_errors() -> None:
    blocked = from_generate_content([sdk({"promptFeedback": {
        "blockReason": "SAFETY", "blockReasonMessage": "nope"}})])
    assert blocked.error == "prompt blocked: SAFETY (nope)"
    assert from_generate_content([sdk({"usageMetadata": {"promptTokenCount": 3}})]).error \
        == "the response has no candidates"
    assert from_generate_content([]).error == "no response at all"


# --- Interactions ---------------------------------------------------------------------------

INTERACTION: dict[str, Any] = {
    "id": "v1_abc", "status": "completed", "model": "gemini-3-flash-preview",
    "steps": [
        {"type": "user_input", "content": [{"type": "text", "text": "echoed prompt"}]},
        {"type": "thought", "signature": "c2ln",
         "summary": [{"type": "text", "text": "Plan: compute."}]},
        {"type": "code_execution_call", "id": "call_1",
         "arguments": {"language": "python", "code": "print(1/0)"}},
        {"type": "code_execution_result", "call_id": "call_1", "result": "ZeroDivisionError",
         "is_error": True},
        {"type": "code_execution_call", "id": "call_2",
         "arguments": {"language": "python", "code": "plot()"}},
        {"type": "code_execution_result", "call_id": "call_2", "is_error": False,
         "result": [{"type": "text", "text": "ok\n"},
                    {"type": "image", "mime_type": "image/png", "data": PNG_B64}]},
        {"type": "google_search_call", "id": "s", "arguments": {"queries": ["x"]}},
        {"type": "brand_new_step", "x": 1},
        {"type": "model_output", "content": [{"type": "text", "text": "It "},
                                             {"type": "text", "text": "failed, then worked."},
                                             {"type": "image", "mime_type": "image/png",
                                              "data": PNG_B64}]},
    ],
    "usage": {"total_input_tokens": 21, "total_output_tokens": 57, "total_thought_tokens": 254,
              "total_tool_use_tokens": 180, "total_tokens": 512, "total_cached_tokens": 0},
}


def test_interaction_body() -> None:
    t = parse_body(json.dumps(INTERACTION))
    assert [s.type for s in t.steps] == ["thought", "code", "result", "code", "result", "image",
                                         "text", "image"]
    assert [(r.code, r.outcome, r.output) for r in t.code_runs] == [
        ("print(1/0)", "OUTCOME_FAILED", "ZeroDivisionError"), ("plot()", "OUTCOME_OK", "ok\n")]
    assert t.steps[1].language == "PYTHON" and t.steps[1].id == t.steps[2].id == "call_1"
    assert t.final_text == "It failed, then worked."
    assert [i.data for i in t.images] == [PNG, PNG]
    assert t.usage.to_json() == {"prompt_tokens": 21, "output_tokens": 57,
                                 "tool_use_prompt_tokens": 180, "thought_tokens": 254,
                                 "total_tokens": 512}
    assert (t.model_version, t.finish_reason, t.error) == (
        "gemini-3-flash-preview", "completed", None)


def test_from_interaction_takes_the_sdk_object() -> None:
    from google.genai._gaos.utils.serializers import construct_unvalidated
    from google.genai.interactions import Interaction

    obj = construct_unvalidated(INTERACTION, Interaction)
    assert isinstance(obj, Interaction)
    assert from_interaction(obj, latency_s=2.0).to_json() == parse_body(
        json.dumps(INTERACTION)).to_json()


@pytest.mark.parametrize("status", ["failed", "cancelled", "incomplete", "in_progress"])
def test_interaction_not_completed_is_an_error(status: str) -> None:
    t = parse_body(json.dumps({**INTERACTION, "status": status,
                               "errors": [{"code": "INTERNAL", "message": "boom"}]}))
    assert t.finish_reason == status
    assert t.error == f"interaction status is '{status}', not 'completed'; INTERNAL: boom"


def test_interaction_older_outputs_shape() -> None:
    body = {"id": "x", "status": "completed", "model": "m", "outputs": [
        {"type": "thought", "summary": [{"type": "text", "text": "hmm"}]},
        {"type": "code_execution_call", "id": "c", "arguments": {"code": "1", "language": "bash"}},
        {"type": "code_execution_result", "call_id": "c", "result": "1\n"},
        {"type": "text", "text": "one"}, {"type": "text", "text": " done"}]}
    t = parse_body(json.dumps(body))
    assert [s.type for s in t.steps] == ["thought", "code", "result", "text"]
    assert t.steps[1].language == "BASH" and t.final_text == "one done"


def _events() -> list[dict[str, Any]]:
    return [
        {"event_type": "interaction.created",
         "interaction": {"id": "i1", "status": "in_progress", "model": "gemini-3-flash-preview"}},
        {"event_type": "step.start", "index": 0, "step": {"type": "thought", "summary": []}},
        {"event_type": "step.delta", "index": 0,
         "delta": {"type": "thought_summary", "content": {"type": "text", "text": "Plan "}}},
        {"event_type": "step.delta", "index": 0,
         "delta": {"type": "thought_summary", "content": {"type": "text", "text": "it."}}},
        {"event_type": "step.stop", "index": 0},
        {"event_type": "step.start", "index": 1,
         "step": {"type": "code_execution_call", "id": "c1", "arguments": {}}},
        {"event_type": "step.delta", "index": 1,
         "delta": {"type": "arguments_delta", "arguments": '{"code": "print(1+'}},
        {"event_type": "step.delta", "index": 1,
         "delta": {"type": "arguments_delta", "arguments": '1)", "language": "python"}'}},
        {"event_type": "step.start", "index": 2,
         "step": {"type": "code_execution_result", "call_id": "c1", "result": ""}},
        {"event_type": "step.delta", "index": 2,
         "delta": {"type": "code_execution_result", "result": "2\n", "is_error": False}},
        {"event_type": "step.start", "index": 3, "step": {"type": "model_output", "content": []}},
        {"event_type": "step.delta", "index": 3, "delta": {"type": "text", "text": "The answer "}},
        {"event_type": "step.delta", "index": 3, "delta": {"type": "text", "text": "is 2."}},
        {"event_type": "step.delta", "index": 3,
         "delta": {"type": "image", "mime_type": "image/png", "data": PNG_B64}},
        {"event_type": "step.stop", "index": 3, "usage": {"total_tokens": 10,
                                                          "total_output_tokens": 4}},
        {"event_type": "interaction.completed", "interaction": {
            "id": "i1", "status": "completed", "usage": {"total_input_tokens": 5,
                                                         "total_tokens": 12}}},
    ]


def _check_streamed(t: Transcript) -> None:
    assert [s.type for s in t.steps] == ["thought", "code", "result", "text", "image"]
    assert t.steps[0].text == "Plan it."
    assert [(r.code, r.outcome, r.output) for r in t.code_runs] == [
        ("print(1+1)", "OUTCOME_OK", "2\n")]
    assert t.steps[1].language == "PYTHON" and t.final_text == "The answer is 2."
    assert t.usage.to_json() == {"prompt_tokens": 5, "output_tokens": 4,
                                 "tool_use_prompt_tokens": None, "thought_tokens": None,
                                 "total_tokens": 12}
    assert (t.model_version, t.finish_reason, t.error) == (
        "gemini-3-flash-preview", "completed", None)


def test_streamed_interaction_events_as_dicts() -> None:
    _check_streamed(from_interaction_events(_events()))


def test_streamed_interaction_sse_body() -> None:
    sse = "".join(f"event: {e['event_type']}\r\ndata: {json.dumps(e)}\r\n\r\n" for e in _events())
    _check_streamed(parse_body(sse + "data: [DONE]\r\n\r\n"))
    _check_streamed(parse_body(json.dumps(_events())))  # the events as a JSON array


def test_streamed_interaction_prefers_the_completed_steps() -> None:
    events = _events()
    events[-1]["interaction"]["steps"] = [
        {"type": "model_output", "content": [{"type": "text", "text": "From completed."}]}]
    t = from_interaction_events(events)
    assert t.final_text == "From completed." and t.code_runs == ()


def test_truncated_stream_and_error_event() -> None:
    t = from_interaction_events([*_events()[:10], {"event_type": "error", "error": {
        "code": "UNAVAILABLE", "message": "overloaded"}}])
    assert t.finish_reason == "in_progress"
    assert t.error == ("interaction status is 'in_progress', not 'completed'; "
                       "UNAVAILABLE: overloaded")
    assert from_interaction_events([]).error == "the stream has no interaction events"


# --- parse_body detection -------------------------------------------------------------------

def _sse(chunks: list[dict[str, Any]], sep: str = "\r\n\r\n") -> str:
    return "".join(f"data: {json.dumps(c)}{sep}" for c in chunks)


STREAM = [resp([{"text": "Hi "}]), resp([code("x")]), resp([result("OUTCOME_OK", "1")]),
          resp([{"text": "done"}], finishReason="STOP",
               usageMetadata={"promptTokenCount": 1, "totalTokenCount": 3})]


@pytest.mark.parametrize("body", [
    _sse(STREAM), _sse(STREAM, "\n\n"), _sse(STREAM, "\r\r"),
    _sse(STREAM) + "data: [DONE]\r\n\r\n", ": keep-alive\n\n" + _sse(STREAM),
    json.dumps(STREAM), json.dumps(STREAM, indent=2).encode(),
    gzip.compress(_sse(STREAM).encode()), "\ufeff" + json.dumps(STREAM),
], ids=["sse-crlf", "sse-lf", "sse-cr", "sse-done", "sse-comment", "json-array",
        "json-array-bytes", "gzip", "bom"])
def test_parse_body_stream_formats(body: str | bytes) -> None:
    t = parse_body(body)
    assert [s.type for s in t.steps] == ["text", "code", "result", "text"]
    assert t.final_text == "done" and t.usage.total_tokens == 3 and t.finish_reason == "STOP"


def test_parse_body_unary_json_and_snake_case_sdk_dump() -> None:
    assert parse_body(json.dumps(UNARY)).final_text == "The sum is **55**."
    dumped = sdk(UNARY).model_dump(mode="json", exclude_none=True)
    assert "usage_metadata" in dumped
    assert parse_body(json.dumps(dumped)).to_json() == parse_body(json.dumps(UNARY)).to_json()


def test_mid_stream_api_error_is_kept_as_error() -> None:
    body = _sse([STREAM[0], {"error": {"code": 503, "status": "UNAVAILABLE",
                                       "message": "The model is overloaded."}}])
    t = parse_body(body)
    assert t.final_text == "Hi "
    assert t.error == "chunk 1: 503 UNAVAILABLE: The model is overloaded."


@pytest.mark.parametrize(("body", "message"), [
    ("", "stream chunks or an SSE body with `data:` lines; found an empty body"),
    ("hello", "found 'hello'"),
    ("{", "not valid JSON"),
    ('{"foo": 1}', "found an object with keys ['foo']"),
    ("[1, 2]", "found a JSON list"),
    ('{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota"}}',
     "the body is an API error, not a response: 429 RESOURCE_EXHAUSTED: quota"),
    ("data: {not json\n\n", "SSE event 0 is not JSON"),
    ("data: [DONE]\n\n", "the SSE body has no data events"),
    ('{"candidates": [{"content": {"parts": [{"text": 5}]}}]}',
     "the response could not be read: candidates[0].content.parts[0].text: input should be a "
     "valid string (got 5)"),
    # What fuzzing found (benchmarks/transcript_fuzz.py): each was a crash, not a reason.
    ('{"candidates": [{"finishReason": 5}]}',
     "the response could not be read: candidates[0].finishReason: 5 is not a string"),
    ('[{"candidates": []}, {"candidates": [{"content": {"parts": [{"codeExecutionResult": '
     '{"outcome": 1}}]}}]}]', "chunk 1 could not be read: candidates[0].content.parts[0]."
     "codeExecutionResult.outcome: 1 is not a string (Outcome)"),
    ('{"candidates": [{"content": {"parts": "oops"}}]}',
     'candidates[0].content.parts: input should be a valid list (got "oops")'),
    ('data: {"event_type": "interaction.created", "interaction": {}}\n\ndata: 5\n\n',
     "SSE event 1 is a JSON int, expected an object"),
    ('{"candidates": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deep"),
    ("data: " + "[" * 5000 + "]" * 5000 + "\n\n", "SSE event 0: the JSON is nested too deep"),
    ("interactions:\n- request: {}\n", "this is a cassette"),
    (b"\xff\xfe\x00garbage", "the body is not UTF-8 text"),
    (b"\x1f\x8bnot really gzip", "does not decompress"),
    (gzip.compress(b" " * (2**20 + 1)), "inflates beyond 1 MiB"),
])
def test_parse_body_rejects_with_a_clear_message(body: str | bytes, message: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "MAX_INFLATED", 2**20)  # a small cap, so a small bomb
    with pytest.raises(TranscriptError, match="^body: .*" + _re(message)) as caught:
        parse_body(body)
    assert "\n" not in str(caught.value)


def test_malformed_events_and_steps_are_read_leniently() -> None:
    """Odd values inside events (found by fuzzing) are skipped, as the SDK skips them."""
    events = [{"event_type": "interaction.created", "interaction": 5},
              {"event_type": "step.start", "index": 0,
               "step": {"type": "model_output", "content": {"x": 1}}},
              {"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": "hi"}},
              {"event_type": "step.start", "index": 1,
               "step": {"type": "code_execution_call", "arguments": 3}},
              {"event_type": "step.delta", "index": 1,
               "delta": {"type": "code_execution_call", "arguments": {"code": "x"}}},
              {"event_type": "step.delta", "index": 1,
               "delta": {"type": "code_execution_call", "arguments": "oops"}},
              {"event_type": "step.start", "index": 2,
               "step": {"type": "thought", "summary": True}}]
    t = parse_body(json.dumps(events))
    assert [s.text for s in t.steps if s.type == "text"] == ["hi"]
    assert [r.code for r in t.code_runs] == ["x"]


def test_gzip_members_and_raw_deflate_inflate() -> None:
    body = json.dumps(UNARY).encode()
    half = len(body) // 2
    assert bodies.inflate(gzip.compress(body[:half]) + gzip.compress(body[half:]),
                          where="b") == body
    raw = zlib.compressobj(wbits=-15)
    assert bodies.inflate(raw.compress(body) + raw.flush(), "deflate", where="b") == body
    with pytest.raises(TranscriptError, match="cut short"):
        bodies.inflate(gzip.compress(body)[:-12], where="b")


def _re(text: str) -> str:
    import re

    return re.escape(text)


# --- transcript_from_path -------------------------------------------------------------------

def _interaction(uri: str, body: Any, *, status: int = 200, method: str = "POST",
                 headers: dict[str, list[str]] | None = None,
                 key: str = "body") -> dict[str, Any]:
    response: dict[str, Any] = {"status": {"code": status, "message": "OK"},
                                "headers": headers or {}}
    if key == "parsed_body":
        response["parsed_body"] = body
    else:
        response["body"] = {"string": body}
    return {"request": {"method": method, "uri": uri, "body": None, "headers": {}},
            "response": response}


GEN = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
STREAM_URI = GEN.replace(":generateContent", ":streamGenerateContent?alt=sse")
INTERACTIONS = "http://127.0.0.1:8765/v1beta/interactions"


def _cassette(tmp_path: Path, interactions: list[dict[str, Any]], **top: Any) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1, **top}))
    return path


def test_cassette_with_gzip_binary_body_and_stored_timing(tmp_path: Path) -> None:
    path = _cassette(tmp_path, [
        _interaction(GEN, gzip.compress(json.dumps(UNARY).encode()),
                     headers={"Content-Encoding": ["gzip"]}),
    ], metadata={"harness": {"latency_s": 1.25, "ttft_s": None}})
    assert "!!binary" in path.read_text()
    t = transcript_from_path(path)
    assert t.final_text == "The sum is **55**." and t.latency_s == 1.25 and t.ttft_s is None
    assert transcript_from_path(path, interaction=0).latency_s is None


def test_cassette_picks_the_last_successful_model_call(tmp_path: Path) -> None:
    path = _cassette(tmp_path, [
        _interaction(GEN, json.dumps(resp([{"text": "turn 1"}]))),
        _interaction("https://generativelanguage.googleapis.com/upload/v1beta/files",
                     json.dumps({"file": {}})),
        _interaction(STREAM_URI, _sse(STREAM)),
        _interaction(GEN, json.dumps({"error": {"code": 429, "message": "slow down"}}),
                     status=429),
        _interaction(GEN.replace("/models/gemini-2.5-flash:generateContent", "/files/abc"),
                     "{}", method="DELETE"),
    ])
    assert transcript_from_path(path).final_text == "done"
    assert transcript_from_path(path, interaction=0).final_text == "turn 1"
    with pytest.raises(TranscriptError, match=r"interaction 3: POST .*HTTP 429 response, not a "
                                              r"model answer: 429: slow down"):
        transcript_from_path(path, interaction=3)
    with pytest.raises(TranscriptError, match=r"interaction=7 is out of range; the cassette has "
                                              r"5 interactions \(0\.\.4\)"):
        transcript_from_path(path, interaction=7)
    with pytest.raises(TranscriptError, match=r"no response body"):
        transcript_from_path(_cassette(tmp_path, [{"request": {"method": "POST", "uri": GEN},
                                                   "response": {"status": 200}}]))


def test_cassette_without_model_call(tmp_path: Path) -> None:
    path = _cassette(tmp_path, [_interaction("https://example.com/v1/files", "{}")])
    with pytest.raises(TranscriptError, match=r"c\.yaml: no generateContent, streamGenerateContent "
                                              r"or interactions POST in the cassette \(found: "
                                              r"POST /v1/files\)"):
        transcript_from_path(path)


def test_cassette_parsed_body_and_interactions(tmp_path: Path) -> None:
    path = _cassette(tmp_path, [_interaction(INTERACTIONS, INTERACTION, key="parsed_body")])
    assert transcript_from_path(path).code_runs[0].outcome == "OUTCOME_FAILED"


def test_cassette_continuation_hops_are_merged(tmp_path: Path) -> None:
    hop1 = {"id": "h1", "status": "requires_continuation", "continuation_token": "t",
            "model": "m", "steps": [
                {"type": "user_input", "content": [{"type": "text", "text": "q"}]},
                {"type": "code_execution_call", "id": "c", "arguments": {"code": "1"}},
                {"type": "code_execution_result", "call_id": "c", "result": "1\n"}],
            "usage": {"total_input_tokens": 10, "total_output_tokens": 3, "total_tokens": 13}}
    hop2 = {"id": "h2", "status": "completed", "model": "m", "steps": [
        {"type": "user_input", "content": [{"type": "text", "text": "q"}]},
        {"type": "model_output", "content": [{"type": "text", "text": "One."}]}],
        "usage": {"total_input_tokens": 12, "total_output_tokens": 2, "total_tokens": 14}}
    path = _cassette(tmp_path, [_interaction(INTERACTIONS, json.dumps(hop1)),
                                _interaction(INTERACTIONS, json.dumps(hop2))])
    t = transcript_from_path(path)
    assert [s.type for s in t.steps] == ["code", "result", "text"]
    assert t.final_text == "One." and t.finish_reason == "completed" and t.error is None
    # The SDK sums usage across hops (initial_input_tokens keeps the first hop's input).
    assert (t.usage.prompt_tokens, t.usage.output_tokens, t.usage.total_tokens) == (22, 5, 27)
    assert transcript_from_path(path, interaction=1).code_runs == ()


def test_raw_body_files_are_recognised_by_content(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_sse(STREAM))  # the name says nothing
    (tmp_path / "b.txt").write_text(json.dumps(UNARY))
    assert transcript_from_path(tmp_path / "a.yaml").final_text == "done"
    assert transcript_from_path(tmp_path / "b.txt").final_text == "The sum is **55**."


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match=r"missing\.yaml: cannot read"):
        transcript_from_path(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n  - {")
    with pytest.raises(TranscriptError, match=r"bad\.yaml: not a readable cassette YAML"):
        transcript_from_path(bad)
    bad.write_text("version: 1\ninteractions: 3\n")
    with pytest.raises(TranscriptError, match=r"expected a cassette with a top-level "
                                              r"`interactions:` list"):
        transcript_from_path(bad)


def test_to_json_keys() -> None:
    data = parse_body(json.dumps(UNARY)).to_json()
    assert list(data) == ["model_version", "finish_reason", "final_text", "code_runs", "steps",
                          "usage"]
    assert json.loads(json.dumps(data)) == data


def test_importing_transcript_does_not_import_the_sdk() -> None:
    code = ("import sys, harness.transcript.parse, harness.cassettes.files; "
            "print(any(m.startswith('google.genai') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
