"""Recording at scale against the simulator: concurrency, the shared rate limit, faults.

Three figures (issue 14, goal P4), each from real ``pytest`` runs of a throw-away project
recorded from the bundled simulator (``sim-oracle``: never the real Gemini API):

1. **Concurrency**: ``--calls`` generate_content items with ``--latency`` seconds of injected
   latency on every call, recorded serially and at ``--concurrency`` (goal: <= 1/8 of the
   serial time at 200 calls, 1 s, concurrency 16).
2. **Rate limit**: the same kind of items recorded across ``-n 4`` xdist workers under
   ``rate_limits = {"*" = {rpm = R}}``; the start time of every call (as the limiter granted
   it, logged by a conftest hook) gives the most calls started in any window (goal: <= 60 in
   any 60 s under 60 RPM). ``--window W --rpm R`` scales both down (the limiter's window
   becomes W seconds) to run faster.
3. **Faults**: ``--fault-items`` items (generate_content, stream, interactions) recorded at
   concurrency 16 x ``-n 2`` with 30 % injected faults, then replayed: results lost or
   duplicated, cassettes corrupt (do not replay to a pass) or left as temporary files.

    python benchmarks/record_bench.py                       # the full goals (~10 minutes)
    python benchmarks/record_bench.py --calls 48 --window 10 --rpm 10 --fault-items 60
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APIS = ("generate_content", "stream", "interactions")
CONFTEST = '''
import os, sqlite3
from harness.calls import ratelimit

ratelimit.WINDOW_S = float(os.environ.get("BENCH_WINDOW", "60"))
_acquire = ratelimit.RateLimiter.acquire


def acquire(self, model, tokens=1):
    granted = _acquire(self, model, tokens)
    db = sqlite3.connect(self.path)  # the start time the limiter granted, as it stored it
    (t,) = db.execute("SELECT t FROM starts WHERE id = ?", (granted,)).fetchone()
    db.close()
    with open(os.environ["BENCH_STARTS"], "a") as fh:
        fh.write(f"{t}\\n")
    return granted


ratelimit.RateLimiter.acquire = acquire
'''


def project(path: Path, n: int, extra: str = "", apis: tuple[str, ...] = APIS[:1]) -> None:
    (path / "pyproject.toml").write_text(
        '[tool.harness]\nmodels = ["sim-oracle"]\ntarget = "sim"\n'
        "retry = {attempts = 6, initial_delay = 0.0, max_delay = 0.05}\n" + extra)
    (path / "evals").mkdir()
    cases = "\n".join(
        f"  - id: case-{i:03d}\n    api: {apis[i % len(apis)]}\n"
        f"    prompt: What is {i} squared? Run code.\n    reference: print({i} * {i})\n"
        f"    expect: [code_executed, {{answer_number: {i * i}}}]" for i in range(n))
    (path / "evals" / "bench.eval.yaml").write_text(f"suite: bench\ncases:\n{cases}\n")


def run(path: Path, *args: str, env: dict[str, str]) -> tuple[int, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "evals", "-q", "-p",
                           "no:cacheprovider", *args], cwd=path, capture_output=True,
                          text=True, env=env)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        print(proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.returncode, took


def records(path: Path) -> list[dict]:
    text = (path / "reports" / "latest" / "results.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    return env


def concurrency(args: argparse.Namespace) -> None:
    env = {**base_env(), "HARNESS_SIM_FAULTS": f"latency=1.0,delay={args.latency}"}
    times = {}
    for label, extra in (("serial", []), (f"concurrency {args.concurrency}",
                                          ["--harness-concurrency", str(args.concurrency)])):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp)
            project(path, args.calls)
            _, times[label] = run(path, "--record-mode=rewrite", *extra, env=env)
            verdicts = Counter(r["verdict"] for r in records(path))
            stored = len(list((path / "cassettes").rglob("[0-9]*.yaml")))
        print(f"  {label:<16} {times[label]:7.1f} s   verdicts {dict(verdicts)}, "
              f"{stored} cassettes")
    serial, conc = times.values()
    print(f"  ratio {conc / serial:.3f} of serial (goal <= 0.125 at 200 calls, 1 s, "
          f"concurrency 16)")


def max_in_window(starts: list[float], window: float) -> int:
    starts, best, lo = sorted(starts), 0, 0
    for hi, t in enumerate(starts):
        while t - starts[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def rate_limit(args: argparse.Namespace) -> None:
    n = args.rate_calls or int(args.rpm * 2.5)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        project(path, n, f'rate_limits = {{"*" = {{rpm = {args.rpm}}}}}\n')
        (path / "conftest.py").write_text(CONFTEST)
        log = path / "starts.log"
        env = {**base_env(), "BENCH_STARTS": str(log), "BENCH_WINDOW": str(args.window),
               "HARNESS_SIM_FAULTS": "latency=1.0,delay=0.2"}
        _, took = run(path, "--record-mode=rewrite", "-n", "4", "--harness-concurrency", "4",
                      env=env)
        starts = [float(x) for x in log.read_text().split()]
        verdicts = Counter(r["verdict"] for r in records(path))
    print(f"  {n} calls, -n 4 x concurrency 4, limit {args.rpm} per {args.window:g} s: "
          f"{took:.1f} s; verdicts {dict(verdicts)}")
    print(f"  most calls started in any {args.window:g} s window: "
          f"{max_in_window(starts, args.window)} (limit {args.rpm}; {len(starts)} starts)")
    if (args.window, args.rpm) != (60.0, 60):
        print("  (scaled down: the full goal is 60 RPM in 60 s windows; run with "
              "--window 60 --rpm 60)")


def faults(args: argparse.Namespace) -> None:
    n = args.fault_items
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        project(path, n, apis=APIS)
        env = base_env()
        faulty = {**env, "HARNESS_SIM_FAULTS": "rate=0.3,seed=7,retry_after=0,delay=0.05"}
        _, took = run(path, "--record-mode=rewrite", "-n", "2", "--harness-concurrency", "16",
                      env=faulty)
        recorded = records(path)
        ids = Counter(r["nodeid"] for r in recorded)
        verdicts = Counter(r["verdict"] for r in recorded)
        stored = sorted((path / "cassettes").rglob("[0-9]*.yaml"))
        run(path, env=env)
        replayed = {r["case"]: r["verdict"] for r in records(path)}
        ok = {r["case"] for r in recorded if r["verdict"] == "pass"}
        corrupt = sum(1 for c in ok if replayed.get(c) != "pass")
        leftovers = list((path / "cassettes").rglob(".*recording*"))
    print(f"  {n} items, 30 % faults, concurrency 16 x -n 2: {took:.1f} s; "
          f"verdicts {dict(verdicts)}")
    print(f"  results lost {n - len(ids)}, duplicated {sum(c - 1 for c in ids.values())}; "
          f"cassettes corrupt {corrupt} (of {len(stored)}), of ERROR items "
          f"{len(stored) - len(ok)}, temporary files left {len(leftovers)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--rpm", type=int, default=60)
    parser.add_argument("--rate-calls", type=int, default=0,
                        help="calls for the rate-limit run (default 2.5 x rpm)")
    parser.add_argument("--fault-items", type=int, default=200)
    parser.add_argument("--batch-items", type=int, default=500,
                        help="generate_content items for the Batch API run")
    parser.add_argument("--only", default="concurrency,rate,faults,batch")
    args = parser.parse_args()
    print(f"simulator (sim-oracle), {os.cpu_count()} cores")
    if "concurrency" in args.only:
        print(f"1. {args.calls} calls with {args.latency:g} s latency:")
        concurrency(args)
    if "rate" in args.only:
        print("2. shared rate limit across -n 4:")
        rate_limit(args)
    if "faults" in args.only:
        print("3. faults:")
        faults(args)
    if "batch" in args.only:
        print(f"4. the Batch API: {args.batch_items} items, stopped and resumed once "
              "(benchmarks/batch_bench.py):", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name("batch_bench.py")),
                        str(args.batch_items)], check=True)


if __name__ == "__main__":
    main()
