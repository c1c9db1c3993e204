"""Property tests: random part sequences, random chunking, missing fields, garbage JSON."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.transcript.bodies import TranscriptError
from harness.transcript.parse import parse_body
from harness.transcript.values import OUTCOMES
from tests.profiles import budget

SETTINGS = budget(150)
MARK = "\u00a7"  # only thought text contains it
plain = st.text(st.characters(codec="utf-8", exclude_characters=MARK, exclude_categories=["Cs"]),
                min_size=1, max_size=12)
USAGE_KEYS = {"promptTokenCount": "prompt_tokens", "candidatesTokenCount": "output_tokens",
              "toolUsePromptTokenCount": "tool_use_prompt_tokens",
              "thoughtsTokenCount": "thought_tokens", "totalTokenCount": "total_tokens"}


def _maybe(d: dict[str, Any], key: str, value: Any, present: bool) -> dict[str, Any]:
    return {**d, key: value} if present else d


@st.composite
def parts(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "thought", "code", "result", "image", "empty", "call"]))
    thought = draw(st.sampled_from([None, False, True]))
    flag = {} if thought is None else {"thought": thought}
    if kind == "text":
        return {"text": draw(plain), **({"thought": False} if thought is False else {})}
    if kind == "thought":
        return {"text": MARK + draw(plain), "thought": True}
    if kind == "code":
        body = _maybe({"code": draw(plain)}, "language", "PYTHON", draw(st.booleans()))
        body = _maybe(body, "id", draw(st.text("abc123", min_size=1, max_size=4)),
                      draw(st.booleans()))
        return _maybe({"executableCode": body, **flag}, "thoughtSignature", "c2ln",
                      draw(st.booleans()))
    if kind == "result":
        body = _maybe({}, "outcome", draw(st.sampled_from(OUTCOMES)), draw(st.booleans()))
        body = _maybe(body, "output", draw(plain), draw(st.booleans()))
        return {"codeExecutionResult": body, **flag}
    if kind == "image":
        data = draw(st.binary(min_size=1, max_size=16))
        return {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()},
                **flag}
    if kind == "empty":
        return {"text": "", "thoughtSignature": "c2ln"}
    return {"functionCall": {"name": "f", "args": {}}}


def split_texts(draw: st.DrawFn, seq: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Streams split text anywhere: cut some text parts into fragments."""
    out: list[dict[str, Any]] = []
    for part in seq:
        text = part.get("text")
        if text and len(text) > 1 and draw(st.booleans()):
            cut = draw(st.integers(1, len(text) - 1))
            out += [{**part, "text": text[:cut]}, {**part, "text": text[cut:]}]
        else:
            out.append(part)
    return out


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the parts, the chunks of a stream carrying them, text split across chunks)."""
    seq = draw(st.lists(parts(), max_size=14))
    pieces = split_texts(draw, seq)
    cuts = sorted(draw(st.sets(st.integers(0, len(pieces)), max_size=6)) | {0, len(pieces)})
    chunks = []
    for a, b in itertools.pairwise(cuts):
        cand: dict[str, Any] = {"content": {"role": "model", "parts": pieces[a:b]}}
        cand = _maybe(cand, "index", 0, draw(st.booleans()))
        cand = _maybe(cand, "finishReason", draw(st.sampled_from(["STOP", "MAX_TOKENS"])),
                      draw(st.booleans()))
        chunk: dict[str, Any] = {"candidates": [cand]}
        usage = {k: draw(st.integers(0, 10_000)) for k in USAGE_KEYS if draw(st.booleans())}
        chunk = _maybe(chunk, "usageMetadata", usage, bool(usage) or draw(st.booleans()))
        chunk = _maybe(chunk, "modelVersion", draw(st.sampled_from(["m-1", "m-2"])),
                       draw(st.booleans()))
        chunks.append(chunk)
    if not chunks:
        chunks = [{"candidates": [{"content": {"role": "model", "parts": []}}]}]
    return seq, chunks


def expected_final(seq: list[dict[str, Any]]) -> str:
    last = max((i for i, p in enumerate(seq)
                if "executableCode" in p or "codeExecutionResult" in p or "functionCall" in p),
               default=-1)
    return "".join(p["text"] for p in seq[last + 1:] if "text" in p and not p.get("thought"))


def expected_outcomes(seq: list[dict[str, Any]]) -> list[tuple[bool, str | None]]:
    runs: list[tuple[bool, str | None]] = []
    for p in seq:
        if "executableCode" in p:
            runs.append((bool(p.get("thought")), None))
        elif "codeExecutionResult" in p and runs:
            runs[-1] = (runs[-1][0],
                        p["codeExecutionResult"].get("outcome", "OUTCOME_UNSPECIFIED"))
    return runs


@SETTINGS
@given(streams(), st.sampled_from(["\r\n\r\n", "\n\n"]))
def test_random_streams(stream: tuple[list[Any], list[Any]], sep: str) -> None:
    seq, chunks = stream
    sse = "".join(f"data: {json.dumps(c)}{sep}" for c in chunks)
    t = parse_body(sse)
    assert parse_body(json.dumps(chunks)).to_json() == t.to_json()
    assert parse_body(sse, raw=True).to_json() == t.to_json()  # direct replay's reader

    n_code = sum("executableCode" in p for p in seq)
    assert len(t.code_runs) == n_code
    assert t.attempts == sum("executableCode" in p and not p.get("thought") for p in seq)
    assert [(r.thought, r.outcome) for r in t.code_runs] == expected_outcomes(seq)
    assert t.final_text == expected_final(seq)
    assert MARK not in t.final_text
    assert all(s.text for s in t.steps if s.type in ("text", "thought"))
    assert all(MARK in (s.text or "") for s in t.steps if s.type == "thought")
    assert len(t.images) == sum("inlineData" in p for p in seq)
    for key, field in USAGE_KEYS.items():
        carried = [c["usageMetadata"][key] for c in chunks if key in c.get("usageMetadata", {})]
        assert getattr(t.usage, field) == (carried[-1] if carried else None)
    finishes = [c["candidates"][0]["finishReason"] for c in chunks
                if "finishReason" in c["candidates"][0]]
    assert t.finish_reason == (finishes[-1] if finishes else None)
    assert t.error is None

    # Chunking does not matter: the same parts in one unary response give the same steps.
    unary = parse_body(json.dumps({"candidates": [{"content": {"parts": seq}}]}))
    assert [s.to_json() for s in unary.steps] == [s.to_json() for s in t.steps]
    assert unary.code_runs == t.code_runs and unary.final_text == t.final_text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["candidates", "content", "parts", "text", "thought",
                                       "executableCode", "codeExecutionResult", "outcome",
                                       "output", "code", "usageMetadata", "steps", "status",
                                       "id", "type", "result", "is_error", "arguments",
                                       "summary", "error", "event_type", "x"]),
                      inner, max_size=5),
    max_leaves=25)


@SETTINGS
@given(json_values, st.sampled_from(["json", "sse", "sse-array"]))
def test_garbage_never_crashes(value: Any, form: str) -> None:
    if form == "json":
        body = json.dumps(value)
    elif form == "sse":
        body = f"data: {json.dumps(value)}\n\n"
    else:
        items = value if isinstance(value, list) else [value]
        body = "".join(f"data: {json.dumps(v)}\r\n\r\n" for v in items)
    try:
        t = parse_body(body)
    except TranscriptError:
        return
    assert t.attempts == sum(not r.thought for r in t.code_runs)
    json.dumps(t.to_json())


@st.composite
def interaction_steps(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["thought", "call", "result", "output", "input", "other"]))
    if kind == "thought":
        return {"type": "thought", "summary": [{"type": "text", "text": MARK + draw(plain)}]}
    if kind == "call":
        return {"type": "code_execution_call", "id": draw(plain),
                "arguments": _maybe({"code": draw(plain)}, "language", "python",
                                    draw(st.booleans()))}
    if kind == "result":
        return _maybe({"type": "code_execution_result", "call_id": "c", "result": draw(plain)},
                      "is_error", draw(st.booleans()), draw(st.booleans()))
    if kind == "output":
        return {"type": "model_output", "content": [{"type": "text", "text": draw(plain)}]}
    if kind == "input":
        return {"type": "user_input", "content": [{"type": "text", "text": draw(plain)}]}
    return {"type": "google_search_call", "id": "s", "arguments": {}}


@SETTINGS
@given(st.lists(interaction_steps(), max_size=10))
def test_random_interactions(steps: list[dict[str, Any]]) -> None:
    t = parse_body(json.dumps({"id": "i", "status": "completed", "model": "m", "steps": steps}))
    after = steps[max((i for i, s in enumerate(steps) if s["type"] == "user_input"),
                      default=-1) + 1:]
    calls = [s for s in after if s["type"] == "code_execution_call"]
    assert t.attempts == len(calls)
    assert MARK not in t.final_text
    results = [s for s in t.steps if s.type == "result"]
    assert [r.outcome for r in results] == [
        "OUTCOME_FAILED" if s.get("is_error") else "OUTCOME_OK"
        for s in after if s["type"] == "code_execution_result"]
    assert all(s.language in (None, "PYTHON") for s in t.steps if s.type == "code")
