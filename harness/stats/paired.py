"""Baseline vs candidate: one conditional analysis per comparison, per-case tests, the gate.

Cases are paired by (suite, case). Each side's case has judged samples and passes.

* **One analysis** (:func:`harness.stats.exact.exact_stratified`): the conditional test for a
  common odds ratio stratified by case (Birch; exact Cochran-Mantel-Haenszel), with mid-p
  tails. Its p-value, its interval (inverted from the same p-value function) and its estimate,
  mapped to the pass-rate scale, give the verdict, so REGRESSED / IMPROVED appear exactly when
  the interval excludes 0 in that direction. With one sample per case it is the mid-p McNemar
  test. ``mid_p=False`` gives the classical exact tails throughout (guaranteed level, less
  power).
  Every sample counts: a case that went from 5/5 to 0/5 weighs more than one that went
  from 1/1 to 0/1.
* **Per-case "regressed" / "improved"** are statistical: Fisher's test in the case, mid-p
  (the same conditional model in one stratum), Holm-adjusted at alpha across the cases that
  could reach significance given their totals (Tarone's rule; a case whose samples all pass,
  or all fail, on both sides never can). The chance of naming any unchanged case is at most
  alpha with exact tails, about that with mid-p. With fewer than 4 samples a side no single
  case can be significant at 0.05.
* **Descriptive transitions** use their own words and never "regressed": ``now_failing``
  (stable pass -> stable fail), ``now_passing`` (the reverse), ``still_passing``,
  ``still_failing``, ``flaky`` (either side flaky); classes by :class:`Thresholds`.
* **Power**: the smallest p-value the suite's shape allows, whether it can reach alpha at all,
  the smallest drop it could detect, and roughly how many samples would detect what was seen.
* A case with an ERROR on either side, or not judged on one side (all skipped), is excluded
  from pairing and listed; cases present on one side only are listed, not paired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.stats import exact, power
from harness.stats.tally import CaseKey, CaseTally, case_label, tally_cases

REGRESSED = "REGRESSED"
IMPROVED = "IMPROVED"
NO_SIGNIFICANT_CHANGE = "NO_SIGNIFICANT_CHANGE"
VERDICTS = (REGRESSED, IMPROVED, NO_SIGNIFICANT_CHANGE)

TRANSITIONS = ("now_passing", "now_failing", "still_passing", "still_failing", "flaky")
MCNEMAR = "mid-p McNemar"
MIDP_CMH = "mid-p conditional test stratified by case (mid-p exact CMH)"
MIDP_INTERVAL = ("mid-p conditional interval for the common odds ratio (inverted from the "
                 "test's p-value function), as expected pass-rate difference given each "
                 "case's totals")
# The same with the classical exact tails (compare_tallies(..., mid_p=False)).
EXACT_MCNEMAR = "exact McNemar"
EXACT_CMH = "exact conditional test stratified by case (exact CMH)"
EXACT_INTERVAL = MIDP_INTERVAL.replace("mid-p", "exact", 1)

__all__ = ["EXACT_CMH", "EXACT_INTERVAL", "EXACT_MCNEMAR", "IMPROVED", "MCNEMAR", "MIDP_CMH",
           "MIDP_INTERVAL", "NO_SIGNIFICANT_CHANGE",
           "REGRESSED", "TRANSITIONS", "VERDICTS", "CaseTransition", "Comparison", "Exclusion",
           "Thresholds", "compare_models", "compare_tallies", "transition"]


@dataclass(frozen=True)
class Thresholds:
    """Pass-fraction thresholds of the descriptive classes.

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
    """The descriptive transition name for two classes (one of :data:`TRANSITIONS`)."""
    if "flaky" in (baseline_class, candidate_class):
        return "flaky"
    return {("fail", "pass"): "now_passing", ("pass", "fail"): "now_failing",
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
        transition: One of :data:`TRANSITIONS` (descriptive, not a test).
        p_value: Fisher's two-sided p-value in this case, mid-p unless the comparison's
            ``tails`` are ``exact`` (None: uninformative, every
            sample passed or every sample failed on both sides).
        p_adjusted: Holm-adjusted across the comparison's per-case family (informative cases
            that could reach significance, by Tarone's rule; 1.0 for the rest; None likewise).

    """

    suite: str
    case: str
    baseline: CaseTally
    candidate: CaseTally
    baseline_class: str
    candidate_class: str
    transition: str
    p_value: float | None = None
    p_adjusted: float | None = None

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
    """Baseline vs one candidate: verdict, interval, p-value and case lists from one analysis.

    Attributes:
        baseline: Baseline name (a model, or ``run:model`` across runs).
        candidate: Candidate name.
        cases: Paired cases, sorted by (suite, case).
        excluded: Cases in both but left out (ERROR or nothing judged on a side).
        only_baseline: Cases only the baseline has.
        only_candidate: Cases only the candidate has.
        test: :data:`MCNEMAR` (one sample per case) or :data:`MIDP_CMH`
            (:data:`EXACT_MCNEMAR`, :data:`EXACT_CMH` with ``mid_p=False``).
        interval_method: :data:`MIDP_INTERVAL` (:data:`EXACT_INTERVAL`).
        up: Paired cases whose pass fraction went up.
        down: Paired cases whose pass fraction went down.
        informative: Paired cases that can move the test (not all-pass or all-fail on both
            sides).
        holm_family: Cases in the per-case tests' multiplicity family: the informative cases
            whose total allows significance (Tarone's rule; the rest can never be significant).
        p_value: Two-sided p-value (None without paired cases).
        baseline_rate: Mean baseline pass fraction over paired cases.
        candidate_rate: Mean candidate pass fraction over paired cases.
        difference: Estimated candidate-minus-baseline pass rate (the conditional MLE mapped
            to the pass-rate scale; equals ``observed_difference`` when every case has the
            same number of samples on both sides).
        observed_difference: ``candidate_rate - baseline_rate``.
        ci_low: Lower end of the difference's interval (coverage ``confidence``).
        ci_high: Upper end.
        odds_ratio: Common odds ratio estimate, candidate over baseline (0 / inf when every
            informative case moved one way; None when undefined).
        odds_ratio_low: Its interval's lower end (0 possible).
        odds_ratio_high: Its interval's upper end (inf possible).
        alpha: Significance level of the verdict and of the per-case tests.
        confidence: ``1 - alpha``: the interval is the test inverted.
        verdict: One of :data:`VERDICTS`.
        thresholds: The descriptive classes' thresholds.
        min_p: The smallest p-value this suite's shape could ever give (every case moving
            from all samples passing to all failing).
        can_reach_significance: ``min_p < alpha``; False: no outcome could be significant.
        min_p_given_totals: The smallest p-value any outcome could give with these cases'
            observed totals (how much room the results left).
        min_detectable_cases: Fewest cases going from always passing to always failing, the
            rest unchanged, that would be significant (None: not even all of them).
        min_detectable_difference: The same as a pass-rate drop (a fraction; negative).
        samples_needed: Rough samples per case and side for 80 % power to detect a change
            like the observed one (None when nothing changed).
        tails: ``mid-p`` (default) or ``exact``: how every p-value and the interval count
            the observed outcome.

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
    informative: int
    holm_family: int
    p_value: float | None
    baseline_rate: float | None
    candidate_rate: float | None
    difference: float | None
    observed_difference: float | None
    ci_low: float | None
    ci_high: float | None
    odds_ratio: float | None
    odds_ratio_low: float | None
    odds_ratio_high: float | None
    alpha: float
    confidence: float
    verdict: str
    thresholds: Thresholds
    min_p: float
    can_reach_significance: bool
    min_p_given_totals: float | None
    min_detectable_cases: int | None
    min_detectable_difference: float | None
    samples_needed: int | None
    tails: str = "mid-p"

    def labels(self, name: str) -> list[str]:
        """Labels of the paired cases with descriptive transition ``name``."""
        if name not in TRANSITIONS:
            raise ValueError(f"unknown transition {name!r}; valid: {', '.join(TRANSITIONS)}")
        return [c.label for c in self.cases if c.transition == name]

    def _significant(self, sign: int) -> list[str]:
        return [c.label for c in self.cases if c.p_adjusted is not None
                and c.p_adjusted < self.alpha and c.delta * sign > 0]

    @property
    def regressed(self) -> list[str]:
        """Cases statistically worse: Holm-adjusted Fisher p < alpha, pass fraction down."""
        return self._significant(-1)

    @property
    def improved(self) -> list[str]:
        """Cases statistically better: Holm-adjusted Fisher p < alpha, pass fraction up."""
        return self._significant(1)

    @property
    def now_failing(self) -> list[str]:
        """Cases that were a stable pass and are a stable fail (descriptive)."""
        return self.labels("now_failing")

    @property
    def now_passing(self) -> list[str]:
        """Cases that were a stable fail and are a stable pass (descriptive)."""
        return self.labels("now_passing")

    @property
    def worse(self) -> list[str]:
        """Cases whose pass fraction went down (descriptive)."""
        return [c.label for c in self.cases if c.delta < 0]

    @property
    def better(self) -> list[str]:
        """Cases whose pass fraction went up (descriptive)."""
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


def _finite(v: float) -> float | None:
    return None if v != v else v  # nan -> None


def compare_models(baseline_records: Iterable[Mapping[str, Any]],
                   candidate_records: Iterable[Mapping[str, Any]], *, baseline: str,
                   candidate: str, alpha: float = 0.05,
                   thresholds: Thresholds | None = None, mid_p: bool = True) -> Comparison:
    """Compare a candidate's records with the baseline's, case by case.

    Args:
        baseline_records: The baseline model's records (only those).
        candidate_records: The candidate model's records (only those).
        baseline: The baseline's name.
        candidate: The candidate's name.
        alpha: Significance level of the verdict and the per-case tests; the interval has
            coverage ``1 - alpha`` (it is the test inverted).
        thresholds: Descriptive class thresholds (default: all / none of the samples).
        mid_p: Mid-p tails for every test and the interval (default); False: the classical
            exact tails (guaranteed level, less power; see :mod:`harness.stats.exact`).

    Returns:
        The comparison.

    """
    return compare_tallies(tally_cases(baseline_records), tally_cases(candidate_records),
                           baseline=baseline, candidate=candidate, alpha=alpha,
                           thresholds=thresholds, mid_p=mid_p)


def compare_tallies(base: Mapping[CaseKey, CaseTally], cand: Mapping[CaseKey, CaseTally], *,
                    baseline: str, candidate: str, alpha: float = 0.05,
                    thresholds: Thresholds | None = None, mid_p: bool = True) -> Comparison:
    """:func:`compare_models` on verdict counts per case (what the benchmark simulates)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    thresholds = thresholds or Thresholds()
    keys: list[CaseKey] = []
    excluded: list[Exclusion] = []
    for key in sorted(base.keys() & cand.keys()):
        skip = _exclusion(key, base[key], cand[key])
        if skip is None:
            keys.append(key)
        else:
            excluded.append(skip)
    xs = [base[k].passed for k in keys]
    ms = [base[k].judged for k in keys]
    ys = [cand[k].passed for k in keys]
    ns = [cand[k].judged for k in keys]
    p_case, p_floor = exact.per_case_tests(xs, ms, ys, ns, mid_p=mid_p) if keys else ([], [])
    tested = [i for i, p in enumerate(p_case) if p is not None]
    holm_p, family = exact.tarone_holm([p_case[i] or 0.0 for i in tested],
                                       [p_floor[i] or 0.0 for i in tested], alpha)
    adjusted: dict[int, float] = dict(zip(tested, holm_p, strict=True))
    pairs: list[CaseTransition] = []
    for i, key in enumerate(keys):
        b, c = base[key], cand[key]
        bc, cc = thresholds.classify(b.passed / b.judged), thresholds.classify(c.passed / c.judged)
        pairs.append(CaseTransition(key[0], key[1], b, c, bc, cc, transition(bc, cc),
                                    p_case[i], adjusted.get(i)))
    single = all(m == 1 and n == 1 for m, n in zip(ms, ns, strict=True))
    verdict = NO_SIGNIFICANT_CHANGE
    res = exact.exact_stratified(xs, ms, ys, ns, alpha, mid_p=mid_p) if keys else None
    b_rate = c_rate = observed = None
    if res is not None:
        b_rate = sum(x / m for x, m in zip(xs, ms, strict=True)) / len(keys)
        c_rate = sum(y / n for y, n in zip(ys, ns, strict=True)) / len(keys)
        observed = c_rate - b_rate
        if res.p_value < alpha:
            verdict = REGRESSED if res.p_lower < res.p_upper else IMPROVED
    min_p = power.design_min_p(ms, ns, mid_p=mid_p)
    detect = power.min_detectable_cases(ms, ns, alpha, mid_p=mid_p)
    if mid_p:
        test, interval = (MCNEMAR if single else MIDP_CMH), MIDP_INTERVAL
    else:
        test, interval = (EXACT_MCNEMAR if single else EXACT_CMH), EXACT_INTERVAL
    return Comparison(
        baseline=baseline, candidate=candidate, cases=tuple(pairs), excluded=tuple(excluded),
        only_baseline=tuple(case_label(k) for k in sorted(base.keys() - cand.keys())),
        only_candidate=tuple(case_label(k) for k in sorted(cand.keys() - base.keys())),
        test=test, interval_method=interval,
        up=sum(1 for p in pairs if p.delta > 0), down=sum(1 for p in pairs if p.delta < 0),
        informative=len(tested), holm_family=family,
        p_value=None if res is None else res.p_value,
        baseline_rate=b_rate, candidate_rate=c_rate,
        difference=None if res is None else res.difference, observed_difference=observed,
        ci_low=None if res is None else res.difference_low,
        ci_high=None if res is None else res.difference_high,
        odds_ratio=None if res is None else _finite(res.odds_ratio),
        odds_ratio_low=None if res is None else res.odds_ratio_low,
        odds_ratio_high=None if res is None else res.odds_ratio_high,
        alpha=alpha, confidence=1.0 - alpha, verdict=verdict, thresholds=thresholds,
        # min_p is a float product: 1 / C(6, 3) = 0.05 must not count as below 0.05
        min_p=min_p, can_reach_significance=bool(keys) and min_p < alpha * (1 - 1e-12),
        min_p_given_totals=None if res is None else res.min_p_given_totals,
        min_detectable_cases=detect,
        min_detectable_difference=None if detect is None else -detect / len(keys),
        samples_needed=power.samples_needed(xs, ms, ys, ns, alpha) if keys else None,
        tails="mid-p" if mid_p else "exact")
