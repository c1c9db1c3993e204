"""Function calling: declarations in the spec, the harness's answers, the loop, the checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.calls.functions import FunctionLoop, FunctionTable
from harness.checks.api import CheckContext
from harness.checks.functions import args_match
from harness.checks.registry import parse_check
from harness.spec.case import EvalFile, SpecError
from harness.spec.load import load_eval_file
from harness.transcript.values import FunctionCall, Step, Transcript, build_transcript

RATE = """
suite: fx
cases:
  - id: rate
    prompt: Get the rate, then compute.
    functions:
      get_rate:
        description: The rate.
        parameters:
          type: object
          properties: {base: {type: string}, quote: {type: string}, days: {type: integer}}
          required: [base, quote]
        returns:
          - when: {base: EUR, quote: USD}
            returns: {rate: 1.0842}
          - when: {base: GBP}
            returns: 1.27
      ping:
        returns: pong
    max_function_calls: 3
    expect: [{called: get_rate}]
"""


def load(tmp_path: Path, text: str = RATE) -> EvalFile:
    path = tmp_path / "fx.eval.yaml"
    path.write_text(text)
    return load_eval_file(path, root=tmp_path)


def test_declarations_load_with_their_results_and_the_loop_limit_check(tmp_path: Path) -> None:
    case = load(tmp_path).cases[0]
    assert [f.name for f in case.functions] == ["get_rate", "ping"]
    assert [r.when for r in case.functions[0].results] == [{"base": "EUR", "quote": "USD"},
                                                           {"base": "GBP"}]
    assert case.functions[1].results[0].returns == "pong" and case.max_function_calls == 3
    assert [c.label for c in case.expect] == ["called: 'get_rate'", "max_function_calls: 3"]
    assert case.functions[0].line == 8  # the line of `get_rate:`


@pytest.mark.parametrize(("bad", "message"), [
    ("parameters: {type: objekt}", "not a valid JSON Schema"),
    ("parameters: {type: string}", "use `type: object`"),
    ("returns: [{when: 3, returns: 1}]", "`when:` is a mapping"),
])
def test_a_bad_declaration_is_a_spec_error_at_its_line(tmp_path: Path, bad: str,
                                                        message: str) -> None:
    text = f"""
suite: fx
cases:
  - id: rate
    prompt: p
    functions:
      f:
        returns: 1
        {bad}
