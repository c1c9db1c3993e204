"""Interval estimates and tests: Wilson, clustered Wilson, Newcombe's paired interval, bootstrap.

scipy supplies the distributions (normal quantile, exact binomial test, bootstrap); what is
written here are the published closed-form interval formulas around them. scipy and numpy are
imported inside the functions so that importing :mod:`harness.stats` stays cheap for pytest's
collection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")


def z_value(confidence: float = 0.95) -> float:
    """The two-sided standard-normal quantile for ``confidence`` (1.95996... for 0.95).

    The standard library's NormalDist gives the same quantile as scipy.stats.norm.ppf; using it
    keeps every run that has nothing to compare from paying ~0.7 s to import scipy.stats.
    """
    from statistics import NormalDist

    _check_confidence(confidence)
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(successes: float, n: float,
                    confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3).

    ``successes`` and ``n`` may be non-integers: the clustered interval uses an effective
    sample size. The bounds are clipped to [0, 1] and always contain ``successes / n``.

    Args:
        successes: Number of successes (0 <= successes <= n).
        n: Number of trials; 0 gives the uninformative interval (0, 1).
        confidence: Two-sided coverage, e.g. 0.95.

    Returns:
        ``(low, high)``.

    Raises:
        ValueError: ``successes`` outside [0, n] or a bad confidence level.

    """
    z = z_value(confidence)
    if n <= 0:
        return (0.0, 1.0)
    if not 0.0 <= successes <= n:
        raise ValueError(f"successes must be within [0, n], got {successes} of {n}")
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    # Rounding can put a bound a hair past p or outside [0, 1] at p = 0 or 1.
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def icc_anova(clusters: Sequence[tuple[int, int]]) -> float:
    """Intra-class correlation of binary outcomes by the one-way ANOVA estimator.

    With k clusters (cases) of sizes m_i, N = sum m_i, and pass fractions p_i around the
    overall p: MSB = sum m_i (p_i - p)^2 / (k - 1), MSW = sum m_i p_i (1 - p_i) / (N - k),
    m0 = (N - sum m_i^2 / N) / (k - 1), ICC = (MSB - MSW) / (MSB + (m0 - 1) MSW)
    (Fleiss, Levin & Paik, *Statistical Methods for Rates and Proportions*, 3rd ed., 15.3).

    The estimate is clipped to [0, 1]. Where it is undefined (fewer than two clusters, no
    cluster with more than one sample, or every outcome the same) it is taken as 0: there is
    no evidence of correlation to correct for.

    Args:
        clusters: ``(successes, size)`` per cluster; clusters of size 0 are ignored.

    Returns:
        The ICC in [0, 1].

    """
    sized = [(c, m) for c, m in clusters if m > 0]
    k = len(sized)
    total = sum(m for _, m in sized)
    if k < 2 or total <= k:
        return 0.0
    p = sum(c for c, _ in sized) / total
    ssb = sum(m * (c / m - p) ** 2 for c, m in sized)
    ssw = sum(c - c * c / m for c, m in sized)
    msb = ssb / (k - 1)
    msw = ssw / (total - k)
    m0 = (total - sum(m * m for _, m in sized) / total) / (k - 1)
    denom = msb + (m0 - 1.0) * msw
    if denom <= 0.0:
        return 0.0
    return min(1.0, max(0.0, (msb - msw) / denom))


@dataclass(frozen=True)
class ClusteredRate:
    """A pass rate over clustered binary outcomes with its design-effect-adjusted interval.

    Attributes:
        successes: Passed items.
        n: Judged items (passed + failed).
        clusters: Number of clusters (cases) with at least one judged item.
        rate: ``successes / n`` (None when n == 0).
        low: Lower bound of the interval.
        high: Upper bound of the interval.
        icc: Estimated intra-class correlation (0 when every cluster has one item).
        design_effect: ``1 + (m - 1) * icc`` with m the size-weighted mean cluster size.
        n_eff: Effective sample size ``n / design_effect``: what the Wilson interval uses.

    """

    successes: int
    n: int
    clusters: int
    rate: float | None
    low: float
    high: float
    icc: float
    design_effect: float
    n_eff: float


