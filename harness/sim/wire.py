r"""Scripts -> the API's wire format: generateContent JSON, SSE chunks, interactions, events.

Shapes follow ../shared/SDK-FACTS.md (what the google-genai SDK parses) and the real recordings
in ../shared/conformance/: unary JSON pretty-printed, SSE events ``data: {...}\r\n\r\n``
with every part in its own chunk (long texts split in two) and ``finishReason`` plus usage only
in the last chunk; interactions with ``code_execution_call`` / ``code_execution_result`` /
``model_output`` steps, streamed as ``interaction.created``, ``step.start`` / ``step.delta`` /
``step.stop`` per step, ``interaction.completed`` and ``data: [DONE]``.

Token counts are estimates (documented, deterministic), not a tokenizer: ``ceil(chars / 4)``
per text, 258 per image (Gemini's count for an image). ``candidatesTokenCount`` counts the
text and code the model wrote; ``toolUsePromptTokenCount`` counts what code execution fed
back to the model: each code block and its output, plus 258 per figure.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

from harness.sim.grounding import annotation_delta, step_events
from harness.sim.models import (
    MODEL_VERSION_SUFFIX,
    Call,
    Code,
    Result,
    Script,
    Step,
    Text,
)

IMAGE_TOKENS = 258
SPLIT_TEXT_OVER = 60  # stream texts longer than this in two chunks, as the API does
JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream"


def tokens(text: str) -> int:
    """Estimated tokens of a text: ``ceil(len / 4)``."""
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class Usage:
    """Token counts of one reply (estimates, see the module docstring)."""

    prompt: int
    candidates: int
    tool_use: int
    thoughts: int = 0

    @property
    def total(self) -> int:
        """All tokens, thinking included."""
        return self.prompt + self.candidates + self.tool_use + self.thoughts


THOUGHT_TOKENS_PER_STEP = 64  # what a thinking model "spends" per step of its reply


def usage(script: Script, prompt_tokens: int, *, thinking: bool = False) -> Usage:
    """Estimate a script's usage (thought tokens only when the request turned thinking on)."""
    candidates = tool_use = 0
    for step in script.steps:
        if isinstance(step, Text):
            candidates += tokens(step.text)
        elif isinstance(step, Code):
            candidates += tokens(step.code)
            tool_use += tokens(step.code)
        elif isinstance(step, Result):
            tool_use += tokens(step.output)
        elif isinstance(step, Call):
            candidates += tokens(json.dumps(dict(step.args)) + step.name)
        else:
            tool_use += IMAGE_TOKENS
    thoughts = THOUGHT_TOKENS_PER_STEP * len(script.steps) if thinking else 0
    return Usage(prompt_tokens, candidates, tool_use, thoughts)


@dataclass(frozen=True)
class Meta:
    """What identifies one reply on the wire (all derived deterministically).

    Attributes:
        model: The model name as requested (``sim-oracle``).
        response_id: ``responseId`` / interaction id.
        created: ISO timestamp of the reply.
        updated: ISO timestamp when it completed.
        vertex: True for Vertex AI paths (adds ``createTime``, as Vertex does).

    """

    model: str
    response_id: str
    created: str
    updated: str
    vertex: bool = False

    @property
    def model_version(self) -> str:
        """``modelVersion``: the model name plus a version suffix."""
        return self.model + MODEL_VERSION_SUFFIX


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    """JSON bytes (pretty-printed like the API's unary responses when ``pretty``)."""
    return json.dumps(value, ensure_ascii=False, indent=2 if pretty else None).encode("utf-8")