"""
    with pytest.raises(SpecError) as err:
        load(tmp_path, text.replace("        returns: 1\n        returns:", "        returns:"))
    assert message in str(err.value) and "fx.eval.yaml:" in str(err.value)


def test_a_limit_without_functions_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="declares none"):
        load(tmp_path, "cases:\n  - id: a\n    prompt: p\n    max_function_calls: 2\n")


def test_answers_come_from_the_first_matching_canned_result(tmp_path: Path) -> None:
    table = FunctionTable(load(tmp_path).cases[0].functions)
    assert table.answer("get_rate", {"base": "EUR", "quote": "USD", "days": 1}) == (
        {"rate": 1.0842}, None)
    assert table.answer("get_rate", {"base": "GBP", "quote": "USD"}) == ({"result": 1.27}, None)
    assert table.answer("ping", {}) == ({"result": "pong"}, None)


@pytest.mark.parametrize(("name", "args", "problem"), [
    ("get_ratez", {}, "'get_ratez' is not a declared function (declared: get_rate, ping)"),
    ("get_rate", {"base": "EUR"}, "arguments rejected by the schema: 'quote' is a required"),
    ("get_rate", {"base": "EUR", "quote": "USD", "days": "two"},
     "arguments rejected by the schema: 'two' is not of type 'integer' (at days)"),
    ("get_rate", {"base": "JPY", "quote": "USD"}, "no canned result matches these arguments"),
])
def test_mistaken_calls_are_answered_with_an_error_and_their_reason(
        tmp_path: Path, name: str, args: dict, problem: str) -> None:
    response, why = FunctionTable(load(tmp_path).cases[0].functions).answer(name, args)
    assert why is not None and why.startswith(problem) and response == {"error": why}


def _hop(*calls: tuple[str, dict], text: str = "") -> Transcript:
    steps = [Step("call", name=n, args=a, id=f"c{i}") for i, (n, a) in enumerate(calls)]
    return build_transcript([*steps, *([Step("text", text=text)] if text else [])])


def test_the_loop_answers_each_hop_and_keeps_calls_and_answers_in_order(tmp_path: Path) -> None:
    loop = FunctionLoop(load(tmp_path).cases[0], turn=2)
    sent = loop.answers(_hop(("get_rate", {"base": "EUR", "quote": "USD"}), ("ping", {})))
    assert [a.response for a in sent] == [{"rate": 1.0842}, {"result": "pong"}]
    assert loop.answers(_hop(text="The rate is 1.0842.")) == []
    t = loop.transcript()
    assert [s.type for s in t.steps] == ["call", "call", "call_result", "call_result", "text"]
    assert t.steps[2].id == "c0" and t.final_text == "The rate is 1.0842."
    assert [(c.name, c.valid, c.turn) for c in t.function_calls] == [
        ("get_rate", True, 2), ("ping", True, 2)]
    assert not t.function_loop_stopped


def test_a_model_that_keeps_calling_is_stopped_at_the_limit(tmp_path: Path) -> None:
    case = load(tmp_path).cases[0]  # max_function_calls: 3
    loop = FunctionLoop(case)
    hops = 0
    while loop.answers(_hop(("ping", {}), ("ping", {}))):
        hops += 1
        assert hops < 10, "the loop never stopped"
    t = loop.transcript()
    assert hops == 1 and t.function_loop_stopped
    assert [c.answered for c in t.function_calls] == [True, True, False, False]
    limit = next(c for c in case.expect if c.name == "max_function_calls")
    result = limit.run(CheckContext(t))
    assert not result.passed and "kept calling" in result.actual


def ctx(*calls: FunctionCall) -> CheckContext:
    return CheckContext(Transcript(function_calls=calls))


def test_called_needs_a_valid_matching_call() -> None:
    good = FunctionCall("get_rate", {"base": "EUR", "quote": "USD"})
    bad = FunctionCall("get_rate", {"base": "EUR"}, problem="arguments rejected")
    check = parse_check({"called": {"name": "get_rate", "args": {"base": "EUR"}}})
    assert check.run(ctx(good)).passed
    result = check.run(ctx(bad))
    assert not result.passed and "arguments rejected" in result.actual
    assert not parse_check({"called": "ping"}).run(ctx(good)).passed


def test_not_called_counts_every_call_and_max_function_calls_counts_them() -> None:
    bad = FunctionCall("drop_table", {}, problem="'drop_table' is not a declared function")
    assert not parse_check({"not_called": "drop_table"}).run(ctx(bad)).passed
    assert parse_check({"not_called": "drop_table"}).run(ctx()).passed
    two = ctx(FunctionCall("a", {}), FunctionCall("b", {}))
    assert parse_check({"max_function_calls": 2}).run(two).passed
    assert not parse_check({"max_function_calls": 1}).run(two).passed


def test_partial_argument_matching() -> None:
    assert args_match({"a": 1}, {"a": 1.0, "b": 2})
    assert args_match({"o": {"x": 1}}, {"o": {"x": 1, "y": 2}})
    assert not args_match({"a": 1}, {"a": True})
    assert not args_match({"a": 1}, {"b": 1})
    assert not args_match({"o": {"x": 1}}, {"o": {"x": 2}})


def test_the_html_report_shows_calls_and_answers_and_the_answer_after_them() -> None:
    from harness.report.panels import Limits, steps_html

    t = build_transcript([Step("text", text="Looking it up."),
                          Step("call", name="get_rate", args={"base": "EUR"}),
                          Step("call_result", name="get_rate", response={"rate": 1.5}),
                          Step("text", text="It is 1.5.")])
    html = steps_html(t.to_json(), None, Limits())
    assert "function call · get_rate" in html and "answered by the harness · get_rate" in html
    assert "&quot;rate&quot;: 1.5" in html and "unknown type" not in html
    assert html.count("It is 1.5.") == 1 and "Looking it up." in html


def test_the_html_report_lists_search_queries_and_sources_with_inert_links() -> None:
    from harness.report.panels import grounding_html

    html = grounding_html({"queries": ["tallest <b>buildings</b>"], "sources": [
        {"kind": "web", "uri": "https://example.org/a", "title": "Example"},
        {"kind": "web", "uri": "javascript:alert(1)", "title": "bad"}]})
    assert "tallest &lt;b&gt;buildings&lt;/b&gt;" in html
    assert '<a href="https://example.org/a"' in html and "javascript:" not in html.split("bad")[0]
    assert 'href="javascript' not in html
    assert grounding_html(None) == ""
