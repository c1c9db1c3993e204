"""The check registry and the built-in checks, on small hand-built transcripts."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import Field

from harness.checks import registry
from harness.checks.api import (
    CheckArgs,
    CheckContext,
    CheckResult,
    CheckSpec,
    Judgement,
    register,
    unregister,
)
from harness.checks.registry import CheckParseError, all_checks, get, parse_check
from harness.checks.schema import check_json_schema
from harness.results.records import ResultsWriter, make_record, read_results
from harness.spec.yamlload import YamlFloat
from harness.transcript.values import Step, Transcript, Usage, build_transcript

BUILTINS = {
    "code_executed", "final_outcome", "allowed_outcomes", "max_attempts", "output_contains",
    "output_regex", "output_number", "answer_contains", "answer_regex", "answer_number",
    "code_contains", "code_not_contains", "finish_reason", "max_tokens", "min_images",
}


# --- transcripts -----------------------------------------------------------------------------

def code(src: str, *, thought: bool = False) -> Step:
    return Step("code", code=src, language="PYTHON", thought=thought)


def result(output: str = "", outcome: str = "OUTCOME_OK") -> Step:
    return Step("result", outcome=outcome, output=output)


def text(s: str) -> Step:
    return Step("text", text=s)


PRIMES = "from sympy import prime\nprint(sum(prime(i) for i in range(1, 51)))"

# one run, right answer
OK = build_transcript(
    [text("Let me compute it."), code(PRIMES), result("5117\n"),
     text("The sum of the first 50 primes is **5,117**.")],
    finish_reason="STOP",
    usage=Usage(prompt_tokens=40, output_tokens=120, tool_use_prompt_tokens=300,
                thought_tokens=None, total_tokens=460))
# a failed first attempt, then a good one
RETRY = build_transcript([
    code("print(sum(prime(i) for i in range(1, 51)))"),
    result("NameError: name 'prime' is not defined", "OUTCOME_FAILED"),
    code(PRIMES), result("5117\n"), text("It is 5117."),
])
# ran fine, wrong number
WRONG = build_transcript([code("print(5000)"), result("5000\n"), text("The sum is 5000.")],
                         finish_reason="MAX_TOKENS")
NO_CODE = build_transcript([text("The sum of the first 50 primes is 5117.")])
# the only run is flagged thought: not an attempt
THOUGHT_ONLY = build_transcript([code(PRIMES, thought=True), result("5117\n"), text("5117")])
DEADLINE = build_transcript([code("while True: pass"), result("", "OUTCOME_DEADLINE_EXCEEDED"),
                             text("It timed out.")])
# a code part with no result part after it (a truncated stream)
NO_RESULT = build_transcript([code(PRIMES)])
IMAGES = build_transcript([code("plt.plot([1, 2])"), result(""),
                           Step("image", mime_type="image/png", data=b"\x89PNG"),
                           text("Here is the chart.")])


def run(entry: Any, transcript: Transcript) -> CheckResult:
    return parse_check(entry).run(CheckContext(transcript, case_id="case", model="m"))


# --- every built-in, passing and failing -----------------------------------------------------

# (entry, transcript, passed, text in expected, text in actual)
TABLE: list[tuple[Any, Transcript, bool, str, str]] = [
    ("code_executed", OK, True, "at least one code run", "1 code run (OUTCOME_OK)"),
    ("code_executed", NO_CODE, False, "at least one code run", "no code ran"),
    ("code_executed", THOUGHT_ONLY, False, "at least one code run",
     "no code ran (+1 thought-flagged run, not counted)"),
    ({"code_executed": False}, NO_CODE, True, "no code run", "no code ran"),
    ({"code_executed": False}, OK, False, "no code run", "1 code run"),
    ({"final_outcome": "OUTCOME_OK"}, RETRY, True, "OUTCOME_OK", "OUTCOME_OK (run 2 of 2)"),
    ({"final_outcome": "OUTCOME_OK"}, DEADLINE, False, "last code run's outcome OUTCOME_OK",
     "OUTCOME_DEADLINE_EXCEEDED (run 1 of 1)"),
    ({"final_outcome": "OUTCOME_OK"}, NO_CODE, False, "OUTCOME_OK", "no code ran"),
    ({"final_outcome": "OUTCOME_OK"}, NO_RESULT, False, "OUTCOME_OK",
     "no result for the last code run"),
    ({"allowed_outcomes": ["OUTCOME_OK", "OUTCOME_FAILED"]}, RETRY, True,
     "in [OUTCOME_OK, OUTCOME_FAILED]", "outcomes: OUTCOME_FAILED, OUTCOME_OK"),
    ({"allowed_outcomes": ["OUTCOME_OK"]}, RETRY, False, "every code run's outcome in",
     "not allowed: run 1: OUTCOME_FAILED"),
    ({"allowed_outcomes": ["OUTCOME_OK"]}, NO_RESULT, False, "OUTCOME_OK",
     "not allowed: run 1: no result"),
    ({"allowed_outcomes": ["OUTCOME_OK"]}, NO_CODE, True, "OUTCOME_OK", "no code ran"),
    ({"max_attempts": 2}, RETRY, True, "at most 2 attempts", "2 attempts"),
    ({"max_attempts": 1}, RETRY, False, "at most 1 attempt", "2 attempts"),
    ({"max_attempts": 1}, NO_CODE, True, "at most 1 attempt", "0 attempts"),
    ({"output_contains": "5117"}, RETRY, True, "'5117' in some code run's output",
     "run 2 of 2: output '5117\\n'"),
    ({"output_contains": "5117"}, WRONG, False, "'5117' in some code run's output",
     "run 1: output '5000\\n'"),
    ({"output_contains": "5117"}, NO_CODE, False, "'5117'", "no code ran"),
    ({"output_contains": "5117"}, THOUGHT_ONLY, False, "'5117'", "thought-flagged"),
    ({"output_contains": "5117"}, NO_RESULT, False, "'5117'", "run 1: no result"),
    ({"output_contains": {"text": "nameerror", "case_sensitive": False}}, RETRY, True,
     "(ignoring case)", "run 1 of 2"),
    ({"output_contains": {"text": "NameError", "run": "last"}}, RETRY, False,
     "in the last code run's output", "run 2: output '5117\\n'"),
    ({"output_regex": r"^\d{4}$"}, OK, True, r"a match for /^\d{4}$/", "5117"),
    ({"output_regex": r"^\d{3}$"}, OK, False, r"/^\d{3}$/", "output '5117\\n'"),
    ({"output_regex": {"pattern": "Error", "run": "last"}}, RETRY, False, "last code run", "5117"),
    ({"output_number": 5117}, RETRY, True, "a number equal to 5117 (tolerance 0)",
     "numbers in output: 5117"),
    ({"output_number": 5117}, WRONG, False, "a number equal to 5117 (tolerance 0)",
     "numbers in output: 5000"),
    ({"output_number": {"value": 5117, "tolerance": 200}}, WRONG, True, "(tolerance 200)",
     "5000"),
    ({"output_number": 5117}, DEADLINE, False, "5117", "no numbers in output: ''"),
    ({"answer_contains": "5,117"}, OK, True, "'5,117' in the final answer",
     "answer: 'The sum of the first 50 primes is **5,117**.'"),
    ({"answer_contains": "5117"}, WRONG, False, "'5117' in the final answer",
     "answer: 'The sum is 5000.'"),
    ({"answer_contains": {"text": "THE SUM", "case_sensitive": False}}, WRONG, True,
     "(ignoring case)", "The sum"),
    ({"answer_contains": "5117"}, NO_RESULT, False, "'5117'", "no final answer text"),
    ({"answer_regex": r"\b5,?117\b"}, OK, True, r"/\b5,?117\b/", "answer:"),
    ({"answer_regex": r"^It is"}, OK, False, "/^It is/", "answer: 'The sum"),
    ({"answer_number": 5117}, OK, True, "a number equal to 5117 (tolerance 0) in the final answer",
     "numbers in the answer: 50, 5117"),
    ({"answer_number": 5117}, WRONG, False, "a number equal to 5117 (tolerance 0)",
     "numbers in the answer: 5000"),
    ({"answer_number": 5117}, NO_CODE, True, "5117", "5117"),
    ({"answer_number": {"value": 5120, "tolerance": 5}}, OK, True, "(tolerance 5)", "5117"),
    ({"answer_number": {"value": 5120, "tolerance": 2}}, OK, False, "5120 (tolerance 2)",
     "50, 5117"),
    ({"answer_number": 5117}, DEADLINE, False, "5117", "no numbers in the answer: 'It timed out.'"),
    ({"code_contains": "sympy"}, RETRY, True, "'sympy' in some code run's code",
     "run 2: 'from sympy import prime"),
    ({"code_contains": "numpy"}, RETRY, False, "'numpy' in some code run's code",
     "not in the code of 2 runs; last code: 'from sympy"),
    ({"code_contains": "SYMPY"}, RETRY, False, "'SYMPY'", "not in the code"),
    ({"code_contains": {"text": "SYMPY", "case_sensitive": False}}, RETRY, True,
     "(ignoring case)", "run 2"),
    ({"code_contains": "sympy"}, NO_CODE, False, "'sympy'", "no code ran"),
    ({"code_not_contains": "input("}, RETRY, True, "'input(' in no code run's code",
     "not in the code of 2 runs"),
    ({"code_not_contains": "sympy"}, RETRY, False, "'sympy' in no code run's code",
     "run 2: 'from sympy import prime"),
    ({"code_not_contains": "sympy"}, NO_CODE, True, "'sympy'", "no code ran"),
    ({"finish_reason": "STOP"}, OK, True, "finish reason STOP", "STOP"),
    ({"finish_reason": "stop"}, OK, True, "finish reason stop", "STOP"),
    ({"finish_reason": "STOP"}, WRONG, False, "finish reason STOP", "MAX_TOKENS"),
    ({"finish_reason": "STOP"}, NO_CODE, False, "finish reason STOP", "not reported"),
    ({"max_tokens": 500}, OK, True, "total tokens <= 500", "total tokens 460"),
    ({"max_tokens": 400}, OK, False, "total tokens <= 400", "total tokens 460 (over by 60)"),
    ({"max_tokens": {"output": 200, "prompt": 50}}, OK, True,
     "prompt tokens <= 50; output tokens <= 200", "prompt tokens 40; output tokens 120"),
    ({"max_tokens": {"output": 100, "tool_use_prompt": 1000}}, OK, False,
     "output tokens <= 100; tool-use prompt tokens <= 1000",
     "output tokens 120 (over by 20); tool-use prompt tokens 300"),
    ({"max_tokens": {"thought": 0}}, OK, False, "thought tokens <= 0",
     "thought tokens not reported"),
    ({"max_tokens": 1000}, NO_CODE, False, "total tokens <= 1000", "total tokens not reported"),
    ({"min_images": 1}, IMAGES, True, "at least 1 image", "1 image (image/png)"),
    ({"min_images": 2}, IMAGES, False, "at least 2 images", "1 image (image/png)"),
    ({"min_images": 1}, OK, False, "at least 1 image", "0 images"),
]


@pytest.mark.parametrize(("entry", "transcript", "passed", "expected", "actual"), TABLE,
                         ids=[f"{i}-{e if isinstance(e, str) else next(iter(e))}"
                              for i, (e, *_) in enumerate(TABLE)])
def test_builtin_check(entry: Any, transcript: Transcript, passed: bool, expected: str,
                       actual: str) -> None:
    res = run(entry, transcript)
    assert res.error is None
    assert res.passed is passed, res
    assert expected in res.expected, res
    assert actual in res.actual, res


def test_table_covers_every_builtin_passing_and_failing() -> None:
    seen: dict[str, set[bool]] = {}
    for entry, _, passed, *_ in TABLE:
        name = entry if isinstance(entry, str) else next(iter(entry))
        seen.setdefault(name, set()).add(passed)
    assert set(seen) == BUILTINS
    assert all(outcomes == {True, False} for outcomes in seen.values()), seen


def test_builtins_are_registered_with_summaries() -> None:
    checks = all_checks()
    assert set(checks) >= BUILTINS
    for name in BUILTINS:
        spec = checks[name]
        assert spec.summary, name
        assert spec.short is not None, name
        assert issubclass(spec.args_model, CheckArgs)


def test_output_any_run_matches_an_earlier_run() -> None:
    # A later run can overwrite a good earlier output; `any` still sees the earlier one.
    t = build_transcript([code("print(5117)"), result("5117\n"), code("print(1)"), result("1\n"),
                          text("Done.")])
    assert run({"output_number": 5117}, t).passed
    assert not run({"output_number": {"value": 5117, "run": "last"}}, t).passed


def test_thought_runs_are_not_counted() -> None:
    t = build_transcript([code("print(1)", thought=True), result("1\n"), code("print(2)"),
                          result("2\n"), text("2")])
    assert run({"max_attempts": 1}, t).passed
    res = run({"output_contains": "1"}, t)
    assert not res.passed
    assert "(+1 thought-flagged run, not counted)" in res.actual


def test_many_runs_are_summarised() -> None:
    steps: list[Step] = []
    for i in range(6):
        steps += [code(f"print({i})"), result(f"{i}\n")]
    res = run({"output_contains": "9"}, build_transcript(steps))
    assert res.actual.startswith("(3 earlier runs not shown) run 4: output '3\\n'")


def test_long_text_is_shortened_keeping_both_ends() -> None:
    answer = "Intro. " + "blah " * 200 + "The answer is 42."
    res = run({"answer_contains": "5117"}, build_transcript([text(answer)]))
    assert not res.passed
    assert "Intro." in res.actual and "The answer is 42." in res.actual
    assert len(res.actual) < 200


def test_answer_number_reads_only_the_final_answer() -> None:
    t = build_transcript([text("I expect 5117."), code("print(5000)"), result("5000\n"),
                          text("The sum is 5000.")])
    assert not run({"answer_number": 5117}, t).passed
    assert run({"output_number": 5000}, t).passed


# --- exact numbers ---------------------------------------------------------------------------

BIG = 2**100  # 1267650600228229401496703205376; 2**100 + 1 is the same float


@pytest.mark.parametrize(("entry", "answer", "passed"), [
    ({"answer_number": BIG}, f"It is {BIG}.", True),
    ({"answer_number": BIG}, f"It is {BIG + 1}.", False),
    ({"answer_number": BIG + 1}, f"It is {BIG}.", False),
    ({"answer_number": {"value": BIG, "tolerance": 1}}, f"It is {BIG + 1:,}.", True),
    ({"answer_number": 10**40 + 1}, f"**{10**40 + 1:,}**", True),
    ({"answer_number": 10**40 + 1}, "1e40", False),
    ({"answer_number": 10**40}, "1e40", True),
    ({"answer_number": YamlFloat("0.3")}, "0.30000000000000004", False),
    ({"answer_number": {"value": YamlFloat("0.3"), "tolerance": YamlFloat("1e-9")}},
     "0.30000000000000004", True),
    ({"answer_number": {"value": YamlFloat("0.3"), "tolerance": YamlFloat("1e-17")}},
     "0.30000000000000004", False),
    ({"answer_number": {"value": YamlFloat("1.0"), "tolerance": YamlFloat("0.1")}},
     "1.1", True),  # as floats 1.1 - 1.0 > 0.1
    ({"answer_number": YamlFloat("-0.0")}, "0", True),
    ({"answer_number": 0}, "-0.0", True),
    ({"answer_number": YamlFloat(".5")}, "0.5", True),
    ({"answer_number": YamlFloat("1E3")}, "1,000", True),
    ({"answer_number": YamlFloat("2.5")}, "$2.50", True),
    ({"answer_number": YamlFloat("0.1")}, "0.1000000000000000055511151231257827", False),
])
def test_answer_number_is_exact(entry: Any, answer: str, passed: bool) -> None:
    res = run(entry, build_transcript([text(answer)]))
    assert res.error is None and res.passed is passed, res


def test_output_number_is_exact() -> None:
    t = build_transcript([code("print(2**100 + 1)"), result(f"{BIG + 1}\n"), text("Done.")])
    assert not run({"output_number": BIG}, t).passed
    assert run({"output_number": BIG + 1}, t).passed


def test_numbers_show_as_written() -> None:
    res = run({"answer_number": BIG}, build_transcript([text(f"It is {BIG + 1}.")]))
    assert res.label == f"answer_number: {BIG}"
    assert res.expected == f"a number equal to {BIG} (tolerance 0) in the final answer"
    assert res.actual == f"numbers in the answer: {BIG + 1}"
    res = run({"answer_number": {"value": YamlFloat("0.3"), "tolerance": YamlFloat("1e-9")}},
              build_transcript([text("0.1 + 0.2 = 0.30000000000000004, about 3.0e-1")]))
    assert res.label == "answer_number: 0.3 (tolerance: 1e-9)"
    assert res.expected == "a number equal to 0.3 (tolerance 1e-9) in the final answer"
    assert res.actual == "numbers in the answer: 0.1, 0.2, 0.30000000000000004, 3.0e-1"
    res = run({"output_number": {"value": YamlFloat("2.50"),
                                 "tolerance": YamlFloat("0.000000001")}}, OK)
    assert res.label == "output_number: 2.50 (tolerance: 0.000000001)"
    assert "(tolerance 0.000000001)" in res.expected


def test_from_reference_is_exact() -> None:
    ctx = CheckContext(build_transcript([text(f"{BIG + 1}")]), reference_output=f"{BIG}\n")
    res = parse_check({"answer_number": "from_reference"}).run(ctx)
    assert not res.passed
    assert res.expected == (f"a number equal to the reference's answer, {BIG} (tolerance 0) "
                            "in the final answer")


def test_big_numbers_round_trip_through_results(tmp_path: Path) -> None:
    t = build_transcript([code("print(2**100)"), result(f"{BIG}\n"), text(f"{BIG + 1}")])
    checks = [run({"answer_number": BIG}, t), run({"output_number": BIG}, t)]
    record = make_record(item={"case": "c", "model": "m"}, verdict="fail", transcript=t,
                         checks=checks, error=None)
    writer = ResultsWriter(tmp_path)
    writer.write(record)
    writer.close()
    (back,) = read_results(writer.run_dir)
    assert [c["label"] for c in back["checks"]] == [f"answer_number: {BIG}",
                                                    f"output_number: {BIG}"]
    assert str(BIG) in back["checks"][0]["expected"]
    assert back["checks"][0]["actual"] == f"numbers in the answer: {BIG + 1}"
    assert back["checks"] == record["checks"] == [c.to_json() for c in checks]


def test_regex_is_multiline_search() -> None:
    t = build_transcript([code("print('a'); print(5117)"), result("a\n5117\n"), text("ok")])
    assert run({"output_regex": "^5117$"}, t).passed


# --- parse_check: forms ----------------------------------------------------------------------

def test_bare_form() -> None:
    call = parse_check("code_executed")
    assert call.name == "code_executed"
    assert call.args.model_dump() == {"value": True}
    assert call.label == "code_executed"


def test_null_value_is_the_bare_form() -> None:
    # `- code_executed:` (a stray colon) is YAML null.
    assert parse_check({"code_executed": None}).args == parse_check("code_executed").args


def test_short_form() -> None:
    call = parse_check({"answer_number": 5117})
    assert call.args.model_dump() == {"value": 5117, "tolerance": 0}
    assert call.label == "answer_number: 5117"


def test_keyword_form() -> None:
    call = parse_check({"answer_number": {"value": 5117, "tolerance": 0.5}})
    assert call.args.model_dump() == {"value": 5117, "tolerance": Decimal("0.5")}
    assert call.label == "answer_number: 5117 (tolerance: 0.5)"


def test_integral_float_is_accepted_for_a_count() -> None:
    # JSON Schema's "integer" accepts 3.0, so the parser does too.
    assert parse_check({"max_attempts": 3.0}).args.model_dump() == {"n": 3}


def test_parsed_arguments_are_frozen_and_hashable() -> None:
    call = parse_check({"allowed_outcomes": ["OUTCOME_OK", "OUTCOME_FAILED"]})
    assert hash(call)
    with pytest.raises(Exception, match="frozen"):
        call.args.outcomes = ("OUTCOME_OK",)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("entry", "label"), [
    ("code_executed", "code_executed"),
    ({"code_executed": False}, "code_executed: false"),
    ({"answer_number": 5117}, "answer_number: 5117"),
    ({"answer_number": 3.5}, "answer_number: 3.5"),
    ({"output_contains": "5117"}, "output_contains: '5117'"),
    ({"output_contains": {"text": "5117", "run": "last"}}, "output_contains: '5117' (run: last)"),
    ({"output_contains": {"text": "a", "run": "any", "case_sensitive": False}},
     "output_contains: 'a' (case_sensitive: false)"),
    ({"output_regex": r"^\d+$"}, r"output_regex: '^\\d+$'"),
    ({"final_outcome": "OUTCOME_OK"}, "final_outcome: OUTCOME_OK"),
    ({"allowed_outcomes": ["OUTCOME_OK", "OUTCOME_FAILED"]},
     "allowed_outcomes: [OUTCOME_OK, OUTCOME_FAILED]"),
    ({"max_attempts": 5}, "max_attempts: 5"),
    ({"max_tokens": 5000}, "max_tokens: 5000"),
    ({"max_tokens": {"output": 100, "thought": 0}}, "max_tokens (output: 100, thought: 0)"),
    ({"finish_reason": "STOP"}, "finish_reason: 'STOP'"),
    ({"min_images": 1}, "min_images: 1"),
])
def test_label_shows_the_main_argument(entry: Any, label: str) -> None:
    assert parse_check(entry).label == label
    assert run(entry, OK).label == label


def test_long_label_is_clipped() -> None:
    assert len(parse_check({"answer_contains": "x" * 500}).label) < 120


# --- parse_check: errors ---------------------------------------------------------------------

def parse_error(entry: Any) -> CheckParseError:
    with pytest.raises(CheckParseError) as info:
        parse_check(entry)
    return info.value


def test_unknown_check_suggests_the_nearest() -> None:
    err = parse_error({"answer_numbr": 5117})
    assert "unknown check 'answer_numbr'. Did you mean 'answer_number'?" in err.message
    assert "Valid checks: allowed_outcomes, answer_contains" in err.message


def test_unknown_check_without_a_near_name() -> None:
    err = parse_error("zzzzzzzz")
    assert "Did you mean" not in err.message
    assert "Valid checks:" in err.message


@pytest.mark.parametrize("entry", [42, ["code_executed"], {"a": 1, "b": 2}, {}, None])
def test_wrong_shape(entry: Any) -> None:
    assert "each expect entry is a check name" in parse_error(entry).message


def test_missing_argument_bare() -> None:
    err = parse_error("answer_number")
    assert "check 'answer_number' needs an argument, e.g. `- answer_number: <value>`" \
        in err.message
    assert "value (required), tolerance=0" in err.message
    assert err.subpath == ["answer_number"]


def test_missing_argument_keyword() -> None:
    err = parse_error({"answer_number": {"tolerance": 1}})
    assert "bad argument for check 'answer_number': missing argument 'value'." in err.message
    assert err.subpath == ["answer_number"]


@pytest.mark.parametrize(("entry", "fragment", "subpath"), [
    ({"answer_number": "5117"}, "Input should be a valid number (got '5117')", ["answer_number"]),
    ({"answer_number": True}, "valid number", ["answer_number"]),
    ({"answer_number": {"value": 1, "tolerance": -1}},
     "at tolerance: Input should be greater than or equal to 0", ["answer_number", "tolerance"]),
    ({"max_attempts": 0}, "greater than or equal to 1", ["max_attempts"]),
    ({"max_attempts": 2.5}, "valid integer", ["max_attempts"]),
    ({"code_executed": "yes"}, "valid boolean", ["code_executed"]),
    ({"final_outcome": "OK"},
     "Input should be 'OUTCOME_OK', 'OUTCOME_FAILED' or 'OUTCOME_DEADLINE_EXCEEDED'",
     ["final_outcome"]),
    ({"allowed_outcomes": []}, "at least 1 item", ["allowed_outcomes"]),
    ({"allowed_outcomes": "OUTCOME_OK"}, "valid tuple", ["allowed_outcomes"]),
    ({"output_contains": ""}, "at least 1 character", ["output_contains"]),
    ({"output_contains": {"text": "a", "run": "first"}}, "Input should be 'any' or 'last'",
     ["output_contains", "run"]),
    ({"answer_number": float("nan")}, "finite number", ["answer_number"]),
])
def test_bad_argument_type(entry: Any, fragment: str, subpath: list[str]) -> None:
    err = parse_error(entry)
    assert err.message.startswith(f"bad argument for check {next(iter(entry))!r}")
    assert fragment in err.message
    assert "Arguments of" in err.message
    assert err.subpath == subpath


def test_bad_regex_is_a_parse_error() -> None:
    err = parse_error({"answer_regex": "5117("})
    assert "invalid regular expression '5117(' (missing ): 5117()" in err.message
    err = parse_error({"output_regex": {"pattern": "[", "run": "last"}})
    assert "invalid regular expression '['" in err.message
    assert err.subpath == ["output_regex", "pattern"]


def test_regex_features_re2_lacks_are_named() -> None:
    err = parse_error({"answer_regex": r"(\d)\1"})
    assert "backreferences such as \\1" in err.message and "RE2" in err.message
    err = parse_error({"output_regex": "(?<=x)y"})
    assert "look-around such as (?=...)" in err.message


def test_a_catastrophic_regex_does_not_hang() -> None:
    # ^(a+)+$ against 40 a's and a '!' backtracks for minutes in Python's re; RE2 is linear.
    code = ("from harness.checks.registry import parse_check\n"
            "from harness.checks.api import CheckContext\n"
            "from harness.transcript.values import Step, build_transcript\n"
            "t = build_transcript([Step('code', code='print()'), "
            "Step('result', outcome='OUTCOME_OK', output='a' * 40 + '!')])\n"
            "print(parse_check({'output_regex': '^(a+)+$'}).run(CheckContext(t)).passed)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_extra_key_suggests_the_nearest() -> None:
    err = parse_error({"answer_number": {"value": 1, "tolerence": 0.5}})
    assert "unknown argument 'tolerence'. Did you mean 'tolerance'?" in err.message
    assert err.subpath == ["answer_number", "tolerence"]


def test_max_tokens_needs_a_limit() -> None:
    assert not get("max_tokens").bare_allowed
    assert "needs an argument" in parse_error("max_tokens").message
    assert "give at least one limit: total, prompt, output" in \
        parse_error({"max_tokens": {}}).message
    assert "output is null" in parse_error({"max_tokens": {"output": None, "total": 5}}).message


# --- running: a check that raises ------------------------------------------------------------

class NArgs(CheckArgs):
    n: int = Field(1, description="A number.")


@pytest.fixture
def temp_checks() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        unregister(name)


def test_a_raising_check_fails_with_its_reason(temp_checks: list[str]) -> None:
    def boom(ctx: CheckContext, args: NArgs) -> Judgement:
        return Judgement(1 / (args.n - 1) > 0, "", "")

    register(CheckSpec("test_boom", boom, NArgs, "n", "Divides by zero."))
    temp_checks.append("test_boom")
    res = run("test_boom", OK)
    assert not res.passed
    assert res.name == "test_boom"
    assert res.expected == "n: 1"
    assert res.actual == "(check raised)"
    assert res.error is not None
    assert re.match(r"ZeroDivisionError: division by zero \(.*test_checks\.py:\d+\)$", res.error)


def test_a_check_returning_a_non_judgement_fails(temp_checks: list[str]) -> None:
    def sloppy(ctx: CheckContext, args: NArgs) -> Judgement:
        return True  # type: ignore[return-value]

    register(CheckSpec("test_sloppy", sloppy, NArgs, "n", "Returns a bool."))
    temp_checks.append("test_sloppy")
    res = run("test_sloppy", OK)
    assert not res.passed
    assert res.error is not None and "returned bool, expected a harness Judgement" in res.error


# --- plug-in checks (the harness.checks entry-point group) -----------------------------------

class WordArgs(CheckArgs):
    word: str = Field(min_length=1)
    times: int = Field(1, ge=1)


def _word_count(ctx: CheckContext, args: WordArgs) -> Judgement:
    n = ctx.transcript.final_text.count(args.word)
    return Judgement(n >= args.times, f"{args.word!r} at least {args.times}x", f"{n}x")


WORD_SPEC: CheckSpec[WordArgs] = CheckSpec("test_word_count", _word_count, WordArgs, "word",
                                           "The final answer repeats a word.")


def test_registered_check_parses_runs_and_is_in_the_schema(temp_checks: list[str]) -> None:
    register(WORD_SPEC)
    temp_checks.append("test_word_count")
    assert get("test_word_count") is WORD_SPEC
    assert run({"test_word_count": "primes"}, OK).passed
    res = run({"test_word_count": {"word": "primes", "times": 2}}, OK)
    assert (res.passed, res.label, res.expected, res.actual) == (
        False, "test_word_count: 'primes' (times: 2)", "'primes' at least 2x", "1x")
    assert "needs an argument" in parse_error("test_word_count").message
    validator = Draft202012Validator(check_json_schema())
    assert validator.is_valid({"test_word_count": "x"})
    assert not validator.is_valid({"test_word_count": {"times": 2}})


def test_registering_a_name_twice_is_an_error(temp_checks: list[str]) -> None:
    register(WORD_SPEC)
    temp_checks.append("test_word_count")
    register(WORD_SPEC)  # the same spec again is harmless (module imported twice)
    with pytest.raises(ValueError, match="registered twice"):
        register(CheckSpec("test_word_count", _word_count, WordArgs, None, ""))
    with pytest.raises(ValueError, match="registered twice"):
        register(CheckSpec("answer_number", _word_count, WordArgs, None, ""))


def test_check_without_short_form(temp_checks: list[str]) -> None:
    register(CheckSpec("test_kw_only", _word_count, WordArgs, None, "Keyword arguments only."))
    temp_checks.append("test_kw_only")
    err = parse_error({"test_kw_only": "x"})
    assert "takes keyword arguments (word (required), times=1)" in err.message
    assert parse_check({"test_kw_only": {"word": "x"}}).label == "test_kw_only (word: 'x')"


class _FakeEntryPoint:
    def __init__(self, name: str, obj: Any = None, exc: Exception | None = None) -> None:
        self.name, self.value, self._obj, self._exc = name, f"fake_pkg:{name}", obj, exc

    def load(self) -> Any:
        if self._exc is not None:
            raise self._exc
        return self._obj


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, *eps: _FakeEntryPoint) -> None:
    monkeypatch.setattr(registry, "_loaded_entry_points", False)
    monkeypatch.setattr(registry, "entry_points",
                        lambda group: list(eps) if group == registry.ENTRY_POINT_GROUP else [])


def test_entry_point_checks_are_loaded(monkeypatch: pytest.MonkeyPatch,
                                       temp_checks: list[str]) -> None:
    _fake_entry_points(monkeypatch, _FakeEntryPoint("words", [WORD_SPEC]))
    temp_checks.append("test_word_count")
    assert "test_word_count" in all_checks()
    assert set(all_checks()) >= BUILTINS
    assert run({"test_word_count": "sum"}, OK).passed


@pytest.mark.parametrize(("ep", "error", "message"), [
    (_FakeEntryPoint("broken", exc=ModuleNotFoundError("No module named 'fake_pkg'")),
     ImportError, "entry point 'broken' (fake_pkg:broken) in group 'harness.checks' failed "
                  "to load: ModuleNotFoundError"),
    (_FakeEntryPoint("notaspec", obj=object()), TypeError, "gave object, expected harness"),
])
def test_bad_entry_points_say_which(monkeypatch: pytest.MonkeyPatch, ep: _FakeEntryPoint,
                                    error: type[Exception], message: str) -> None:
    _fake_entry_points(monkeypatch, ep)
    with pytest.raises(error, match=re.escape(message)):
        all_checks()
    with pytest.raises(error):  # still failing, not a silently partial registry
        all_checks()


# --- the JSON Schema -------------------------------------------------------------------------

_VALIDATORS: dict[tuple[str, ...], Draft202012Validator] = {}


def validator() -> Draft202012Validator:
    """The schema's validator for the checks registered now (tests register throwaway ones)."""
    key = tuple(all_checks())
    if key not in _VALIDATORS:
        schema = check_json_schema()
        Draft202012Validator.check_schema(schema)
        _VALIDATORS[key] = Draft202012Validator(schema)
    return _VALIDATORS[key]


