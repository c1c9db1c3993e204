"""Per-model statistics: intervals against published and independently computed values."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.stats.intervals import (
    bootstrap_mean_interval,
    clustered_wilson,
    exact_binomial_p,
    icc_anova,
    newcombe_paired_interval,
    wilson_interval,
)
from harness.stats.pricing import Price, PriceError, load_prices, parse_prices
from harness.stats.summary import pass_at_k, pass_hat_k, summarize, summarize_model

Z95 = 1.959963984540054


def rec(case: str, verdict: str, *, model: str = "m", sample: int = 1, suite: str = "s",
        outcomes: list[str] | None = None, checks: list[bool] | None = None,
        usage: Mapping[str, int | None] | None = None, latency: float | None = None,
        **extra: Any) -> dict[str, Any]:
    """A result record with the keys harness.results.records.make_record writes."""
    r: dict[str, Any] = {
        "suite": suite, "case": case, "model": model, "sample": sample,
        "nodeid": f"evals/x.eval.yaml::{case}[{model}#{sample}]", "verdict": verdict,
        "error": {"kind": "api", "message": "boom"} if verdict == "error" else None,
        "checks": [{"name": f"c{i}", "passed": p, "expected": "", "actual": "", "error": None}
                   for i, p in enumerate(checks or [])],
    }
    if verdict != "error":
        outs = ["OUTCOME_OK"] if outcomes is None else outcomes
        r.update(attempts=len(outs), outcomes=outs, usage=usage, latency_s=latency, ttft_s=None)
    r.update(extra)
    return r


# -- Wilson ---------------------------------------------------------------------------------

# Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Stat Med 17:857-872, Table I, method 3 (score interval without correction).
NEWCOMBE_1998 = [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
                 (1, 29, 0.0061, 0.1718)]


@pytest.mark.parametrize(("x", "n", "low", "high"), NEWCOMBE_1998)
def test_wilson_matches_published_values(x: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(x, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def _wilson_by_quadratic(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    # The score interval is where |p - pi| = z sqrt(pi (1 - pi) / n): the roots of
    # (1 + z^2/n) pi^2 - (2p + z^2/n) pi + p^2 = 0.
    p = x / n
    a, b, c = 1 + z * z / n, -(2 * p + z * z / n), p * p
    disc = math.sqrt(b * b - 4 * a * c)
    return ((-b - disc) / (2 * a), (-b + disc) / (2 * a))


@pytest.mark.parametrize(("x", "n"), [(0, 1), (1, 1), (3, 7), (50, 100), (999, 1000), (2, 5)])
def test_wilson_matches_quadratic_roots_and_scipy(x: int, n: int) -> None:
    from scipy.stats import binomtest

    lo, hi = wilson_interval(x, n)
    qlo, qhi = _wilson_by_quadratic(x, n)
    ci = binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert lo == pytest.approx(max(0.0, qlo), abs=1e-12)
    assert hi == pytest.approx(min(1.0, qhi), abs=1e-12)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_edge_cases() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(10, 10)[1] == 1.0
    with pytest.raises(ValueError, match="within"):
        wilson_interval(5, 4)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, confidence=1.0)
    assert wilson_interval(2.5, 5.0) == pytest.approx(wilson_interval(1, 2), abs=0.2)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_contains_estimate_within_unit_interval(xn: tuple[int, int], conf: float) -> None:
    x, n = xn
    lo, hi = wilson_interval(x, n, conf)
    assert 0.0 <= lo <= x / n <= hi <= 1.0


# -- design effect ----------------------------------------------------------------------------

def _icc_from_raw(groups: list[list[int]]) -> float:
    # One-way ANOVA straight from the 0/1 observations (balanced design), not via fractions.
    import numpy as np

    k, m = len(groups), len(groups[0])
    data = np.array(groups, dtype=float)
    grand = data.mean()
    msb = m * ((data.mean(axis=1) - grand) ** 2).sum() / (k - 1)
    msw = ((data - data.mean(axis=1, keepdims=True)) ** 2).sum() / (k * (m - 1))
    return float((msb - msw) / (msb + (m - 1) * msw))


def test_icc_matches_anova_on_raw_observations() -> None:
    groups = [[1, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [1, 0, 1, 0], [0, 0, 1, 0]]
    expected = _icc_from_raw(groups)
    assert 0 < expected < 1
    assert icc_anova([(sum(g), len(g)) for g in groups]) == pytest.approx(expected)


def test_icc_extremes_and_undefined() -> None:
    assert icc_anova([(5, 5), (0, 5), (5, 5)]) == 1.0          # all-or-nothing cases
    assert icc_anova([(2, 4), (2, 4), (2, 4)]) == 0.0          # negative, clipped
    assert icc_anova([(3, 5)]) == 0.0                          # one case
    assert icc_anova([(1, 1), (0, 1), (1, 1)]) == 0.0          # one sample each
    assert icc_anova([(4, 4), (4, 4)]) == 0.0                  # no variation at all


def test_clustered_wilson_reduces_to_case_count_when_fully_clustered() -> None:
    clusters = [(5, 5)] * 7 + [(0, 5)] * 3
    r = clustered_wilson(clusters)
    assert (r.successes, r.n, r.clusters, r.rate) == (35, 50, 10, 0.7)
    assert r.icc == 1.0 and r.design_effect == 5.0 and r.n_eff == pytest.approx(10.0)
    assert (r.low, r.high) == pytest.approx(wilson_interval(7, 10))
    assert r.high - r.low > wilson_interval(35, 50)[1] - wilson_interval(35, 50)[0]


def test_clustered_wilson_with_one_sample_is_plain_wilson() -> None:
    clusters = [(1, 1)] * 81 + [(0, 1)] * 182
    r = clustered_wilson(clusters)
    assert r.design_effect == 1.0
    assert (round(r.low, 4), round(r.high, 4)) == (0.2553, 0.3662)
    assert clustered_wilson([]).rate is None


@given(st.lists(st.integers(1, 6).flatmap(lambda m: st.tuples(st.integers(0, m), st.just(m))),
                min_size=1, max_size=40))
def test_clustered_wilson_invariants(clusters: list[tuple[int, int]]) -> None:
    r = clustered_wilson(clusters)
    n = sum(m for _, m in clusters)
    assert r.rate is not None
    assert 0.0 <= r.low <= r.rate <= r.high <= 1.0
    assert 0.0 <= r.icc <= 1.0
    assert n * n / sum(m * m for _, m in clusters) - 1e-9 <= r.n_eff <= n + 1e-9


# -- paired interval, exact tests, bootstrap --------------------------------------------------

def test_newcombe_paired_matches_fagerland_lydersen_laake() -> None:
    # Cavo et al. (2012) in Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency
    # Tables" (2017), ch. 8: Newcombe square-and-add, estimate -0.0621 (-0.1186 to -0.0046).
    d, lo, hi = newcombe_paired_interval(59, 6, 16, 80)
    assert (round(d, 4), round(lo, 4), round(hi, 4)) == (-0.0621, -0.1186, -0.0046)


@given(st.tuples(*[st.integers(0, 30)] * 4).filter(lambda t: sum(t) > 0))
def test_newcombe_paired_invariants(t: tuple[int, int, int, int]) -> None:
    a, b, c, d = t
    diff, lo, hi = newcombe_paired_interval(a, b, c, d)
    assert -1.0 <= lo <= diff <= hi <= 1.0
    sdiff, slo, shi = newcombe_paired_interval(a, c, b, d)
    assert (sdiff, slo, shi) == pytest.approx((-diff, -hi, -lo), abs=1e-12)


def _two_sided_binomial_half(k: int, n: int) -> float:
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1)) / 2 ** n
    return min(1.0, 2.0 * float(tail))


@pytest.mark.parametrize(("b", "c", "p"), [(1, 9, 0.021484375), (6, 16, 0.052479),
                                           (0, 0, 1.0), (5, 5, 1.0), (0, 6, 0.03125)])
def test_exact_mcnemar_known_values(b: int, c: int, p: float) -> None:
    got = exact_binomial_p(b, b + c)
    assert got == pytest.approx(p, abs=5e-7)
    if b + c:
        assert got == pytest.approx(_two_sided_binomial_half(b, b + c))


def test_bootstrap_is_seeded_and_bounded() -> None:
    vals = [0.2, -0.4, 0.0, 0.6, -0.2, 0.0, 0.4]
    one = bootstrap_mean_interval(vals, seed=3)
    assert one == bootstrap_mean_interval(vals, seed=3)
    assert one[0] <= sum(vals) / len(vals) <= one[1]
    assert bootstrap_mean_interval([0.5]) == (-1.0, 1.0)
    assert bootstrap_mean_interval([0.5, 0.5]) == (0.5, 0.5)


# -- pass@k, pass^k ---------------------------------------------------------------------------

def _brute(n: int, c: int, k: int, want_all: bool) -> float:
    outcomes = [1] * c + [0] * (n - c)
    draws = list(itertools.combinations(outcomes, k))
    hits = sum(1 for d in draws if (all(d) if want_all else any(d)))
    return hits / len(draws)


@pytest.mark.parametrize(("n", "c", "k"), [(n, c, k) for n in range(1, 7)
                                           for c in range(n + 1) for k in range(1, n + 1)])
def test_pass_at_k_and_hat_k_match_enumeration(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(_brute(n, c, k, want_all=False))
    assert pass_hat_k(n, c, k) == pytest.approx(_brute(n, c, k, want_all=True))


def test_pass_at_k_edges() -> None:
    assert pass_at_k(10, 0, 5) == 0.0 and pass_hat_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0 and pass_hat_k(10, 10, 10) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3) == pass_hat_k(10, 3, 1)
    assert pass_at_k(5, 3, 3) == 1.0          # n - c < k: some draw always passes
    assert pass_hat_k(5, 3, 4) == 0.0         # c < k: never all
    assert pass_at_k(200, 37, 100) == pytest.approx(1.0, abs=1e-12)
    for bad in [(5, 6, 1), (5, 2, 0), (5, 2, 6), (3, -1, 1)]:
        with pytest.raises(ValueError):
            pass_at_k(*bad)


# -- model summary ----------------------------------------------------------------------------

def test_summary_counts_rates_and_recovery() -> None:
    usage = {"prompt_tokens": 100, "output_tokens": 10, "tool_use_prompt_tokens": None,
             "thought_tokens": 5, "total_tokens": 115}
    records = [
        rec("a", "pass", checks=[True, True], usage=usage, latency=1.0),
        rec("b", "pass", outcomes=["OUTCOME_FAILED", "OUTCOME_OK"], checks=[True, True],
            usage={**usage, "tool_use_prompt_tokens": 50}, latency=2.0),
        rec("c", "fail", outcomes=["OUTCOME_DEADLINE_EXCEEDED"], checks=[True, False],
            latency=3.0),
        rec("d", "fail", outcomes=[], checks=[False]),
        rec("e", "error"),
        rec("f", "skipped", outcomes=[]),
    ]
    s = summarize_model("m", records)
    assert (s.items, s.passed, s.failed, s.errors, s.skipped, s.judged) == (6, 2, 2, 1, 1, 4)
    assert s.pass_rate == 0.5
    assert (s.rate.low, s.rate.high) == pytest.approx(wilson_interval(2, 4))
    assert (s.first_try, s.recovered, s.deadline_exceeded) == (1, 1, 1)
    assert s.first_try_rate == 0.25 and s.recovered_rate == 0.25
    assert s.deadline_exceeded_rate == 0.25
    assert s.check_score == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert s.mean_attempts == pytest.approx((1 + 2 + 1 + 0) / 4)
    assert s.pass_at_k is None and s.pass_hat_k is None and s.samples == 1
    assert s.tokens["prompt_tokens"].total == 200 and s.tokens["prompt_tokens"].mean == 100
    assert s.tokens["tool_use_prompt_tokens"].total == 50
    assert s.tokens["tool_use_prompt_tokens"].reported == 1
    assert (s.latency_s.median, s.latency_s.n) == (2.0, 3)
    assert s.latency_s.p90 == pytest.approx(2.8)
    assert s.cost is None


def test_summary_with_samples_has_pass_at_k_and_wider_interval() -> None:
    records = [rec(case, "pass" if ok else "fail", sample=k + 1)
               for case, pattern in [("a", "11111"), ("b", "00000"), ("c", "11100"),
                                     ("d", "11111"), ("e", "10000")]
               for k, ok in enumerate(int(ch) for ch in pattern)]
    records.append(rec("e", "error", sample=6))
    s = summarize_model("m", records)
    assert s.samples == 6 - 1 and s.errors == 1
    assert s.pass_at_k is not None and s.pass_hat_k is not None and s.k_cases is not None
    assert s.pass_at_k[1] == pytest.approx(s.pass_rate)
    assert s.pass_at_k[5] == pytest.approx(4 / 5)
    assert s.pass_hat_k[5] == pytest.approx(2 / 5)
    assert s.k_cases[5] == 5
    assert s.rate.icc > 0.5
    plain = wilson_interval(s.passed, s.judged)
    assert s.rate.high - s.rate.low > plain[1] - plain[0]


def test_summary_without_anything_judged() -> None:
    s = summarize_model("m", [rec("a", "error"), rec("b", "skipped")])
    assert s.pass_rate is None and s.first_try_rate is None and s.check_score is None
    assert s.mean_attempts is None and s.latency_s.median is None


def test_summarize_groups_models_and_prices_only_known_ones() -> None:
    usage = {"prompt_tokens": 1000, "output_tokens": 200, "tool_use_prompt_tokens": 500,
             "thought_tokens": 300, "total_tokens": 2000}
    records = [rec("a", "pass", model="priced", usage=usage),
               rec("a", "pass", model="unpriced", usage=usage),
               rec("b", "error", model="priced")]
    prices = {"priced": Price(input=0.30, output=2.50, thought=2.50, tool_use_prompt=0.30)}
    out = summarize(records, prices=prices)
    assert list(out) == ["priced", "unpriced"]
    cost = out["priced"].cost
    assert cost is not None
    assert cost.total_usd == pytest.approx((1000 * .3 + 200 * 2.5 + 300 * 2.5 + 500 * .3) / 1e6)
    assert cost.items == 1 and cost.mean_usd == cost.total_usd
    assert out["unpriced"].cost is None


def test_bad_verdict_is_reported() -> None:
    with pytest.raises(ValueError, match="verdict 'maybe'"):
        summarize_model("m", [rec("a", "maybe")])


# -- prices -----------------------------------------------------------------------------------

def test_prices_defaults_and_overrides(tmp_path: Any) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness.prices]\n'
        '"gemini-2.5-flash" = {input = 0.30, output = 2.50}\n'
        '"gemini-2.5-pro" = {input = 1, output = 10, thought = 8, tool_use_prompt = 0.5}\n',
        encoding="utf-8")
    prices = load_prices(tmp_path / "pyproject.toml")
    assert prices["gemini-2.5-flash"] == Price(0.30, 2.50, 2.50, 0.30)
    assert prices["gemini-2.5-pro"] == Price(1.0, 10.0, 8.0, 0.5)
    usage = {"prompt_tokens": 1_000_000, "output_tokens": None, "thought_tokens": 1_000_000,
             "tool_use_prompt_tokens": 2_000_000, "total_tokens": None}
    assert prices["gemini-2.5-pro"].cost_usd(usage) == pytest.approx(1 + 8 + 1)
    assert prices["gemini-2.5-flash"].cost_usd(usage) == pytest.approx(0.3 + 2.5 + 0.6)
    assert prices["gemini-2.5-flash"].cost_usd(None) is None
    assert load_prices(tmp_path / "missing.toml") == {}
    (tmp_path / "empty.toml").write_text("[tool.harness]\n", encoding="utf-8")
    assert load_prices(tmp_path / "empty.toml") == {}


@pytest.mark.parametrize(("table", "needle"), [
    ({"m": {"input": 1.0}}, "output"),
    ({"m": {"input": 1.0, "output": -2.0}}, "greater than or equal"),
    ({"m": {"input": 1.0, "output": 2.0, "cached": 1.0}}, "cached"),
    ({"m": {"input": "cheap", "output": 2.0}}, "input"),
    ({"m": 3.0}, "'m'"),
    ({"m": {"input": True, "output": 2.0}}, "input"),
])
def test_bad_price_tables_name_the_problem(table: dict[str, Any], needle: str) -> None:
    with pytest.raises(PriceError, match="model 'm'") as exc:
        parse_prices(table)
    assert needle in str(exc.value)
    assert "input, output, thought, tool_use_prompt" in str(exc.value)


def test_summary_is_json_ready() -> None:
    from harness.report.summary import model_summary_to_json

    s = summarize_model("m", [rec("a", "pass", sample=k) for k in (1, 2)])
    text = json.dumps(model_summary_to_json(s), allow_nan=False)
    assert '"pass_at_k": {"1": 1.0, "2": 1.0}' in text


def test_spread_equals_numpys_median_and_p90_without_importing_it() -> None:
    import random
    import subprocess
    import sys

    import numpy as np

    from harness.stats.summary import spread

    rng = random.Random(3)
    for n in (1, 2, 3, 10, 11, 101):
        vals = [rng.choice([rng.random() * 100, 5.0, 1e-9 * rng.random()]) for _ in range(n)]
        got = spread([*vals, None])
        assert (got.median, got.p90, got.n) == (float(np.median(vals)),
                                                float(np.percentile(vals, 90)), n)
    # A run's end without comparisons (one model) must not pay for numpy or scipy.
    code = ("import sys, tempfile, pathlib\n"
            "from harness.report.synthetic import synthetic_run\n"
            "from harness.session import finish_run\n"
            "from harness.config import Settings\n"
            "d = pathlib.Path(tempfile.mkdtemp())\n"
            "synthetic_run(d, 'r1', models=[('m', 0.7)])\n"
            "finish_run(d / 'r1', 'r1', Settings(root=d, report_dir=d),"
            " append_to_history=False)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy'))[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
