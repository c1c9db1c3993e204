"""The reports' "What changed" section: a record run against the previous run, end to end."""

from __future__ import annotations

import json

import pytest

from tests.test_plugin_e2e import eval_project

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle"]
target = "sim"
"""

EVALS = """
suite: changes
cases:
  - id: sum
    prompt: Add 41 and 1 in code.
    reference: print(41 + 1)
    expect: [code_executed]
  - id: same
    prompt: Add 2 and 2 in code.
    reference: print(2 + 2)
    expect: [code_executed]
"""


def _summary(project: pytest.Pytester) -> dict:
    return json.loads((project.path / "reports" / "latest" / "summary.json").read_text())


def test_a_record_run_reports_what_changed_since_the_previous_run(
        pytester: pytest.Pytester) -> None:
    project = eval_project(pytester, PYPROJECT, "changes.eval.yaml", EVALS)
    first = project.runpytest_subprocess("evals", "--record-mode=rewrite")
    first.assert_outcomes(passed=2)
    assert "what_changed" not in _summary(project)  # nothing to compare with yet

    evals = project.path / "evals" / "changes.eval.yaml"
    evals.write_text(EVALS.replace("41 + 1", "40 + 3").replace("41 and 1", "40 and 3"))
    project.runpytest_subprocess("evals", "--record-mode=rewrite").assert_outcomes(passed=2)
    changed = _summary(project)["what_changed"]
    assert changed["compared"] == 2 and changed["changed"] == 1
    answer = changed["groups"]["answer"]
    assert [c["item"] for c in answer] == ["changes::sum [sim-oracle]"]
    assert "42" in answer[0]["summary"] and "43" in answer[0]["summary"]
    assert answer[0]["a_href"].startswith("../") and answer[0]["b_href"].startswith("#")
    latest = project.path / "reports" / "latest"
    assert "## What changed since run" in (latest / "report.md").read_text()
    assert 'id="changes"' in (latest / "report.html").read_text()

    project.runpytest_subprocess("evals").assert_outcomes(passed=2)  # replay: no section
    assert "what_changed" not in _summary(project)
