"""generateContent responses (unary, or every chunk of a stream) -> one Transcript.

Wire JSON chunks are parsed with the SDK's own response path (:func:`from_chunks`), so a
recording is read exactly as the SDK would have read it live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.transcript import bodies
from harness.transcript.bodies import TranscriptError
from harness.transcript.grounding import from_candidates
from harness.transcript.sdkparse import parse_response
from harness.transcript.sdkvalues import GENERATE_USAGE, enum_str, last_usage
from harness.transcript.values import Step, Transcript, build_transcript, merge_adjacent_text

if TYPE_CHECKING:
    from google.genai import types


def from_generate_content(
    responses: Sequence[types.GenerateContentResponse] | types.GenerateContentResponse,
    *, latency_s: float | None = None, ttft_s: float | None = None,
) -> Transcript:
    """Build the transcript of a generateContent response or of all chunks of its stream.

    Args:
        responses: The one response of ``generate_content``, or every chunk of
            ``generate_content_stream`` in order (a single response is accepted too).
        latency_s: Wall time of the call, when measured.
        ttft_s: Time to the first chunk, when measured.

    Returns:
        Candidate 0's parts across chunks (adjacent text fragments merged); each usage field
        from the last chunk carrying it; the last model version and finish reason seen;
        the grounding metadata of every chunk joined; ``error`` when the prompt was blocked
        or no candidate came back.

    """
    if isinstance(responses, list | tuple):  # the usual case: no SDK import needed
        responses = list(responses)
    else:  # a lone response is accepted, and a generator of chunks is read once
        from google.genai import types

        responses = ([responses] if isinstance(responses, types.GenerateContentResponse)
                     else list(responses))
    steps: list[Step] = []
    errors: list[str] = []
    model_version = finish_reason = None
    saw_candidate = False
    candidates: list[Any] = []
    for response in responses:
        model_version = response.model_version or model_version
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            errors.append(f"prompt blocked: {enum_str(feedback.block_reason)}"
                          + (f" ({feedback.block_reason_message})"
                             if feedback.block_reason_message else ""))
        candidate = next((c for c in response.candidates or [] if not c.index), None)
        if candidate is None:
            continue
        saw_candidate = True
        candidates.append(candidate)
        finish_reason = enum_str(candidate.finish_reason) or finish_reason
        for part in (candidate.content.parts if candidate.content else None) or []:
            step = part_step(part)
            if step is not None:
                steps.append(step)
    if not saw_candidate and not errors:
        errors.append("the response has no candidates" if responses else "no response at all")
    usage = last_usage([r.usage_metadata for r in responses], GENERATE_USAGE)
    return build_transcript(merge_adjacent_text(steps), usage=usage, model_version=model_version,
                            finish_reason=finish_reason, latency_s=latency_s, ttft_s=ttft_s,
                            error="; ".join(errors) or None,
                            grounding=from_candidates(candidates))


def part_step(part: types.Part) -> Step | None:
    """One content part as a step (None for parts that carry nothing judged)."""
    thought = bool(part.thought)
    if part.executable_code is not None:
        code = part.executable_code
        return Step("code", code=code.code or "", language=enum_str(code.language),
                    thought=thought, id=code.id)
    if part.code_execution_result is not None:
        res = part.code_execution_result
        # proto3 JSON omits default values: a missing outcome is OUTCOME_UNSPECIFIED and a
        # missing output is the empty string (seen in a real Gemini 3 response).
        return Step("result", outcome=enum_str(res.outcome) or "OUTCOME_UNSPECIFIED",
                    output=res.output or "", thought=thought, id=res.id)
    call = part.function_call
    if call is not None:
        return Step("call", name=call.name or "", args=dict(call.args or {}), id=call.id,
                    thought=thought)
    blob = part.inline_data
    if blob is not None and (blob.mime_type or "").startswith("image/"):
        return Step("image", mime_type=blob.mime_type, data=blob.data or b"", thought=thought)
    if part.text:  # empty text parts only carry a thoughtSignature
        return Step("thought" if thought else "text", text=part.text, thought=thought)
    return None


def from_chunks(chunks: list[Any], source: str, *, raw: bool = False,
                **timing: float | None) -> Transcript:
    """Build the transcript of generateContent chunks given as wire JSON.

    Args:
        chunks: The response, or every chunk of a stream, as decoded JSON.
        source: Where they came from, for messages.
        raw: Read the JSON directly (:mod:`harness.transcript.rawjson`) instead of through
            the SDK's types: only for responses the SDK already accepted when recording.
        **timing: ``latency_s`` and ``ttft_s``, when known.

    Raises:
        TranscriptError: a chunk is not an object, or not a response the SDK accepts.
    """
    if raw:
        from harness.transcript.rawjson import wrap
    else:
        from google.genai import types

    responses, errors = [], []
    for i, chunk in enumerate(chunks):
        if (message := bodies.api_error(chunk)) is not None:  # an error sent mid-stream
            errors.append(f"chunk {i}: {message}")
            continue
        if not isinstance(chunk, dict):
            raise TranscriptError(f"{source}: chunk {i} is {bodies.describe(chunk)}, "
                                  "expected an object")
        if raw:
            responses.append(wrap(chunk))
            continue
        try:  # the SDK's own path for a response body (it also drops unknown fields)
            responses.append(parse_response(chunk, types.GenerateContentResponse))
        except TranscriptError as exc:
            what = f"chunk {i}" if len(chunks) > 1 else "the response"
            raise TranscriptError(f"{source}: {what} could not be read: {exc}") from None
    transcript = from_generate_content(responses, **timing)
    if errors:
        transcript = replace(transcript, error="; ".join(
            e for e in (transcript.error if responses else None, *errors) if e))
    return transcript
