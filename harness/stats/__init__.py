"""Statistics over result records: per-model rates and intervals, paired comparisons, the gate.

Choices (each documented where it is implemented):

* pass rate over judged items (passed + failed); ERRORs and skips are counted, not rated;
* Wilson 95 % interval on the effective sample size n / (1 + (m - 1) ICC), ICC by the one-way
  ANOVA estimator clipped to [0, 1] (:func:`~harness.stats.intervals.clustered_wilson`);
* pass@k (Chen et al. 2021) and pass^k (Yao et al. 2024), unbiased, averaged over cases;
* paired comparison by (suite, case): exact McNemar with one sample, sign test on per-case pass
  fractions otherwise; effect = difference in pass rate with Newcombe's paired interval (one
  sample) or a seeded case bootstrap (more samples) (:mod:`harness.stats.paired`).

Modules: ``tally`` (result records -> per-case counts), ``intervals``, ``summary`` (per-model
figures), ``paired`` (baseline vs candidate and the gate), ``pricing`` (the price table and
the cost of a record).

May import: ``results`` (it reads result records), numpy/scipy (lazily) and pydantic; never
google.genai, vcr or httpx2.
"""
