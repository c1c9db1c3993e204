"""Per-model figures from result records: pass rate with interval, recovery, pass@k, tokens, cost.

Conventions (stated once, used everywhere):

* ``items`` counts every record; ``judged`` = passed + failed. Rates (pass rate, first-try,
  recovered, deadline-exceeded) are over judged items: ERRORs are infrastructure problems, not
  model answers, and are counted separately, as are skipped items.
* A code run *failed* when its outcome is OUTCOME_FAILED or OUTCOME_DEADLINE_EXCEEDED.
  First-try success = passed with no failed run; recovered = passed with at least one failed
  run. The two split the passes: first_try_rate + recovered_rate = pass_rate.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import comb
from typing import Any

from harness.stats.intervals import ClusteredRate, clustered_wilson
from harness.stats.pricing import Price
from harness.stats.tally import (
    FAIL,
    FAILED_OUTCOMES,
    OUTCOME_DEADLINE,
    PASS,
    SKIPPED,
    outcomes_of,
    tally_cases,
    verdict_of,
)

TOKEN_KINDS = ("prompt_tokens", "output_tokens", "tool_use_prompt_tokens", "thought_tokens",
               "total_tokens")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one case: P(at least one of k samples drawn from n passes).

    ``1 - C(n - c, k) / C(n, k)`` (Chen et al. 2021, "Evaluating Large Language Models Trained
    on Code", eq. 1), computed with exact integers.

    Raises:
        ValueError: Unless 0 <= c <= n and 1 <= k <= n.

    """
    _check_nck(n, c, k)
    return 1.0 - comb(n - c, k) / comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased pass^k of one case: P(all of k samples drawn from n pass).

    ``C(c, k) / C(n, k)`` (Yao et al. 2024, "tau-bench", section 5): reliability rather than
    coverage.

    Raises:
        ValueError: Unless 0 <= c <= n and 1 <= k <= n.

    """
    _check_nck(n, c, k)
    return comb(c, k) / comb(n, k)


def _check_nck(n: int, c: int, k: int) -> None:
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def mean_over_cases(cases: Sequence[tuple[int, int]],
                    estimator: Any) -> tuple[dict[int, float], dict[int, int]]:
    """Average a per-case ``estimator(n, c, k)`` for k = 1 .. max n.

    Each k averages the cases with at least k judged samples (an ERROR leaves a case fewer).

    Returns:
        ``({k: mean}, {k: cases averaged})``.

    """
    means: dict[int, float] = {}
    counts: dict[int, int] = {}
    top = max((n for n, _ in cases), default=0)
    for k in range(1, top + 1):
        vals = [estimator(n, c, k) for n, c in cases if n >= k]
        means[k] = sum(vals) / len(vals)
        counts[k] = len(vals)
    return means, counts


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile (numpy's linear interpolation) of n values."""

    median: float | None
    p90: float | None
    n: int


def spread(values: Iterable[float | None]) -> Spread:
    """Median and p90 of the values that are not None.

    Computed as numpy computes them (its default linear interpolation, same rounding), but
    without importing numpy: a run without comparisons never pays for it.
    """
    vals = sorted(float(v) for v in values if v is not None)
    if not vals:
        return Spread(None, None, 0)
    return Spread(statistics.median(vals), _percentile(vals, 0.9), len(vals))


def _percentile(ordered: list[float], q: float) -> float:
    """numpy.percentile's ``linear`` method on sorted values (its two-sided lerp)."""
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    a, b, t = ordered[lo], ordered[hi], pos - lo
    # numpy interpolates from the nearer end, which keeps results exact at the ends.
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


@dataclass(frozen=True)
class TokenStats:
    """One token kind: sum and mean over the items that reported it."""

    total: int | None
    mean: float | None
    reported: int


@dataclass(frozen=True)
class Cost:
    """Cost in USD over the items that reported usage."""

    total_usd: float
    mean_usd: float | None
    items: int


@dataclass(frozen=True)
class ModelSummary:
    """Every per-model figure; see the module docstring for the conventions.

    Attributes:
        model: Model name.
        items: All records.
        passed: Items that passed.
        failed: Items that failed.
        errors: Items that ended in an ERROR (excluded from rates).
        skipped: Skipped items (excluded from rates).
        cases: Distinct (suite, case) pairs.
        samples: Most judged samples of any case.
        rate: Pass rate with its clustered Wilson interval.
        check_score: Mean over judged items with checks of the fraction of checks passed.
        first_try: Passed items without a failed code run.
        recovered: Passed items after at least one failed code run.
        deadline_exceeded: Judged items with any OUTCOME_DEADLINE_EXCEEDED run.
        mean_attempts: Mean code runs over items (not skipped) that carry a transcript.
        pass_at_k: ``{k: pass@k}`` when samples > 1, else None.
        pass_hat_k: ``{k: pass^k}`` when samples > 1, else None.
        k_cases: ``{k: cases averaged}`` for the two above.
        tokens: Token stats by usage field.
        latency_s: Call latency (recorded at record time).
        ttft_s: Time to first chunk.
        cost: Cost from the price table; None when the model has no price.
        retries: Calls retried while recording (429, 5xx, cut streams), over all items.
        verify_checked: Judged items with a ``verify_output`` check.
        verified: Those whose ``verify_output`` checks all passed (every re-run reproduced).

    """

    model: str
    items: int
    passed: int
    failed: int
    errors: int
    skipped: int
    cases: int
    samples: int
    rate: ClusteredRate
    check_score: float | None
    first_try: int
    recovered: int
    deadline_exceeded: int
    mean_attempts: float | None
    pass_at_k: dict[int, float] | None
    pass_hat_k: dict[int, float] | None
    k_cases: dict[int, int] | None
    tokens: dict[str, TokenStats] = field(default_factory=dict)
    latency_s: Spread = Spread(None, None, 0)
    ttft_s: Spread = Spread(None, None, 0)
    cost: Cost | None = None
    retries: int = 0
    verify_checked: int = 0
    verified: int = 0

    @property
    def verified_rate(self) -> float | None:
        """Verified / items with a ``verify_output`` check (None when none has one)."""
        return self.verified / self.verify_checked if self.verify_checked else None

    @property
    def judged(self) -> int:
        """Passed + failed."""
        return self.passed + self.failed

    def _of_judged(self, count: int) -> float | None:
        return count / self.judged if self.judged else None

    @property
    def pass_rate(self) -> float | None:
        """Passed / judged (None when nothing was judged)."""
        return self._of_judged(self.passed)

    @property
    def first_try_rate(self) -> float | None:
        """First-try successes / judged."""
        return self._of_judged(self.first_try)

    @property
    def recovered_rate(self) -> float | None:
        """Recovered passes / judged."""
        return self._of_judged(self.recovered)

    @property
    def deadline_exceeded_rate(self) -> float | None:
        """Judged items with a deadline-exceeded run / judged."""
        return self._of_judged(self.deadline_exceeded)


