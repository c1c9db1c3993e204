"""Live API server messages (``BidiGenerateContent``) -> one Transcript per turn.

A Live turn arrives as many ``serverContent`` messages: ``modelTurn.parts`` (text,
``executableCode``, ``codeExecutionResult``, images), then one with ``turnComplete: true``
that carries the turn's ``usageMetadata`` (the Live API says ``responseTokenCount`` where
generateContent says ``candidatesTokenCount``). Parts become steps as they do for
generateContent (:func:`~harness.transcript.generate.part_step`), so checks judge both alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.transcript.bodies import TranscriptError
from harness.transcript.generate import part_step
from harness.transcript.sdkparse import parse_response
from harness.transcript.sdkvalues import last_usage
from harness.transcript.values import (
    Step,
    Transcript,
    build_transcript,
    combine_turns,
    merge_adjacent_text,
)

if TYPE_CHECKING:
    from google.genai import types

LIVE_USAGE = (("prompt_token_count", "prompt_tokens"),
              ("response_token_count", "output_tokens"),
              ("tool_use_prompt_token_count", "tool_use_prompt_tokens"),
              ("thoughts_token_count", "thought_tokens"),
              ("total_token_count", "total_tokens"))
# The Live API has no finish reason; a turn that completed says so in these words.
TURN_COMPLETE = "TURN_COMPLETE"
INTERRUPTED = "INTERRUPTED"


def from_live_turn(messages: Sequence[types.LiveServerMessage], *,
                   latency_s: float | None = None) -> Transcript:
    """Build the transcript of one Live turn from the messages ``session.receive()`` gave.

    Args:
        messages: The turn's server messages in order (the last one normally has
            ``turnComplete``).
        latency_s: Wall time of the turn, when measured.

    Returns:
        The turn's parts as steps (adjacent text merged), each usage field from the last
        message carrying it, ``finish_reason`` ``TURN_COMPLETE`` (or ``INTERRUPTED``), and
        ``error`` when the turn never completed.

    """
    steps: list[Step] = []
    finish: str | None = None
    for message in messages:
        content = message.server_content
        if content is None:
            continue
        for part in (content.model_turn.parts if content.model_turn else None) or []:
            step = part_step(part)
            if step is not None:
                steps.append(step)
        if content.interrupted:
            finish = INTERRUPTED
        if content.turn_complete:
            finish = finish or TURN_COMPLETE
    usage = last_usage([m.usage_metadata for m in messages], LIVE_USAGE)
    error = None if finish else "the turn ended without turnComplete"
    return build_transcript(merge_adjacent_text(steps), usage=usage, finish_reason=finish,
                            latency_s=latency_s, error=error)


def from_live_turns(turns: Sequence[Sequence[types.LiveServerMessage]], *,
                    latencies: Sequence[float | None] = ()) -> Transcript:
    """One transcript for a Live session: each turn's own, combined as for a chat."""
    built = [from_live_turn(t, latency_s=latencies[i] if i < len(latencies) else None)
             for i, t in enumerate(turns)]
    return combine_turns(built) if built else build_transcript([], error="no turn at all")


def from_live_frames(frames: Sequence[Any], source: str) -> Transcript:
    """Build a transcript from a live cassette's server frames (wire JSON), split into turns.

    Args:
        frames: The JSON of each received frame, in order (``setupComplete`` included).
        source: Where they came from, for error messages.

    Raises:
        TranscriptError: a frame is not a server message the SDK reads.

    """
    from google.genai import types

    turns: list[list[types.LiveServerMessage]] = [[]]
    for i, frame in enumerate(frames):
        if not isinstance(frame, dict):
            raise TranscriptError(f"{source}: frame {i} is not a JSON object")
        if "setupComplete" in frame or "setup_complete" in frame:
            continue
        try:
            message = parse_response(frame, types.LiveServerMessage)
        except TranscriptError as exc:
            raise TranscriptError(f"{source}: frame {i} could not be read: {exc}") from None
        turns[-1].append(message)
        content = message.server_content
        if content is not None and content.turn_complete:
            turns.append([])
    if not turns[-1] and len(turns) > 1:
        turns.pop()
    return from_live_turns(turns)