def clustered_wilson(clusters: Sequence[tuple[int, int]],
                     confidence: float = 0.95) -> ClusteredRate:
    """Wilson interval on the effective sample size (Kish design effect; Donner & Klar 2000).

    Samples of one case are correlated (an easy case passes every time), so n items carry less
    information than n independent ones. The design effect ``1 + (m - 1) * ICC`` with m =
    sum m_i^2 / N (the size-weighted mean cluster size, equal to the sample count when every
    case has the same number) shrinks n to ``n_eff = n / deff``; the Wilson interval is then
    computed for the observed rate on ``n_eff`` trials. With one sample per case this is the
    plain Wilson interval.

    Args:
        clusters: ``(successes, size)`` per case.
        confidence: Two-sided coverage.

    Returns:
        The rate, the interval and the quantities that produced it.

    """
    sized = [(c, m) for c, m in clusters if m > 0]
    n = sum(m for _, m in sized)
    x = sum(c for c, _ in sized)
    if n == 0:
        return ClusteredRate(0, 0, 0, None, 0.0, 1.0, 0.0, 1.0, 0.0)
    icc = icc_anova(sized)
    mean_size = sum(m * m for _, m in sized) / n
    deff = 1.0 + (mean_size - 1.0) * icc
    n_eff = n / deff
    rate = x / n
    low, high = wilson_interval(rate * n_eff, n_eff, confidence)
    return ClusteredRate(x, n, len(sized), rate, low, high, icc, deff, n_eff)


def newcombe_paired_interval(n11: int, n12: int, n21: int, n22: int,
                             confidence: float = 0.95) -> tuple[float, float, float]:
    """Newcombe's hybrid score interval for a difference of paired proportions.

    Newcombe (1998), "Improved confidence intervals for the difference between binomial
    proportions based on paired data", Stat Med 17:2635-2650, method 10: Wilson intervals of
    the two margins combined square-and-add style, with the phi correlation corrected as in the
    paper. The table is ``[[n11, n12], [n21, n22]]`` and the difference is
    ``p1+ - p+1 = (n12 - n21) / n``.

    Args:
        n11: Both yes.
        n12: First yes, second no.
        n21: First no, second yes.
        n22: Both no.
        confidence: Two-sided coverage.

    Returns:
        ``(difference, low, high)``, bounds clipped to [-1, 1].

    Raises:
        ValueError: Negative counts or an empty table.

    """
    cells = (n11, n12, n21, n22)
    if min(cells) < 0:
        raise ValueError(f"counts must be non-negative, got {cells}")
    n = sum(cells)
    if n == 0:
        raise ValueError("an empty table has no difference")
    r1, r2, c1, c2 = n11 + n12, n21 + n22, n11 + n21, n12 + n22
    p1, p2 = r1 / n, c1 / n
    l1, u1 = wilson_interval(r1, n, confidence)
    l2, u2 = wilson_interval(c1, n, confidence)
    product = r1 * r2 * c1 * c2
    phi = 0.0
    if product > 0:
        b = n11 * n22 - n12 * n21
        c = b - n / 2.0 if b > n / 2.0 else (float(b) if b < 0 else 0.0)
        phi = c / math.sqrt(product)
    d = p1 - p2
    low = d - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                            + (u2 - p2) ** 2))
    high = d + math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)
                             + (u1 - p1) ** 2))
    return (d, max(-1.0, min(d, low)), min(1.0, max(d, high)))


def exact_binomial_p(successes: int, trials: int) -> float:
    """Two-sided exact binomial test against 1/2 (scipy's ``binomtest``); 1.0 with no trials.

    On the discordant pairs of a paired binary table this is the exact McNemar test; on cases
    whose pass fraction went up versus down it is the sign test.
    """
    from scipy.stats import binomtest

    if trials == 0:
        return 1.0
    return min(1.0, max(0.0, float(binomtest(successes, trials, 0.5,
                                             alternative="two-sided").pvalue)))


def bootstrap_mean_interval(values: Sequence[float], confidence: float = 0.95, *, seed: int = 0,
                            resamples: int = 9999,
                            bounds: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean, resampling the values (scipy's ``bootstrap``).

    Seeded, so a report re-rendered from the same records shows the same interval. With fewer
    than two values nothing is known about the spread and ``bounds`` is returned.

    Args:
        values: One value per resampling unit (here: per case).
        confidence: Two-sided coverage.
        seed: Seed of numpy's default generator.
        resamples: Number of bootstrap resamples.
        bounds: The range the mean can take; the interval is clipped to it.

    Returns:
        ``(low, high)``, always containing the sample mean.

    """
    import numpy as np
    from scipy.stats import bootstrap

    _check_confidence(confidence)
    data = np.asarray(values, dtype=float)
    if data.size < 2:
        return bounds
    mean = float(data.mean())
    if float(data.min()) == float(data.max()):
        return (mean, mean)
    res = bootstrap((data,), np.mean, n_resamples=resamples, confidence_level=confidence,
                    method="percentile", vectorized=True, batch=1000,
                    rng=np.random.default_rng(seed))
    low = float(res.confidence_interval.low)
    high = float(res.confidence_interval.high)
    return (max(bounds[0], min(mean, low)), min(bounds[1], max(mean, high)))
