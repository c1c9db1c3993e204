"""Replay speed of the main job: `pytest evals/` over N one-call cassettes.

Builds a throw-away project with N generate_content cases, records them once from the bundled
simulator (`--target sim --model sim-oracle`, through the real SDK and the plugin), then
times, each as a fresh process: `pytest --collect-only`, and a full replay, R times each.
DESIGN.md's yardstick: a bare vcrpy+SDK loop replays 1,000 one-call cassettes in ~3.3 s.

    python benchmarks/replay_bench.py [N] [REPEATS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_project(path: Path, n: int) -> None:
    (path / "pyproject.toml").write_text(
        '[tool.harness]\nmodels = ["sim-oracle"]\ntarget = "sim"\n')
    (path / "evals").mkdir()
    cases = "\n".join(
        f"  - id: case-{i:04d}\n    prompt: What is the sum of the integers below {i}?\n"
        f"    reference: print(sum(range({i})))\n"
        f"    expect: [code_executed, {{answer_number: {sum(range(i))}}}]" for i in range(n))
    (path / "evals" / "bench.eval.yaml").write_text(f"suite: bench\ncases:\n{cases}\n")


def run(path: Path, *args: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "evals", "-q", "-p",
                           "no:cacheprovider", *args], cwd=path, capture_output=True,
                          text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"pytest failed ({proc.returncode}):\n{proc.stdout[-2000:]}")
    return elapsed


def main() -> None:
    # This machine sets PYTHONDONTWRITEBYTECODE=1, which makes pytest re-rewrite the asserts of
    # every plugin module on every run (~1 s); users' machines cache them. Measure as users run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        write_project(path, n)
        clean = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY",
                                                                   "GOOGLE_API_KEY")}
        rec = run(path, "--record-mode=rewrite", env=clean)
        print(f"recorded {n} cases from the simulator (sandbox executing) in {rec:.2f} s")
        collect = [run(path, "--collect-only", env=clean) for _ in range(repeats)]
        replay = [run(path, env=clean) for _ in range(repeats)]
        py = [run(path, "--version", env=clean) for _ in range(repeats)]
    med = statistics.median
    print(f"pytest startup alone (--version): median {med(py):.2f} s")
    print(f"collect-only {n} cases:          median {med(collect):.2f} s "
          f"(min {min(collect):.2f}, max {max(collect):.2f})")
    print(f"replay {n} cases (whole run):     median {med(replay):.2f} s "
          f"(min {min(replay):.2f}, max {max(replay):.2f}); "
          f"{(med(replay) - med(collect)) / n * 1000:.2f} ms per case beyond collection")


if __name__ == "__main__":
    main()
