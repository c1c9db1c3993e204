"""The committed demo replayed in two shards and merged is the run one session makes."""

from __future__ import annotations

import json
import shutil
import sys
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


def _run(demo: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, Path]:
    result = demo.runpytest_subprocess("evals", "-q", "-p", "no:cacheprovider", *args)
    return result, (demo.path / "reports" / "latest").resolve()


def test_two_replayed_shards_merge_into_the_unsharded_run(demo: pytest.Pytester) -> None:
    first, run1 = _run(demo, "--harness-shard", "1/2")
    second, run2 = _run(demo, "--harness-shard", "2/2")
    whole, single = _run(demo)
    for shard in (first, second):
        # gate "only": eval FAILs do not fail a shard, and its part's gate is not the suite's
        assert shard.ret == 0
        assert shard.parseoutcomes()["deselected"] == 81
    first.stdout.fnmatch_lines(["shard 1/2: 81 of 162 eval items (9 of 18 cases and files)*"])
    assert json.loads((run1 / "run.json").read_text())["shard"]["index"] == 1

    merged_dir = demo.path / "merged"
    merge = demo.run(sys.executable, "-m", "harness", "merge", str(run1), str(run2),
                     "--out", str(merged_dir))
    assert merge.ret == 0, merge.stderr.str()
    merge.stdout.fnmatch_lines(["merged 2 shard runs, 162 items", "*gate: passed*"])
    merged = json.loads((merged_dir / "summary.json").read_text())
    assert merged == json.loads((single / "summary.json").read_text())
    assert merged["gate"]["ok"] and merged["comparisons"]
    assert ((merged_dir / "results.jsonl").read_bytes()
            == (single / "results.jsonl").read_bytes())  # same records, same order
    assert (merged_dir / "report.html").is_file() and (merged_dir / "report.md").is_file()
    assert not (demo.path / "reports" / "history.jsonl").exists()  # replays make no history
    assert whole.ret == 0

    # gate off: the exit status is pytest's over both shards (they have eval FAILs)
    again = demo.run(sys.executable, "-m", "harness", "merge", str(run1), str(run2),
                     "--out", str(demo.path / "merged2"), "--gate", "off")
    assert again.ret == 1

    refused = demo.run(sys.executable, "-m", "harness", "merge", str(run1))
    assert refused.ret == 2
    refused.stderr.fnmatch_lines(["harness merge: shard 2/2 missing (given: 1)*"])


def test_a_bad_shard_is_a_usage_error(demo: pytest.Pytester) -> None:
    result = demo.runpytest_subprocess("evals", "--harness-shard", "3/2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*harness: --harness-shard '3/2': I must be between 1 and 2*"])


def test_a_shard_with_nothing_to_do_passes_and_still_writes_its_run(
        demo: pytest.Pytester) -> None:
    result, run = _run(demo, "--harness-shard", "19/19")  # the demo has 18 cases
    assert result.ret == 0 and result.parseoutcomes() == {"deselected": 162}
    shard = json.loads((run / "run.json").read_text())["shard"]
    assert (shard["index"], shard["items"], shard["total_items"]) == (19, 0, 162)


def test_record_shards_merge_into_one_history_entry_and_the_merge_gates(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_plugin_reports import EVALS, PYPROJECT

    pytester.makefile(".toml", pyproject=PYPROJECT)
    (pytester.path / "evals").mkdir()
    (pytester.path / "evals" / "demo.eval.yaml").write_text(EVALS)
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL",
                "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)
    runs = []
    for index in (1, 2):
        result, run = _run(pytester, "--record-mode=rewrite", "--harness-gate", "only",
                           "--harness-shard", f"{index}/2")
        assert result.ret == 0  # eval FAILs only, and the gate is the merge's to apply
        assert json.loads((run / "run.json").read_text())["full_run"] is True
        runs.append(str(run))
    history = pytester.path / "reports" / "history.jsonl"
    assert not history.exists()  # no shard writes history
    merge = pytester.run(sys.executable, "-m", "harness", "merge", *runs)
    assert merge.ret == 1  # the shards' gate mode, over all six cases: sim-wrong regressed
    merge.stdout.fnmatch_lines(["*sim-wrong vs sim-oracle: REGRESSED*", "*gate: FAILED*",
                                "history: a line per model added to reports/history.jsonl"])
    lines = [json.loads(x) for x in history.read_text().splitlines()]
    merged_id = (pytester.path / "reports" / "latest").resolve().name
    assert sorted((x["model"], x["run_id"], x["items"]) for x in lines) == [
        ("sim-oracle", merged_id, 6), ("sim-wrong", merged_id, 6)]


def test_a_shard_under_xdist_selects_what_a_serial_shard_does(demo: pytest.Pytester) -> None:
    serial, run = _run(demo, "--harness-shard", "2/3")
    workers, xrun = _run(demo, "--harness-shard", "2/3", "-n", "2")
    assert serial.ret == workers.ret == 0
    meta, xmeta = (json.loads((r / "run.json").read_text()) for r in (run, xrun))
    assert xmeta["shard"] == meta["shard"] and meta["shard"]["items"] == 54

    def keys(r: Path) -> set[str]:
        return {json.loads(x)["nodeid"] for x in (r / "results.jsonl").read_text().splitlines()}

    assert keys(xrun) == keys(run) and len(keys(run)) == 54
