"""Ground truth from `reference:`: computed in the sandbox when recording, stored beside the
cassettes, read on replay; failures and stale outputs are spec ERRORs, never model FAILs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cassettes import reference
from harness.checks.api import CheckContext
from harness.checks.registry import parse_check
from harness.spec.load import load_eval_file
from harness.transcript.values import Step, build_transcript

pytest_plugins = ["pytester"]

EVALS = """
suite: refs
cases:
  - id: cube
    prompt: What is 7 cubed? Run code.
    reference: |
      print("computing")
      print(7 ** 3)
    expect: [{answer_number: from_reference}, {output_number: from_reference}]
"""


def case(tmp_path: Path, text: str = EVALS):
    path = tmp_path / "refs.eval.yaml"
    path.write_text(text)
    return load_eval_file(path).cases[0]


def test_store_and_load_round_trip(tmp_path):
    c = case(tmp_path)
    ref = reference.ReferenceOutput(reference.code_hash(c.reference), "OUTCOME_OK", "343\n")
    path = reference.stored_path(tmp_path / "case-dir")
    reference.store(path, ref)
    assert reference.load(path, c, "HINT") == ref
    first = path.read_bytes()
    reference.store(path, ref)
    assert path.read_bytes() == first  # deterministic: re-recording changes nothing


def test_missing_and_stale_outputs_say_how_to_record(tmp_path):
    c = case(tmp_path)
    path = reference.stored_path(tmp_path / "case-dir")
    with pytest.raises(reference.ReferenceError, match=r"none is stored.*HINT"):
        reference.load(path, c, "HINT")
    reference.store(path, reference.ReferenceOutput("0" * 64, "OUTCOME_OK", "1\n"))
    with pytest.raises(reference.ReferenceError, match="changed since its output was stored"):
        reference.load(path, c, "HINT")


def test_compute_runs_the_reference_in_the_sandbox(tmp_path):
    out = reference.compute(case(tmp_path))
    assert out.outcome == "OUTCOME_OK" and out.output.splitlines() == ["computing", "343"]


def test_a_failing_reference_is_a_spec_error(tmp_path):
    bad = case(tmp_path, EVALS.replace("print(7 ** 3)", "print(7 ** undefined_name)"))
    with pytest.raises(reference.ReferenceError, match="NameError") as info:
        reference.compute(bad)
    assert info.value.kind == "spec" and "harness exec" in str(info.value)


@pytest.mark.parametrize(("answer", "passed"), [("The cube is **343**.", True),
                                                ("The cube is 342.", False)])
def test_from_reference_takes_the_last_number_printed(answer, passed):
    transcript = build_transcript([Step("code", code="print(7**3)"),
                                   Step("result", outcome="OUTCOME_OK", output="343\n"),
                                   Step("text", text=answer)])
    ctx = CheckContext(transcript, reference_output="computing\n343\n")
    result = parse_check({"answer_number": "from_reference"}).run(ctx)
    assert result.passed is passed
    assert "the reference's answer, 343" in result.expected


def test_from_reference_without_a_reference_is_a_load_error(tmp_path):
    from harness.spec.case import SpecError

    text = EVALS.replace('    reference: |\n      print("computing")\n      print(7 ** 3)\n', "")
    with pytest.raises(SpecError, match="has no `reference:`"):
        case(tmp_path, text)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject='[tool.harness]\nmodels = ["sim-oracle"]\n'
                                         'target = "sim"\n')
    (pytester.path / "evals").mkdir()
    (pytester.path / "evals" / "refs.eval.yaml").write_text(EVALS)
    return pytester


def test_recorded_reference_is_stored_and_replayed(project):
    project.runpytest_subprocess("evals", "--record-mode=rewrite").assert_outcomes(passed=1)
    stored = project.path / "cassettes/sim/refs/cube/reference.json"
    assert json.loads(stored.read_text())["output"] == "computing\n343\n"
    project.runpytest_subprocess("evals").assert_outcomes(passed=1)


def test_an_edited_reference_is_an_error_until_recorded_again(project):
    project.runpytest_subprocess("evals", "--record-mode=rewrite").assert_outcomes(passed=1)
    evals = project.path / "evals" / "refs.eval.yaml"
    evals.write_text(evals.read_text().replace("7 ** 3", "7 * 7 * 7"))
    result = project.runpytest_subprocess("evals")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "harness spec error (not a model failure)" in out
    assert "changed since its output was stored" in out
    assert "pytest evals/refs.eval.yaml -k cube --record-mode=once" in out
    # --record-mode=once re-runs the reference and replays the existing cassette
    project.runpytest_subprocess("evals", "--record-mode=once").assert_outcomes(passed=1)
    project.runpytest_subprocess("evals").assert_outcomes(passed=1)


def test_a_failing_reference_errors_before_any_call(project):
    evals = project.path / "evals" / "refs.eval.yaml"
    evals.write_text(evals.read_text().replace("print(7 ** 3)", "print(7 / 0)"))
    result = project.runpytest_subprocess("evals", "--record-mode=rewrite")
    result.assert_outcomes(errors=1)
    assert "ZeroDivisionError" in result.stdout.str()
    assert not (project.path / "cassettes").exists()
