"""How often the regression gate fails: on identical models (false alarms) and on real drops.

Each simulated comparison draws per-case pass probabilities (uniform 0.55-1.0), samples both
models, and runs the harness's own code (:func:`harness.stats.compare_tallies` and
:func:`harness.stats.gate`). Scenarios:

* ``no change``: both models use the same per-case probabilities;
* ``2 broke``: two cases go from always passing (p = 1) to always failing (p = 0);
* ``drop 15``: every case's pass probability falls by 15 points (floored at 0).

Columns: ``gate``, the gate's failure rate (mid-p tails, the default); ``verdict``, the part
from its REGRESSED verdict alone (the rest comes from statistically regressed cases);
``exact``, the same gate with the classical exact tails (``mid_p=False``: guaranteed level);
``old gate``, the wave-1 gate (sign test / exact McNemar plus the uncorrected "stable pass ->
stable fail" rule); the asymptotic Cochran-Mantel-Haenszel chi-square two-sided at alpha,
counted when it points at a regression, without (``CMH``) and with (``CMH cc``, R's default)
continuity correction; ``CMH adj``, the uncorrected CMH with its critical value raised until
its false-alarm rate is at most the verdict's (power at equal size: the fair comparison, since
the asymptotic test is liberal on the regression side when pass rates are high); ``CMH 2s``,
the uncorrected CMH's rejections in either direction (under "no change": its real size, to
hold against alpha); ``min p``, the smallest p-value the shape allows; ``contra``,
comparisons whose verdict disagrees with their interval or whose interval misses the estimate
(must be 0). A last line runs 3 identical
candidates against one baseline: the chance that any of them fails the gate.

Under each shape a line gives the verdict's and CMH's regression-side false-alarm rates
computed exactly given each run's totals and averaged over the no-change runs (precise where
counting rejections in 1,000 runs is not), and the critical value ``CMH adj`` uses.

Seeded; prints figures, asserts nothing about time.
Usage: python benchmarks/gate_calibration.py [--sims 1000] [--alpha 0.05] [--seed 20260101]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import binomtest, chi2, hypergeom

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.stats.gate import gate
from harness.stats.paired import REGRESSED, Comparison, compare_tallies
from harness.stats.power import design_min_p
from harness.stats.tally import CaseTally

SHAPES = ((30, 3), (100, 1), (8, 5), (5, 1), (50, 5))


@dataclass
class Row:
    """Rates over one shape x scenario."""

    gate: float
    verdict: float
    exact: float
    old: float
    contradictions: int
    z: np.ndarray          # signed CMH deviation / null sd, without continuity correction
    z_cc: np.ndarray       # the same with R's continuity correction
    # Per run, S's exact null distribution given the cases' totals: its probabilities, each
    # value's CMH z and each value's mid-p lower tail (filled for "no change" only).
    nulls: list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def conditional_null(x: np.ndarray, y: np.ndarray,
                     r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """S = sum y_i under no change, given each case's total: (pmf, CMH z, mid-p lower tail).

    Written apart from harness.stats.exact (scipy's hypergeometric, convolved), so the sizes
    it yields also check the harness's arithmetic.
    """
    pmf = np.ones(1)
    lo = 0
    for t in (x + y).tolist():
        support = np.arange(max(0, t - r), min(r, t) + 1)
        pmf = np.convolve(pmf, hypergeom.pmf(support, 2 * r, r, t))
        lo += int(support[0])
    pmf = pmf / pmf.sum()
    s = lo + np.arange(pmf.size)
    mean = float((s * pmf).sum())
    sd = math.sqrt(max(float(((s - mean) ** 2 * pmf).sum()), 0.0))
    z = (s - mean) / sd if sd > 0 else np.zeros(pmf.size)
    mid_lower = np.cumsum(pmf) - pmf / 2
    return pmf, z, mid_lower


def size_given_totals(nulls: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                      rejects: str, level: float) -> float:
    """A test's false-alarm rate, exact per run given its totals, averaged over the runs.

    Far less noisy than counting rejections (each run contributes a probability, not 0 or 1).
    ``rejects``: ``verdict`` (mid-p lower tail < level) or ``cmh`` (z < -level).
    """
    total = 0.0
    for pmf, z, mid_lower in nulls:
        hit = mid_lower < level if rejects == "verdict" else z < -level
        total += float(pmf[hit].sum())
    return total / max(1, len(nulls))


def matched_cmh_critical(nulls: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                         size: float) -> float:
    """The smallest CMH critical z whose false-alarm rate is at most ``size``."""
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if size_given_totals(nulls, "cmh", mid) > size:
            lo = mid
        else:
            hi = mid
    return hi


def cmh_z(x: np.ndarray, y: np.ndarray, r: int) -> tuple[float, float]:
    """Signed CMH deviation over its null sd, plain and continuity-corrected (z^2 = X^2)."""
    t = x + y
    big = 2 * r
    var = float((r * r * t * (big - t) / (big * big * (big - 1))).sum())
    dev = float((y - t / 2).sum())
    if var <= 0:
        return 0.0, 0.0
    cc = math.copysign(max(0.0, abs(dev) - 0.5), dev) if abs(dev) >= 0.5 else dev
    return dev / math.sqrt(var), cc / math.sqrt(var)


def old_gate_fails(x: np.ndarray, y: np.ndarray, r: int, alpha: float) -> bool:
    """The gate before this change: sign test (McNemar at r = 1) or a stable pass -> fail."""
    fx, fy = x / r, y / r
    up, down = int((fy > fx).sum()), int((fy < fx).sum())
    p = binomtest(up, up + down, 0.5).pvalue if up + down else 1.0
    if p < alpha and down > up:
        return True
    return r >= 2 and bool(((x == r) & (y == 0)).any())


def consistent(c: Comparison) -> bool:
    """Verdict agrees with the interval, and the interval holds the estimate."""
    if c.ci_low is None or c.ci_high is None or c.difference is None:
        return True
    if not c.ci_low <= c.difference <= c.ci_high:
        return False
    if c.verdict == REGRESSED:
        return c.ci_high < 0
    if c.verdict == "IMPROVED":
        return c.ci_low > 0
    return c.ci_low <= 0 <= c.ci_high


def tallies(counts: np.ndarray, r: int) -> dict[tuple[str, str], CaseTally]:
    return {("s", f"c{i}"): CaseTally(int(a), r - int(a)) for i, a in enumerate(counts)}


def run(k: int, r: int, scenario: str, sims: int, alpha: float,
        rng: np.random.Generator) -> Row:
    fails = verdicts = exact_fails = old = contradictions = 0
    zs, zcc = [], []
    nulls = []
    for _ in range(sims):
        p = rng.uniform(0.55, 1.0, k)
        q = p.copy()
        if scenario == "2 broke":
            p[:2], q[:2] = 1.0, 0.0
        elif scenario == "drop 15":
            q = np.maximum(0.0, p - 0.15)
        x, y = rng.binomial(r, p), rng.binomial(r, q)
        c = compare_tallies(tallies(x, r), tallies(y, r), baseline="b", candidate="c",
                            alpha=alpha)
        fails += not gate([c]).ok
        verdicts += c.verdict == REGRESSED
        contradictions += not consistent(c)
        e = compare_tallies(tallies(x, r), tallies(y, r), baseline="b", candidate="c",
                            alpha=alpha, mid_p=False)
        exact_fails += not gate([e]).ok
        contradictions += not consistent(e)
        old += old_gate_fails(x, y, r, alpha)
        z, z_cc = cmh_z(x, y, r)
        zs.append(z)
        zcc.append(z_cc)
        if scenario == "no change":
            nulls.append(conditional_null(x, y, r))
    return Row(fails / sims, verdicts / sims, exact_fails / sims, old / sims, contradictions,
               np.asarray(zs), np.asarray(zcc), nulls)


def several(k: int, r: int, candidates: int, sims: int, alpha: float,
            rng: np.random.Generator) -> float:
    """Chance that any of ``candidates`` identical candidates fails the gate."""
    any_fail = 0
    for _ in range(sims):
        p = rng.uniform(0.55, 1.0, k)
        base = tallies(rng.binomial(r, p), r)
        comps = [compare_tallies(base, tallies(rng.binomial(r, p), r), baseline="b",
                                 candidate=f"c{j}", alpha=alpha) for j in range(candidates)]
        any_fail += not gate(comps).ok
    return any_fail / sims


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sims", type=int, default=1000, help="comparisons per shape and scenario")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=20260101)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    a, n = args.alpha, args.sims
    crit = math.sqrt(float(chi2.isf(a, 1)))
    start = time.perf_counter()
    print(f"{n} comparisons per row, alpha {a:g}, seed {args.seed}. Rates: fraction of runs in "
          "which the gate (or the named test) called a regression; 'CMH 2s' counts both "
          "directions (its size under 'no change').")
    head = (f"{'shape':>6} {'scenario':>9} | {'gate':>5} {'verdict':>7} {'exact':>5} "
            f"{'old gate':>8} | "
            f"{'CMH':>5} {'CMH cc':>6} {'CMH adj':>7} {'CMH 2s':>6} | {'min p':>7} "
            f"{'contra':>6}")
    print(head)
    print("-" * len(head))
    for k, r in SHAPES:
        null = run(k, r, "no change", n, a, rng)
        # Size-adjusted CMH: its critical z is set so that its false-alarm rate (exact given
        # the totals, averaged over the no-change runs) is at most the verdict's: power at
        # equal size, the fair comparison where the asymptotic test is liberal.
        v_size = size_given_totals(null.nulls, "verdict", a / 2)
        c_size = size_given_totals(null.nulls, "cmh", crit)
        cut = matched_cmh_critical(null.nulls, v_size)
        min_p = design_min_p([r] * k, [r] * k)  # mid-p, as the gate uses
        for scenario in ("no change", "2 broke", "drop 15"):
            res = null if scenario == "no change" else run(k, r, scenario, n, a, rng)
            matched = float((res.z < -cut).mean())
            print(f"{f'{k}x{r}':>6} {scenario:>9} | {res.gate:5.3f} {res.verdict:7.3f} "
                  f"{res.exact:5.3f} {res.old:8.3f} | {float((res.z < -crit).mean()):5.3f} "
                  f"{float((res.z_cc < -crit).mean()):6.3f} {matched:7.3f} "
                  f"{float((abs(res.z) > crit).mean()):6.3f} | {min_p:7.2g} "
                  f"{res.contradictions:6d}")
        print(f"{'':>17}   false alarms given the totals: verdict {v_size:.4f}, CMH "
              f"{c_size:.4f} (nominal {a / 2:g}); CMH adj uses |z| > {cut:.3f}")
    multi = several(30, 3, 3, n, a, rng)
    print(f"3 identical candidates vs one baseline (30x3): any gate failure {multi:.3f} "
          f"(bound per candidate {a:g}, for all three {3 * a:g})")
    print(f"finished in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
