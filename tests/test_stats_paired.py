"""Baseline vs candidate: transitions, the paired test, the effect interval, the gate."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.stats.intervals import exact_binomial_p, newcombe_paired_interval
from harness.stats.paired import (
    IMPROVED,
    NO_SIGNIFICANT_CHANGE,
    REGRESSED,
    Comparison,
    Thresholds,
    compare_models,
    gate,
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


def test_one_sample_mcnemar_transitions_and_newcombe() -> None:
    # 1 regressed, 9 fixed, 5 still passing, 3 still failing.
    base = {f"r{i}": "1" for i in range(1)} | {f"f{i}": "0" for i in range(9)}
    base |= {f"p{i}": "1" for i in range(5)} | {f"x{i}": "0" for i in range(3)}
    cand = {f"r{i}": "0" for i in range(1)} | {f"f{i}": "1" for i in range(9)}
    cand |= {f"p{i}": "1" for i in range(5)} | {f"x{i}": "0" for i in range(3)}
    c = cmp(base, cand)
    assert c.test == "exact McNemar" and c.interval_method.startswith("Newcombe")
    assert c.regressed == ["s::r0"] and len(c.fixed) == 9
    assert len(c.labels("still_passing")) == 5 and len(c.labels("still_failing")) == 3
    assert c.labels("flaky") == []
    assert c.p_value == pytest.approx(0.021484375)
    assert c.verdict == IMPROVED
    assert c.baseline_rate == pytest.approx(6 / 18) and c.candidate_rate == pytest.approx(14 / 18)
    assert c.difference == pytest.approx(8 / 18)
    # Rows candidate, columns baseline: both 5, cand-only 9, base-only 1, neither 3.
    assert (c.difference, c.ci_low, c.ci_high) == pytest.approx(
        newcombe_paired_interval(5, 9, 1, 3))
    assert c.ci_low is not None and c.ci_low > 0


def test_cavo_table_as_cases() -> None:
    # 59 both, 6 baseline-only, 16 candidate-only, 80 neither (Fagerland et al., ch. 8).
    base = ({f"a{i}": "1" for i in range(59)} | {f"b{i}": "1" for i in range(6)}
            | {f"c{i}": "0" for i in range(16)} | {f"d{i}": "0" for i in range(80)})
    cand = ({f"a{i}": "1" for i in range(59)} | {f"b{i}": "0" for i in range(6)}
            | {f"c{i}": "1" for i in range(16)} | {f"d{i}": "0" for i in range(80)})
    c = cmp(cand, base)  # the book's direction: first - second = (6 - 16) / 161
    assert c.p_value == pytest.approx(0.052479, abs=5e-7)
    assert c.verdict == NO_SIGNIFICANT_CHANGE
    assert (round(c.difference or 0, 4), round(c.ci_low or 0, 4),
            round(c.ci_high or 0, 4)) == (-0.0621, -0.1186, -0.0046)
    assert cmp(cand, base, alpha=0.06).verdict == REGRESSED


def test_samples_use_sign_test_classes_and_bootstrap() -> None:
    base = {"a": "111", "b": "111", "c": "000", "d": "110", "e": "111", "f": "111",
            "g": "111", "h": "111"}
    cand = {"a": "000", "b": "111", "c": "111", "d": "000", "e": "100", "f": "110",
            "g": "010", "h": "000"}
    c = cmp(base, cand)
    assert c.test == "sign test" and "bootstrap" in c.interval_method
    assert c.regressed == ["s::a", "s::h"] and c.fixed == ["s::c"]
    assert c.labels("still_passing") == ["s::b"]
    assert sorted(c.labels("flaky")) == ["s::d", "s::e", "s::f", "s::g"]
    assert (c.up, c.down) == (1, 6)
    assert c.p_value == pytest.approx(exact_binomial_p(1, 7))
    assert c.verdict == NO_SIGNIFICANT_CHANGE          # p = 0.125 with 7 discordant cases
    deltas = [-1, 0, 1, -2 / 3, -2 / 3, -1 / 3, -2 / 3, -1]
    assert c.difference == pytest.approx(sum(deltas) / 8)
    assert c.ci_low is not None and c.ci_high is not None and c.difference is not None
    assert -1.0 < c.ci_low <= c.difference <= c.ci_high < 0.1
    again = cmp(base, cand)
    assert (again.ci_low, again.ci_high) == (c.ci_low, c.ci_high)   # seeded


def test_configurable_thresholds() -> None:
    base, cand = {"a": "11110"}, {"a": "10000"}
    assert cmp(base, cand).labels("flaky") == ["s::a"]
    loose = cmp(base, cand, thresholds=Thresholds(stable_pass=0.8, stable_fail=0.2))
    assert loose.regressed == ["s::a"]
    with pytest.raises(ValueError, match="stable_fail < stable_pass"):
        Thresholds(stable_pass=0.5, stable_fail=0.5)


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
    assert c.verdict == NO_SIGNIFICANT_CHANGE
    with pytest.raises(ValueError, match="alpha"):
        cmp({"a": "1"}, {"a": "1"}, alpha=0)


def test_identical_sides_have_no_change() -> None:
    c = cmp({"a": "1", "b": "0"}, {"a": "1", "b": "0"})
    assert c.p_value == 1.0 and c.difference == 0.0 and c.verdict == NO_SIGNIFICANT_CHANGE


# -- invariants -------------------------------------------------------------------------------

patterns = st.dictionaries(st.sampled_from([f"c{i}" for i in range(12)]),
                           st.text(alphabet="10", min_size=1, max_size=4), min_size=1)


@settings(max_examples=60, deadline=None)
@given(patterns, patterns, st.sampled_from([0.01, 0.05, 0.2]))
def test_swapping_sides_swaps_everything(a: dict[str, str], b: dict[str, str],
                                         alpha: float) -> None:
    fwd = cmp(a, b, alpha=alpha, resamples=499)
    back = compare_models(side("cand", b), side("base", a), baseline="cand", candidate="base",
                          alpha=alpha, resamples=499)
    assert fwd.regressed == back.fixed and fwd.fixed == back.regressed
    assert fwd.better == back.worse and fwd.labels("flaky") == back.labels("flaky")
    assert fwd.p_value == back.p_value
    flip = {REGRESSED: IMPROVED, IMPROVED: REGRESSED,
            NO_SIGNIFICANT_CHANGE: NO_SIGNIFICANT_CHANGE}
    assert back.verdict == flip[fwd.verdict]
    assert fwd.only_baseline == back.only_candidate
    if fwd.difference is not None:
        assert back.difference == pytest.approx(-fwd.difference, abs=1e-12)
        assert (back.ci_low, back.ci_high) == pytest.approx(
            (-(fwd.ci_high or 0), -(fwd.ci_low or 0)), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(patterns, patterns)
def test_p_values_and_intervals_are_bounded(a: dict[str, str], b: dict[str, str]) -> None:
    c = cmp(a, b, resamples=499)
    if c.cases:
        assert c.p_value is not None and 0.0 <= c.p_value <= 1.0
        assert c.ci_low is not None and c.ci_high is not None and c.difference is not None
        assert -1.0 <= c.ci_low <= c.difference <= c.ci_high <= 1.0
        assert c.up + c.down <= len(c.cases)


# -- gate -------------------------------------------------------------------------------------

def test_gate_passes_improvements_and_noise() -> None:
    improved = cmp({f"c{i}": "0" for i in range(8)}, {f"c{i}": "1" for i in range(8)})
    assert improved.verdict == IMPROVED
    noise = cmp({"a": "1", "b": "0"}, {"a": "0", "b": "1"})   # one-sample flip: not stable
    assert noise.regressed == ["s::a"]
    assert gate([improved, noise]) == (True, [])
    assert gate([]) == (True, [])


def test_gate_fails_on_regressed_verdict_naming_cases_and_numbers() -> None:
    c = cmp({f"c{i}": "1" for i in range(8)}, {f"c{i}": "0" for i in range(8)})
    ok, reasons = gate([c])
    assert not ok and len(reasons) == 1
    assert reasons[0].startswith("cand vs base: REGRESSED: pass rate 100.0% -> 0.0% (-100.0 pts")
    assert "exact McNemar p=0.00781" in reasons[0] and "(8 worse, 0 better)" in reasons[0]
    assert "worse cases: s::c0, s::c1" in reasons[0]


def test_gate_fails_on_stable_pass_to_stable_fail() -> None:
    c = cmp({"a": "111", "b": "111", "c": "000"}, {"a": "000", "b": "111", "c": "000"})
    assert c.verdict == NO_SIGNIFICANT_CHANGE
    ok, reasons = gate([c])
    assert not ok
    assert reasons == ["cand vs base: s::a went from stable pass (3/3) to stable fail (0/3)"]
    assert gate([c], stable_min_samples=4).ok
