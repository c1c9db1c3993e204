"""SDK responses (every API surface) -> one :class:`harness.steps.Transcript`.

SDK objects go in here and a Transcript comes out; nothing downstream sees SDK types. Raw bodies
(JSON, SSE) are decoded and recognised by :mod:`harness.bodies`, recording files read by
:mod:`harness.cassettefiles`, streamed interaction steps assembled by
:mod:`harness.interactionsteps`; then they are parsed with the SDK's own types, so a recording is
read exactly as the SDK would have read it live. Parsed values are read through
:mod:`harness.sdkvalues`, which tolerates what lenient parsing lets through.

google.genai is imported lazily inside the functions: importing this module stays cheap, and the
Interactions types (another ~0.4 s) load only when an interaction is converted.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import bodies, cassettefiles, interactionsteps
from harness.bodies import TranscriptError
from harness.sdkvalues import (
    GENERATE_USAGE,
    INTERACTION_USAGE,
    as_list,
    as_str,
    dump,
    enum_str,
    error_text,
    last_usage,
)
from harness.steps import Step, Transcript, build_transcript, merge_adjacent_text

if TYPE_CHECKING:
    from google.genai import types

__all__ = ["TranscriptError", "from_generate_content", "from_interaction",
           "from_interaction_events", "parse_body", "transcript_from_path"]


# ---------------------------------------------------------------------------- generateContent

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
        ``error`` when the prompt was blocked or no candidate came back.

    """
    from google.genai import types

    # A lone response is accepted, and a generator of chunks is read once.
    responses = ([responses] if isinstance(responses, types.GenerateContentResponse)
                 else list(responses))
    steps: list[Step] = []
    errors: list[str] = []
    model_version = finish_reason = None
    saw_candidate = False
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
        finish_reason = enum_str(candidate.finish_reason) or finish_reason
        for part in (candidate.content.parts if candidate.content else None) or []:
            step = _part_step(part)
            if step is not None:
                steps.append(step)
    if not saw_candidate and not errors:
        errors.append("the response has no candidates" if responses else "no response at all")
    usage = last_usage([r.usage_metadata for r in responses], GENERATE_USAGE)
    return build_transcript(merge_adjacent_text(steps), usage=usage, model_version=model_version,
                            finish_reason=finish_reason, latency_s=latency_s, ttft_s=ttft_s,
                            error="; ".join(errors) or None)


def _part_step(part: types.Part) -> Step | None:
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
    blob = part.inline_data
    if blob is not None and (blob.mime_type or "").startswith("image/"):
        return Step("image", mime_type=blob.mime_type, data=blob.data or b"", thought=thought)
    if part.text:  # empty text parts only carry a thoughtSignature
        return Step("thought" if thought else "text", text=part.text, thought=thought)
    return None


# ------------------------------------------------------------------------------ Interactions

def from_interaction(interaction: Any, *, latency_s: float | None = None,
                     ttft_s: float | None = None) -> Transcript:
    """Build the transcript of an Interactions API result (``client.interactions.create``).

    Args:
        interaction: The SDK's ``Interaction`` (or the partial interaction of an
            ``interaction.completed`` event). Steps up to the last ``user_input`` step are the
            request echoed back and are skipped. Older ``outputs`` lists are read as steps.
        latency_s: Wall time of the call, when measured.
        ttft_s: Time to the first event, when measured.

    Returns:
        Thought summaries as thought steps, code calls as code steps (language upper-cased),
        results as result steps (``is_error`` -> OUTCOME_FAILED, else OUTCOME_OK), model output
        as text/image steps; ``finish_reason`` is the status, ``error`` set unless completed.

    """
    from google.genai import interactions as gi

    steps = as_list(getattr(interaction, "steps", None))
    outputs = (getattr(interaction, "model_extra", None) or {}).get("outputs")
    if not steps and isinstance(outputs, list):  # the API's older shape
        steps = as_list(_sdk(interactionsteps.legacy_outputs_as_steps(outputs), list[gi.Step]))
    errors = [error_text(e) for e in as_list(getattr(interaction, "errors", None))]
    return _interaction_transcript(
        steps, [getattr(interaction, "usage", None)],
        as_str(getattr(interaction, "status", None)), as_str(getattr(interaction, "model", None)),
        errors, latency_s, ttft_s)


