"""pytest's own selection options work on eval items: --lf, --ff, --sw and --deselect.

They run against the committed demo (its cassettes replay offline), which has known FAILs.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(ROOT / "evals", pytester.path / "evals")
    shutil.copytree(ROOT / "cassettes", pytester.path / "cassettes")
    table = (ROOT / "pyproject.toml").read_text().split("[tool.harness]", 1)[1].split("\n[", 1)[0]
    pytester.makepyprojecttoml("[tool.harness]" + table)
    return pytester


def _run(demo: pytest.Pytester, *args: str) -> pytest.RunResult:
    return demo.runpytest_subprocess("evals", "--harness-gate", "off", *args)


def _failed(result: pytest.RunResult) -> list[str]:
    return re.findall(r"^FAILED (\S+)", result.stdout.str(), re.M)


def _ran(result: pytest.RunResult) -> list[str]:
    return re.findall(r"^(evals/\S+) (?:PASSED|FAILED)", result.stdout.str(), re.M)


def test_last_failed_failed_first_and_deselect(demo: pytest.Pytester) -> None:
    first = _run(demo, "-q")
    failed = _failed(first)
    total = sum(first.parseoutcomes().values())
    assert len(failed) >= 2 and total > len(failed)

    lf = _run(demo, "-q", "--lf")  # the passing items are not even collected
    assert lf.parseoutcomes() == {"failed": len(failed)}
    assert sorted(_failed(lf)) == sorted(failed)

    ff = _run(demo, "-v", "--ff")
    ran = _ran(ff)
    assert sorted(ran[:len(failed)]) == sorted(failed) and len(ran) == total

    kept = _run(demo, "-q", "--deselect", failed[0])
    assert sorted(_failed(kept)) == sorted(failed[1:])
    assert kept.parseoutcomes()["deselected"] == 1


def test_stepwise_stops_at_a_failure_and_resumes_there(demo: pytest.Pytester) -> None:
    first = _failed(_run(demo, "-q", "--sw"))
    assert len(first) == 1
    assert _ran(_run(demo, "-v", "--sw"))[0] == first[0]


def test_tags_show_in_pytest_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.harness]\nmodels = ["sim-oracle"]\ntarget = "sim"\n')
    (pytester.path / "t.eval.yaml").write_text(
        "cases:\n  - id: a\n    prompt: p\n    tags: [smoke, nightly]\n")
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.nightly: eval tag from t.eval.yaml",
                                 "@pytest.mark.smoke: eval tag from t.eval.yaml"])
