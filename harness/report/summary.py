"""Comparisons at the JSON boundary: ``summary.json`` of a run, and two runs compared offline.

:func:`summary_json` turns one run's records into the ``summary.json`` structure (per-model
figures, baseline-vs-candidate comparisons, the gate's decision). :func:`compare_runs` pairs
the items of two earlier runs (``harness compare A B``) with B as the candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.report.provenance import provenance_table, provenance_warnings
from harness.results.records import read_results
from harness.stats.gate import GateResult, gate
from harness.stats.paired import Comparison, Thresholds, compare_models
from harness.stats.pricing import Price
from harness.stats.summary import ModelSummary, by_model, summarize
from harness.stats.tally import ItemKey, dedupe_items, item_key

METHODS = {
    "pass_rate": "passed / (passed + failed); ERRORs and skipped items are counted apart",
    "ci": "Wilson score interval on the effective sample size n / (1 + (m - 1) * ICC), "
          "ICC by the one-way ANOVA estimator clipped to [0, 1], m = sum(m_i^2) / n",
    "pass_at_k": "unbiased 1 - C(n-c,k)/C(n,k) per case (Chen et al. 2021), mean over cases "
                 "with at least k judged samples",
    "pass_hat_k": "unbiased C(c,k)/C(n,k) per case (Yao et al. 2024), mean over cases",
    "paired_test": "conditional test for a common odds ratio stratified by case (Birch; "
                   "exact Cochran-Mantel-Haenszel): given each case's total passes, the "
                   "candidate's passes are noncentral hypergeometric; mid-p tails (the "
                   "observed outcome counts half; Lancaster 1961); two-sided p = twice the "
                   "smaller tail; with one sample per case this is the mid-p McNemar test. "
                   "Inference target: these cases, with the models' sampling randomness",
    "effect_ci": "the same test inverted: mid-p interval for the common odds ratio (candidate "
                 "over baseline; null = unbounded), mapped to the expected pass-rate "
                 "difference given each case's totals, so it excludes 0 exactly when the "
                 "verdict is REGRESSED or IMPROVED; difference = that map at the conditional "
                 "MLE (the observed difference when sample counts are equal)",
    "per_case": "regressed / improved: Fisher's test per case, mid-p (twice the smaller tail), "
                "Holm-adjusted over the cases whose totals allow significance (Tarone's "
                "rule), adjusted p < alpha",
    "transitions": "descriptive, not tests: now_failing (stable pass -> stable fail), "
                   "now_passing (stable fail -> stable pass), still_passing, still_failing, "
                   "flaky",
    "power": "min_p: smallest p-value the suite's shape allows; can_reach_significance: "
             "min_p < alpha; min_detectable_cases: fewest cases going from always passing to "
             "always failing that would be significant; samples_needed: rough samples per "
             "case and side for 80% power at the observed per-case rates",
    "gate": "fails on a REGRESSED verdict or a regressed case, each at alpha/2: on identical "
            "models under alpha per candidate (mid-p levels are not guaranteed; "
            "benchmarks/gate_calibration.py measures them); with k candidates about k * alpha",
    "classes": "per case: stable pass if pass fraction >= stable_pass, stable fail if <= "
               "stable_fail, flaky otherwise",
    "cost": "USD per 1M tokens from [tool.harness.prices]; thought tokens at the output "
            "price and tool-use prompt tokens at the input price unless set; no price: null",
}


def _num_keys(values: Mapping[int, float | int] | None) -> dict[str, float | int] | None:
    return None if values is None else {str(k): v for k, v in values.items()}


def model_summary_to_json(s: ModelSummary) -> dict[str, Any]:
    """JSON form of a :class:`~harness.stats.summary.ModelSummary`."""
    return {
        "items": s.items, "passed": s.passed, "failed": s.failed, "errors": s.errors,
        "skipped": s.skipped, "judged": s.judged, "pass_rate": s.pass_rate,
        "ci_low": s.rate.low if s.judged else None, "ci_high": s.rate.high if s.judged else None,
        "cases": s.cases, "samples": s.samples, "icc": s.rate.icc,
        "design_effect": s.rate.design_effect, "n_eff": s.rate.n_eff,
        "check_score": s.check_score,
        "first_try": s.first_try, "first_try_rate": s.first_try_rate,
        "recovered": s.recovered, "recovered_rate": s.recovered_rate,
        "deadline_exceeded": s.deadline_exceeded,
        "deadline_exceeded_rate": s.deadline_exceeded_rate,
        "mean_attempts": s.mean_attempts, "retries": s.retries,
        "verify_checked": s.verify_checked, "verified": s.verified,
        "verified_rate": s.verified_rate,
        "pass_at_k": _num_keys(s.pass_at_k), "pass_hat_k": _num_keys(s.pass_hat_k),
        "k_cases": _num_keys(s.k_cases),
        "tokens": {kind: {"sum": t.total, "mean": t.mean, "reported": t.reported}
                   for kind, t in s.tokens.items()},
        "latency_s": {"median": s.latency_s.median, "p90": s.latency_s.p90,
                      "n": s.latency_s.n},
        "ttft_s": {"median": s.ttft_s.median, "p90": s.ttft_s.p90, "n": s.ttft_s.n},
        "cost_usd": None if s.cost is None else {
            "total": s.cost.total_usd, "mean": s.cost.mean_usd, "items": s.cost.items},
    }


def _or(v: float | None) -> float | None:
    """Odds-ratio bounds in JSON: null for an unbounded (infinite) end."""
    return None if v is None or v == float("inf") else v


def comparison_to_json(c: Comparison) -> dict[str, Any]:
    """JSON form of a :class:`~harness.stats.paired.Comparison` (cases as ``suite::case``)."""
    return {
        "baseline": c.baseline, "candidate": c.candidate,
        "regressed": c.regressed, "improved": c.improved,
        "now_failing": c.now_failing, "now_passing": c.now_passing,
        "still_passing": c.labels("still_passing"), "still_failing": c.labels("still_failing"),
        "flaky": c.labels("flaky"), "worse": c.worse, "better": c.better,
        "p_value": c.p_value, "verdict": c.verdict, "test": c.test, "tails": c.tails,
        "difference": c.difference, "observed_difference": c.observed_difference,
        "ci_low": c.ci_low, "ci_high": c.ci_high,
        "odds_ratio": _or(c.odds_ratio), "odds_ratio_low": _or(c.odds_ratio_low),
        "odds_ratio_high": _or(c.odds_ratio_high),
        "interval_method": c.interval_method, "confidence": c.confidence, "alpha": c.alpha,
        "baseline_rate": c.baseline_rate, "candidate_rate": c.candidate_rate,
        "paired_cases": len(c.cases), "up": c.up, "down": c.down,
        "informative_cases": c.informative, "holm_family": c.holm_family,
        "min_p": c.min_p, "can_reach_significance": c.can_reach_significance,
        "min_p_given_totals": c.min_p_given_totals,
        "min_detectable_cases": c.min_detectable_cases,
        "min_detectable_difference": c.min_detectable_difference,
        "samples_needed": c.samples_needed,
        "excluded": [{"case": e.label, "reason": e.reason} for e in c.excluded],
        "only_baseline": list(c.only_baseline), "only_candidate": list(c.only_candidate),
        "thresholds": {"stable_pass": c.thresholds.stable_pass,
                       "stable_fail": c.thresholds.stable_fail},
        "cases": [{"case": t.label, "suite": t.suite, "id": t.case,
                   "baseline": {"passed": t.baseline.passed, "judged": t.baseline.judged},
                   "candidate": {"passed": t.candidate.passed, "judged": t.candidate.judged},
                   "baseline_class": t.baseline_class, "candidate_class": t.candidate_class,
                   "transition": t.transition, "delta": t.delta, "p_value": t.p_value,
                   "p_adjusted": t.p_adjusted} for t in c.cases],
    }


def summary_json(records: Iterable[Mapping[str, Any]], baseline: str | None = None,
                 alpha: float = 0.05, *, prices: Mapping[str, Price] | None = None,
                 confidence: float = 0.95, thresholds: Thresholds | None = None,
                 gate_underpowered: str = "warn") -> dict[str, Any]:
    """The ``summary.json`` of one run.

    Every model in the records is summarized; when ``baseline`` ran, every other model is
    compared with it, and the gate's decision over those comparisons is included.

    Args:
        records: The run's result records.
        baseline: The baseline model (``--baseline`` / ``[tool.harness] baseline``).
        alpha: Significance level of the verdicts.
        prices: Price table by model (missing models: cost null).
        confidence: Coverage of the per-model intervals (a comparison's interval has
            coverage ``1 - alpha``: it is its test inverted).
        thresholds: Descriptive class thresholds.
        gate_underpowered: ``warn`` or ``fail`` when a comparison cannot reach significance.

    Returns:
        ``{"models": {...}, "comparisons": [...], "gate": {...}, "provenance": {...},
        ...}`` (JSON-ready; :mod:`harness.report.provenance`).

    """
    recs = dedupe_items(records)
    groups = by_model(recs)
    summaries = summarize(recs, prices=prices, confidence=confidence)
    notes: list[str] = []
    comparisons: list[Comparison] = []
    if baseline is None:
        if len(groups) > 1:
            notes.append("no baseline set (--baseline or baseline in [tool.harness]): "
                         "models are not compared")
    elif baseline not in groups:
        missing = (f"baseline {baseline!r} has no results in this run (models: "
                   f"{', '.join(groups) or 'none'}): nothing was compared; run the baseline too, "
                   "or choose one of these with --baseline")
        notes.append(missing)
    else:
        comparisons = [compare_models(groups[baseline], recs_m, baseline=baseline,
                                      candidate=model, alpha=alpha, thresholds=thresholds)
                       for model, recs_m in groups.items() if model != baseline]
    ok, reasons, warnings = gate(comparisons, underpowered=gate_underpowered)
    if baseline is not None and baseline not in groups and groups:
        # A gate that compared nothing must not read as passed (a typo, a -k that dropped it).
        ok, reasons = False, [missing, *reasons]
    provenance = provenance_table(recs)
    return {
        "baseline": baseline, "alpha": alpha, "confidence": confidence, "methods": METHODS,
        "models": {m: model_summary_to_json(s) for m, s in summaries.items()},
        "comparisons": [comparison_to_json(c) for c in comparisons],
        "gate": {"ok": ok, "reasons": reasons, "warnings": warnings}, "notes": notes,
        "provenance": provenance, "provenance_warnings": provenance_warnings(provenance),
    }


def _run_label(path: Path) -> str:
    """A run's name: its directory (``reports/latest`` resolves to the run id)."""
    resolved = path.resolve()
    if resolved.is_dir():
        return resolved.name
    return resolved.parent.name if resolved.name == "results.jsonl" else resolved.stem


