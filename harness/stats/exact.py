"""Exact conditional inference on pass counts stratified by case (Birch 1964; exact CMH).

Each paired case i is a 2 x 2 table: the baseline passed ``x_i`` of ``m_i`` judged samples, the
candidate ``y_i`` of ``n_i``. Given the case's total ``T_i = x_i + y_i``, ``y_i`` follows
Fisher's noncentral hypergeometric distribution with the common odds ratio ``psi``
(candidate odds over baseline odds; ``psi > 1``: the candidate passes more often):
``P(y | T) ~ C(n, y) C(m, T - y) psi^y``. The statistic ``S = sum y_i`` has the convolution of
those distributions. Everything here comes from that one family:

* the two-sided p-value ``p(psi) = min(1, 2 min(P_psi(S <= s), P_psi(S >= s)))``; the test of
  "no change" is ``p(1)``;
* the confidence interval ``{psi: p(psi) >= alpha}``: its ends solve ``P_psi(S >= s) = alpha/2``
  and ``P_psi(S <= s) = alpha/2`` (the Cornfield-type interval R's ``mantelhaen.test(exact =
  TRUE)`` and ``fisher.test`` print), so it excludes 1 exactly when ``p(1) < alpha``;
* the estimate: the conditional maximum-likelihood ``psi`` (``E_psi[S] = s``);
* the effect on the pass-rate scale, ``D(psi)``: the mean over paired cases of
  ``E_psi[y_i | T_i] / n_i - E_psi[x_i | T_i] / m_i``. ``D`` increases with ``psi``,
  ``D(1) = 0`` for any sample counts, and at the estimate it equals the observed difference
  when every case has the same counts on both sides. So the interval on the "pts" scale
  excludes 0 exactly when the test rejects. It is conditional on the cases' totals: a case
  whose samples all passed (or all failed) on both sides contributes 0 to it, however many
  samples it has.

A case with ``T_i = 0`` or ``T_i = m_i + n_i`` has one possible table and carries no
information (it is "uninformative"). With one sample per case the informative cases are the
discordant ones, ``S`` is binomial(discordant, psi / (1 + psi)) and the test is the exact
McNemar test. In one stratum it is Fisher's exact test (two-sided by doubling the smaller
tail, so that its interval and p-value agree).

**Mid-p** (the default). ``S`` is discrete, so the classical tails ``P(S <= s)`` reach alpha
only at a few values and the test's real level sits well below alpha when samples are few: it
misses regressions the asymptotic CMH chi-square finds. The mid-p tails count the observed
value half, ``P(S < s) + P(S = s) / 2`` (Lancaster 1961), for the p-value and the interval alike,
so they still come from one p-value function. Their level is not guaranteed below alpha, but
it stays below it in practice (Hirji, *Exact Analysis of Discrete Data*, 2006, ch. 7;
Fagerland, Lydersen & Laake 2013, "The McNemar test for binary matched-pairs data: mid-p and
asymptotic are better than exact conditional", BMC Med Res Methodol 13:91);
``benchmarks/gate_calibration.py`` measures it for this harness's gate. ``mid_p=False`` gives
the classical exact test, whose level is guaranteed.

numpy and scipy are imported inside the functions so that importing :mod:`harness.stats`
stays cheap for pytest's collection.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Floats = NDArray[np.float64]
    Ints = NDArray[np.int64]

_LOG_HALF = math.log(0.5)


@dataclass(frozen=True)
class ExactResult:
    """The exact stratified analysis of one comparison.

    Attributes:
        cases: Paired cases (strata), informative or not.
        informative: Cases whose total is neither 0 nor all samples (the only ones that count).
        statistic: ``S``, the candidate's passes in informative cases.
        expected: ``E_1[S]``, what ``S`` would be on average with no change.
        p_lower: ``P_1(S <= s)``: small when the candidate did worse.
        p_upper: ``P_1(S >= s)``: small when the candidate did better.
        p_value: Two-sided, ``min(1, 2 * min(p_lower, p_upper))``.
        odds_ratio: Conditional MLE of the common odds ratio (0 or inf when every informative
            case moved as far as it could one way; nan without informative cases).
        odds_ratio_low: Lower end of the interval for the odds ratio (may be 0).
        odds_ratio_high: Upper end (may be inf).
        difference: ``D`` at the estimate (candidate minus baseline, a fraction).
        difference_low: ``D`` at the lower end, clipped so the interval holds the estimate.
        difference_high: ``D`` at the upper end, likewise.
        min_p_given_totals: The smallest p-value any outcome with these cases' totals could
            have had (1.0 without informative cases).
        confidence: Coverage of the intervals (``1 - alpha``).

    """

    cases: int
    informative: int
    statistic: int
    expected: float
    p_lower: float
    p_upper: float
    p_value: float
    odds_ratio: float
    odds_ratio_low: float
    odds_ratio_high: float
    difference: float
    difference_low: float
    difference_high: float
    min_p_given_totals: float
    confidence: float


class _Strata:
    """The informative cases as a padded matrix of log-weights over their supports."""

    def __init__(self, x: Ints, m: Ints, y: Ints, n: Ints) -> None:
        import numpy as np

        total = x + y
        keep = (total > 0) & (total < m + n)
        self.cases = int(x.size)
        self.m, self.n, self.t = m[keep], n[keep], total[keep]
        self.y = y[keep]
        self.k = int(self.t.size)
        self.lo = np.maximum(0, self.t - self.m)
        self.hi = np.minimum(self.n, self.t)
        width = self.hi - self.lo + 1
        cols = int(width.max()) if self.k else 1
        offs = np.arange(cols)
        self.valid = offs[None, :] < width[:, None]
        self.support = (self.lo[:, None] + offs[None, :]).astype(float)
        top = int((self.m + self.n).max()) if self.k else 1
        lf = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, top + 1)))))

        def log_comb(a: Ints, b: Ints) -> Floats:
            b = np.clip(b, 0, a)
            out: Floats = lf[a] - lf[b] - lf[a - b]
            return out

        sup = np.where(self.valid, self.lo[:, None] + offs[None, :], 0)
        logw = log_comb(self.n[:, None], sup) + log_comb(self.m[:, None], self.t[:, None] - sup)
        self.logw: Floats = np.where(self.valid, logw, -np.inf)
        self.s = int(self.y.sum())
        self.s_min = int(self.lo.sum())
        self.s_max = int(self.hi.sum())
        # D(theta) = sum_i E_i[y] (1/n_i + 1/m_i) / K - sum_i T_i / m_i / K.
        self.d_weight = (1.0 / self.n + 1.0 / self.m) / max(1, self.cases)
        self.d_offset = float((self.t / self.m).sum() / max(1, self.cases))

    def probabilities(self, theta: float) -> Floats:
        """Each informative case's distribution of ``y`` at ``log psi = theta`` (rows)."""
        import numpy as np

        z = self.logw + theta * self.support
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: Floats = e / e.sum(axis=1, keepdims=True)
        return out

    def means(self, theta: float) -> Floats:
        """``E_theta[y_i]`` per informative case (the support's ends at infinite theta)."""
        if theta in (-math.inf, math.inf):
            end: Floats = (self.lo if theta < 0 else self.hi).astype(float)
            return end
        out: Floats = (self.probabilities(theta) * self.support).sum(axis=1)
        return out

    def difference(self, theta: float) -> float:
        """``D(theta)``: the expected pass-rate difference given the totals."""
        if not self.k:
            return 0.0
        return float((self.means(theta) * self.d_weight).sum() - self.d_offset)

    def log_pmf(self, theta: float) -> Floats:
        """The log of P(S = s_min + j) at ``theta``, by convolving the cases' distributions."""
        import numpy as np

        probs = self.probabilities(theta)
        acc = np.ones(1)
        widths = (self.hi - self.lo + 1).tolist()
        for row, w in zip(probs, widths, strict=True):
            acc = np.convolve(acc, row[:w])
        with np.errstate(divide="ignore"):
            out: Floats = np.log(acc / acc.sum())
        return out

    def log_extreme(self, theta: float, low_end: bool) -> float:
        """The log of P(S = s_min) (or s_max) at ``theta``: a product over cases."""
        import numpy as np

        z = self.logw + theta * self.support
        top = z.max(axis=1)
        log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        if low_end:
            end = self.logw[:, 0] + theta * self.lo
        else:
            last = (self.hi - self.lo)
            end = self.logw[np.arange(self.k), last] + theta * self.hi
        return float((end - log_norm).sum())


