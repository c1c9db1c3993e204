"""Requests per second the simulator serves, with trivial reference code, on both cores.

The simulator runs in its own process (``python -m harness.sim.cli``, as ``harness sim`` does)
and the clients in others (default 2 processes, keep-alive connections), so the figures are
what a record run sees. Scenarios:

* ``cached``: the same (case, model, sample) again and again: HTTP, parsing, wire format
  (the script is cached after the first run, as for retries and repeated requests).
* ``executed``: a new sample number per request: every request runs the reference code in the
  executor (the sandbox by default), like recording many samples.
* ``stream`` / ``interactions``: the cached case through SSE and through interactions.
* ``sdk``: ``cached`` through the google-genai SDK instead of raw httpx2.

Usage: python benchmarks/sim_bench.py [--seconds 5] [--clients 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EVAL = """suite: bench
cases:
  - id: trivial
    prompt: What is 6*7? Run code.
    reference: print(6 * 7)
"""
PROMPT = "What is 6*7? Run code."


def _request(scenario: str) -> tuple[str, dict[str, Any]]:
    if scenario == "stream":
        return ("/v1beta/models/sim-oracle:streamGenerateContent?alt=sse",
                {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]})
    if scenario == "interactions":
        return "/v1beta/interactions", {"model": "sim-oracle", "input": PROMPT}
    return ("/v1beta/models/sim-oracle:generateContent",
            {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]})


def _client(args: tuple[str, str, int, float]) -> tuple[int, int, float]:
    """Run one client for ``seconds`` (after its imports); returns (requests, errors, time)."""
    base, scenario, worker, seconds = args
    count = errors = 0
    if scenario == "sdk":
        from google import genai
        from google.genai import types

        client = genai.Client(api_key="bench", http_options=types.HttpOptions(
            base_url=base, api_version="v1beta"))
        start = time.perf_counter()
        while time.perf_counter() < start + seconds:
            response = client.models.generate_content(model="sim-oracle", contents=PROMPT)
            count += 1
            errors += not response.text
        return count, errors, time.perf_counter() - start
    import httpx2

    path, body = _request(scenario)
    with httpx2.Client(base_url=base, headers={"x-goog-api-key": "bench"}, timeout=60) as http:
        start = time.perf_counter()
        while time.perf_counter() < start + seconds:
            headers = {"x-harness-case": "bench/trivial"}
            if scenario == "executed":  # a fresh sample: the code runs again
                headers["x-harness-sample"] = str(1_000_000 * (worker + 1) + count + 1)
            r = http.post(path, json=body, headers=headers)
            count += 1
            errors += r.status_code != 200
    return count, errors, time.perf_counter() - start


def _start_server(evals: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "harness.sim.cli", "--evals", str(evals)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving" not in line:
        proc.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--scenarios", default="cached,executed,stream,interactions,sdk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bench.eval.yaml").write_text(EVAL)
        proc, base = _start_server(Path(tmp))
        try:
            import httpx2

            # warm up: the executor starts (the sandbox's zygote) and the script is cached
            path, body = _request("cached")
            httpx2.post(base + path, json=body, headers={"x-goog-api-key": "w"}, timeout=120)
            print(f"simulator {base} (own process); {args.clients} client processes; "
                  f"{os.cpu_count()} cores; {args.seconds:g} s per scenario")
            print(f"{'scenario':<14}{'requests':>10}{'errors':>8}{'req/s':>10}")
            ctx = mp.get_context("spawn")
            with ctx.Pool(args.clients) as pool:
                for scenario in args.scenarios.split(","):
                    results = pool.map(_client, [(base, scenario, w, args.seconds)
                                                 for w in range(args.clients)])
                    total = sum(r[0] for r in results)
                    errors = sum(r[1] for r in results)
                    rate = sum(r[0] / r[2] for r in results)  # clients ran side by side
                    print(f"{scenario:<14}{total:>10}{errors:>8}{rate:>10.0f}")
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