def error_body(code: int, status: str, message: str,
               details: list[dict[str, Any]] | None = None) -> bytes:
    """The API's error JSON: ``{"error": {"code", "message", "status"[, "details"]}}``."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return dumps({"error": error}, pretty=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _part(step: Step) -> dict[str, Any]:
    if isinstance(step, Call):
        return {"functionCall": {"name": step.name, "args": dict(step.args), "id": step.id}}
    if isinstance(step, Text):
        return {"text": step.text}
    if isinstance(step, Code):
        return {"executableCode": {"language": "PYTHON", "code": step.code, "id": step.id}}
    if isinstance(step, Result):
        return {"codeExecutionResult": {"outcome": step.outcome, "output": step.output,
                                        "id": step.id}}
    return {"inlineData": {"mimeType": step.mime_type, "data": _b64(step.data)}}


def usage_metadata(u: Usage) -> dict[str, Any]:
    """``usageMetadata`` (``thoughtsTokenCount`` when the request turned thinking on)."""
    meta: dict[str, Any] = {
        "promptTokenCount": u.prompt, "candidatesTokenCount": u.candidates,
        "totalTokenCount": u.total,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": u.prompt}]}
    if u.thoughts:
        meta["thoughtsTokenCount"] = u.thoughts
    if u.tool_use:
        meta["toolUsePromptTokenCount"] = u.tool_use
        meta["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": u.tool_use}]
    return meta


def _response(parts: list[dict[str, Any]], meta: Meta, u: Usage | None,
              final: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if final:
        candidate["finishReason"] = "STOP"
    candidate["index"] = 0
    out: dict[str, Any] = {"candidates": [candidate]}
    if u is not None:
        out["usageMetadata"] = usage_metadata(u)
    out["modelVersion"] = meta.model_version
    if meta.vertex:
        out["createTime"] = meta.created.replace("Z", ".000000Z")
    out["responseId"] = meta.response_id
    return out


def generate_response(script: Script, meta: Meta, u: Usage) -> dict[str, Any]:
    """The unary ``generateContent`` response."""
    return _response([_part(s) for s in script.steps], meta, u, final=True)


def _split(text: str) -> list[str]:
    if len(text) <= SPLIT_TEXT_OVER:
        return [text]
    cut = text.find(" ", len(text) // 2)
    return [text] if cut < 0 else [text[:cut], text[cut:]]


def generate_chunks(script: Script, meta: Meta, u: Usage) -> list[dict[str, Any]]:
    """The ``streamGenerateContent`` chunks: one part each; the last carries finish and usage."""
    parts: list[dict[str, Any]] = []
    for step in script.steps:
        if isinstance(step, Text):
            parts.extend({"text": piece} for piece in _split(step.text))
        else:
            parts.append(_part(step))
    last = len(parts) - 1
    # As real streams do, earlier chunks carry partial usage (the prompt so far); the last
    # carries it all.
    partial = {"promptTokenCount": u.prompt, "totalTokenCount": u.prompt}
    chunks = [_response([p], meta, u if i == last else None, final=i == last)
              for i, p in enumerate(parts)]
    for chunk in chunks[:-1]:
        chunk["usageMetadata"] = dict(partial)
    return chunks


def sse_data(chunk: dict[str, Any]) -> bytes:
    r"""One generateContent SSE event (``\r\n\r\n`` separators, as the API sends)."""
    return b"data: " + dumps(chunk) + b"\r\n\r\n"


def interaction_usage(u: Usage) -> dict[str, Any]:
    """The interactions ``usage`` totals."""
    out: dict[str, Any] = {"total_input_tokens": u.prompt, "total_output_tokens": u.candidates,
                           "total_tool_use_tokens": u.tool_use, "total_tokens": u.total,
                           **({"total_thought_tokens": u.thoughts} if u.thoughts else {}),
                           "input_tokens_by_modality": [{"modality": "text", "tokens": u.prompt}]}
    return out


def interaction_steps(script: Script) -> list[dict[str, Any]]:
    """Interactions steps; consecutive texts and figures share one ``model_output`` step."""
    steps: list[dict[str, Any]] = []
    for step in script.steps:
        if isinstance(step, Code):
            steps.append({"type": "code_execution_call", "id": step.id,
                          "arguments": {"language": "python", "code": step.code}})
        elif isinstance(step, Result):
            steps.append({"type": "code_execution_result", "call_id": step.id,
                          "result": step.output, "is_error": step.outcome != "OUTCOME_OK"})
        elif isinstance(step, Call):
            steps.append({"type": "function_call", "id": step.id, "name": step.name,
                          "arguments": dict(step.args)})
        else:
            item = ({"type": "text", "text": step.text} if isinstance(step, Text) else
                    {"type": "image", "mime_type": step.mime_type, "data": _b64(step.data)})
            if steps and steps[-1]["type"] == "model_output":
                steps[-1]["content"].append(item)
            else:
                steps.append({"type": "model_output", "content": [item]})
    return steps


def interaction(script: Script, meta: Meta, u: Usage,
                previous_id: str | None) -> dict[str, Any]:
    """The ``Interaction`` resource returned by create and get."""
    waiting = bool(script.steps) and isinstance(script.steps[-1], Call)
    out: dict[str, Any] = {"id": meta.response_id, "object": "interaction",
                           "status": "requires_action" if waiting else "completed",
                           "model": meta.model,
                           "created": meta.created, "updated": meta.updated}
    if previous_id:
        out["previous_interaction_id"] = previous_id
    out["steps"] = interaction_steps(script)
    out["usage"] = interaction_usage(u)
    return out


def _step_events(index: int, step: dict[str, Any]) -> list[dict[str, Any]]:
    """step.start with the step's shell, step.delta(s) with its content, step.stop."""
    kind = step["type"]
    deltas: list[dict[str, Any]]
    if (tool_events := step_events(index, step)) is not None:  # simulated search / URLs
        return tool_events
    if kind == "code_execution_call":
        shell = {"type": kind, "id": step["id"], "arguments": {"language": "python"}}
        deltas = [{"type": kind, "arguments": dict(step["arguments"])}]
    elif kind == "function_call":
        shell, deltas = dict(step), []
    elif kind == "code_execution_result":
        shell = {"type": kind, "call_id": step["call_id"], "result": ""}
        deltas = [{"type": kind, "result": step["result"], "is_error": step["is_error"]}]
    else:
        shell = {"type": kind}
        deltas = []
        for item in step.get("content", []):
            if item["type"] == "text":
                deltas.extend({"type": "text", "text": t} for t in _split(item["text"]))
                deltas.extend(annotation_delta(item))
            else:
                deltas.append(dict(item))
    return ([{"event_type": "step.start", "index": index, "step": shell}]
            + [{"event_type": "step.delta", "index": index, "delta": d} for d in deltas]
            + [{"event_type": "step.stop", "index": index}])


def interaction_events(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a streamed interaction (each carries its ``event_type``)."""
    head: dict[str, Any] = {k: resource[k] for k in ("id", "object", "model", "created")
                            if k in resource}
    events: list[dict[str, Any]] = [
        {"event_type": "interaction.created", "interaction": {**head, "status": "in_progress"}},
        {"event_type": "interaction.status_update", "interaction_id": resource["id"],
         "status": "in_progress"}]
    for index, step in enumerate(resource.get("steps", [])):
        events.extend(_step_events(index, step))
    done: dict[str, Any] = {**head, "status": resource["status"],
                            "updated": resource.get("updated"), "usage": resource.get("usage")}
    events.append({"event_type": "interaction.completed", "interaction": done})
    return events


def sse_event(event: dict[str, Any]) -> bytes:
    """One interactions SSE event: ``event: <type>`` and ``data: <json>``."""
    return f"event: {event['event_type']}\n".encode() + b"data: " + dumps(event) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"
