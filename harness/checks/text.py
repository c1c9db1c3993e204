"""Built-in checks on text: code runs' outputs (``output_*``) and the final answer (``answer_*``).

``output_*`` pass when some code run's output matches (``run: last`` narrows that to the last
run); runs flagged as thought are not looked at, as they are not attempts. ``answer_*`` read only
the final answer text. Regular expressions run on RE2 (:mod:`harness.checks.regex`: linear
time, so a check never hangs), with ``^`` and ``$`` matching at line breaks, and are searched
for, not matched from the start.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from harness.checks._common import (
    RUN_DESCRIPTION,
    NumberOrReference,
    Pattern,
    RunChoice,
    Text,
    Tolerance,
    attempts,
    case_note,
    contains,
    quote,
    thought_note,
)
from harness.checks.api import CheckArgs, CheckContext, Judgement, check
from harness.checks.numbers import Exact, find_numbers, format_number, number_matcher
from harness.checks.regex import searcher
from harness.transcript.values import Transcript

_MAX_NUMBERS_SHOWN = 12
_VALUE_DESCRIPTION = ("The expected number, compared exactly (integers at any size, decimals "
                      "as written: 0.1 is one tenth), or `from_reference`: the last number the "
                      "case's `reference:` code printed.")
_TOLERANCE_DESCRIPTION = ("Largest allowed absolute difference, exact (YAML 1.2 numbers such as "
                          "`1e-9` or `.5` work).")
_MAX_RUNS_SHOWN = 3


# --- arguments -------------------------------------------------------------------------------

class OutputContainsArgs(CheckArgs):
    """Arguments of the output_contains check."""

    text: Text = Field(description="The text to find.")
    run: RunChoice = Field("any", description=RUN_DESCRIPTION)
    case_sensitive: bool = Field(True, description="False: ignore case.")


class OutputRegexArgs(CheckArgs):
    """Arguments of the output_regex check."""

    pattern: Pattern = Field(description="A Python regular expression, searched (MULTILINE).")
    run: RunChoice = Field("any", description=RUN_DESCRIPTION)


class OutputNumberArgs(CheckArgs):
    """Arguments of the output_number check."""

    value: NumberOrReference = Field(description=_VALUE_DESCRIPTION)
    tolerance: Tolerance = Field(0, description=_TOLERANCE_DESCRIPTION)
    run: RunChoice = Field("any", description=RUN_DESCRIPTION)


class AnswerContainsArgs(CheckArgs):
    """Arguments of the answer_contains check."""

    text: Text = Field(description="The text to find.")
    case_sensitive: bool = Field(True, description="False: ignore case.")


class AnswerRegexArgs(CheckArgs):
    """Arguments of the answer_regex check."""

    pattern: Pattern = Field(description="A Python regular expression, searched (MULTILINE).")


class AnswerNumberArgs(CheckArgs):
    """Arguments of the answer_number check."""

    value: NumberOrReference = Field(description=_VALUE_DESCRIPTION)
    tolerance: Tolerance = Field(0, description=_TOLERANCE_DESCRIPTION)


# --- shared judging --------------------------------------------------------------------------

def _number_goal(value: Exact, tolerance: Exact, from_reference: bool = False) -> str:
    source = "the reference's answer, " if from_reference else ""
    return (f"a number equal to {source}{format_number(value)} "
            f"(tolerance {format_number(tolerance)})")


def _expected(ctx: CheckContext, value: Exact | str) -> Exact:
    """The expected number: the given one, or the last number the reference printed."""
    if not isinstance(value, str):
        return value
    if ctx.reference_output is None:
        raise ValueError("`from_reference` needs the case's reference output, and there is none")
    numbers = find_numbers(ctx.reference_output)
    if not numbers:
        raise ValueError(f"the reference printed no number: {quote(ctx.reference_output)}")
    return numbers[-1]


def _has_number(matches: Callable[[Exact], bool]) -> Callable[[str], bool]:
    return lambda text: any(matches(n) for n in find_numbers(text))


def _show_numbers(text: str, where: str) -> str:
    numbers = find_numbers(text)
    if not numbers:
        return f"no numbers in {where}: {quote(text)}"
    shown = ", ".join(format_number(n) for n in numbers[:_MAX_NUMBERS_SHOWN])
    more = len(numbers) - _MAX_NUMBERS_SHOWN
    return f"numbers in {where}: {shown}" + (f" … ({more} more)" if more > 0 else "")


def _judge_outputs(t: Transcript, run: RunChoice, goal: str, matches: Callable[[str], bool],
                   show: Callable[[str], str]) -> Judgement:
    """Pass when some selected run's output ``matches``; ``show`` describes one output."""
    numbered = list(enumerate(attempts(t), start=1))
    selected = numbered[-1:] if run == "last" else numbered
    expected = goal + (" in the last code run's output" if run == "last"
                       else " in some code run's output")
    if not selected:
        return Judgement(False, expected, "no code ran" + thought_note(t))
    for i, r in selected:
        if r.output is not None and matches(r.output):
            return Judgement(True, expected, f"run {i} of {len(numbered)}: {show(r.output)}")
    shown = [f"run {i}: " + (show(r.output) if r.output is not None else "no result")
             for i, r in selected[-_MAX_RUNS_SHOWN:]]
    hidden = len(selected) - _MAX_RUNS_SHOWN
    return Judgement(False, expected,
                     (f"({hidden} earlier runs not shown) " if hidden > 0 else "")
                     + "; ".join(shown) + thought_note(t))


