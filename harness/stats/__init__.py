"""Statistics over result records: per-model rates and intervals, paired comparisons, the gate.

Choices (each documented where it is implemented):

* pass rate over judged items (passed + failed); ERRORs and skips are counted, not rated;
* Wilson 95 % interval on the effective sample size n / (1 + (m - 1) ICC), ICC by the one-way
  ANOVA estimator clipped to [0, 1] (:func:`~harness.stats.intervals.clustered_wilson`);
* pass@k (Chen et al. 2021) and pass^k (Yao et al. 2024), unbiased, averaged over cases;
* paired comparison by (suite, case): one exact conditional analysis stratified by case (exact
  CMH; exact McNemar with one sample per case) gives the verdict, the p-value and the interval
  (inverted from the same p-value function, shown as a pass-rate difference), so they never
  contradict (:mod:`harness.stats.exact`, :mod:`harness.stats.paired`);
* per-case "regressed": Fisher's exact test per case, Holm-adjusted at alpha; descriptive
  transitions (now failing, now passing, flaky, ...) are listed apart;
* the gate fails on a REGRESSED verdict or a regressed case: at most alpha of the time per
  candidate on identical models (:mod:`harness.stats.gate`).
"""

from __future__ import annotations

from harness.stats.exact import (
    ExactResult,
    exact_stratified,
    fisher_per_case,
    holm,
    tarone_holm,
)
from harness.stats.gate import GateResult, describe, gate
from harness.stats.intervals import (
    ClusteredRate,
    bootstrap_mean_interval,
    clustered_wilson,
    exact_binomial_p,
    icc_anova,
    newcombe_paired_interval,
    wilson_interval,
)
from harness.stats.paired import (
    IMPROVED,
    NO_SIGNIFICANT_CHANGE,
    REGRESSED,
    TRANSITIONS,
    CaseTransition,
    Comparison,
    Exclusion,
    Thresholds,
    compare_models,
    compare_tallies,
)
from harness.stats.summary import (
    Cost,
    ModelSummary,
    Spread,
    TokenStats,
    by_model,
    pass_at_k,
    pass_hat_k,
    summarize,
    summarize_model,
)
from harness.stats.tally import CaseTally, case_label, tally_cases

__all__ = [
    "IMPROVED",
    "NO_SIGNIFICANT_CHANGE",
    "REGRESSED",
    "TRANSITIONS",
    "CaseTally",
    "CaseTransition",
    "ClusteredRate",
    "Comparison",
    "Cost",
    "ExactResult",
    "Exclusion",
    "GateResult",
    "ModelSummary",
    "Spread",
    "Thresholds",
    "TokenStats",
    "bootstrap_mean_interval",
    "by_model",
    "case_label",
    "clustered_wilson",
    "compare_models",
    "compare_tallies",
    "describe",
    "exact_binomial_p",
    "exact_stratified",
    "fisher_per_case",
    "gate",
    "holm",
    "icc_anova",
    "newcombe_paired_interval",
    "pass_at_k",
    "pass_hat_k",
    "summarize",
    "summarize_model",
    "tally_cases",
    "tarone_holm",
    "wilson_interval",
]
