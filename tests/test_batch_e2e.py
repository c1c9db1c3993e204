"""End to end: --harness-batch against the simulator, stopped after submission, resumed,
then replayed (fast and full) with the verdicts of a normal recording."""

from __future__ import annotations

import json
from pathlib import Path

from harness.sim.batch_config import BatchConfig
from harness.sim.server import start
from harness.spec.load import load_eval_file
from tests.test_plugin_e2e import eval_project, outcomes

pytest_plugins = ["pytester"]

PYPROJECT = '[tool.harness]\nmodels = ["sim-oracle", "sim-wrong"]\ntarget = "sim"\n'
EVALS = """
suite: b
cases:
  - id: primes
    prompt: What is the sum of the first 10 primes? Use code.
    expect: [code_executed, {answer_number: 129}]
  - id: squares
    prompt: What is the sum of the squares of 1..10? Use code.
    expect: [{answer_number: 385}]
  - id: streamed
    api: stream
    prompt: What is 2**10? Use code.
    expect: [{answer_number: 1024}]
"""


def test_batch_record_resume_and_replay(pytester):
    project = eval_project(pytester, PYPROJECT, "b.eval.yaml", EVALS)
    cases = load_eval_file(project.path / "evals" / "b.eval.yaml", project.path).cases
    with start(cases, batch=BatchConfig(delay_s=3, fail=frozenset({"squares"}))) as sim:
        url = ("--harness-base-url", sim.base_url)
        normal = project.runpytest_subprocess("evals", "--record-mode=once",
                                              "--harness-cassette-dir", "normal", *url, "-rA")
        first = project.runpytest_subprocess("evals", "--record-mode=once", "--harness-batch",
                                  "--harness-batch-wait", "0.5", "--harness-batch-poll",
                                  "0.2", *url, "-rA")
        first.stdout.fnmatch_lines(["*2 streaming item(s) record normally*",
                                    "*is still *--harness-batch*"])
        assert (project.path / "reports" / "batch-jobs.json").exists()
        second = project.runpytest_subprocess("evals", "--record-mode=once", "--harness-batch",
                                   "--harness-batch-poll", "0.2", *url, "-rA")
    second.stdout.fnmatch_lines(["*collecting 4 item(s) from 2 job(s)*"])
    got = outcomes(second)
    assert got["evals/b.eval.yaml::squares[sim-oracle]"] == "ERROR"  # the batch failed it
    second.stdout.fnmatch_lines(["*batch job batches/* ended SUCCEEDED without a response*"])
    assert not (project.path / "reports" / "batch-jobs.json").exists()
    cassette = Path(project.path / "cassettes/sim/b/primes/sim-oracle/1.yaml").read_text()
    assert "recorded_via: batch" in cassette and "batch_job: batches/" in cassette
    assert "model_version: sim-oracle-001" in cassette and "record_date: " in cassette
    expected = {k: v for k, v in outcomes(normal).items() if "squares" not in k}
    for mode in ("fast", "full"):
        replay = project.runpytest_subprocess("evals", f"--harness-replay={mode}", "-rA")
        assert {k: v for k, v in outcomes(replay).items() if "squares" not in k} == expected
        records = {r["case"]: r for r in map(json.loads, (
            project.path / "reports/latest/results.jsonl").read_text().splitlines())}
        assert records["primes"]["provenance"]["recorded_via"] == "batch"
        assert records["primes"]["provenance"]["batch_job"].startswith("batches/")
