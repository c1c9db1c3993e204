"""The regression gate over baseline-vs-candidate comparisons, and their one-line description.

Error rates, for a candidate identical to the baseline:

* the comparison's verdict is REGRESSED only when the lower tail of the stratified test is
  below ``alpha / 2``;
* some case is called regressed by Holm's procedure only when a case with no change has a
  one-sided Fisher tail below ``alpha / (2 k0)`` (k0 unchanged cases in the family, which
  depends only on the cases' totals);
* with the classical exact tails each part is at most ``alpha / 2`` and the gate fails at most
  ``alpha`` of the time per candidate, whatever the suite's shape. Those tests are discrete
  and conservative (the real rate is often under alpha / 4), so they miss regressions the
  asymptotic CMH test finds. The default mid-p tails (:mod:`harness.stats.exact`) spend the
  budget: their level is not guaranteed, and benchmarks/gate_calibration.py measures the
  gate's false alarms (below alpha in every shape it runs) and its power beside CMH.

Several candidates against one baseline: the bound holds for each candidate; the chance that
any of k identical candidates fails the gate is at most ``k * alpha`` (Bonferroni; the
comparisons share the baseline's samples, so it is usually less). To bound the whole run at
alpha, compare at ``alpha / k``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from harness.stats.paired import Comparison

UNDERPOWERED_MODES = ("warn", "fail")


class GateResult(NamedTuple):
    """What the gate decided: ``ok, reasons, warnings = gate(...)``.

    Attributes:
        ok: True when CI should pass.
        reasons: Why it failed (empty when ok).
        warnings: What the gate could not judge (e.g. a suite too small to ever be
            significant) when that is only a warning.

    """

    ok: bool
    reasons: list[str]
    warnings: list[str]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def describe(c: Comparison) -> str:
    """One line with the comparison's numbers (for the gate and the terminal)."""
    ci = ("" if c.ci_low is None or c.ci_high is None else
          f", {100 * c.confidence:.0f}% CI [{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}] pts")
    diff = "n/a" if c.difference is None else f"{100 * c.difference:+.1f} pts"
    p = "n/a" if c.p_value is None else f"{c.p_value:.3g}"
    return (f"{c.candidate} vs {c.baseline}: {c.verdict}: pass rate {_pct(c.baseline_rate)} -> "
            f"{_pct(c.candidate_rate)} ({diff}{ci}) over {len(c.cases)} paired cases; "
            f"{c.test} p={p} ({c.down} worse, {c.up} better) at alpha {c.alpha:g}")


def underpowered_note(c: Comparison) -> str:
    """Why a comparison could not be significant, and what would make it so."""
    shape = f"{len(c.cases)} paired cases"
    return (f"{c.candidate} vs {c.baseline}: cannot reach significance: the smallest p-value "
            f"{shape} can give is {c.min_p:.3g} (alpha {c.alpha:g}); add cases or samples "
            "(every case moving from all samples passing to all failing would not be enough)")


def gate(comparisons: Iterable[Comparison], *, underpowered: str = "warn") -> GateResult:
    """Decide whether CI passes.

    Fails when a candidate's verdict is REGRESSED, or when some case is statistically
    regressed (Fisher's test in the case, Holm-adjusted at alpha across the cases that
    could reach significance). A case that merely went from passing to failing
    (``now_failing``) does not fail the gate on its own: with few samples that happens by
    chance. On identical models the gate fails at most alpha of the time per candidate (see
    the module's docstring).

    Args:
        comparisons: Baseline-vs-candidate comparisons.
        underpowered: ``warn`` (default): a comparison that cannot reach significance at all
            adds a warning; ``fail``: it fails the gate.

    Returns:
        ``(ok, reasons, warnings)``; reasons name the candidate, the cases and the numbers.

    Raises:
        ValueError: An unknown ``underpowered`` mode.

    """
    if underpowered not in UNDERPOWERED_MODES:
        raise ValueError(f"unknown gate_underpowered mode {underpowered!r}; valid: "
                         + ", ".join(UNDERPOWERED_MODES))
    reasons: list[str] = []
    warnings: list[str] = []
    for c in comparisons:
        if not c.cases:
            reasons.append(f"{c.candidate} vs {c.baseline}: no paired cases (no case has judged "
                           "items of both models), so nothing could be compared: run both "
                           "models on the same cases")
            continue
        if c.verdict == "REGRESSED":
            names = ", ".join(c.worse) or "none"
            reasons.append(f"{describe(c)}; worse cases: {names}")
        regressed = set(c.regressed)
        for t in c.cases:
            if t.label in regressed:
                reasons.append(
                    f"{c.candidate} vs {c.baseline}: {t.label} regressed "
                    f"({t.baseline.passed}/{t.baseline.judged} -> "
                    f"{t.candidate.passed}/{t.candidate.judged}; "
                    f"Fisher {c.tails} p={t.p_value:.3g}, "
                    f"Holm-adjusted p={t.p_adjusted:.3g} over {c.holm_family} cases)")
        if not c.can_reach_significance:
            (reasons if underpowered == "fail" else warnings).append(underpowered_note(c))
    return GateResult(not reasons, reasons, warnings)
