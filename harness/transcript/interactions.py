"""Interactions API results (an Interaction, or the events of its stream) -> one Transcript.

Interactions has no deadline outcome: a code result with ``is_error`` is OUTCOME_FAILED,
anything else OUTCOME_OK (DESIGN.md, Decisions: Transcript).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import Any

from harness.transcript import interaction_steps
from harness.transcript.grounding import from_interaction_steps
from harness.transcript.sdkparse import parse_sdk, sdk_event
from harness.transcript.sdkvalues import (
    INTERACTION_USAGE,
    as_list,
    as_str,
    dump,
    error_text,
    last_usage,
)
from harness.transcript.values import Step, Transcript, build_transcript, merge_adjacent_text


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
        legacy = interaction_steps.legacy_outputs_as_steps(outputs)
        steps = as_list(parse_sdk(legacy, list[gi.Step]))
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

    assembled = interaction_steps.StreamedSteps()
    usages: list[Any] = []
    errors: list[str] = []
    status = model = None
    final_steps: list[Any] | None = None
    for event in events:
        ev = sdk_event(None, event) if isinstance(event, dict) else event
        if isinstance(ev, (gi.InteractionCreatedEvent, gi.InteractionCompletedEvent)):
            it = ev.interaction  # lenient parsing: may be any JSON value, not an Interaction
            status = as_str(getattr(it, "status", None)) or status
            model = as_str(getattr(it, "model", None)) or model
            usages.append(getattr(it, "usage", None))
            steps = as_list(getattr(it, "steps", None))
            if isinstance(ev, gi.InteractionCompletedEvent) and steps:
                final_steps = steps
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
        final_steps = as_list(parse_sdk(assembled.steps(), list[gi.Step]))
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
    output_steps = steps[last_input + 1:]
    for st in output_steps:
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
        elif isinstance(st, gi.FunctionCallStep):
            out.append(Step("call", name=as_str(st.name) or "", id=as_str(st.id),
                            args=dict(st.arguments) if isinstance(st.arguments, dict) else {}))
        elif isinstance(st, gi.ModelOutputStep):
            out.extend(_content_steps(st.content, errors))
            if st.error is not None:
                errors.append(error_text(st.error) or "model output error")
    if status is not None and status not in ("completed", "requires_action"):
        errors.insert(0, f"interaction status is {status!r}, not 'completed'")
    return build_transcript(merge_adjacent_text(out), usage=last_usage(usages, INTERACTION_USAGE),
                            model_version=model, finish_reason=status, latency_s=latency_s,
                            ttft_s=ttft_s, error="; ".join(e for e in errors if e) or None,
                            grounding=from_interaction_steps(output_steps))


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


def from_interaction_hops(hops: list[Any], **timing: float | None) -> Transcript:
    """Build the transcript of an interaction the SDK continued over several unary hops.

    Args:
        hops: Each hop's Interaction as wire JSON, in order (the last one completes it);
            they are merged as the SDK merges them.
        **timing: ``latency_s`` and ``ttft_s``, when known.
    """
    from google.genai import interactions as gi
    from google.genai._interactions_continuation import merge_unary_hops

    merged = merge_unary_hops([parse_sdk(h, gi.Interaction) for h in hops])
    return from_interaction(merged, **timing)
