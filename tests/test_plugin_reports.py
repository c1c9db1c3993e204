"""The end of a run through pytest: summary.json, reports, history, the gate and JUnit.

Records with the bundled simulator in-process (`--target sim`), then replays.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.test_report_html import parse

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle", "sim-wrong"]
baseline = "sim-oracle"
target = "sim"
"""

EVALS = """
suite: demo
cases:
""" + "".join(f"""
  - id: add-{i}
    prompt: What is {i} + {i}? Run code.
    reference: print({i} + {i})
    expect: [code_executed, {{answer_number: {2 * i}}}]
""" for i in range(1, 7))


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    (pytester.path / "evals").mkdir()
    (pytester.path / "evals" / "demo.eval.yaml").write_text(EVALS)
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL",
                "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)
    return pytester


def latest(project: pytest.Pytester) -> Path:
    return project.path / "reports" / "latest"


def history(project: pytest.Pytester) -> list[dict]:
    path = project.path / "reports" / "history.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_record_run_writes_reports_summary_and_history(project):
    result = project.runpytest_subprocess("evals", "--record-mode=rewrite")
    assert result.ret == 1  # gate off: pytest's own exit code (sim-wrong fails)
    summary = json.loads((latest(project) / "summary.json").read_text())
    oracle, wrong = summary["models"]["sim-oracle"], summary["models"]["sim-wrong"]
    for key in ("items", "passed", "failed", "errors", "pass_rate", "ci_low", "ci_high"):
        assert key in oracle
    assert (oracle["items"], oracle["passed"], wrong["failed"]) == (6, 6, 6)
    assert oracle["ci_low"] < oracle["pass_rate"] <= oracle["ci_high"] <= 1
    [comparison] = summary["comparisons"]
    assert (comparison["baseline"], comparison["candidate"]) == ("sim-oracle", "sim-wrong")
    assert sorted(comparison["now_failing"]) == [f"demo::add-{i}" for i in range(1, 7)]
    assert comparison["verdict"] == "REGRESSED"
    assert comparison["p_value"] == pytest.approx(0.5 ** 6)  # mid-p McNemar, 6 discordant
    html = (latest(project) / "report.html").read_text()
    assert "Content-Security-Policy" in html
    dom = parse(html)  # balanced markup, or the parser fails
    matrix = dom.find("table", "matrix")
    rows = matrix.find("tbody").children_tagged("tr")
    assert [r.find("span", "case").all_text() for r in rows] == [f"add-{i}" for i in range(1, 7)]
    assert [th.find("span", "mname").all_text()
            for th in matrix.find("thead").find_all("th")[1:]] == ["sim-oracle", "sim-wrong"]
    panel = dom.by_id("t-2-1")  # add-3 with sim-wrong: the transcript a click opens
    assert "add-3" in panel.find("h2").all_text()
    assert "print(3 + 3)" in panel.all_text() and "The result is **7**." in panel.all_text()
    assert len(dom.by_id("charts").find_all("svg")) == 3
    assert "REGRESSED" in (latest(project) / "report.md").read_text()
    assert {line["model"] for line in history(project)} == {"sim-oracle", "sim-wrong"}
    out = result.stdout.str()
    assert "sim-wrong vs sim-oracle: REGRESSED" in out and "gate: FAILED" in out


def test_replays_and_subsets_leave_history_alone(project):
    project.runpytest_subprocess("evals", "--record-mode=rewrite")
    before = history(project)
    project.runpytest_subprocess("evals")  # replay
    project.runpytest_subprocess("evals", "--record-mode=rewrite", "-k", "add-1")
    assert history(project) == before


@pytest.mark.parametrize(("mode", "models", "expected"), [
    ("on", ["sim-oracle", "sim-wrong"], 1),    # gate fails: exit 1
    ("only", ["sim-oracle", "sim-wrong"], 1),  # gate fails even though only FAILs
    ("only", ["sim-oracle", "sim-oracle"], 0),  # nothing regressed: 0
])
def test_gate_modes(project, mode, models, expected):
    project.runpytest_subprocess("evals", "--record-mode=rewrite")
    args = [a for m in models for a in ("--model", m)]
    result = project.runpytest_subprocess("evals", "--harness-gate", mode, *args)
    assert result.ret == expected, result.stdout.str()[-2000:]


def test_gate_only_lets_failures_through_when_the_gate_passes(project, pytester):
    project.runpytest_subprocess("evals", "--record-mode=rewrite")
    # Only sim-wrong: nothing to compare with, the gate passes, the FAILs are still shown.
    result = project.runpytest_subprocess("evals", "--harness-gate", "only", "--model",
                                          "sim-wrong", "--baseline", "sim-wrong")
    result.assert_outcomes(failed=6)
    assert result.ret == 0


def test_gate_only_never_hides_errors(project):
    project.runpytest_subprocess("evals", "--record-mode=rewrite")
    (project.path / "cassettes/sim/demo/add-1/sim-oracle/1.yaml").unlink()
    result = project.runpytest_subprocess("evals", "--harness-gate", "only")
    result.assert_outcomes(passed=5, failed=6, errors=1)
    assert result.ret == 1


def test_junit_carries_each_check(project):
    project.runpytest_subprocess("evals", "--record-mode=rewrite")
    project.runpytest_subprocess("evals", "--junitxml=junit.xml", "-k", "add-2")
    tree = ET.parse(project.path / "junit.xml")
    props = {(case.get("name"), p.get("name")): p.get("value")
             for case in tree.iter("testcase") for p in case.iter("property")}
    assert props[("add-2[sim-oracle]", "check answer_number: 4")] == "passed"
    failed = props[("add-2[sim-wrong]", "check answer_number: 4")]
    assert failed.startswith("failed: expected a number equal to 4") and "5" in failed


def test_harness_report_rerenders_and_compare_pairs_runs(project):
    project.runpytest_subprocess("evals", "--record-mode=rewrite")
    run = latest(project).resolve()
    (run / "report.html").unlink()
    rendered = project.run("harness", "report", str(run))
    assert rendered.ret == 0 and (run / "report.html").exists()
    compared = project.run("harness", "compare", str(run), str(run), "--gate")
    assert compared.ret == 0
    assert "NO_SIGNIFICANT_CHANGE" in compared.stdout.str()
