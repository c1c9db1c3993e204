"""Built-in checks on code runs: whether code ran, how runs ended, how many, and what code.

Only runs not flagged as thought count (they are what Gemini calls attempts); each failing
message mentions thought-flagged runs that were left out, so a surprising count is explained.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from harness.checks._common import (
    Count,
    Outcome,
    Text,
    around,
    attempts,
    case_note,
    contains,
    plural,
    quote,
    thought_note,
)
from harness.checks.api import CheckArgs, CheckContext, Judgement, check


class CodeExecutedArgs(CheckArgs):
    """Arguments of the code_executed check."""

    value: bool = Field(True, description="true: some code ran; false: no code ran.")


class FinalOutcomeArgs(CheckArgs):
    """Arguments of the final_outcome check."""

    outcome: Outcome = Field(description="The outcome the last code run must have.")


class AllowedOutcomesArgs(CheckArgs):
    """Arguments of the allowed_outcomes check."""

    outcomes: tuple[Outcome, ...] = Field(min_length=1,
                                          description="The outcomes every code run may have.")

    @field_validator("outcomes", mode="before")
    @classmethod
    def _from_list(cls, value: object) -> object:
        # YAML gives a list; a tuple keeps the frozen argument model hashable.
        return tuple(value) if isinstance(value, list) else value


class MaxAttemptsArgs(CheckArgs):
    """Arguments of the max_attempts check."""

    n: Count = Field(description="The most code runs allowed.")


class CodeTextArgs(CheckArgs):
    """Arguments of the code_contains and code_not_contains checks."""

    text: Text = Field(description="The text to look for in the code.")
    case_sensitive: bool = Field(True, description="False: ignore case.")


def _outcomes_shown(outcomes: list[str | None]) -> str:
    return ", ".join(o or "no result" for o in outcomes)


@check("code_executed", CodeExecutedArgs, short="value",
       summary="At least one code run (not flagged thought) happened; `false`: none did.")
def code_executed(ctx: CheckContext, args: CodeExecutedArgs) -> Judgement:
    """Check that some code ran (or, with ``false``, that none did)."""
    t = ctx.transcript
    n = t.attempts
    expected = "at least one code run" if args.value else "no code run"
    actual = (f"{plural(n, 'code run')} ({_outcomes_shown(t.outcomes)})" if n
              else "no code ran") + thought_note(t)
    return Judgement((n > 0) == args.value, expected, actual)


@check("final_outcome", FinalOutcomeArgs, short="outcome",
       summary="The last code run's outcome is `outcome`; fails when no code ran.")
def final_outcome(ctx: CheckContext, args: FinalOutcomeArgs) -> Judgement:
    """Check the last code run's outcome."""
    t = ctx.transcript
    expected = f"last code run's outcome {args.outcome}"
    runs = attempts(t)
    if not runs:
        return Judgement(False, expected, "no code ran" + thought_note(t))
    last = runs[-1].outcome
    where = f"(run {len(runs)} of {len(runs)})"
    if last is None:
        return Judgement(False, expected, f"no result for the last code run {where}")
    return Judgement(last == args.outcome, expected, f"{last} {where}")


@check("allowed_outcomes", AllowedOutcomesArgs, short="outcomes",
       summary="Every code run's outcome is in `outcomes` (a run without a result fails; "
               "passes when no code ran).")
def allowed_outcomes(ctx: CheckContext, args: AllowedOutcomesArgs) -> Judgement:
    """Check that every code run's outcome is one of the allowed ones."""
    t = ctx.transcript
    expected = f"every code run's outcome in [{', '.join(args.outcomes)}]"
    outcomes = t.outcomes
    if not outcomes:
        return Judgement(True, expected, "no code ran (nothing to check)" + thought_note(t))
    bad = [f"run {i}: {o or 'no result'}" for i, o in enumerate(outcomes, start=1)
           if o not in args.outcomes]
    actual = f"outcomes: {_outcomes_shown(outcomes)}"
    if bad:
        actual += f" (not allowed: {'; '.join(bad)})"
    return Judgement(not bad, expected, actual)


@check("max_attempts", MaxAttemptsArgs, short="n",
       summary="At most `n` code runs (attempts; thought-flagged runs are not counted).")
def max_attempts(ctx: CheckContext, args: MaxAttemptsArgs) -> Judgement:
    """Check that there were no more than n code runs."""
    t = ctx.transcript
    return Judgement(t.attempts <= args.n, f"at most {plural(args.n, 'attempt')}",
                     plural(t.attempts, "attempt") + thought_note(t))


@check("code_contains", CodeTextArgs, short="text",
       summary="Some code run's code contains `text`.")
def code_contains(ctx: CheckContext, args: CodeTextArgs) -> Judgement:
    """Check that some code run's code contains the text."""
    t = ctx.transcript
    expected = f"{quote(args.text)}{case_note(args.case_sensitive)} in some code run's code"
    runs = attempts(t)
    if not runs:
        return Judgement(False, expected, "no code ran" + thought_note(t))
    for i, run in enumerate(runs, start=1):
        if contains(run.code, args.text, args.case_sensitive):
            return Judgement(True, expected, f"run {i}: "
                             + around(run.code, args.text, args.case_sensitive))
    return Judgement(False, expected, f"not in the code of {plural(len(runs), 'run')}; "
                     f"last code: {quote(runs[-1].code)}")


@check("code_not_contains", CodeTextArgs, short="text",
       summary="No code run's code contains `text` (passes when no code ran).")
def code_not_contains(ctx: CheckContext, args: CodeTextArgs) -> Judgement:
    """Check that no code run's code contains the text."""
    t = ctx.transcript
    expected = f"{quote(args.text)}{case_note(args.case_sensitive)} in no code run's code"
    runs = attempts(t)
    for i, run in enumerate(runs, start=1):
        if contains(run.code, args.text, args.case_sensitive):
            return Judgement(False, expected, f"run {i}: "
                             + around(run.code, args.text, args.case_sensitive))
    if not runs:
        return Judgement(True, expected, "no code ran" + thought_note(t))
    return Judgement(True, expected, f"not in the code of {plural(len(runs), 'run')}")
