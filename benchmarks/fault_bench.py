"""Recording under injected faults: nothing lost, nothing corrupt, no fault reported as FAIL.

Builds a throw-away project of N cases (generate_content, stream and interactions in turn),
records them from the simulator with `sim-oracle` (which answers every case correctly) while
the simulator injects faults at RATE (429 with Retry-After, 500, 503, connection resets,
truncated and unfinished streams, malformed JSON, latency), then replays.

    python benchmarks/fault_bench.py [N] [RATE]

Prints: results lost (items without a result record), cassettes corrupt (a stored cassette
that does not replay to a pass), faults reported as FAIL (a FAIL from a model that cannot be
wrong), and how the faults ended (retried into a pass, or an ERROR after the retry budget).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

APIS = ("generate_content", "stream", "interactions")


def write_project(path: Path, n: int) -> None:
    (path / "pyproject.toml").write_text(
        '[tool.harness]\nmodels = ["sim-oracle"]\ntarget = "sim"\n'
        "retry = {attempts = 6, initial_delay = 0.0, max_delay = 0.05}\n")
    (path / "evals").mkdir()
    cases = "\n".join(
        f"  - id: case-{i:03d}\n    api: {APIS[i % 3]}\n"
        f"    prompt: What is {i} squared? Run code.\n    reference: print({i} * {i})\n"
        f"    expect: [code_executed, {{answer_number: {i * i}}}]" for i in range(n))
    (path / "evals" / "faults.eval.yaml").write_text(f"suite: faults\ncases:\n{cases}\n")


def pytest(path: Path, *args: str, env: dict[str, str]) -> tuple[int, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "evals", "-q", "-p",
                           "no:cacheprovider", *args], cwd=path, capture_output=True, text=True,
                          env=env)
    return proc.returncode, time.perf_counter() - start


def records(path: Path) -> list[dict]:
    lines = (path / "reports" / "latest" / "results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        write_project(path, n)
        faulty = {**env, "HARNESS_SIM_FAULTS": f"rate={rate},seed=7,retry_after=0,delay=0.05"}
        _, rec_s = pytest(path, "--record-mode=rewrite", env=faulty)
        recorded = records(path)
        verdicts = Counter(r["verdict"] for r in recorded)
        kinds = Counter((r["error"] or {}).get("kind") for r in recorded if r["error"])
        stored = sorted((path / "cassettes").rglob("[0-9]*.yaml"))
        _, rep_s = pytest(path, env=env)
        replayed = {r["case"]: r["verdict"] for r in records(path)}
        recorded_ok = {r["case"] for r in recorded if r["verdict"] == "pass"}
        corrupt = sum(1 for c in recorded_ok if replayed.get(c) != "pass")
        leftovers = list((path / "cassettes").rglob(".*recording*"))
    print(f"{n} cases, fault rate {rate:.0%} per request, seed 7, up to 6 attempts per call")
    print(f"record run: {rec_s:.1f} s; verdicts {dict(verdicts)}; error kinds {dict(kinds)}")
    print(f"results lost:              {n - len(recorded)}")
    print(f"cassettes corrupt:         {corrupt} (of {len(stored)} stored; replay {rep_s:.1f} s)")
    print(f"faults reported as FAIL:   {verdicts['fail']}")
    print(f"cassettes of ERROR items:  {len(stored) - len(recorded_ok)} (must be 0)")
    print(f"temporary files left:      {len(leftovers)}")


if __name__ == "__main__":
    main()
