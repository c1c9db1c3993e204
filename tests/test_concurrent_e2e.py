"""End to end: recording at concurrency 4 against the simulator with latency gives one
cassette per item, byte-identical to a serial recording, with the same verdicts; a budget
turns the items it did not start into ERRORs that say how to continue."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.test_plugin_e2e import eval_project, outcomes

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle", "sim-wrong"]
target = "sim"
prices = {"sim-oracle" = {input = 1.0, output = 2.0}, "sim-wrong" = {input = 1.0, output = 2.0}}
rate_limits = {"*" = {rpm = 1000}}
"""
APIS = ("generate_content", "stream", "chat", "interactions")
EVALS = "suite: conc\ncases:\n" + "".join(
    f"  - id: c{i}\n    api: {api}\n"
    + ("    turns: [Hello., What is 7 squared? Run code.]\n" if api == "chat"
       else "    prompt: What is 7 squared? Run code.\n")
    + "    reference: print(7 * 7)\n    expect: [code_executed, {answer_number: 49}]\n"
    for i, api in enumerate(APIS))


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("HARNESS_SIM_FAULTS", "latency=1.0,delay=0.3")
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return eval_project(pytester, PYPROJECT, "conc.eval.yaml", EVALS)


def test_concurrent_recording_equals_serial_and_the_budget_stops(project):
    serial = project.runpytest_subprocess("evals", "-rA", "--record-mode=rewrite")
    files = sorted((project.path / "cassettes").rglob("*.yaml"))
    assert len(files) == 8
    stored = {p: p.read_bytes() for p in files}
    shutil.rmtree(project.path / "cassettes")

    conc = project.runpytest_subprocess("evals", "-rA", "-v", "--record-mode=rewrite",
                                        "--harness-concurrency", "4")
    assert outcomes(conc) == outcomes(serial)
    assert set(outcomes(conc).values()) == {"PASSED", "FAILED"}
    assert sorted((project.path / "cassettes").rglob("*.yaml")) == files  # one per item
    assert {p: p.read_bytes() for p in files} == stored
    assert all(b"\n  recorded_via: normal\n" in p.read_bytes() for p in files)  # provenance
    records = [json.loads(line) for line in
               (project.path / "reports/latest/results.jsonl").read_text().splitlines()]
    assert {r["provenance"]["recorded_via"] for r in records} == {"normal"}
    assert not list((project.path / "cassettes").rglob(".*recording*"))
    conc.stdout.fnmatch_lines(["*harness: recording */8 | * in flight*ETA*"])

    budget = project.runpytest_subprocess("evals", "-rA", "--record-mode=rewrite",
                                          "--harness-budget-usd", "0.000001")
    found = outcomes(budget)
    assert list(found.values()).count("ERROR") == 7  # the first fits, then the budget is spent
    budget.stdout.fnmatch_lines(["*harness budget error (not a model failure)*",
                                 "budget reached: *",
                                 "To continue*pytest * evals -rA --harness-budget-usd 0.000001 "
                                 "--record-mode=once"])
    assert len(list((project.path / "cassettes").rglob("*.yaml"))) == 8  # none destroyed
