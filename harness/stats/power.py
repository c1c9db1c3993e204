"""What a suite of a given shape can detect, and the asymptotic CMH test kept as a reference.

The exact analysis (:mod:`harness.stats.exact`) decides; these say how far it can go: the
smallest p-value a shape allows, the smallest drop it could call significant, roughly how many
samples would detect an observed change, and the Cochran-Mantel-Haenszel chi-square that
``benchmarks/gate_calibration.py`` compares the gate with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def design_min_p(m: Sequence[int], n: Sequence[int], *, mid_p: bool = True) -> float:
    """The smallest two-sided p-value a suite of this shape can ever give.

    Reached when every case went from all samples passing to all failing (or the reverse):
    in case i that outcome has conditional probability ``1 / C(m_i + n_i, m_i)``, the least of
    any outcome; the two-sided p-value is twice its tail, which mid-p halves. 4 cases x 1
    sample: ``2**-4 = 0.0625`` (mid-p), 5 x 1 with the classical exact test: ``2 / 2**5``.
    """
    log_q = sum(-_log_comb(a + b, a) for a, b in zip(m, n, strict=True))
    return min(1.0, _ends(mid_p) * math.exp(log_q)) if log_q > -700 else 0.0


def _ends(mid_p: bool) -> float:
    """Two-sided p of the most extreme outcome over its probability: 2 x its tail (halved)."""
    return 1.0 if mid_p else 2.0


def min_detectable_cases(m: Sequence[int], n: Sequence[int], alpha: float, *,
                         mid_p: bool = True) -> int | None:
    """Fewest cases whose move from always passing to always failing would be significant.

    Every other case unchanged, the cases with the most samples first; None when even all of
    them would not be significant at ``alpha``.
    """
    gains = sorted((_log_comb(a + b, a) for a, b in zip(m, n, strict=True)), reverse=True)
    need = math.log(_ends(mid_p) / alpha)
    total = 0.0
    for j, g in enumerate(gains, 1):
        total += g
        if total > need + 1e-12:  # p < alpha strictly: 1 / C(6, 3) is not below 0.05
            return j
    return None


def samples_needed(x: Sequence[int], m: Sequence[int], y: Sequence[int], n: Sequence[int],
                   alpha: float, power: float = 0.8) -> int | None:
    """Roughly how many samples per case and side would detect a change like the one seen.

    Takes the observed per-case pass fractions as the truth and the normal approximation to the
    stratified statistic with r samples a side: its mean over its null standard deviation is
    ``sqrt(2r - 1) * |sum d_i| / (2 sqrt(sum pbar_i (1 - pbar_i)))``, d_i the case's fraction
    difference and pbar_i its pooled fraction. Rough by construction (an observed difference
    overstates the true one on average). None when nothing changed.
    """
    from statistics import NormalDist

    d = sum(b / nb - a / ma for a, ma, b, nb in zip(x, m, y, n, strict=True))
    spread = sum(((a + b) / (ma + nb)) * (1 - (a + b) / (ma + nb))
                 for a, ma, b, nb in zip(x, m, y, n, strict=True))
    if d == 0 or spread <= 0:
        return None
    c = abs(d) / (2.0 * math.sqrt(spread))
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return max(1, math.ceil(((z / c) ** 2 + 1.0) / 2.0))


def mantel_haenszel(x: Sequence[int], m: Sequence[int], y: Sequence[int], n: Sequence[int],
                    correct: bool = True) -> tuple[float, float, float]:
    """The asymptotic Cochran-Mantel-Haenszel chi-square test (a reference, not the verdict).

    As R's ``mantelhaen.test`` for 2 x 2 x K tables: ``(|sum(y - E y)| - 1/2)^2 / sum Var y``,
    the continuity correction applied when ``correct`` and the deviation is at least 1/2.

    Returns:
        ``(statistic, p_value, mh_estimate)``; the Mantel-Haenszel common odds ratio
        (candidate over baseline) may be 0, inf or nan.

    """
    from scipy.stats import chi2

    dev = var = num = den = 0.0
    for a, ma, b, nb in zip(x, m, y, n, strict=True):
        big, t = ma + nb, a + b
        if big < 2:
            continue
        dev += b - t * nb / big
        var += ma * nb * t * (big - t) / (big * big * (big - 1))
        num += b * (ma - a) / big
        den += a * (nb - b) / big
    if var <= 0:
        return 0.0, 1.0, math.nan
    yates = 0.5 if correct and abs(dev) >= 0.5 else 0.0
    stat = (abs(dev) - yates) ** 2 / var
    est = num / den if den > 0 else (math.inf if num > 0 else math.nan)
    return stat, float(chi2.sf(stat, 1)), est


def _log_comb(a: int, b: int) -> float:
    return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)
