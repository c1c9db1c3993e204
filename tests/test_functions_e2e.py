"""End to end through pytest and the real SDK against the simulator: the function-calling
loop on every HTTP surface, a malformed argument and a model that never stops calling,
recorded and then replayed offline with the same verdicts."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.test_plugin_e2e import eval_project, outcomes

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle"]
target = "sim"
"""

FUNCTION = """
    functions:
      get_rate:
        parameters:
          type: object
          properties: {base: {type: string}, quote: {type: string}}
          required: [base, quote]
        returns: {rate: 1.5}
    reference: print(8 * 1.5)
"""
GOOD = "    sim: {calls: [{name: get_rate, args: {base: EUR, quote: USD}}]}\n" + FUNCTION
CASES = "".join(f"""
  - id: {api}
    api: {api}
    prompt: Get the rate with get_rate, then convert 8 EUR with code ({api}).
{GOOD}    expect: [{{called: {{name: get_rate, args: {{quote: USD}}}}}}, {{answer_number: 12}}]
""" for api in ("generate_content", "stream", "chat", "interactions"))
EVALS = f"""
suite: fn
cases:{CASES}
  - id: chat-stream
    api: chat
    stream: true
    turns:
      - Hello.
      - Get the rate with get_rate, then convert 8 EUR with code (streamed chat).
{GOOD}    expect: [called: get_rate, {{answer_number: 12}}]
  - id: malformed-argument
    prompt: Get the rate with get_rate (a malformed call).
    sim: {{calls: [{{name: get_rate, args: {{base: 7}}}}]}}
{FUNCTION}    expect: [called: get_rate]
  - id: endless-calls
    prompt: Get the rate with get_rate, again and again.
    max_function_calls: 2
    sim: {{calls: [{"{name: get_rate, args: {base: EUR, quote: USD}}, " * 5}]}}
{FUNCTION}    expect: [{{answer_number: 12}}]
  - id: chat-endless
    api: chat
    max_function_calls: 1
    turns:
      - prompt: Get the rate with get_rate, again and again (chat).
        reference: print(8 * 1.5)
      - And now?
    sim: {{calls: [{"{name: get_rate, args: {base: EUR, quote: USD}}, " * 3}]}}
    functions: {{get_rate: {{returns: 1.5}}}}
    expect: [{{answer_number: 12}}]
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return eval_project(pytester, PYPROJECT, "fn.eval.yaml", EVALS)


def test_function_calls_record_and_replay_on_every_surface(project: pytest.Pytester) -> None:
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-rA")
    got = outcomes(rec)
    node = "evals/fn.eval.yaml::{}[sim-oracle]"
    assert got == {**{node.format(c): "PASSED" for c in (
        "generate_content", "stream", "chat", "interactions", "chat-stream")},
        node.format("malformed-argument"): "FAILED",
        node.format("endless-calls"): "FAILED", node.format("chat-endless"): "FAILED"}, \
        rec.stdout.str()
    out = rec.stdout.str()
    assert "Traceback" not in out
    assert ("function calls: get_rate(base=7) (arguments rejected by the schema: 'quote' is a "
            "required property)") in out
    assert "3 function calls (the harness stopped answering: the model kept calling)" in out
    assert ("not sent: the harness stopped answering function calls in turn 1 "
            "(max_function_calls: 1)") in out
    assert "0 function calls (this turn was not sent: the model kept calling" in out
    assert "harness: turn 2: not sent" in out and "API reported: turn 2" not in out

    root = project.path / "cassettes/sim/fn"
    hops = yaml.safe_load((root / "generate_content/sim-oracle/1.yaml").read_text())
    second = json.loads(hops["interactions"][1]["request"]["body"])
    assert [c["role"] for c in second["contents"]] == ["user", "model", "user"]
    assert second["contents"][2]["parts"][0]["functionResponse"]["response"] == {"rate": 1.5}
    chained = yaml.safe_load((root / "interactions/sim-oracle/1.yaml").read_text())
    answer = json.loads(chained["interactions"][1]["request"]["body"])
    assert answer["input"][0]["type"] == "function_result" and answer["previous_interaction_id"]

    records = {json.loads(line)["case"]: json.loads(line) for line in
               (project.path / "reports/latest/results.jsonl").read_text().splitlines()}
    calls = records["malformed-argument"]["transcript"]["function_calls"]
    assert calls[0]["args"] == {"base": 7} and "required property" in calls[0]["problem"]
    assert "automatic function calling" not in out  # the harness runs the loop, not the SDK

    replay = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(replay) == got