def from_interaction_events(events: Iterable[Any], *, latency_s: float | None = None,
                            ttft_s: float | None = None) -> Transcript:
    """Build the transcript of a streamed interaction from its events, in order.

    Args:
        events: The SDK's typed stream events, or their JSON dicts. The steps of the
            ``interaction.completed`` event are used when it carries any; otherwise steps are
            assembled from ``step.start`` and ``step.delta`` events.
        latency_s: Wall time of the call, when measured.
        ttft_s: Time to the first event, when measured.

    Returns:
        The same transcript :func:`from_interaction` gives; a stream that never completed has
        the last status seen (e.g. ``in_progress``) and ``error`` set.

    """
    from google.genai import interactions as gi

    assembled = interactionsteps.StreamedSteps()
    usages: list[Any] = []
    errors: list[str] = []
    status = model = None
    final_steps: list[Any] | None = None
    for event in events:
        ev = _sdk_event(None, event) if isinstance(event, dict) else event
        if isinstance(ev, (gi.InteractionCreatedEvent, gi.InteractionCompletedEvent)):
            it = ev.interaction
            status, model = as_str(it.status) or status, as_str(it.model) or model
            usages.append(it.usage)
            if isinstance(ev, gi.InteractionCompletedEvent) and as_list(it.steps):
                final_steps = as_list(it.steps)
        elif isinstance(ev, gi.InteractionStatusUpdate):
            status = as_str(ev.status) or status
            usages.append(ev.usage)
        elif isinstance(ev, gi.StepStart):
            assembled.start(ev.index, dump(ev.step))
        elif isinstance(ev, gi.StepDelta):
            assembled.delta(ev.index, dump(ev.delta))
            usages.append(ev.metadata.total_usage if ev.metadata else None)
        elif isinstance(ev, gi.StepStop):
            usages.append(ev.usage)
        elif isinstance(ev, gi.ErrorEvent):
            errors.append(error_text(ev.error) or "error event")
    if final_steps is None:
        final_steps = as_list(_sdk(assembled.steps(), list[gi.Step]))
    if status is None and not final_steps:
        errors.insert(0, "the stream has no interaction events")
    return _interaction_transcript(final_steps, usages, status, model, errors, latency_s, ttft_s)


def _interaction_transcript(steps: Sequence[Any], usages: list[Any], status: str | None,
                            model: str | None, errors: list[str], latency_s: float | None,
                            ttft_s: float | None) -> Transcript:
    from google.genai import interactions as gi

    # The response repeats the turn's input as user_input steps; the call's output follows.
    last_input = max((i for i, s in enumerate(steps) if isinstance(s, gi.UserInputStep)),
                     default=-1)
    out: list[Step] = []
    for st in steps[last_input + 1:]:
        if isinstance(st, gi.ThoughtStep):
            out.extend(_content_steps(st.summary, errors, thought=True))
        elif isinstance(st, gi.CodeExecutionCallStep):
            args = st.arguments
            language = as_str(getattr(args, "language", None))
            out.append(Step("code", code=as_str(getattr(args, "code", None)) or "",
                            language=language.upper() if language else None, id=as_str(st.id)))
        elif isinstance(st, gi.CodeExecutionResultStep):
            result = st.result
            media: list[Step] = []
            if not isinstance(result, str):  # a list of content blocks (text, charts)
                media = _content_steps(result, errors)
                result = "".join(s.text or "" for s in media if s.type == "text")
                media = [s for s in media if s.type != "text"]
            # Interactions has no deadline code: an error is a failure, anything else OK.
            out.append(Step("result", outcome="OUTCOME_FAILED" if st.is_error else "OUTCOME_OK",
                            output=result, id=as_str(st.call_id)))
            out.extend(media)
        elif isinstance(st, gi.ModelOutputStep):
            out.extend(_content_steps(st.content, errors))
            if st.error is not None:
                errors.append(error_text(st.error) or "model output error")
    if status is not None and status != "completed":
        errors.insert(0, f"interaction status is {status!r}, not 'completed'")
    return build_transcript(merge_adjacent_text(out), usage=last_usage(usages, INTERACTION_USAGE),
                            model_version=model, finish_reason=status, latency_s=latency_s,
                            ttft_s=ttft_s, error="; ".join(e for e in errors if e) or None)


def _content_steps(contents: Iterable[Any] | None, errors: list[str], *,
                   thought: bool = False) -> list[Step]:
    from google.genai import interactions as gi

    out: list[Step] = []
    for content in as_list(contents):
        if isinstance(content, gi.TextContent) and isinstance(content.text, str) and content.text:
            out.append(Step("thought" if thought else "text", text=content.text, thought=thought))
        elif isinstance(content, gi.ImageContent) and isinstance(content.data, str):
            try:  # this API keeps image data as base64 text
                data = base64.b64decode(content.data, validate=False)
            except (binascii.Error, ValueError):
                errors.append("an image's data is not valid base64")
                continue
            out.append(Step("image", mime_type=as_str(content.mime_type), data=data,
                            thought=thought))
    return out


# --------------------------------------------------------------------------------- raw bodies