def _load(path: Path) -> list[Mapping[str, Any]]:
    results = path / "results.jsonl" if path.is_dir() else path
    if not results.is_file():
        raise FileNotFoundError(f"{path}: no results here; give a run directory "
                                "(reports/<run-id>, reports/latest) or a results.jsonl file")
    return dedupe_items(read_results(path))


@dataclass(frozen=True)
class RunComparison:
    """Two runs compared, B as the candidate.

    Attributes:
        a: The baseline run (directory or results file).
        b: The candidate run.
        pairs: ``(model in A, model in B)`` per comparison.
        comparisons: One comparison per pair, in the same order.
        only_in_a: Items of a compared model in A without a counterpart in B.
        only_in_b: Items of a compared model in B without a counterpart in A.
        uncompared_a: Models of A in no pair.
        uncompared_b: Models of B in no pair.
        summaries_a: Per-model summaries of A.
        summaries_b: Per-model summaries of B.

    """

    a: Path
    b: Path
    pairs: tuple[tuple[str, str], ...]
    comparisons: tuple[Comparison, ...]
    only_in_a: tuple[ItemKey, ...]
    only_in_b: tuple[ItemKey, ...]
    uncompared_a: tuple[str, ...]
    uncompared_b: tuple[str, ...]
    summaries_a: dict[str, ModelSummary]
    summaries_b: dict[str, ModelSummary]

    def gate(self, underpowered: str = "warn") -> GateResult:
        """The gate over this comparison (see :func:`harness.stats.gate.gate`)."""
        return gate(self.comparisons, underpowered=underpowered)

    def to_json(self, underpowered: str = "warn") -> dict[str, Any]:
        """JSON form, with the same keys as ``summary.json`` where they apply."""
        ok, reasons, warnings = self.gate(underpowered)

        def items(keys: Sequence[ItemKey]) -> list[dict[str, Any]]:
            return [{"suite": s, "case": c, "model": m, "sample": k} for s, c, m, k in keys]

        comps = []
        for (ma, mb), comp in zip(self.pairs, self.comparisons, strict=True):
            comps.append({**comparison_to_json(comp), "baseline_model": ma,
                          "candidate_model": mb})
        return {
            "baseline_run": str(self.a), "candidate_run": str(self.b), "methods": METHODS,
            "models_a": {m: model_summary_to_json(s) for m, s in self.summaries_a.items()},
            "models_b": {m: model_summary_to_json(s) for m, s in self.summaries_b.items()},
            "comparisons": comps, "only_in_a": items(self.only_in_a),
            "only_in_b": items(self.only_in_b), "uncompared_a": list(self.uncompared_a),
            "uncompared_b": list(self.uncompared_b),
            "gate": {"ok": ok, "reasons": reasons, "warnings": warnings},
        }