def _logsumexp(z: Floats) -> float:
    import numpy as np

    if z.size == 0:
        return -math.inf
    top = float(z.max())
    if top == -math.inf:
        return -math.inf
    return top + float(np.log(np.exp(z - top).sum()))


def _log_tails(log_pmf: Floats, index: int, shift: float,
               mid_p: bool) -> tuple[float, float]:
    """The log lower and upper tails at ``s`` after tilting a base distribution by ``shift``.

    ``(log P(S <= s), log P(S >= s))``, or with ``mid_p`` the mid-p tails
    ``P(S < s) + P(S = s) / 2`` and ``P(S > s) + P(S = s) / 2``.
    """
    import numpy as np

    z = log_pmf + shift * np.arange(log_pmf.size)
    total = _logsumexp(z)
    if mid_p:  # the observed value counts half in each tail
        z = z.copy()
        z[index] += _LOG_HALF
    return _logsumexp(z[:index + 1]) - total, _logsumexp(z[index:]) - total



def _solve(f: Callable[[float], float], start: float, increasing: bool) -> float:
    """The root of monotone ``f``, bracketed by doubling steps from ``start``.

    Returns -inf or inf when ``f`` keeps its sign that way (the root is at infinity).
    """
    from scipy.optimize import brentq

    a, fa = start, f(start)
    if fa == 0.0:
        return a
    step = 1.0 if (fa < 0.0) == increasing else -1.0
    for _ in range(64):
        b = a + step
        fb = f(b)
        if fb == 0.0:
            return b
        if (fa < 0.0) != (fb < 0.0):
            lo, hi = (a, b) if a < b else (b, a)
            return float(brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=200))
        a, fa = b, fb
        step *= 2.0
    return math.copysign(math.inf, step)