def _judge_answer(t: Transcript, goal: str, matches: Callable[[str], bool],
                  show: Callable[[str], str]) -> Judgement:
    expected = goal + " in the final answer"
    if not t.final_text.strip():
        return Judgement(False, expected, "no final answer text")
    return Judgement(matches(t.final_text), expected, show(t.final_text))


# --- output_* --------------------------------------------------------------------------------

@check("output_contains", OutputContainsArgs, short="text",
       summary="Some code run's output (or the last one's, with `run: last`) contains `text`.")
def output_contains(ctx: CheckContext, args: OutputContainsArgs) -> Judgement:
    """Check that some code run's output contains the text."""
    return _judge_outputs(
        ctx.transcript, args.run, f"{quote(args.text)}{case_note(args.case_sensitive)}",
        lambda out: contains(out, args.text, args.case_sensitive),
        lambda out: f"output {quote(out)}")


@check("output_regex", OutputRegexArgs, short="pattern",
       summary="Some code run's output (or the last one's, with `run: last`) has a match for "
               "the regular expression `pattern`.")
def output_regex(ctx: CheckContext, args: OutputRegexArgs) -> Judgement:
    """Check that some code run's output has a match for the regex."""
    return _judge_outputs(ctx.transcript, args.run, f"a match for /{args.pattern}/",
                          searcher(args.pattern), lambda out: f"output {quote(out)}")


@check("output_number", OutputNumberArgs, short="value",
       summary="Some code run's output (or the last one's, with `run: last`) has a number "
               "equal to `value` within `tolerance` (default exact).")
def output_number(ctx: CheckContext, args: OutputNumberArgs) -> Judgement:
    """Check that some code run's output has the number."""
    value = _expected(ctx, args.value)
    goal = _number_goal(value, args.tolerance, isinstance(args.value, str))
    return _judge_outputs(ctx.transcript, args.run, goal,
                          _has_number(number_matcher(value, args.tolerance)),
                          lambda out: _show_numbers(out, "output"))


# --- answer_* --------------------------------------------------------------------------------

@check("answer_contains", AnswerContainsArgs, short="text",
       summary="The final answer text contains `text`.")
def answer_contains(ctx: CheckContext, args: AnswerContainsArgs) -> Judgement:
    """Check that the final answer contains the text."""
    return _judge_answer(ctx.transcript, f"{quote(args.text)}{case_note(args.case_sensitive)}",
                         lambda text: contains(text, args.text, args.case_sensitive),
                         lambda text: f"answer: {quote(text)}")


@check("answer_regex", AnswerRegexArgs, short="pattern",
       summary="The final answer text has a match for the regular expression `pattern`.")
def answer_regex(ctx: CheckContext, args: AnswerRegexArgs) -> Judgement:
    """Check that the final answer has a match for the regex."""
    return _judge_answer(ctx.transcript, f"a match for /{args.pattern}/",
                         searcher(args.pattern), lambda text: f"answer: {quote(text)}")


@check("answer_number", AnswerNumberArgs, short="value",
       summary="Some number in the final answer text equals `value` within `tolerance` "
               "(default exact).")
def answer_number(ctx: CheckContext, args: AnswerNumberArgs) -> Judgement:
    """Check that some number in the final answer equals the value."""
    value = _expected(ctx, args.value)
    goal = _number_goal(value, args.tolerance, isinstance(args.value, str))
    return _judge_answer(ctx.transcript, goal,
                         _has_number(number_matcher(value, args.tolerance)),
                         lambda text: _show_numbers(text, "the answer"))
