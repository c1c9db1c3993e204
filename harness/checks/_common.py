"""Argument types and display helpers shared by the built-in checks."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from harness.checks.numbers import Exact, exact_number, format_number, integral
from harness.checks.regex import compile_pattern
from harness.transcript.values import CodeRun, Transcript

Outcome = Literal["OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"]
RunChoice = Literal["any", "last"]


def _valid_regex(pattern: str) -> str:
    compile_pattern(pattern)  # RegexError (a ValueError) carries the message
    return pattern


def _number(value: Any) -> Exact:
    try:
        return exact_number(value)
    except TypeError:
        raise PydanticCustomError("number_type", "Input should be a valid number") from None
    except ValueError:
        raise PydanticCustomError("finite_number", "Input should be a finite number") from None


def _non_negative(value: Exact) -> Exact:
    if value < 0:
        raise PydanticCustomError("greater_than_equal",
                                  "Input should be greater than or equal to 0")
    return value


def _json_number(value: Exact) -> int | str:
    # JSON output never goes through float: ints stay ints, others keep their written text.
    return value if isinstance(value, int) else format_number(value)


_EXACT = (PlainValidator(_number, json_schema_input_type=float),
          PlainSerializer(_json_number, when_used="json"))
Count = Annotated[int, Field(ge=1), BeforeValidator(integral)]
TokenLimit = Annotated[int, Field(ge=0), BeforeValidator(integral)]
# Exact numbers (int, Decimal, Fraction; see harness.checks.numbers), never floats.
Number = Annotated[Exact, *_EXACT, WithJsonSchema({"type": "number"})]
# `from_reference`: the last number the case's reference code printed (its ground truth).
NumberOrReference = Number | Literal["from_reference"]
Tolerance = Annotated[Exact, *_EXACT, AfterValidator(_non_negative),
                      WithJsonSchema({"type": "number", "minimum": 0})]
Text = Annotated[str, Field(min_length=1)]
Pattern = Annotated[str, Field(min_length=1, json_schema_extra={"format": "regex"}),
                    AfterValidator(_valid_regex)]

RUN_DESCRIPTION = "`any` (default): some code run; `last`: only the last code run."


def attempts(t: Transcript) -> list[CodeRun]:
    """Return the code runs that count: those not flagged as thought."""
    return [run for run in t.code_runs if not run.thought]


def thought_note(t: Transcript) -> str:
    """Say that thought-flagged runs exist but were not looked at ("" when there are none)."""
    n = sum(1 for run in t.code_runs if run.thought)
    return f" (+{plural(n, 'thought-flagged run')}, not counted)" if n else ""


def plural(n: int, word: str) -> str:
    """``1 run``, ``2 runs``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def quote(text: str, limit: int = 100) -> str:
    """``text`` as a quoted literal; long text keeps its start and its end (where answers are)."""
    if len(text) > limit:
        head = limit * 2 // 5
        text = f"{text[:head]} … {text[-(limit - head):]}"
    return repr(text)


def contains(haystack: str, needle: str, case_sensitive: bool) -> bool:
    """Substring test, optionally ignoring case (casefold, so ß matches SS)."""
    if case_sensitive:
        return needle in haystack
    return needle.casefold() in haystack.casefold()


def around(haystack: str, needle: str, case_sensitive: bool, width: int = 30) -> str:
    """Quote the first occurrence of ``needle`` with some context."""
    # Located with re rather than casefold(), whose output can differ in length from the input.
    m = re.search(re.escape(needle), haystack, 0 if case_sensitive else re.IGNORECASE)
    if m is None:
        return quote(haystack)
    start, end = max(0, m.start() - width), min(len(haystack), m.end() + width)
    return ("…" if start else "") + repr(haystack[start:end]) + ("…" if end < len(haystack) else "")


def case_note(case_sensitive: bool) -> str:
    """`` (ignoring case)`` when the comparison ignores case."""
    return "" if case_sensitive else " (ignoring case)"