def test_schema_is_valid_and_self_contained() -> None:
    schema = check_json_schema()
    Draft202012Validator.check_schema(schema)
    assert "$ref" not in repr(schema) and "$defs" not in repr(schema)
    described = {next(iter(alt["properties"])): alt["description"]
                 for alt in schema["anyOf"] if alt["type"] == "object"}
    assert set(described) >= BUILTINS
    assert all(described[name] for name in BUILTINS)


SAMPLES: list[Any] = [
    "code_executed", "answer_number", "max_tokens", "nope", 42, None, [], {},
    {"code_executed": None}, {"answer_number": None}, {"code_executed": True},
    {"code_executed": "yes"}, {"code_executed": {}}, {"code_executed": {"value": False}},
    {"answer_number": 5117}, {"answer_number": 5117.5}, {"answer_number": "5117"},
    {"answer_number": True}, {"answer_number": {"value": 5117, "tolerance": 0.5}},
    {"answer_number": {"value": 5117, "tolerance": -1}}, {"answer_number": {"tolerance": 1}},
    {"answer_number": {"value": 1, "tolerence": 1}}, {"answer_number": [5117]},
    {"answer_number": 1, "code_executed": True}, {"max_attempts": 1}, {"max_attempts": 0},
    {"max_attempts": 3.0}, {"max_attempts": 2.5}, {"final_outcome": "OUTCOME_OK"},
    {"final_outcome": "OUTCOME_UNSPECIFIED"}, {"allowed_outcomes": ["OUTCOME_OK"]},
    {"allowed_outcomes": []}, {"allowed_outcomes": "OUTCOME_OK"},
    {"allowed_outcomes": ["OUTCOME_OK", "BAD"]}, {"output_contains": "x"},
    {"output_contains": ""}, {"output_contains": {"text": "x", "run": "last"}},
    {"output_contains": {"text": "x", "run": "first"}}, {"output_regex": "^x$"},
    {"output_number": {"value": 1, "run": "any", "tolerance": 0}}, {"max_tokens": 100},
    {"max_tokens": {}}, {"max_tokens": {"thought": 0}}, {"max_tokens": {"output": None}},
    {"max_tokens": {"output": -1}}, {"max_tokens": {"outputs": 1}}, {"min_images": 2},
    {"finish_reason": "STOP"}, {"finish_reason": 1}, {"code_not_contains": "input("},
]


