"""The simulator's parts without HTTP: behaviours, answers, flaky mix, hashing, catalog, CLI."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx2
import pytest

from harness.sandbox.api import ExecResult
from harness.sim import det, devexec, models
from harness.sim.catalog import Catalog, SimCase, load_dir
from harness.sim.cli import add_parser, banner, fault_config
from harness.sim.executor import Runner
from harness.sim.faults import FaultConfig
from harness.sim.server import start as start_sim


def ok(output: str) -> ExecResult:
    return ExecResult("OUTCOME_OK", output)


def test_break_code_makes_a_real_name_error() -> None:
    code = "x = 2\nprint(x)\nprint(x * 2)\n"
    broken = models.break_code(code)
    assert broken == "x = 2\nprint(x)\nprnt(x * 2)\n"
    assert models.break_code("x = 1\n") == "x = 1\nprint(reslt)\n"
    res = devexec.run(broken, timeout=10)
    assert res.outcome == "OUTCOME_FAILED" and "NameError: name 'prnt'" in res.output
    assert 'File "<string>", line 3' in res.output


@pytest.mark.parametrize("output,oracle,wrong", [
    ("45\n", "The result is **45**.", "The result is **46**."),
    ("sum = 5117\n", "The result is **sum = 5117**.", "The result is **sum = 5118**."),
    ("pi is 3.14\n", "The result is **pi is 3.14**.", "The result is **pi is 4.14**."),
    ("x" * 90 + " 12\n", "The result is **12**.", "The result is **13**."),
    ("done\n", "The result is **done**.", "I could not determine the result."),
])
def test_answers(output: str, oracle: str, wrong: str) -> None:
    assert models.answer(ok(output)) == oracle
    assert models.wrong_answer(ok(output)) == wrong


def test_answers_for_failures_and_silence() -> None:
    failed = ExecResult("OUTCOME_FAILED", "Traceback...\nZeroDivisionError: division by zero\n")
    assert "ZeroDivisionError" in models.answer(failed)
    assert models.answer(ExecResult("OUTCOME_DEADLINE_EXCEEDED", "")) == models.TIMEOUT_ANSWER
    assert models.answer(ok("")) == "The code ran and printed nothing."
    assert models.nocode_answer(ok("7\n")).endswith("**7**.")


def test_flaky_mix_is_reproducible_and_matches_the_documented_shares() -> None:
    picks = [models.behaviour_for("sim-flaky", "s/c", k) for k in range(1, 4001)]
    assert picks == [models.behaviour_for("sim-flaky", "s/c", k) for k in range(1, 4001)]
    share = Counter(picks)
    for behaviour, expected in models.FLAKY_MIX:
        assert abs(share[behaviour] / len(picks) - expected) < 0.03
    assert models.behaviour_for("sim-wrong", "s/c", 3) == "wrong"


class CountingExecutor:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, int | None]] = []

    def __call__(self, code: str, files: object = None, timeout: float = 30,
                 seed: int | None = None) -> ExecResult:
        self.calls.append((code, timeout, seed))
        if "itertools.count" in code:
            return ExecResult("OUTCOME_DEADLINE_EXCEEDED", "Searching exhaustively...\n")
        if "prnt(" in code:
            return ExecResult("OUTCOME_FAILED", "NameError: name 'prnt' is not defined\n")
        return ok("45\n")


@pytest.mark.parametrize("model,outcomes,runs", [
    ("sim-oracle", ["OUTCOME_OK"], 1), ("sim-retry", ["OUTCOME_FAILED", "OUTCOME_OK"], 2),
    ("sim-timeout", ["OUTCOME_DEADLINE_EXCEEDED"], 1), ("sim-nocode", [], 1),
    ("sim-wrong", ["OUTCOME_OK"], 1),
])
def test_behaviours_with_an_injected_executor(model: str, outcomes: list[str], runs: int) -> None:
    executor = CountingExecutor()
    writer = models.ScriptWriter(Runner(executor, deadline_s=0.5))
    case = SimCase("s/c", "q", "print(sum(range(10)))")
    ask = models.Ask(model, case, 1, "q")

    async def twice() -> tuple[models.Script, models.Script]:
        return await writer.script(ask), await writer.script(ask)

    first, again = asyncio.run(twice())
    assert first is again and len(executor.calls) == runs  # cached: code runs once
    assert [s.outcome for s in first.steps if isinstance(s, models.Result)] == outcomes
    if model == "sim-timeout":
        assert executor.calls[0][1] == 0.5
    assert {seed for _, _, seed in executor.calls} == {det.seed("s/c", model, 1)}


def test_det_helpers_are_stable() -> None:
    assert det.token("a", 1) == det.token("a", 1) != det.token("a", 2)
    assert len(det.token("x")) == 22 and len(det.short_id("x")) == 8
    assert det.timestamp("x").startswith("2025-") and det.timestamp("x").endswith("Z")
    assert det.digest("a", "bc") != det.digest("ab", "c")
    assert 0 <= det.unit("x") < 1


def test_catalog_lookup(tmp_path: Path) -> None:
    cat = Catalog([SimCase("s/a", "Hello  there", "print(1)"),
                   SimCase("s/b", "Hello there", "print(2)"),
                   SimCase("s/chat", "Second?", "print(3)", turns=("First.", "Second?"))])
    assert cat.by_prompt(" Hello there\n").key == "s/a"  # type: ignore[union-attr]
    assert cat.by_key("s/b").reference == "print(2)"  # type: ignore[union-attr]
    assert cat.by_key("nope") is None and cat.by_prompt("nope") is None
    chat = cat.by_prompt("First.")
    assert chat is not None and chat.is_early_turn("First.") and not chat.is_early_turn("Second?")


def test_load_dir_reads_eval_files(tmp_path: Path) -> None:
    (tmp_path / "a.eval.yaml").write_text(
        "suite: demo\ncases:\n  - id: one\n    prompt: What is 2+2?\n"
        "    reference: print(2+2)\n  - id: two\n    prompt: No reference here.\n")
    (tmp_path / "broken.eval.yaml").write_text("cases: [")
    cases = load_dir(tmp_path)
    assert [(c.key, c.reference) for c in cases] == [("demo/one", "print(2+2)"),
                                                     ("demo/two", None)]
    with pytest.raises(FileNotFoundError):
        load_dir(tmp_path / "missing")


def test_cli_parser_and_fault_options() -> None:
    parser = argparse.ArgumentParser(prog="harness")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sim", "--port", "0", "--fault-rate", "0.4", "--fault",
                              "429=0.2", "--seed", "5"])
    faults = fault_config(args)
    assert faults is not None and faults.rates["429"] == 0.2 and faults.seed == 5
    # --fault reads the grammar of $HARNESS_SIM_FAULTS: the same text means the same faults
    for spec in ("latency=0.5", "latency=0.2,delay=0.7,seed=3", "503@2"):
        assert fault_config(parser.parse_args(["sim", "--fault", spec])) == FaultConfig.parse(spec)
    assert fault_config(parser.parse_args(["sim"])) is None
    with pytest.raises(SystemExit):
        parser.parse_args(["sim", "--fault", "teapot=1"])
    text = banner("http://127.0.0.1:1", 3, faults)
    assert "GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:1" in text and "base_url" in text


def test_command_serves(tmp_path: Path) -> None:
    (tmp_path / "a.eval.yaml").write_text(
        "suite: demo\ncases:\n  - id: one\n    prompt: What is 2+2?\n    reference: print(2+2)\n")
    proc = subprocess.Popen([sys.executable, "-m", "harness.sim.cli", "--evals", str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("harness sim: serving 1 case(s) on http://127.0.0.1:")
        base = first.rsplit(" ", 1)[1].strip()
        r = httpx2.post(f"{base}/v1beta/models/sim-nocode:generateContent",
                        json={"contents": [{"parts": [{"text": "What is 2+2?"}]}]},
                        headers={"x-goog-api-key": "k"}, timeout=60)
        assert r.status_code == 200 and "**4**" in r.text
    finally:
        proc.terminate()
        proc.wait(10)


def test_default_executor_is_the_sandbox() -> None:
    from harness.sandbox.execute import run
    from harness.sim.executor import default_executor

    assert default_executor() is run


def test_behaviours_in_the_real_sandbox() -> None:
    case = SimCase("s/sum", "Sum?", "print(sum(range(10)))")
    body = {"contents": [{"parts": [{"text": "Sum?"}]}]}
    with start_sim([case], deadline_s=1.0, faults=FaultConfig()) as server:
        got = {}
        for model in ("sim-retry", "sim-timeout"):
            r = httpx2.post(f"{server.base_url}/v1beta/models/{model}:generateContent",
                            json=body, headers={"x-goog-api-key": "k"}, timeout=120)
            parts = r.json()["candidates"][0]["content"]["parts"]
            got[model] = [p["codeExecutionResult"]["outcome"] for p in parts
                          if "codeExecutionResult" in p]
    assert got == {"sim-retry": ["OUTCOME_FAILED", "OUTCOME_OK"],
                   "sim-timeout": ["OUTCOME_DEADLINE_EXCEEDED"]}


def test_thought_tokens_and_partial_stream_usage() -> None:
    from harness.sim import parse, wire
    from harness.sim.models import Script, Text

    body = {"contents": [{"role": "user", "parts": [{"text": "q"}]}],
            "generationConfig": {"thinkingConfig": {"thinkingBudget": 256}}}
    assert parse.generate_request(body, lambda _: None).thinking
    body["generationConfig"]["thinkingConfig"]["thinkingBudget"] = 0
    assert not parse.generate_request(body, lambda _: None).thinking
    assert parse.interaction_request({"input": "q", "generation_config": {
        "thinking_summaries": "auto"}}, lambda _: None).thinking
    script = Script("oracle", (Text("one " * 40), Text("two")))
    u = wire.usage(script, 10, thinking=True)
    assert u.thoughts == 2 * wire.THOUGHT_TOKENS_PER_STEP and u.total == 10 + u.candidates + \
        u.thoughts
    assert wire.usage_metadata(u)["thoughtsTokenCount"] == u.thoughts
    assert "thoughtsTokenCount" not in wire.usage_metadata(wire.usage(script, 10))
    meta = wire.Meta("m", "r", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z")
    chunks = wire.generate_chunks(script, meta, u)
    assert [c["usageMetadata"].get("candidatesTokenCount") for c in chunks] == [
        None] * (len(chunks) - 1) + [u.candidates]
    assert all(c["usageMetadata"]["promptTokenCount"] == 10 for c in chunks)
