"""summary.json and ``compare_runs`` over results files written to tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.report.summary import compare_runs, summary_json
from harness.stats.pricing import Price
from tests.test_stats import rec

USAGE = {"prompt_tokens": 1000, "output_tokens": 100, "tool_use_prompt_tokens": 200,
         "thought_tokens": 50, "total_tokens": 1350}


def write_run(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def records(model: str, passes: dict[str, str]) -> list[dict[str, Any]]:
    verdicts = {"1": "pass", "0": "fail", "E": "error"}
    return [rec(case, verdicts[ch], model=model, sample=k, usage=USAGE, latency=1.5)
            for case, pattern in passes.items() for k, ch in enumerate(pattern, 1)]


def test_summary_json_has_the_required_structure() -> None:
    recs = (records("flash", {f"c{i}": "1" for i in range(8)} | {"x": "0", "e": "E"})
            + records("pro", {f"c{i}": "0" for i in range(8)} | {"x": "1", "e": "1"})
            + records("lite", {f"c{i}": "1" for i in range(8)} | {"x": "0"}))
    out = summary_json(recs, baseline="flash", alpha=0.05,
                       prices={"flash": Price(0.3, 2.5, 2.5, 0.3)})
    json.dumps(out, allow_nan=False)
    flash = out["models"]["flash"]
    for key in ("items", "passed", "failed", "errors", "pass_rate", "ci_low", "ci_high"):
        assert key in flash
    assert (flash["items"], flash["passed"], flash["failed"], flash["errors"]) == (10, 8, 1, 1)
    assert flash["pass_rate"] == pytest.approx(8 / 9)
    assert flash["ci_low"] < 8 / 9 < flash["ci_high"]
    # The ERROR item reported no usage: 9 priced items.
    assert flash["cost_usd"]["total"] == pytest.approx(9 * (300 + 250 + 125 + 60) / 1e6)
    assert flash["cost_usd"]["items"] == 9
    assert out["models"]["pro"]["cost_usd"] is None
    assert flash["tokens"]["prompt_tokens"] == {"sum": 9000, "mean": 1000.0, "reported": 9}
    comps = {c["candidate"]: c for c in out["comparisons"]}
    assert set(comps) == {"pro", "lite"}
    pro = comps["pro"]
    for key in ("baseline", "candidate", "regressed", "improved", "now_failing", "now_passing",
                "p_value", "verdict", "ci_low", "ci_high", "min_p", "can_reach_significance",
                "samples_needed", "odds_ratio_high"):
        assert key in pro
    assert pro["baseline"] == "flash" and pro["verdict"] == "REGRESSED"
    assert pro["now_failing"] == [f"s::c{i}" for i in range(8)] and pro["now_passing"] == ["s::x"]
    assert pro["regressed"] == []        # one sample: no single case can be significant
    assert pro["ci_high"] < 0 and pro["confidence"] == pytest.approx(0.95)
    assert pro["cases"][0]["transition"] == "now_failing" and pro["cases"][0]["p_value"] == 0.5
    assert pro["excluded"] == [{"case": "s::e", "reason": "1 ERROR of 1 samples on the baseline"}]
    assert pro["p_value"] == pytest.approx(2 * (1 + 9 / 2) / 512)   # 8 worse, 1 better (mid-p)
    assert comps["lite"]["verdict"] == "NO_SIGNIFICANT_CHANGE" and comps["lite"]["p_value"] == 1
    assert comps["lite"]["only_baseline"] == ["s::e"]
    assert out["gate"]["ok"] is False
    assert out["gate"]["reasons"][0].startswith("pro vs flash: REGRESSED")
    assert out["notes"] == []


def test_summary_json_without_a_usable_baseline() -> None:
    recs = records("a", {"c": "1"}) + records("b", {"c": "0"})
    none = summary_json(recs)
    assert none["comparisons"] == []
    assert none["gate"] == {"ok": True, "reasons": [], "warnings": []}
    assert "no baseline set" in none["notes"][0]
    missing = summary_json(recs, baseline="zzz")
    assert "baseline 'zzz' has no results in this run (models: a, b)" in missing["notes"][0]
    # a gate that compared nothing is an error, not a pass
    assert missing["gate"]["ok"] is False
    assert missing["gate"]["reasons"][0].startswith("baseline 'zzz' has no results")
    assert summary_json(records("a", {"c": "1"}))["notes"] == []


def test_a_candidate_with_no_paired_cases_fails_the_gate() -> None:
    recs = records("a", {"c1": "1", "c2": "1"}) + records("b", {"c3": "1", "c4": "0"})
    summary = summary_json(recs, baseline="a")
    assert summary["gate"]["ok"] is False
    assert summary["gate"]["reasons"] == [
        "b vs a: no paired cases (no case has judged items of both models), so nothing could "
        "be compared: run both models on the same cases"]


def test_summary_json_with_samples_reports_pass_at_k_and_flaky() -> None:
    recs = (records("a", {"c1": "111", "c2": "101", "c3": "000"})
            + records("b", {"c1": "000", "c2": "111", "c3": "000"}))
    out = summary_json(recs, baseline="a")
    assert out["models"]["a"]["pass_at_k"]["3"] == pytest.approx(2 / 3)
    assert out["models"]["a"]["pass_hat_k"]["3"] == pytest.approx(1 / 3)
    comp = out["comparisons"][0]
    assert comp["test"].startswith("mid-p conditional") and comp["flaky"] == ["s::c2"]
    assert comp["now_failing"] == ["s::c1"] and comp["still_failing"] == ["s::c3"]
    assert comp["regressed"] == [] and comp["informative_cases"] == 2
    # 3/3 -> 0/3 in one case is not evidence (Fisher mid-p = 0.05): the gate passes.
    assert out["gate"] == {"ok": True, "reasons": [], "warnings": []}
    strict = summary_json(recs[:3] + recs[9:12], baseline="a", gate_underpowered="fail")
    assert strict["gate"]["ok"] is False
    assert "cannot reach significance" in strict["gate"]["reasons"][0]


def test_a_rerun_item_counts_once() -> None:
    recs = [rec("c", "fail", model="a"), rec("c", "pass", model="a")]
    assert summary_json(recs)["models"]["a"]["items"] == 1
    assert summary_json(recs)["models"]["a"]["passed"] == 1


def test_compare_runs_pairs_same_models_and_lists_unpaired_items(tmp_path: Path) -> None:
    a = write_run(tmp_path / "reports" / "20260101-000000-aaaa" / "results.jsonl",
                  records("flash", {"c1": "11", "c2": "10", "gone": "1"})
                  + records("pro", {"c1": "1"}))
    b = write_run(tmp_path / "b.jsonl",
                  records("flash", {"c1": "00", "c2": "1", "new": "0"})
                  + records("lite", {"c1": "1"}))
    run = compare_runs(a.parent, b)
    assert run.pairs == (("flash", "flash"),)
    (c,) = run.comparisons
    assert c.baseline == "flash @ 20260101-000000-aaaa" and c.candidate == "flash @ b"
    assert c.now_failing == ["s::c1"] and c.labels("flaky") == ["s::c2"]
    assert c.only_baseline == ("s::gone",) and c.only_candidate == ("s::new",)
    assert run.only_in_a == (("s", "c2", "flash", 2), ("s", "gone", "flash", 1))
    assert run.only_in_b == (("s", "new", "flash", 1),)
    assert run.uncompared_a == ("pro",) and run.uncompared_b == ("lite",)
    out = run.to_json()
    json.dumps(out, allow_nan=False)
    assert out["comparisons"][0]["baseline_model"] == "flash"
    assert out["only_in_b"] == [{"suite": "s", "case": "new", "model": "flash", "sample": 1}]
    assert out["gate"]["ok"] is True             # c1 went from 2/2 to 0/2: not evidence
    assert "cannot reach significance" in out["gate"]["warnings"][0]
    assert set(out["models_a"]) == {"flash", "pro"}


def test_compare_runs_with_a_baseline_model(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a" / "results.jsonl",
                  records("gemini-2.5-flash", {f"c{i}": "1" for i in range(10)}))
    b = write_run(tmp_path / "b" / "results.jsonl",
                  records("gemini-3-flash", {f"c{i}": "0" for i in range(10)})
                  + records("gemini-3-pro", {f"c{i}": "1" for i in range(10)}))
    run = compare_runs(a, b, baseline="gemini-2.5-flash")
    assert [c.verdict for c in run.comparisons] == ["REGRESSED", "NO_SIGNIFICANT_CHANGE"]
    assert run.only_in_a == () and run.only_in_b == ()
    ok, reasons, _ = run.gate()
    assert not ok and "gemini-3-flash @ b vs gemini-2.5-flash @ a: REGRESSED" in reasons[0]
    with pytest.raises(ValueError, match="baseline model 'nope' is not in"):
        compare_runs(a, b, baseline="nope")


def test_compare_runs_single_models_with_different_names(tmp_path: Path) -> None:
    a = write_run(tmp_path / "x" / "results.jsonl", records("old", {"c": "1"}))
    b = write_run(tmp_path / "y" / "results.jsonl", records("new", {"c": "1"}))
    run = compare_runs(a, b)
    assert run.pairs == (("old", "new"),) and run.comparisons[0].labels("still_passing")


def test_compare_runs_errors_are_clear(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a.jsonl", records("m1", {"c": "1"}) + records("m2", {"c": "1"}))
    b = write_run(tmp_path / "b.jsonl", records("m3", {"c": "1"}))
    with pytest.raises(ValueError, match=r"no model in common.*--baseline m1"):
        compare_runs(a, b)
    with pytest.raises(FileNotFoundError, match="no results here"):
        compare_runs(tmp_path / "missing", b)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: not a JSON record"):
        compare_runs(bad, b)


def test_same_run_twice_has_labels_a_and_b(tmp_path: Path) -> None:
    a = write_run(tmp_path / "run" / "results.jsonl", records("m", {"c": "1", "d": "0"}))
    run = compare_runs(a, a.parent)
    assert run.comparisons[0].baseline == "m @ A" and run.comparisons[0].candidate == "m @ B"
    assert run.comparisons[0].verdict == "NO_SIGNIFICANT_CHANGE"