def _exp(theta: float) -> float:
    if theta == -math.inf:
        return 0.0
    if theta > 709.0:
        return math.inf
    return math.exp(theta)


def exact_stratified(x: Sequence[int], m: Sequence[int], y: Sequence[int], n: Sequence[int],
                     alpha: float = 0.05, *, mid_p: bool = True) -> ExactResult:
    """The exact conditional test and interval for a common odds ratio across cases.

    Args:
        x: Baseline passes per case.
        m: Baseline judged samples per case (>= 1).
        y: Candidate passes per case.
        n: Candidate judged samples per case (>= 1).
        alpha: Two-sided significance level; the intervals have coverage ``1 - alpha``.
        mid_p: Mid-p tails (default): the observed ``s`` counts half in each tail, for the
            p-value and for the interval alike. False: the classical exact tails
            ``P(S <= s)``, ``P(S >= s)``, whose level is guaranteed but which are
            conservative with few samples (see the module docstring).

    Returns:
        The analysis; see :class:`ExactResult`.

    Raises:
        ValueError: Counts out of range, sequences of different lengths, or no cases.

    """
    import numpy as np

    xs, ms, ys, ns = (np.asarray(v, dtype=np.int64) for v in (x, m, y, n))
    if not xs.shape == ms.shape == ys.shape == ns.shape or xs.ndim != 1:
        raise ValueError("x, m, y and n need one entry per case each")
    if xs.size == 0:
        raise ValueError("no paired cases to compare")
    if (ms < 1).any() or (ns < 1).any() or (xs < 0).any() or (ys < 0).any() \
            or (xs > ms).any() or (ys > ns).any():
        raise ValueError("need 0 <= passes <= judged samples and at least one judged sample")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    st = _Strata(xs, ms, ys, ns)
    if st.k == 0:
        return ExactResult(st.cases, 0, 0, 0.0, 1.0, 1.0, 1.0, math.nan, 0.0, math.inf,
                           0.0, 0.0, 0.0, 1.0, 1.0 - alpha)
    index = st.s - st.s_min
    lp0 = st.log_pmf(0.0)
    log_lower, log_upper = _log_tails(lp0, index, 0.0, mid_p)
    p_lower, p_upper = math.exp(log_lower), math.exp(log_upper)
    p_value = min(1.0, 2.0 * min(p_lower, p_upper))
    ends = 1.0 if mid_p else 2.0  # the extreme outcome's two-sided p: its probability x this
    min_p = min(1.0, ends * math.exp(min(float(lp0[0]), float(lp0[-1]))))
    expected = float(st.means(0.0).sum())
    log_half = math.log(alpha / 2.0)
    # At an end of the support the near tail is that one outcome (halved under mid-p).
    log_end = _LOG_HALF if mid_p else 0.0

    if st.s == st.s_min:
        theta_hat, theta_lo = -math.inf, -math.inf
        theta_hi = _solve(lambda t: st.log_extreme(t, True) + log_end - log_half, 0.0, False)
    elif st.s == st.s_max:
        theta_hat, theta_hi = math.inf, math.inf
        theta_lo = _solve(lambda t: st.log_extreme(t, False) + log_end - log_half, 0.0, True)
    else:
        theta_hat = _solve(lambda t: float(st.means(t).sum()) - st.s, 0.0, True)
        # Tilt from a base centred on the observation, so the tails stay representable.
        base = st.log_pmf(theta_hat)
        theta_lo = _solve(
            lambda t: _log_tails(base, index, t - theta_hat, mid_p)[1] - log_half,
            theta_hat, True)
        theta_hi = _solve(
            lambda t: _log_tails(base, index, t - theta_hat, mid_p)[0] - log_half,
            theta_hat, False)
    # One p-value function: rejecting at alpha and the interval excluding 1 are the same
    # event; guard the rounding of root finding when p(1) is within a hair of alpha.
    if p_value < alpha:
        if p_lower < p_upper:
            theta_hi = min(theta_hi, -1e-12)
        else:
            theta_lo = max(theta_lo, 1e-12)
    else:
        theta_lo, theta_hi = min(theta_lo, 0.0), max(theta_hi, 0.0)
    theta_hat = min(max(theta_hat, theta_lo), theta_hi)
    est = st.difference(theta_hat)
    low, high = min(st.difference(theta_lo), est), max(st.difference(theta_hi), est)
    if p_value < alpha:
        if p_lower < p_upper:
            high = min(high, -math.ulp(0.0)) if high >= 0.0 else high
        elif low <= 0.0:
            low = math.ulp(0.0)
    else:
        low, high = min(low, 0.0), max(high, 0.0)
    return ExactResult(
        cases=st.cases, informative=st.k, statistic=st.s, expected=expected,
        p_lower=min(1.0, p_lower), p_upper=min(1.0, p_upper), p_value=p_value,
        odds_ratio=_exp(theta_hat), odds_ratio_low=_exp(theta_lo),
        odds_ratio_high=_exp(theta_hi), difference=est, difference_low=low,
        difference_high=high, min_p_given_totals=min_p, confidence=1.0 - alpha)


