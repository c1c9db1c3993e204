"""Sandbox figures: warm vs cold start, throughput on both cores, the attack table per level.

Usage: python benchmarks/sandbox_bench.py [--runs 100] [--cold-runs 10] [--seconds 5]
       [--no-attacks]

Goals (issue 3): a warm run at full isolation of ``import numpy, sympy; print(1)`` <= 30 ms
median and >= 25x faster than a cold ``python -c`` doing the same; >= 60 runs/s with both cores
busy. The attack table runs at every level; rows a level does not contain would hurt the host
(a 20 GiB memset, 3000 processes), so as root the weak levels run inside a guard cgroup
(6 GiB, 8192 pids) that this script creates and removes. Without one, those rows are skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.sandbox.levels import LEVEL_CONTAINS, LEVELS
from harness.sandbox.pool import Pool
from tests.sandbox_attacks import ATTACKS, attempt

CODE = "import numpy, sympy; print(1)"
_DANGEROUS = {"memory-20g", "fork-bomb"}


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def _fmt(xs: list[float]) -> str:
    ms = [x * 1000 for x in xs]
    return (f"median {statistics.median(ms):7.1f} ms   p10 {_pct(ms, 0.1):7.1f}   "
            f"p90 {_pct(ms, 0.9):7.1f}   (n={len(ms)})")


def warm_vs_cold(pool: Pool, runs: int, cold_runs: int) -> None:
    for _ in range(10):
        pool.run(CODE)
    warm, inner = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = pool.run(CODE)
        warm.append(time.perf_counter() - t0)
        inner.append(r.duration_s)
        assert r.output == "1\n", r
    env = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    cold = []
    for _ in range(cold_runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", CODE], check=True, capture_output=True, env=env)
        cold.append(time.perf_counter() - t0)
    print(f"== warm vs cold: {CODE!r} (level {r.isolation})")
    print(f"warm run, caller's view    {_fmt(warm)}")
    print(f"warm run, fork to exit     {_fmt(inner)}")
    print(f"cold python -c             {_fmt(cold)}")
    ratio = statistics.median(cold) / statistics.median(warm)
    ok = statistics.median(warm) <= 0.030 and ratio >= 25
    print(f"speed-up {ratio:.0f}x   goal: warm <= 30 ms and >= 25x  -> {'met' if ok else 'MISSED'}")


def throughput(pool: Pool, seconds: float) -> None:
    pool.start(all_workers=True)
    done = [0] * pool.workers
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        while time.monotonic() < stop:
            pool.run(CODE)
            done[i] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(pool.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = sum(done) / (time.monotonic() - t0)
    print(f"\n== throughput: {pool.workers} workers on {os.cpu_count()} cores, {seconds:g} s")
    print(f"{rate:.0f} runs/s   goal >= 60/s -> {'met' if rate >= 60 else 'MISSED'}")


@contextlib.contextmanager
def guard_cgroup() -> Iterator[bool]:
    """Put this process (and the zygotes it starts) in a capped v1 memory+pids group."""
    made: list[tuple[str, str]] = []
    try:
        if os.geteuid() != 0:
            raise OSError("not root")
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, ctrl, path = line.split(":", 2)
            for c in ctrl.split(","):
                own[c] = path
        for ctrl, limits in (("memory", {"memory.limit_in_bytes": str(6 << 30)}),
                             ("pids", {"pids.max": "8192"})):
            parent = f"/sys/fs/cgroup/{ctrl}{own[ctrl]}".rstrip("/")
            d = f"{parent}/harness-bench-guard-{os.getpid()}"
            os.mkdir(d)
            made.append((d, parent))
            for name, value in limits.items():
                Path(d, name).write_text(value)
            Path(d, "cgroup.procs").write_text(str(os.getpid()))
    except (OSError, KeyError) as exc:
        print(f"(no guard cgroup: {exc}; rows that would hurt the host are skipped)")
        yield False
        return
    try:
        yield True
    finally:
        for d, parent in made:
            Path(parent, "cgroup.procs").write_text(str(os.getpid()))
            with contextlib.suppress(OSError):
                os.rmdir(d)


def attack_table() -> None:
    print("\n== attack table per level (C = contained, - = not contained; "
          "each attack followed by a normal run)")
    with guard_cgroup() as guarded, Pool(workers=1) as pool:
        reached = pool.report()["level"]
        print(f"{'row':15s}" + "".join(f"{lv:>12s}" for lv in LEVELS))
        table = {}
        for row in ATTACKS:
            cells = []
            for level in LEVELS:
                if row in _DANGEROUS and not guarded and row not in LEVEL_CONTAINS[level]:
                    cells.append("skipped")
                    continue
                result, verdict = attempt(pool.run, row, level=level)
                after = pool.run("print(2 + 2)", level=level)
                if after.output != "4\n":
                    verdict += " / next run broken"
                table[row, level] = verdict
                mark = "C" if not verdict else "-"
                if result.isolation != level:
                    mark += f"({result.isolation})"
                cells.append(mark)
            print(f"{row:15s}" + "".join(f"{c:>12s}" for c in cells))
        print(f"(this machine reaches {reached!r})")
        for (row, level), verdict in table.items():
            expected = row in LEVEL_CONTAINS[level]
            if expected == bool(verdict):
                print(f"MISMATCH with LEVEL_CONTAINS: {row} at {level}: {verdict or 'contained'}")
        leaks = [f"{row}@{level}: {v}" for (row, level), v in table.items() if v]
        for leak in leaks:
            print(f"  not contained: {leak}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--cold-runs", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--no-attacks", action="store_true")
    args = ap.parse_args()
    with Pool(workers=2) as pool:
        print(f"isolation report: level {pool.report()['level']}, "
              f"layers {', '.join(pool.report()['layers'])}")
        warm_vs_cold(pool, args.runs, args.cold_runs)
        throughput(pool, args.seconds)
    if not args.no_attacks:
        attack_table()


if __name__ == "__main__":
    main()