def parses(entry: Any) -> bool:
    try:
        parse_check(entry)
    except CheckParseError:
        return False
    return True


@pytest.mark.parametrize("entry", SAMPLES, ids=[repr(s) for s in SAMPLES])
def test_schema_agrees_with_parse_check(entry: Any) -> None:
    assert validator().is_valid(entry) == parses(entry)


def test_schema_cannot_check_regex_syntax() -> None:
    # The one known difference: the schema marks patterns `format: regex` for editors but does
    # not assert formats, so a bad pattern is caught at parse time only.
    assert validator().is_valid({"answer_regex": "5117("})
    assert not parses({"answer_regex": "5117("})


_NAMES = st.sampled_from([*sorted(BUILTINS), "answer_numbr"])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet="ab5 ", max_size=3),  # no regex metacharacters: see the test above
    st.sampled_from(["OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED", "any", "last"]),
    st.lists(st.sampled_from(["OUTCOME_OK", "OUTCOME_FAILED", "x"]), max_size=2),
)
_KEYS = st.sampled_from(sorted({k for n in BUILTINS for k in get(n).args_model.model_fields}
                               | {"bogus"}))
_VALUES = st.one_of(_SCALARS, st.dictionaries(_KEYS, _SCALARS, max_size=3))


def _aimed_entry(name: str) -> st.SearchStrategy[Any]:
    """Entries for one check, using its own argument names: many of these are valid."""
    own_keys = st.sampled_from([*sorted(get(name).args_model.model_fields), "bogus"])
    value = st.one_of(_SCALARS, st.dictionaries(own_keys, _SCALARS, max_size=3))
    return st.fixed_dictionaries({name: value})


_ENTRIES = st.one_of(_NAMES, st.dictionaries(_NAMES, _VALUES, min_size=1, max_size=2),
                     st.sampled_from(sorted(BUILTINS)).flatmap(_aimed_entry))


@settings(max_examples=400, deadline=None)
@given(_ENTRIES)
def test_schema_agrees_with_parse_check_generated(entry: Any) -> None:
    assert validator().is_valid(entry) == parses(entry)