def parse_body(text: str | bytes, *, source: str = "body", latency_s: float | None = None,
               ttft_s: float | None = None) -> Transcript:
    """Build a transcript from a raw response body, recognised by its content.

    Args:
        text: A generateContent JSON object, a JSON array of stream chunks, an Interaction JSON
            object, or an SSE body (generateContent chunks or interaction events); bytes may be
            gzip-compressed.
        source: Where the body came from, for error messages.
        latency_s: Record-time wall time, if known.
        ttft_s: Record-time time to first chunk, if known.

    Raises:
        TranscriptError: the body is none of those, or is an API error body.

    """
    text = bodies.to_text(text, where=source)
    if bodies.body_format(text, where=source) == "sse":
        return _from_sse(bodies.split_sse(text), source, latency_s=latency_s, ttft_s=ttft_s)
    return _from_json(bodies.decode_json(text, where=source), source, latency_s=latency_s,
                      ttft_s=ttft_s)


def _from_json(value: Any, source: str, **timing: float | None) -> Transcript:
    kind = bodies.response_kind(value, where=source)
    if kind == "generate":
        return _from_chunks(value if isinstance(value, list) else [value], source, **timing)
    if kind == "interaction":
        from google.genai import interactions as gi

        return from_interaction(_sdk(value, gi.Interaction), **timing)
    return from_interaction_events(value, **timing)


def _from_sse(events: list[bodies.SSEEvent], source: str, **timing: float | None) -> Transcript:
    kind, payloads = bodies.sse_payloads(events, where=source)
    if kind == "interaction_events":
        return from_interaction_events([_sdk_event(n, d) for n, d in payloads], **timing)
    return _from_chunks([d for _, d in payloads], source, **timing)


def _from_chunks(chunks: list[Any], source: str, **timing: float | None) -> Transcript:
    from google.genai import types

    responses, errors = [], []
    for i, chunk in enumerate(chunks):
        if (message := bodies.api_error(chunk)) is not None:  # an error sent mid-stream
            errors.append(f"chunk {i}: {message}")
            continue
        if not isinstance(chunk, dict):
            raise TranscriptError(f"{source}: chunk {i} is {bodies.describe(chunk)}, "
                                  "expected an object")
        try:  # the SDK's own path for a response body (it also drops unknown fields)
            responses.append(types.GenerateContentResponse._from_response(response=chunk,
                                                                          kwargs={}))
        except (TypeError, ValueError) as exc:
            raise TranscriptError(f"{source}: chunk {i} is not a GenerateContentResponse the "
                                  f"SDK accepts: {' '.join(str(exc).split())[:300]}") from None
    transcript = from_generate_content(responses, **timing)
    if errors:
        transcript = replace(transcript, error="; ".join(
            e for e in (transcript.error if responses else None, *errors) if e))
    return transcript


def transcript_from_path(path: Path, interaction: int | None = None) -> Transcript:
    """Read a recording file and build its transcript.

    Args:
        path: A vcrpy cassette (also pydantic-ai's ``parsed_body`` variant and Ruby VCR), a raw
            JSON response body, or an SSE body; the kind is recognised by content, not name.
        interaction: For a cassette, the 0-based index into its ``interactions`` list (negative
            counts from the end). Default: the last generateContent / streamGenerateContent /
            interactions POST with a 2xx status; automatic-continuation hops before it are
            merged as the SDK merges them, and the timing the harness stored is attached.

    Raises:
        TranscriptError: unreadable file, no model call in the cassette, index out of range,
            a non-2xx exchange, or a body that is not a response.

    """
    recording = cassettefiles.read_recording(path, interaction)
    final = bodies.maybe_json(recording.body)
    if recording.hops and isinstance(final, dict):
        from google.genai import interactions as gi
        from google.genai._interactions_continuation import merge_unary_hops

        merged = merge_unary_hops([_sdk(h, gi.Interaction) for h in [*recording.hops, final]])
        return from_interaction(merged, **recording.timing)
    if isinstance(recording.body, str):
        return parse_body(recording.body, source=recording.source, **recording.timing)
    return _from_json(recording.body, recording.source, **recording.timing)


# --------------------------------------------------------------------------- SDK type parsing

def _sdk(value: Any, typ: Any) -> Any:
    """Parse wire JSON into SDK types as the SDK does for responses (lenient, validate=False)."""
    from google.genai._gaos.utils.serializers import (
        ALLOW_UNKNOWN_UNION_VARIANTS,
        construct_unvalidated,
    )

    try:  # the SDK's validation, minus its per-call pydantic model creation (~3 ms each)
        return _adapter(typ).validate_python(value, context={ALLOW_UNKNOWN_UNION_VARIANTS: True})
    except (ValueError, TypeError):  # TypeError: the SDK's union parser on odd values
        result = construct_unvalidated(value, typ)  # what the SDK falls back to
    if result is value and value is not None:
        raise TranscriptError(f"the SDK could not parse {str(value)[:80]!r} as {typ}")
    return result


@functools.cache
def _adapter(typ: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(typ)


def _sdk_event(name: str | None, data: Any) -> Any:
    from google.genai import interactions as gi

    wrapped = {"data": data} if name is None else {"event": name, "data": data}
    return _sdk(wrapped, gi.InteractionSSEStreamEvent).data

