"""The exact stratified analysis against published worked values and independent formulas."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from harness.stats.exact import (
    exact_stratified,
    fisher_per_case,
    holm,
    per_case_tests,
    tarone_holm,
)
from harness.stats.power import (
    design_min_p,
    mantel_haenszel,
    min_detectable_cases,
    samples_needed,
)

# Agresti (1990), Categorical Data Analysis, pp. 231-237: penicillin given immediately or
# 1.5 h delayed, rabbits cured per dose (R's ?mantelhaen.test example "Rabbits").
# (cured, treated) per dose: immediate injection is the "candidate", delayed the "baseline",
# so the odds ratio is R's (immediate over delayed).
IMMEDIATE = [(0, 6), (3, 6), (6, 6), (5, 6), (2, 2)]
DELAYED = [(0, 5), (0, 6), (2, 6), (6, 6), (5, 5)]


def _rabbits() -> tuple[list[int], list[int], list[int], list[int]]:
    return ([x for x, _ in DELAYED], [m for _, m in DELAYED],
            [y for y, _ in IMMEDIATE], [n for _, n in IMMEDIATE])


def test_rabbits_exact_conditional_test_matches_r() -> None:
    # R: mantelhaen.test(Rabbits, exact = TRUE): p-value = 0.0399449, common odds ratio
    # (conditional MLE) 10.36102 (R's printed output, as asserted in tidystats' test suite);
    # ?mantelhaen.test: "=> p - 0.040", and for alternative = "greater" "=> p = 0.020".
    r = exact_stratified(*_rabbits(), mid_p=False)
    assert r.p_value == pytest.approx(0.0399449, abs=5e-7)
    assert r.p_upper == pytest.approx(0.020, abs=5e-4)
    # R's uniroot stops at tolerance ~1.2e-4 in psi; the exact root agrees to 3e-6 relative.
    assert r.odds_ratio == pytest.approx(10.36102, rel=1e-5)
    assert r.informative == 3                 # doses 1/8 (nobody cured) and 4 (all cured) drop
    assert r.odds_ratio_low > 1.0 and r.difference_low > 0.0   # significant at 0.05 ...
    loose = exact_stratified(*_rabbits(), alpha=0.01, mid_p=False)
    assert loose.odds_ratio_low < 1.0 < loose.odds_ratio_high      # ... but not at 0.01
    assert loose.difference_low < 0.0 < loose.difference_high


def test_rabbits_mantel_haenszel_matches_r() -> None:
    # R: mantelhaen.test(Rabbits): Mantel-Haenszel X-squared = 3.9286, df = 1,
    # p-value = 0.04747, common odds ratio 7 (R's documented output; also statsmodels' tests).
    stat, p, est = mantel_haenszel(*_rabbits())
    assert stat == pytest.approx(3.9286, abs=5e-5)
    assert p == pytest.approx(0.04747, abs=5e-6)
    assert est == pytest.approx(7.0)


def test_tea_tasting_fisher_matches_r() -> None:
    # Fisher's tea tasting (Agresti, CDA, 3.5.1): 3 of 4 milk-first cups named right.
    # R fisher.test (Penn State STAT 504, TeaLady.out): two-sided p = 0.4857,
    # 95% CI 0.2117329 621.9337505, odds ratio 6.408309; alternative = "greater": p = 0.2429.
    r = exact_stratified([1], [4], [3], [4], mid_p=False)
    assert r.p_value == pytest.approx(0.4857, abs=5e-5)
    assert r.p_upper == pytest.approx(0.2429, abs=5e-5)
    assert r.odds_ratio == pytest.approx(6.408309, rel=2e-5)
    assert r.odds_ratio_low == pytest.approx(0.2117329, abs=1.2e-4)
    # R finds the upper end as 1 / uniroot(...) on (0, 1) with tolerance 1.2e-4: compare there.
    assert 1 / r.odds_ratio_high == pytest.approx(1 / 621.9337505, abs=1.2e-4)
    # The exact end: P(Y <= 3) = 0.025 where psi^4 / (1 + 16 psi + 36 psi^2 + 16 psi^3 + psi^4)
    # is the chance of all four right.
    psi = r.odds_ratio_high
    assert psi ** 4 / (1 + 16 * psi + 36 * psi ** 2 + 16 * psi ** 3 + psi ** 4) \
        == pytest.approx(0.975, abs=1e-9)
    assert fisher_per_case([1], [4], [3], [4], mid_p=False) == [pytest.approx(r.p_value)]


def test_exact_mcnemar_cavo_no_contradiction() -> None:
    # Cavo et al. (2012) in Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency
    # Tables" (2017), ch. 8: 161 pairs, discordant 6 vs 16, exact McNemar p = 0.052479. The
    # old Newcombe interval (-0.1186 to -0.0046) excluded 0 beside that p; this one cannot.
    x = [1] * 59 + [1] * 6 + [0] * 16 + [0] * 80
    y = [1] * 59 + [0] * 6 + [1] * 16 + [0] * 80
    r = exact_stratified(x, [1] * 161, y, [1] * 161, mid_p=False)
    assert r.p_value == pytest.approx(0.052479, abs=5e-7)
    assert r.difference == pytest.approx(10 / 161)
    assert r.difference_low < 0.0 < r.difference_high


def test_mid_p_mcnemar_matches_fagerland_2013() -> None:
    # Fagerland, Lydersen & Laake (2013), "The McNemar test for binary matched-pairs data:
    # mid-p and asymptotic are better than exact conditional", BMC Med Res Methodol 13:91:
    # Bentur et al.'s airway hyper-responsiveness pairs, discordant 1 vs 7: exact conditional
    # p = 0.070, mid-p p = 0.039, asymptotic McNemar p = 0.034.
    x = [1] * 7 + [0] * 1 + [1] * 1 + [0] * 12
    y = [0] * 7 + [1] * 1 + [1] * 1 + [0] * 12
    k = len(x)
    assert exact_stratified(x, [1] * k, y, [1] * k).p_value == pytest.approx(0.039, abs=5e-4)
    assert exact_stratified(x, [1] * k, y, [1] * k, mid_p=False).p_value == \
        pytest.approx(0.070, abs=5e-4)
    _, p, _ = mantel_haenszel(x, [1] * k, y, [1] * k, correct=False)
    assert p == pytest.approx(0.034, abs=5e-4)


def test_mid_p_tea_tasting_matches_agresti() -> None:
    # Agresti, Categorical Data Analysis (2nd ed., 2002), 3.5.4: for the tea-tasting table the
    # one-sided mid P-value is P(n11 = 4) + P(n11 = 3) / 2 = 0.014 + 0.229 / 2 = 0.129
    # (0.243 with Fisher's exact tail).
    r = exact_stratified([1], [4], [3], [4])
    assert r.p_upper == pytest.approx(0.129, abs=5e-4)
    assert r.p_value == pytest.approx(2 * r.p_upper) and r.p_lower == pytest.approx(1 - r.p_upper)
    assert fisher_per_case([1], [4], [3], [4]) == [pytest.approx(r.p_value)]


def test_mid_p_stratified_matches_enumeration() -> None:
    # Independent of the convolution and the tilting: enumerate every table of the rabbits'
    # informative doses (hypergeometric products), count the observed S half.
    x, m, y, n = _rabbits()
    strata = [(a + b, mm, nn) for a, mm, b, nn in zip(x, m, y, n, strict=True)
              if 0 < a + b < mm + nn]
    dist: dict[int, float] = {0: 1.0}
    for t, mm, nn in strata:
        nxt: dict[int, float] = {}
        for s0, ps in dist.items():
            for v in range(max(0, t - mm), min(nn, t) + 1):
                pv = math.comb(nn, v) * math.comb(mm, t - v) / math.comb(mm + nn, t)
                nxt[s0 + v] = nxt.get(s0 + v, 0.0) + ps * pv
        dist = nxt
    s = sum(b for a, mm, b, nn in zip(x, m, y, n, strict=True) if 0 < a + b < mm + nn)
    upper = sum(p for v, p in dist.items() if v > s) + dist[s] / 2
    r = exact_stratified(x, m, y, n)
    assert r.p_upper == pytest.approx(upper, rel=1e-12)
    assert r.p_value == pytest.approx(2 * upper, rel=1e-12)
    assert r.p_value < exact_stratified(x, m, y, n, mid_p=False).p_value


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 20), st.integers(0, 20), st.sampled_from([0.01, 0.05, 0.2]))
def test_mid_p_mcnemar_interval_inverts_the_mid_p_binomial(up: int, down: int,
                                                           alpha: float) -> None:
    # The interval's ends solve P(X > up) + P(X = up) / 2 = alpha / 2 (and the lower
    # counterpart) for X ~ binomial(up + down, pi): solved here with scipy, apart.
    from scipy.optimize import brentq
    from scipy.stats import binom

    d = up + down
    if d == 0:
        return
    x = [0] * up + [1] * down
    y = [1] * up + [0] * down
    r = exact_stratified(x, [1] * d, y, [1] * d, alpha)

    def upper_tail(pi: float) -> float:
        return float(binom.sf(up, d, pi) + binom.pmf(up, d, pi) / 2) - alpha / 2

    def lower_tail(pi: float) -> float:
        return float(binom.cdf(up - 1, d, pi) + binom.pmf(up, d, pi) / 2) - alpha / 2

    low = brentq(upper_tail, 1e-12, 1 - 1e-12, xtol=1e-13) if up > 0 else 0.0
    high = brentq(lower_tail, 1e-12, 1 - 1e-12, xtol=1e-13) if down > 0 else 1.0
    assert r.difference_low == pytest.approx(min(2 * low - 1, (up - down) / d), abs=1e-6)
    assert r.difference_high == pytest.approx(max(2 * high - 1, (up - down) / d), abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 25), st.integers(0, 25), st.integers(0, 10),
       st.sampled_from([0.01, 0.05, 0.2]))
def test_one_sample_per_case_is_exact_mcnemar_with_clopper_pearson(
        up: int, down: int, same: int, alpha: float) -> None:
    x = [0] * up + [1] * down + [1] * same
    y = [1] * up + [0] * down + [1] * same
    k = len(x)
    if k == 0:
        return
    r = exact_stratified(x, [1] * k, y, [1] * k, alpha, mid_p=False)
    d = up + down
    if d == 0:
        assert (r.p_value, r.difference_low, r.difference_high) == (1.0, 0.0, 0.0)
        return
    test = binomtest(up, d, 0.5)
    assert r.p_value == pytest.approx(test.pvalue, rel=1e-9)
    # psi = pi / (1 - pi) for the discordant pairs; D = (d / K) (2 pi - 1).
    cp = test.proportion_ci(1 - alpha, method="exact")
    assert r.difference_low == pytest.approx(d / k * (2 * cp.low - 1), abs=1e-7)
    assert r.difference_high == pytest.approx(d / k * (2 * cp.high - 1), abs=1e-7)
    assert r.difference == pytest.approx((up - down) / k, abs=1e-9)


def test_uninformative_and_one_sided_extremes() -> None:
    none = exact_stratified([3, 0], [3, 3], [3, 0], [3, 3], mid_p=False)
    assert (none.p_value, none.informative, none.difference) == (1.0, 0, 0.0)
    assert (none.difference_low, none.difference_high) == (0.0, 0.0)
    assert none.odds_ratio_low == 0.0 and none.odds_ratio_high == math.inf
    worst = exact_stratified([5, 5], [5, 5], [0, 0], [5, 5], mid_p=False)  # both fell all the way
    assert worst.odds_ratio == 0.0 and worst.odds_ratio_low == 0.0
    assert 0.0 < worst.odds_ratio_high < 1.0
    assert worst.p_value == pytest.approx(2 / 252 ** 2)
    assert worst.difference == pytest.approx(-1.0) and worst.difference_high < 0.0
    mid = exact_stratified([5, 5], [5, 5], [0, 0], [5, 5])     # mid-p halves the extreme tail
    assert mid.p_value == pytest.approx(1 / 252 ** 2)
    assert 0.0 < mid.odds_ratio_high < worst.odds_ratio_high      # and narrows the interval
    with pytest.raises(ValueError, match="no paired cases"):
        exact_stratified([], [], [], [])
    with pytest.raises(ValueError, match="passes <= judged"):
        exact_stratified([4], [3], [0], [3])


def test_unequal_sample_counts() -> None:
    # Under "no change" the expected per-case difference is 0 whatever the counts: D(1) = 0.
    r = exact_stratified([1, 2, 0], [1, 4, 2], [3, 1, 1], [5, 3, 1])
    assert r.difference_low <= r.difference <= r.difference_high
    assert (r.p_value < 0.05) == (not r.difference_low <= 0.0 <= r.difference_high)


def test_holm_and_power_helpers() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([]) == []
    # Tarone: k = 1 allows 2 tests with min p <= 0.05 (too many); k = 2: one with <= 0.025.
    adjusted, family = tarone_holm([0.01, 0.04, 0.5], [0.001, 0.03, 0.2], 0.05)
    assert family == 1 and adjusted == [pytest.approx(0.01), 1.0, 1.0]
    assert tarone_holm([0.01, 0.04], [0.001, 0.002], 0.05) == ([0.02, 0.04], 2)
    assert fisher_per_case([1, 0, 3], [4, 1, 3], [3, 0, 3], [4, 1, 3], mid_p=False) == \
        [pytest.approx(0.4857, abs=5e-5), None, None]
    assert per_case_tests([3], [3], [0], [3], mid_p=False)[1] == [pytest.approx(0.1)]  # 2/C(6,3)
    assert per_case_tests([3], [3], [0], [3])[1] == [pytest.approx(0.05)]   # mid-p: 1 / C(6, 3)
    assert design_min_p([1] * 5, [1] * 5, mid_p=False) == pytest.approx(0.0625)  # 2 / 2**5
    assert design_min_p([1] * 5, [1] * 5) == pytest.approx(1 / 32)       # mid-p: 1 / 2**5
    assert design_min_p([1] * 4, [1] * 4) == pytest.approx(0.0625)       # mid-p: 1 / 2**4
    assert design_min_p([3], [3], mid_p=False) == pytest.approx(0.1)     # 2 / C(6, 3)
    exact = {"mid_p": False}
    assert min_detectable_cases([1] * 30, [1] * 30, 0.05, **exact) == 6  # 2 / 2**6 < 0.05
    assert min_detectable_cases([1] * 30, [1] * 30, 0.05) == 5           # 1 / 2**5 < 0.05
    assert min_detectable_cases([3] * 30, [3] * 30, 0.05, **exact) == 2  # 2 / 400
    assert min_detectable_cases([3] * 30, [3] * 30, 0.05) == 2           # 1 / 20 is not < 0.05
    assert min_detectable_cases([5] * 8, [5] * 8, 0.05) == 1             # 1 / 252
    assert min_detectable_cases([1] * 5, [1] * 5, 0.05, **exact) is None
    assert min_detectable_cases([1] * 4, [1] * 4, 0.05) is None
    assert samples_needed([1, 1], [1, 1], [1, 1], [1, 1], 0.05) is None
    # Half the cases drop from 90 % to 60 %: more samples than a 100 % -> 0 % drop needs.
    small = samples_needed([9] * 10, [10] * 10, [6] * 10, [10] * 10, 0.05)
    big = samples_needed([10] * 10, [10] * 10, [0] * 10, [10] * 10, 0.05)
    assert small is not None and big is not None and small > big >= 1