def summarize_model(model: str, records: Iterable[Mapping[str, Any]], *,
                    price: Price | None = None, confidence: float = 0.95) -> ModelSummary:
    """Summarize one model's records (the caller filters by model).

    Args:
        model: The model's name (for the summary only).
        records: Its result records.
        price: Its price, or None for an unknown cost.
        confidence: Coverage of the pass-rate interval.

    Returns:
        The summary.

    """
    recs = list(records)
    verdicts = [verdict_of(r) for r in recs]
    judged = [r for r, v in zip(recs, verdicts, strict=True) if v in (PASS, FAIL)]
    tallies = tally_cases(recs)
    clusters = [(t.passed, t.judged) for t in tallies.values() if t.judged]
    rate = clustered_wilson(clusters, confidence)

    scores = [sum(1 for c in r["checks"] if c.get("passed")) / len(r["checks"])
              for r in judged if r.get("checks")]
    first_try = recovered = deadline = 0
    for rec in judged:
        outs = outcomes_of(rec)
        if OUTCOME_DEADLINE in outs:
            deadline += 1
        if verdict_of(rec) == PASS:
            if any(o in FAILED_OUTCOMES for o in outs):
                recovered += 1
            else:
                first_try += 1
    verify = [[c for c in r.get("checks") or [] if c.get("name") == "verify_output"]
              for r in judged]
    verify = [v for v in verify if v]
    attempts = [int(r["attempts"]) for r, v in zip(recs, verdicts, strict=True)
                if v != SKIPPED and r.get("attempts") is not None]

    per_case = [(t.judged, t.passed) for t in tallies.values() if t.judged]
    samples = max((n for n, _ in per_case), default=0)
    at_k = hat_k = k_cases = None
    if samples > 1:
        at_k, k_cases = mean_over_cases(per_case, pass_at_k)
        hat_k, _ = mean_over_cases(per_case, pass_hat_k)

    usages = [r["usage"] for r in recs if r.get("usage")]
    tokens: dict[str, TokenStats] = {}
    for kind in TOKEN_KINDS:
        vals = [int(u[kind]) for u in usages if u.get(kind) is not None]
        tokens[kind] = TokenStats(sum(vals) if vals else None,
                                  sum(vals) / len(vals) if vals else None, len(vals))
    cost = None
    if price is not None:
        costs = [c for c in (price.cost_usd(u) for u in usages) if c is not None]
        cost = Cost(sum(costs), sum(costs) / len(costs) if costs else None, len(costs))

    return ModelSummary(
        model=model, items=len(recs), passed=verdicts.count(PASS), failed=verdicts.count(FAIL),
        errors=verdicts.count("error"), skipped=verdicts.count("skipped"), cases=len(tallies),
        samples=samples, rate=rate,
        check_score=sum(scores) / len(scores) if scores else None,
        first_try=first_try, recovered=recovered, deadline_exceeded=deadline,
        mean_attempts=sum(attempts) / len(attempts) if attempts else None,
        pass_at_k=at_k, pass_hat_k=hat_k, k_cases=k_cases, tokens=tokens,
        latency_s=spread(r.get("latency_s") for r in recs),
        ttft_s=spread(r.get("ttft_s") for r in recs), cost=cost,
        retries=sum(int(r.get("retries") or 0) for r in recs), verify_checked=len(verify),
        verified=sum(1 for v in verify if all(c.get("passed") for c in v)))


def by_model(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Group records by model, in order of first appearance."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        groups.setdefault(str(rec.get("model", "")), []).append(rec)
    return groups


def summarize(records: Iterable[Mapping[str, Any]], *, prices: Mapping[str, Price] | None = None,
              confidence: float = 0.95) -> dict[str, ModelSummary]:
    """Summaries of every model in the records, in order of first appearance.

    A model's price is looked up by its exact name; a model missing from ``prices`` gets
    ``cost=None`` (unknown).
    """
    prices = prices or {}
    return {model: summarize_model(model, recs, price=prices.get(model), confidence=confidence)
            for model, recs in by_model(records).items()}
