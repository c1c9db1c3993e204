"""verify_output and `harness verify` end to end: record the simulator (the re-runs are cached
beside each cassette), replay offline, then tamper with a recorded output and see it diverge."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_plugin_e2e import eval_project, outcomes

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle", "sim-retry"]
target = "sim"
"""
EVALS = """
suite: verify
cases:
  - id: csv-total
    inputs: [{file: data.csv}]
    prompt: What is the total of column a in data.csv? Run code.
    reference: |
      import csv
      rows = list(csv.DictReader(open("data.csv")))
      total = sum(int(r["a"]) for r in rows)
      print("total:", total)
    expect: [verify_output, {answer_contains: "total"}]
  - id: bad-allow
    prompt: x
    expect: [{verify_output: {allow: [unsafe]}}]
"""
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    p = eval_project(pytester, PYPROJECT, "verify.eval.yaml", EVALS.replace(
        "  - id: bad-allow\n    prompt: x\n    expect: [{verify_output: {allow: [unsafe]}}]\n",
        ""))
    (p.path / "evals" / "data.csv").write_text("a\n1\n2\n3\n")
    return p


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    # `python -m harness` in the project's directory must import this checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT),
                                                      os.environ.get("PYTHONPATH", "")]))


def harness_cli(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.run(sys.executable, "-m", "harness", *args)


def test_verify_output_records_caches_replays_and_catches_a_tampered_output(project):
    rec = project.runpytest_subprocess("evals", "--record-mode=once", "-rA")
    node = "evals/verify.eval.yaml::csv-total[{}]"
    assert outcomes(rec) == {node.format("sim-oracle"): "PASSED",
                             node.format("sim-retry"): "PASSED"}, rec.stdout.str()
    case_dir = project.path / "cassettes/sim/verify/csv-total"
    caches = sorted(p.relative_to(case_dir).as_posix() for p in case_dir.rglob("*.verify.json"))
    assert caches == ["sim-oracle/1.verify.json", "sim-retry/1.verify.json"]
    retry = json.loads((case_dir / "sim-retry/1.verify.json").read_text())
    assert [r["outcome"] for r in retry["runs"]] == ["OUTCOME_FAILED", "OUTCOME_OK"] or \
        sorted(r["outcome"] for r in retry["runs"]) == ["OUTCOME_FAILED", "OUTCOME_OK"]

    replay = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(replay) == outcomes(rec)
    assert sorted(case_dir.rglob("*.verify.json")) == sorted(
        case_dir / c for c in caches)  # replay writes nothing

    cli = harness_cli(project, "verify", "evals")
    assert cli.ret == 0, cli.stdout.str()
    assert "2 recording(s), 3 code run(s): 3 reproduced, 0 diverged" in cli.stdout.str()
    run_dir = harness_cli(project, "verify", "reports/latest")  # a run: its items' cassettes
    assert run_dir.ret == 0 and "3 reproduced" in run_dir.stdout.str(), run_dir.stdout.str()

    # Tamper with what the API said the code printed: the cached re-run stays valid (it is
    # keyed by the code and the inputs), the judgement changes.
    cassette = case_dir / "sim-oracle/1.yaml"
    data = yaml.safe_load(cassette.read_text())
    body = data["interactions"][-1]["response"]["body"]
    assert "total: 6\\n" in body["string"]
    body["string"] = body["string"].replace('"output": "total: 6', '"output": "total: 7')
    assert "total: 7" in body["string"]
    cassette.write_text(yaml.safe_dump(data, sort_keys=False))
    tampered = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(tampered)[node.format("sim-oracle")] == "FAILED"
    out = tampered.stdout.str()
    assert "diverged" in out and "total: 7" in out and "total: 6" in out
    assert "csv.DictReader" in out  # the code is shown with the failure
    cli = harness_cli(project, "verify", "evals")
    assert cli.ret == 1
    assert "csv-total[sim-oracle#1] run 1: diverged" in cli.stdout.str()
    assert "-total: 7" in cli.stdout.str() and "+total: 6" in cli.stdout.str()

    # Without the case's inputs (a bare cassette), the read is explained, not a divergence.
    bare = harness_cli(project, "verify", str(case_dir / "sim-retry/1.yaml"))
    assert "not reproducible here: reads 'data.csv', which is not among the case's inputs" \
        in bare.stdout.str()


def test_allowing_unsafe_runs_is_a_spec_error_at_its_line(pytester: pytest.Pytester):
    eval_project(pytester, PYPROJECT, "verify.eval.yaml", EVALS)
    (pytester.path / "evals" / "data.csv").write_text("a\n1\n")
    result = pytester.runpytest_subprocess("evals", "-rA")
    out = result.stdout.str()
    assert "invalid-eval-file" in out
    assert "verify.eval.yaml:15" in out and "'unsafe' runs can never be allowed" in out


CORPUS = ROOT.parent / "shared" / "conformance"


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"conformance corpus not found at {CORPUS}")
def test_harness_verify_on_the_real_recordings(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cassettes.verify_cli import run_command

    code = run_command([str(CORPUS)], ROOT / "cassettes" / "sim", show_diff=False)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[-1].startswith("22 recording(s), 30 code run(s):"), lines[-1]
    assert "0 unsafe" in lines[-1]
    # gemini-2.0-flash's recorded errors come from a shell parser: the API did not run Python
    assert code == 1 and " diverged: outcome OUTCOME_FAILED recorded, OUTCOME_OK here; the " \
        "recorded error is a shell parser's" in out
    clock = [ln for ln in lines if "pydantic-g25pro-twoturn-rawjson" in ln]
    assert clock and all("not reproducible here" in ln and "reads the clock or the date" in ln
                         for ln in clock)
    assert any("module 'pytz' is missing from the local sandbox" in ln for ln in clock)
    assert "the recording holds no result for this run" in out
    assert sum(": reproduced" in ln for ln in lines) >= 15
