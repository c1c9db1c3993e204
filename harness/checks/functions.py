"""Built-in checks on function calls: which functions the model called, with what, how often.

The harness answers each call from the case's ``functions:`` and records it in the
transcript's ``function_calls``, with the reason when the call was the model's mistake (an
undeclared function, arguments the declared schema rejects). ``called`` counts only calls
that were valid; ``not_called`` counts every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from harness.checks._common import plural
from harness.checks.api import CheckArgs, CheckContext, Judgement, check
from harness.checks.numbers import integral
from harness.transcript.values import FunctionCall


def args_match(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    """Whether ``actual`` has every argument of ``expected`` (nested mappings alike).

    Other arguments may differ; numbers compare by value (``1 == 1.0``), but a boolean is
    never a number.
    """
    for key, want in expected.items():
        if key not in actual:
            return False
        got = actual[key]
        if isinstance(want, Mapping) and isinstance(got, Mapping):
            if not args_match(want, got):
                return False
        elif isinstance(want, bool) != isinstance(got, bool) or want != got:
            return False
    return True


class CalledArgs(CheckArgs):
    """Arguments of the called and not_called checks."""

    name: str = Field(pattern=r"\S", description="The function's name.")
    args: dict[str, Any] | None = Field(default=None, description=(
        "Arguments the call must have (partial match: others may differ)."))


class MaxFunctionCallsArgs(CheckArgs):
    """Arguments of the max_function_calls check."""

    n: Annotated[int, Field(ge=0), BeforeValidator(integral)] = Field(
        description="The most function calls allowed (0: none).")


def _wanted(args: CalledArgs) -> str:
    if not args.args:
        return f"{args.name}(...)"
    return f"{args.name}({', '.join(f'{k}={v!r}' for k, v in args.args.items())}, ...)"


def _shown(calls: tuple[FunctionCall, ...]) -> str:
    return "; ".join(str(c) for c in calls) if calls else "no function calls"


def _matches(call: FunctionCall, args: CalledArgs) -> bool:
    return call.name == args.name and args_match(args.args or {}, call.args)


@check("called", CalledArgs, short="name",
       summary="The model made a valid call to function `name` (with `args`, partially "
               "matched, when given).")
def called(ctx: CheckContext, args: CalledArgs) -> Judgement:
    """Check that the model called a function (validly, with the given arguments)."""
    calls = ctx.transcript.function_calls
    expected = f"a valid call {_wanted(args)}"
    if any(_matches(c, args) and c.valid for c in calls):
        hit = next(c for c in calls if _matches(c, args) and c.valid)
        return Judgement(True, expected, str(hit))
    return Judgement(False, expected, _shown(calls))


@check("not_called", CalledArgs, short="name",
       summary="The model never called function `name` (with `args`, when given).")
def not_called(ctx: CheckContext, args: CalledArgs) -> Judgement:
    """Check that the model did not call a function (with the given arguments)."""
    calls = ctx.transcript.function_calls
    hits = [c for c in calls if _matches(c, args)]
    return Judgement(not hits, f"no call {_wanted(args)}", _shown(tuple(hits) or calls))


@check("max_function_calls", MaxFunctionCallsArgs, short="n",
       summary="At most `n` function calls; cases with `functions:` get this check with "
               "their `max_function_calls` (default 10) unless they give it.")
def max_function_calls(ctx: CheckContext, args: MaxFunctionCallsArgs) -> Judgement:
    """Check that the model made no more than n function calls."""
    t = ctx.transcript
    n = len(t.function_calls)
    actual = plural(n, "function call")
    if t.function_loop_stopped and n:
        actual += " (the harness stopped answering: the model kept calling)"
    elif t.function_loop_stopped:  # a turn after the one whose loop was stopped
        actual += " (this turn was not sent: the model kept calling in an earlier turn)"
    return Judgement(n <= args.n and not t.function_loop_stopped,
                     f"at most {plural(args.n, 'function call')}", actual)
