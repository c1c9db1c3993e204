"""What verify_output costs: re-running the committed sim cassettes' code runs in the sandbox
(as recording does), against reading the cached results (as replay does).

    PYTHONPATH=$PWD python benchmarks/verify_bench.py
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.cassettes.files import transcript_from_path
from harness.cassettes.verify_runs import Cache, rerun_turns
from harness.sandbox.execute import default_pool

ROOT = Path(__file__).resolve().parents[1] / "cassettes" / "sim"


def main() -> None:
    transcripts = [transcript_from_path(p) for p in sorted(ROOT.rglob("*.yaml"))
                   if p.parent.name != "_blobs" and not p.name.startswith(".")]
    runs = sum(len(t.code_runs) for t in transcripts)
    default_pool().start()  # the warm zygote's start-up is paid once per process, not per run
    caches = [Cache() for _ in transcripts]
    t0 = time.perf_counter()
    for t, cache in zip(transcripts, caches, strict=True):
        rerun_turns(t, {}, cache)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t, cache in zip(transcripts, caches, strict=True):
        rerun_turns(t, {}, cache)
    warm = time.perf_counter() - t0
    computed = sum(c.computed for c in caches)
    print(f"{len(transcripts)} recordings, {runs} code runs, {computed} re-run")
    print(f"re-run in the sandbox: {cold:.2f} s ({1000 * cold / max(computed, 1):.1f} ms per run)")
    print(f"served from the cache: {warm * 1000:.1f} ms "
          f"({1e6 * warm / max(runs, 1):.0f} us per run)")


if __name__ == "__main__":
    main()
