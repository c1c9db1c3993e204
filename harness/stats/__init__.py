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

Modules: ``tally`` (result records -> per-case counts), ``intervals``, ``summary`` (per-model
figures), ``exact`` (the stratified exact analysis, Fisher per case, Holm), ``paired``
(baseline vs candidate), ``gate`` (the regression gate), ``power`` (what a suite can detect),
``pricing`` (the price table and the cost of a record).

May import: ``results`` (it reads result records), numpy/scipy (lazily) and pydantic; never
google.genai, vcr or httpx2.
"""