def fisher_per_case(x: Sequence[int], m: Sequence[int], y: Sequence[int],
                    n: Sequence[int], *, mid_p: bool = True) -> list[float | None]:
    """Fisher's exact test in each case: the same conditional model in one stratum.

    Two-sided by doubling the smaller tail (capped at 1). None for an uninformative case
    (all samples passed, or all failed, on both sides): it has one possible table.
    """
    return per_case_tests(x, m, y, n, mid_p=mid_p)[0]


def per_case_tests(x: Sequence[int], m: Sequence[int], y: Sequence[int],
                   n: Sequence[int], *,
                   mid_p: bool = True) -> tuple[list[float | None], list[float | None]]:
    """Fisher's exact p-value per case and the smallest p-value its total allows.

    With ``mid_p`` (default) the tails count the observed table half, as
    :func:`exact_stratified` does.

    Returns:
        ``(p_values, min_p_values)``, None for uninformative cases.

    """
    import numpy as np

    xs, ms, ys, ns = (np.asarray(v, dtype=np.int64) for v in (x, m, y, n))
    st = _Strata(xs, ms, ys, ns)
    out: list[float | None] = [None] * int(xs.size)
    floor: list[float | None] = [None] * int(xs.size)
    if not st.k:
        return out, floor
    probs = st.probabilities(0.0)
    at = (st.y - st.lo)
    cum = np.cumsum(probs, axis=1)
    rows = np.arange(st.k)
    half = 0.5 * probs[rows, at] if mid_p else 0.0
    lower = cum[rows, at] - half
    upper = 1.0 - cum[rows, at] + probs[rows, at] - half
    p = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    ends = np.minimum(probs[:, 0], probs[rows, st.hi - st.lo])
    least = np.minimum(1.0, (1.0 if mid_p else 2.0) * ends)
    where = np.flatnonzero(((xs + ys) > 0) & ((xs + ys) < ms + ns))
    for i, v, f in zip(where.tolist(), p.tolist(), least.tolist(), strict=True):
        out[i], floor[i] = float(v), float(f)
    return out, floor


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's (1979) step-down adjusted p-values: reject where adjusted < alpha.

    Controls the family-wise error rate (the chance of calling any unchanged case changed)
    at alpha for any dependence between the tests.
    """
    k = len(p_values)
    order = sorted(range(k), key=lambda i: p_values[i])
    out = [1.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p_values[i]))
        out[i] = running
    return out


def tarone_holm(p_values: Sequence[float], min_p: Sequence[float],
                alpha: float) -> tuple[list[float], int]:
    """Holm's procedure over Tarone's (1990) family: only tests that could reach significance.

    A discrete test whose smallest possible p-value exceeds its share of alpha can never
    reject, so counting it only costs the others power. Tarone's rule takes the smallest k
    with at most k tests whose smallest p is <= alpha / k; Holm runs over those. The family
    depends on the cases' totals only, which the tests condition on, so the family-wise error
    rate stays at most alpha.

    Returns:
        ``(adjusted, family_size)``; a test outside the family gets 1.0.

    """
    k = 1
    while sum(1 for f in min_p if f <= alpha / k) > k:
        k += 1
    family = [i for i, f in enumerate(min_p) if f <= alpha / k]
    adjusted = [1.0] * len(p_values)
    for i, a in zip(family, holm([p_values[i] for i in family]), strict=True):
        adjusted[i] = a
    return adjusted, len(family)
