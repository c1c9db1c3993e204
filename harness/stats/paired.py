"""Baseline vs candidate: per-case transitions, a paired test, the effect size, the gate.

Cases are paired by (suite, case). Each side's case has a pass fraction over its judged samples.

* Classes per side (:class:`Thresholds`): stable pass when the fraction is >= ``stable_pass``
  (default 1.0: every sample passed), stable fail when <= ``stable_fail`` (default 0.0: none
  passed), flaky otherwise. With one sample a case is simply pass or fail.
* Transitions: fixed (fail -> pass), regressed (pass -> fail), still passing, still failing,
  flaky (either side flaky).
* Paired test: a two-sided sign test (exact binomial on cases whose pass fraction went up
  versus down, ties dropped). When every paired case has one sample on each side this *is* the
  exact McNemar test (the discordant cases are exactly the ups and downs) and is named so.
* Effect: candidate minus baseline pass rate, the mean over paired cases of the fraction
  difference. 95 % interval: Newcombe's hybrid score interval for paired proportions with one
  sample per case; otherwise a seeded percentile bootstrap over cases (the case is the
  independent unit, so within-case correlation is kept).
* Verdict: REGRESSED / IMPROVED when p < alpha (direction: more cases down than up, or the
  reverse), else NO_SIGNIFICANT_CHANGE.
* A case with an ERROR on either side, or not judged on one side (all skipped), is excluded
  from pairing and listed; cases present on one side only are listed, not paired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from harness.stats.intervals import (
    bootstrap_mean_interval,
    exact_binomial_p,
    newcombe_paired_interval,
)
from harness.stats.tally import CaseKey, CaseTally, case_label, tally_cases

REGRESSED = "REGRESSED"
IMPROVED = "IMPROVED"
NO_SIGNIFICANT_CHANGE = "NO_SIGNIFICANT_CHANGE"
VERDICTS = (REGRESSED, IMPROVED, NO_SIGNIFICANT_CHANGE)

TRANSITIONS = ("fixed", "regressed", "still_passing", "still_failing", "flaky")
MCNEMAR = "exact McNemar"
SIGN_TEST = "sign test"
NEWCOMBE = "Newcombe hybrid score (paired)"
BOOTSTRAP = "paired percentile bootstrap over cases"


@dataclass(frozen=True)
class Thresholds:
    """Pass-fraction thresholds of the flakiness classes.

    Attributes:
        stable_pass: A fraction at or above this is a stable pass.
        stable_fail: A fraction at or below this is a stable fail.

    """

    stable_pass: float = 1.0
    stable_fail: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.stable_fail < self.stable_pass <= 1.0:
            raise ValueError("thresholds need 0 <= stable_fail < stable_pass <= 1, got "
                             f"stable_fail={self.stable_fail}, stable_pass={self.stable_pass}")

    def classify(self, fraction: float) -> str:
        """``pass``, ``fail`` or ``flaky``."""
        if fraction >= self.stable_pass:
            return "pass"
        if fraction <= self.stable_fail:
            return "fail"
        return "flaky"


def transition(baseline_class: str, candidate_class: str) -> str:
    """The transition name for two classes."""
    if "flaky" in (baseline_class, candidate_class):
        return "flaky"
    return {("fail", "pass"): "fixed", ("pass", "fail"): "regressed",
            ("pass", "pass"): "still_passing"}.get((baseline_class, candidate_class),
                                                   "still_failing")


@dataclass(frozen=True)
class CaseTransition:
    """One paired case.

    Attributes:
        suite: Suite name.
        case: Case id.
        baseline: The baseline's verdict counts.
        candidate: The candidate's verdict counts.
        baseline_class: ``pass`` / ``fail`` / ``flaky``.
        candidate_class: ``pass`` / ``fail`` / ``flaky``.
        transition: One of :data:`TRANSITIONS`.

    """

    suite: str
    case: str
    baseline: CaseTally
    candidate: CaseTally
    baseline_class: str
    candidate_class: str
    transition: str

    @property
    def label(self) -> str:
        """``suite::case``."""
        return case_label((self.suite, self.case))

    @property
    def baseline_fraction(self) -> float:
        """Baseline pass fraction."""
        return self.baseline.passed / self.baseline.judged

    @property
    def candidate_fraction(self) -> float:
        """Candidate pass fraction."""
        return self.candidate.passed / self.candidate.judged

    @property
    def delta(self) -> float:
        """Candidate minus baseline pass fraction."""
        return self.candidate_fraction - self.baseline_fraction

    @property
    def min_samples(self) -> int:
        """Fewer judged samples of the two sides."""
        return min(self.baseline.judged, self.candidate.judged)


@dataclass(frozen=True)
class Exclusion:
    """A case left out of pairing, and why."""

    label: str
    reason: str


@dataclass(frozen=True)
class Comparison:
    """Baseline vs one candidate.

    Attributes:
        baseline: Baseline name (a model, or ``run:model`` across runs).
        candidate: Candidate name.
        cases: Paired cases, sorted by (suite, case).
        excluded: Cases in both but left out (ERROR or nothing judged on a side).
        only_baseline: Cases only the baseline has.
        only_candidate: Cases only the candidate has.
        test: :data:`MCNEMAR` or :data:`SIGN_TEST`.
        interval_method: :data:`NEWCOMBE` or :data:`BOOTSTRAP` (with its seed).
        up: Paired cases whose pass fraction went up.
        down: Paired cases whose pass fraction went down.
        p_value: Two-sided p-value (1.0 without discordant cases; None without paired cases).
        baseline_rate: Mean baseline pass fraction over paired cases.
        candidate_rate: Mean candidate pass fraction over paired cases.
        difference: ``candidate_rate - baseline_rate``.
        ci_low: Lower bound of the difference's interval.
        ci_high: Upper bound.
        alpha: Significance level of the verdict.
        confidence: Coverage of the interval.
        verdict: One of :data:`VERDICTS`.
        thresholds: The classes' thresholds.

    """

    baseline: str
    candidate: str
    cases: tuple[CaseTransition, ...]
    excluded: tuple[Exclusion, ...]
    only_baseline: tuple[str, ...]
    only_candidate: tuple[str, ...]
    test: str
    interval_method: str
    up: int
    down: int
    p_value: float | None
    baseline_rate: float | None
    candidate_rate: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    alpha: float
    confidence: float
    verdict: str
    thresholds: Thresholds

    def labels(self, name: str) -> list[str]:
        """Labels of the paired cases with transition ``name``."""
        if name not in TRANSITIONS:
            raise ValueError(f"unknown transition {name!r}; valid: {', '.join(TRANSITIONS)}")
        return [c.label for c in self.cases if c.transition == name]

    @property
    def regressed(self) -> list[str]:
        """Cases that went from pass to fail."""
        return self.labels("regressed")

    @property
    def fixed(self) -> list[str]:
        """Cases that went from fail to pass."""
        return self.labels("fixed")

    @property
    def worse(self) -> list[str]:
        """Cases whose pass fraction went down (what the test counts)."""
        return [c.label for c in self.cases if c.delta < 0]

    @property
    def better(self) -> list[str]:
        """Cases whose pass fraction went up."""
        return [c.label for c in self.cases if c.delta > 0]


def _exclusion(key: CaseKey, base: CaseTally, cand: CaseTally) -> Exclusion | None:
    why = []
    for side, t in (("baseline", base), ("candidate", cand)):
        if t.errors:
            why.append(f"{t.errors} ERROR of {t.judged + t.errors + t.skipped} samples "
                       f"on the {side}")
        elif not t.judged:
            why.append(f"nothing judged on the {side} (all skipped)")
    return Exclusion(case_label(key), "; ".join(why)) if why else None


def compare_models(baseline_records: Iterable[Mapping[str, Any]],
                   candidate_records: Iterable[Mapping[str, Any]], *, baseline: str,
                   candidate: str, alpha: float = 0.05, confidence: float = 0.95,
                   thresholds: Thresholds | None = None, seed: int = 0,
                   resamples: int = 9999) -> Comparison:
    """Compare a candidate's records with the baseline's, case by case.

    Args:
        baseline_records: The baseline model's records (only those).
        candidate_records: The candidate model's records (only those).
        baseline: The baseline's name.
        candidate: The candidate's name.
        alpha: Significance level of the verdict.
        confidence: Coverage of the difference's interval.
        thresholds: Flakiness class thresholds (default: all / none of the samples).
        seed: Bootstrap seed.
        resamples: Bootstrap resamples.

    Returns:
        The comparison.

    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    thresholds = thresholds or Thresholds()
    base, cand = tally_cases(baseline_records), tally_cases(candidate_records)
    pairs: list[CaseTransition] = []
    excluded: list[Exclusion] = []
    for key in sorted(base.keys() & cand.keys()):
        b, c = base[key], cand[key]
        skip = _exclusion(key, b, c)
        if skip is not None:
            excluded.append(skip)
            continue
        bc = thresholds.classify(b.passed / b.judged)
        cc = thresholds.classify(c.passed / c.judged)
        pairs.append(CaseTransition(key[0], key[1], b, c, bc, cc, transition(bc, cc)))

    up = sum(1 for p in pairs if p.delta > 0)
    down = sum(1 for p in pairs if p.delta < 0)
    single = all(p.baseline.judged == 1 and p.candidate.judged == 1 for p in pairs)
    test = MCNEMAR if single else SIGN_TEST
    p_value = b_rate = c_rate = diff = low = high = None
    method = NEWCOMBE if single else f"{BOOTSTRAP} (seed {seed}, {resamples} resamples)"
    if pairs:
        p_value = exact_binomial_p(up, up + down)
        b_rate = sum(p.baseline_fraction for p in pairs) / len(pairs)
        c_rate = sum(p.candidate_fraction for p in pairs) / len(pairs)
        if single:
            both = sum(1 for p in pairs if p.baseline.passed and p.candidate.passed)
            neither = sum(1 for p in pairs if not p.baseline.passed and not p.candidate.passed)
            # Rows: candidate pass/fail; columns: baseline pass/fail -> d = candidate - baseline.
            diff, low, high = newcombe_paired_interval(both, up, down, neither, confidence)
        else:
            deltas = [p.delta for p in pairs]
            diff = sum(deltas) / len(deltas)
            low, high = bootstrap_mean_interval(deltas, confidence, seed=seed,
                                                resamples=resamples)
    verdict = NO_SIGNIFICANT_CHANGE
    if p_value is not None and p_value < alpha:
        verdict = IMPROVED if up > down else REGRESSED
    return Comparison(
        baseline=baseline, candidate=candidate, cases=tuple(pairs), excluded=tuple(excluded),
        only_baseline=tuple(case_label(k) for k in sorted(base.keys() - cand.keys())),
        only_candidate=tuple(case_label(k) for k in sorted(cand.keys() - base.keys())),
        test=test, interval_method=method, up=up, down=down, p_value=p_value,
        baseline_rate=b_rate, candidate_rate=c_rate, difference=diff, ci_low=low, ci_high=high,
        alpha=alpha, confidence=confidence, verdict=verdict, thresholds=thresholds)


