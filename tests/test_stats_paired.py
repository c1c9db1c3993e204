"""Baseline vs candidate: one analysis for verdict and interval, per-case tests, the gate."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.stats.exact import exact_stratified
from harness.stats.gate import gate
from harness.stats.paired import (
    IMPROVED,
    NO_SIGNIFICANT_CHANGE,
    REGRESSED,
    Comparison,
    Thresholds,
    compare_models,
)
from tests.test_stats import rec


def side(model: str, patterns: dict[str, str]) -> list[dict[str, Any]]:
    """Records from ``{case: "1101"}``: 1 pass, 0 fail, E error, S skipped, one char a sample."""
    verdicts = {"1": "pass", "0": "fail", "E": "error", "S": "skipped"}
    return [rec(case, verdicts[ch], model=model, sample=k)
            for case, pattern in patterns.items() for k, ch in enumerate(pattern, 1)]


def cmp(base: dict[str, str], cand: dict[str, str], **kw: Any) -> Comparison:
    return compare_models(side("base", base), side("cand", cand), baseline="base",
                          candidate="cand", **kw)


def test_one_sample_is_mid_p_mcnemar_with_descriptive_transitions() -> None:
    # 1 now failing, 9 now passing, 5 still passing, 3 still failing.
    base = {f"r{i}": "1" for i in range(1)} | {f"f{i}": "0" for i in range(9)}
    base |= {f"p{i}": "1" for i in range(5)} | {f"x{i}": "0" for i in range(3)}
    cand = {f"r{i}": "0" for i in range(1)} | {f"f{i}": "1" for i in range(9)}
    cand |= {f"p{i}": "1" for i in range(5)} | {f"x{i}": "0" for i in range(3)}
    c = cmp(base, cand)
    assert c.test == "mid-p McNemar" and c.interval_method.startswith("mid-p conditional")
    assert c.now_failing == ["s::r0"] and len(c.now_passing) == 9
    assert len(c.labels("still_passing")) == 5 and len(c.labels("still_failing")) == 3
    assert c.labels("flaky") == []
    # One sample can never make a single case significant (Fisher p = 1).
    assert c.regressed == [] and c.improved == []
    # 9 of 10 discordant pairs up: 2 (P(X > 9) + P(X = 9) / 2) = 2 (1 + 5) / 1024.
    assert c.p_value == pytest.approx(12 / 1024) and c.tails == "mid-p"
    assert c.verdict == IMPROVED
    exact = cmp(base, cand, mid_p=False)           # 2 (1 + 10) / 1024
    assert (exact.test, exact.tails) == ("exact McNemar", "exact")
    assert exact.p_value == pytest.approx(0.021484375) and exact.verdict == IMPROVED
    assert c.baseline_rate == pytest.approx(6 / 18) and c.candidate_rate == pytest.approx(14 / 18)
    assert c.difference == pytest.approx(8 / 18) == c.observed_difference
    assert c.ci_low is not None and c.ci_high is not None
    assert 0 < c.ci_low < c.difference < c.ci_high <= 10 / 18
    assert c.confidence == pytest.approx(0.95) and c.informative == 10


def test_samples_count_and_per_case_tests_are_holm_adjusted() -> None:
    # 8 cases x 5 samples, 2 go from always passing to always failing (the example).
    base = {"a": "11111", "b": "11111", "c": "11011", "d": "11111", "e": "10111",
            "f": "11111", "g": "11101", "h": "11111"}
    cand = {"a": "00000", "b": "00000", "c": "11111", "d": "11011", "e": "11101",
            "f": "11111", "g": "11111", "h": "11111"}
    c = cmp(base, cand)
    assert c.test.startswith("mid-p conditional") and c.verdict == REGRESSED
    assert c.ci_high is not None and c.ci_high < 0
    # Fisher per case, mid-p: 1 / C(10, 5) = 0.0040. Of the 6 informative cases only a and b
    # have totals (5 of 10) that allow p <= 0.05 / 2 (Tarone); Holm over those two: x2.
    by = {t.case: t for t in c.cases}
    assert by["a"].p_value == pytest.approx(1 / 252)
    assert by["a"].p_adjusted == pytest.approx(2 / 252)
    assert by["f"].p_value is None and c.informative == 6 and c.holm_family == 2
    assert by["c"].p_value == pytest.approx(0.5) and by["c"].p_adjusted == 1.0  # 2 x 0.5 / 2
    assert c.regressed == ["s::a", "s::b"] and c.now_failing == ["s::a", "s::b"]
    assert sorted(c.labels("flaky")) == ["s::c", "s::d", "s::e", "s::g"]
    # The old sign test on per-case fractions: 3 down, 2 up -> p = 1.
    assert (c.down, c.up) == (3, 2)


def test_now_failing_with_few_samples_is_not_regressed() -> None:
    c = cmp({"a": "111", "b": "111", "c": "000"}, {"a": "000", "b": "111", "c": "000"})
    assert c.now_failing == ["s::a"] and c.regressed == []
    assert c.verdict == NO_SIGNIFICANT_CHANGE         # mid-p = 1 / C(6, 3) = 0.05, not < 0.05
    assert c.p_value == pytest.approx(0.05)
    assert gate([c]).ok                               # the old stable rule failed this


def test_configurable_thresholds() -> None:
    base, cand = {"a": "11110"}, {"a": "10000"}
    assert cmp(base, cand).labels("flaky") == ["s::a"]
    loose = cmp(base, cand, thresholds=Thresholds(stable_pass=0.8, stable_fail=0.2))
    assert loose.now_failing == ["s::a"]
    with pytest.raises(ValueError, match="stable_fail < stable_pass"):
        Thresholds(stable_pass=0.5, stable_fail=0.5)
    with pytest.raises(ValueError, match="unknown transition"):
        loose.labels("regressed")


def test_errors_skips_and_one_sided_cases_are_listed_not_paired() -> None:
    c = cmp({"a": "1", "b": "1E", "c": "S", "only-base": "1", "d": "0"},
            {"a": "0", "b": "11", "c": "1", "only-cand": "0", "d": "E"})
    assert [t.label for t in c.cases] == ["s::a"]
    reasons = {e.label: e.reason for e in c.excluded}
    assert reasons["s::b"] == "1 ERROR of 2 samples on the baseline"
    assert reasons["s::c"] == "nothing judged on the baseline (all skipped)"
    assert reasons["s::d"] == "1 ERROR of 1 samples on the candidate"
    assert c.only_baseline == ("s::only-base",) and c.only_candidate == ("s::only-cand",)


def test_no_paired_cases() -> None:
    c = cmp({"a": "E"}, {"a": "1"})
    assert c.p_value is None and c.difference is None and c.ci_low is None
    assert c.verdict == NO_SIGNIFICANT_CHANGE and not c.can_reach_significance
    with pytest.raises(ValueError, match="alpha"):
        cmp({"a": "1"}, {"a": "1"}, alpha=0)


def test_identical_sides_have_no_change() -> None:
    c = cmp({"a": "1", "b": "0"}, {"a": "1", "b": "0"})
    assert c.p_value == 1.0 and c.difference == 0.0 and c.verdict == NO_SIGNIFICANT_CHANGE
    assert (c.ci_low, c.ci_high) == (0.0, 0.0)      # given the totals nothing could move


def test_power_fields() -> None:
    tiny = cmp({f"c{i}": "1" for i in range(4)}, {f"c{i}": "0" for i in range(4)})
    assert tiny.min_p == pytest.approx(0.0625) and not tiny.can_reach_significance
    five = {f"c{i}": "1" for i in range(5)}, {f"c{i}": "0" for i in range(5)}
    assert cmp(*five).can_reach_significance and cmp(*five).verdict == REGRESSED  # 1 / 32
    assert not cmp(*five, mid_p=False).can_reach_significance      # 2 / 32 with exact tails
    assert tiny.verdict == NO_SIGNIFICANT_CHANGE and tiny.min_detectable_cases is None
    assert tiny.samples_needed == 2
    suite = cmp({f"c{i}": "111" for i in range(30)}, {f"c{i}": "111" for i in range(30)})
    assert suite.can_reach_significance and suite.min_detectable_cases == 2
    assert suite.min_detectable_difference == pytest.approx(-2 / 30)
    assert suite.samples_needed is None and suite.min_p_given_totals == 1.0


# -- invariants -------------------------------------------------------------------------------

patterns = st.dictionaries(st.sampled_from([f"c{i}" for i in range(12)]),
                           st.text(alphabet="10", min_size=1, max_size=5), min_size=1)
FLIP = {REGRESSED: IMPROVED, IMPROVED: REGRESSED, NO_SIGNIFICANT_CHANGE: NO_SIGNIFICANT_CHANGE}


def _consistent(c: Comparison) -> None:
    """Verdict, interval and estimate agree (the property the issue asks for)."""
    assert c.ci_low is not None and c.ci_high is not None and c.difference is not None
    assert c.p_value is not None and 0.0 <= c.p_value <= 1.0
    assert -1.0 <= c.ci_low <= c.difference <= c.ci_high <= 1.0
    assert (c.verdict == REGRESSED) == (c.ci_high < 0)
    assert (c.verdict == IMPROVED) == (c.ci_low > 0)
    assert (c.verdict == NO_SIGNIFICANT_CHANGE) == (c.ci_low <= 0 <= c.ci_high)
    assert (c.verdict != NO_SIGNIFICANT_CHANGE) == (c.p_value < c.alpha)
    assert not c.regressed or c.now_failing or c.labels("flaky") or c.worse


@settings(max_examples=80, deadline=None)
@given(patterns, patterns, st.sampled_from([0.01, 0.05, 0.2]))
def test_swapping_sides_flips_verdict_and_mirrors_interval(a: dict[str, str],
                                                           b: dict[str, str],
                                                           alpha: float) -> None:
    fwd = cmp(a, b, alpha=alpha)
    back = compare_models(side("cand", b), side("base", a), baseline="cand", candidate="base",
                          alpha=alpha)
    assert fwd.now_failing == back.now_passing and fwd.now_passing == back.now_failing
    assert fwd.regressed == back.improved and fwd.improved == back.regressed
    assert fwd.better == back.worse and fwd.labels("flaky") == back.labels("flaky")
    assert back.verdict == FLIP[fwd.verdict]
    assert fwd.only_baseline == back.only_candidate
    if fwd.difference is not None:
        _consistent(fwd)
        assert back.p_value == pytest.approx(fwd.p_value, rel=1e-9)
        assert back.difference == pytest.approx(-fwd.difference, abs=1e-9)
        assert (back.ci_low, back.ci_high) == pytest.approx(
            (-(fwd.ci_high or 0), -(fwd.ci_low or 0)), abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(patterns, patterns, st.integers(1, 20), st.integers(1, 5))
def test_adding_always_passing_cases_never_creates_a_regression(
        a: dict[str, str], b: dict[str, str], extra: int, samples: int) -> None:
    before = cmp(a, b)
    solid = {f"ok{i}": "1" * samples for i in range(extra)}
    after = cmp(a | solid, b | solid)
    _consistent(after)
    if before.verdict == NO_SIGNIFICANT_CHANGE:
        assert after.verdict == NO_SIGNIFICANT_CHANGE
    assert after.regressed == before.regressed
    if before.p_value is not None:
        assert after.p_value == pytest.approx(before.p_value, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(0, 6),
                          st.integers(0, 6)), min_size=1, max_size=15),
       st.sampled_from([0.01, 0.05, 0.2]))
def test_unequal_samples_keep_verdict_and_interval_consistent(
        rows: list[tuple[int, int, int, int]], alpha: float) -> None:
    x = [min(px, m) for m, _, px, _ in rows]
    y = [min(py, n) for _, n, _, py in rows]
    r = exact_stratified(x, [m for m, *_ in rows], y, [n for _, n, *_ in rows], alpha)
    assert r.difference_low <= r.difference <= r.difference_high
    assert (r.p_value < alpha) == (not r.difference_low <= 0.0 <= r.difference_high)
    assert r.odds_ratio_low <= 1.0 <= r.odds_ratio_high or r.p_value < alpha


# -- gate -------------------------------------------------------------------------------------

def test_gate_passes_improvements_and_noise() -> None:
    improved = cmp({f"c{i}": "0" for i in range(8)}, {f"c{i}": "1" for i in range(8)})
    assert improved.verdict == IMPROVED
    noise = cmp({"a": "1", "b": "0"}, {"a": "0", "b": "1"})   # one-sample flip
    assert noise.now_failing == ["s::a"]
    assert gate([improved]) == (True, [], [])
    assert gate([]) == (True, [], [])
    ok, reasons, warnings = gate([noise])
    assert ok and not reasons and "cannot reach significance" in warnings[0]
    assert gate([noise], underpowered="fail").reasons == warnings
    with pytest.raises(ValueError, match="gate_underpowered"):
        gate([noise], underpowered="maybe")


def test_gate_fails_on_regressed_verdict_naming_cases_and_numbers() -> None:
    c = cmp({f"c{i}": "1" for i in range(8)}, {f"c{i}": "0" for i in range(8)})
    ok, reasons, _ = gate([c])
    assert not ok and len(reasons) == 1
    assert reasons[0].startswith("cand vs base: REGRESSED: pass rate 100.0% -> 0.0% (-100.0 pts")
    assert "mid-p McNemar p=0.00391" in reasons[0] and "(8 worse, 0 better)" in reasons[0]
    assert "worse cases: s::c0, s::c1" in reasons[0]


def test_gate_fails_on_a_statistically_regressed_case() -> None:
    # One case collapses, two others improve: no overall change, one regressed case.
    c = cmp({"a": "1" * 10, "b": "0011000000", "c": "0001000000"},
            {"a": "0" * 10, "b": "1111111100", "c": "1111111100"})
    assert c.verdict == NO_SIGNIFICANT_CHANGE and c.regressed == ["s::a"]
    ok, reasons, _ = gate([c])
    assert not ok and reasons == [
        "cand vs base: s::a regressed (10/10 -> 0/10; Fisher mid-p p=5.41e-06, "
        "Holm-adjusted p=1.62e-05 over 3 cases)"]