def _model_pairs(models_a: Sequence[str], models_b: Sequence[str],
                 baseline: str | None, a: Path, b: Path) -> list[tuple[str, str]]:
    if baseline is not None:
        if baseline not in models_a:
            raise ValueError(f"baseline model {baseline!r} is not in {a} (its models: "
                             f"{', '.join(models_a) or 'none'})")
        return [(baseline, m) for m in models_b]
    common = [m for m in models_a if m in models_b]
    if common:
        return [(m, m) for m in common]
    if len(models_a) == 1 and len(models_b) == 1:
        return [(models_a[0], models_b[0])]
    raise ValueError(f"{a} and {b} have no model in common ({', '.join(models_a)} vs "
                     f"{', '.join(models_b)}); name the baseline model of {a}, e.g. "
                     f"harness compare {a} {b} --baseline {models_a[0] if models_a else 'MODEL'}")


def compare_runs(a: Path, b: Path, baseline: str | None = None, *, alpha: float = 0.05,
                 confidence: float = 0.95, thresholds: Thresholds | None = None,
                 prices: Mapping[str, Price] | None = None) -> RunComparison:
    """Compare two earlier runs offline, B as the candidate.

    Items are paired by (suite, case, model, sample). Which models are compared: with
    ``baseline``, A's ``baseline`` against every model of B; otherwise every model the two runs
    share against itself, or, when each run has exactly one model, those two.

    Args:
        a: Baseline run: a run directory (``reports/<run-id>``, ``reports/latest``) or a
            results.jsonl file.
        b: Candidate run, likewise.
        baseline: A model of A to compare every model of B with.
        alpha: Significance level of the verdicts.
        confidence: Coverage of the per-model intervals (a comparison's is ``1 - alpha``).
        thresholds: Descriptive class thresholds.
        prices: Price table for the per-run summaries.

    Returns:
        The comparison of the two runs.

    Raises:
        FileNotFoundError: A path holds no results.
        ValueError: A bad record, an unknown baseline, or no models to pair.

    """
    recs_a, recs_b = _load(a), _load(b)
    groups_a, groups_b = by_model(recs_a), by_model(recs_b)
    pairs = _model_pairs(list(groups_a), list(groups_b), baseline, a, b)
    label_a, label_b = _run_label(a), _run_label(b)
    if label_a == label_b:
        label_a, label_b = "A", "B"
    comparisons: list[Comparison] = []
    only_a: list[ItemKey] = []
    only_b: list[ItemKey] = []
    for ma, mb in pairs:
        comparisons.append(compare_models(
            groups_a[ma], groups_b[mb], baseline=f"{ma} @ {label_a}",
            candidate=f"{mb} @ {label_b}", alpha=alpha, thresholds=thresholds))
        keys_a = {item_key(r)[:2] + item_key(r)[3:]: item_key(r) for r in groups_a[ma]}
        keys_b = {item_key(r)[:2] + item_key(r)[3:]: item_key(r) for r in groups_b[mb]}
        only_a += [keys_a[k] for k in sorted(keys_a.keys() - keys_b.keys())]
        only_b += [keys_b[k] for k in sorted(keys_b.keys() - keys_a.keys())]
    paired_a = {ma for ma, _ in pairs}
    paired_b = {mb for _, mb in pairs}
    return RunComparison(
        a=a, b=b, pairs=tuple(pairs), comparisons=tuple(comparisons),
        only_in_a=tuple(dict.fromkeys(only_a)), only_in_b=tuple(dict.fromkeys(only_b)),
        uncompared_a=tuple(m for m in groups_a if m not in paired_a),
        uncompared_b=tuple(m for m in groups_b if m not in paired_b),
        summaries_a=summarize(recs_a, prices=prices, confidence=confidence),
        summaries_b=summarize(recs_b, prices=prices, confidence=confidence))