class GateResult(NamedTuple):
    """What the gate decided: ``ok, reasons = gate(...)``."""

    ok: bool
    reasons: list[str]


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


def gate(comparisons: Iterable[Comparison], *, stable_min_samples: int = 2) -> GateResult:
    """Decide whether CI passes.

    Fails when a candidate's verdict is REGRESSED, or when a case goes from stable pass to
    stable fail. "Stable" needs at least ``stable_min_samples`` judged samples on both sides:
    with one sample a pass -> fail flip is not evidence of a stable change, and only the paired
    test decides.

    Args:
        comparisons: Baseline-vs-candidate comparisons.
        stable_min_samples: Samples a case needs on both sides to count as stable.

    Returns:
        ``(ok, reasons)``; reasons name the candidate, the cases and the numbers.

    """
    reasons: list[str] = []
    for c in comparisons:
        if c.verdict == REGRESSED:
            names = ", ".join(c.worse) or "none"
            reasons.append(f"{describe(c)}; worse cases: {names}")
        for t in c.cases:
            if t.transition == "regressed" and t.min_samples >= stable_min_samples:
                reasons.append(
                    f"{c.candidate} vs {c.baseline}: {t.label} went from stable pass "
                    f"({t.baseline.passed}/{t.baseline.judged}) to stable fail "
                    f"({t.candidate.passed}/{t.candidate.judged})")
    return GateResult(not reasons, reasons)
