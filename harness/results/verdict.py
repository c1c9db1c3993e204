"""How an item's outcome reads: check listings for FAIL, a short block for ERROR.

A failing eval reads like a spec (expected vs actual per check), never a traceback; an
infrastructure ERROR names its kind so nobody mistakes it for a model failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.checks.api import CheckResult
from harness.transcript.values import Transcript

_ANSWER_SHOWN = 300


@dataclass(frozen=True)
class ItemInfo:
    """Where an item comes from, for messages."""

    case_id: str
    model: str
    sample: int
    samples: int
    location: str
    cassette: str

    @property
    def title(self) -> str:
        """``case 'x' with model 'm' (sample 2 of 3)``."""
        sample = f" (sample {self.sample} of {self.samples})" if self.samples > 1 else ""
        return f"case {self.case_id!r} with model {self.model!r}{sample}"


def render_failure(info: ItemInfo, results: Sequence[CheckResult], transcript: Transcript) -> str:
    """The FAIL message: each failed check with expected and actual, then context."""
    failed = [r for r in results if not r.passed]
    lines = [f"{len(failed)} of {len(results)} checks failed for {info.title}",
             f"  case:     {info.location}",
             f"  cassette: {info.cassette}", ""]
    for r in results:
        if r.passed:
            lines.append(f"  PASS  {r.display}")
            continue
        lines.append(f"  FAIL  {r.display}")
        lines.append(f"          expected: {_indent(r.expected)}")
        lines.append(f"          actual:   {_indent(r.actual)}")
        if r.error:
            lines.append(f"          error:    {r.error}")
    lines.append("")
    for i, turn in enumerate(transcript.turns or (transcript,), 1):
        head = f"  turn {i}: " if transcript.turns else "  "
        outcomes = ", ".join(str(o) for o in turn.outcomes) or "no code ran"
        lines.append(f"{head}code runs: {turn.attempts} ({outcomes}); "
                     f"finish reason: {turn.finish_reason}")
        if turn.function_calls:
            shown = "; ".join(str(c) for c in turn.function_calls)
            lines.append(f"{' ' * len(head)}function calls: {_indent(shown)}")
        answer = turn.final_text.strip()
        if len(answer) > _ANSWER_SHOWN:
            answer = answer[:_ANSWER_SHOWN] + f"... [{len(answer) - _ANSWER_SHOWN} more chars]"
        lines.append(f"{' ' * len(head)}final answer: {_indent(answer) if answer else '(none)'}")
    if transcript.error:
        # Turns the harness did not send (a stopped function-call loop) are its note, not the
        # API's.
        who = "harness" if "not sent: the harness" in transcript.error else "API reported"
        lines.append(f"  {who}: {transcript.error}")
    return "\n".join(lines)


def render_error(kind: str, info: ItemInfo, message: str) -> str:
    """The ERROR message for an infrastructure problem (not the model's fault)."""
    return (f"harness {kind} error (not a model failure) for {info.title}\n"
            f"  case:     {info.location}\n"
            f"  cassette: {info.cassette}\n\n{message}")


def _indent(text: str) -> str:
    return text.replace("\n", "\n                    ")
