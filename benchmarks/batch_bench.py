"""Batch recording against the simulator: N generate_content items through batch jobs,
stopped once after submission and resumed, then replayed; compared with a normal recording.

Usage: PYTHONPATH=$PWD python benchmarks/batch_bench.py [N]   (default 500)
Prints cassette counts, whether the verdicts equal the normal recording's, and times.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.sim.batch_config import BatchConfig
from harness.sim.server import start
from harness.spec.load import load_eval_file


def _run(root: Path, *args: str) -> tuple[float, dict[str, str]]:
    start_t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "evals",
                          "-rA", "-q", *args], cwd=root, capture_output=True, text=True).stdout
    took = time.perf_counter() - start_t
    verdicts = dict((m.group(2), m.group(1)) for m in
                    re.finditer(r"^(PASSED|FAILED|ERROR) (\S+)", out, re.MULTILINE))
    return took, verdicts


def main(n: int) -> None:
    """Run the benchmark with ``n`` items (one model)."""
    root = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    (root / "evals").mkdir()
    (root / "pyproject.toml").write_text('[tool.harness]\nmodels = ["sim-oracle"]\n'
                                         'target = "sim"\n')
    cases = "".join(f"  - id: c{i}\n    prompt: What is {i} * {i + 1}? Use code.\n"
                    f"    expect: [{{answer_number: {i * (i + 1)}}}]\n" for i in range(n))
    (root / "evals" / "b.eval.yaml").write_text(f"suite: b\ncases:\n{cases}")
    spec = load_eval_file(root / "evals" / "b.eval.yaml", root).cases
    with start(spec, batch=BatchConfig(delay_s=5)) as sim:
        url = ("--harness-base-url", sim.base_url)
        t_normal, normal = _run(root, "--record-mode=once", "--harness-cassette-dir", "normal",
                                *url)
        t_submit, first = _run(root, "--record-mode=once", "--harness-batch",
                               "--harness-batch-wait", "0", *url)
        t_resume, second = _run(root, "--record-mode=once", "--harness-batch",
                                "--harness-batch-poll", "1", *url)
    t_fast, fast = _run(root)
    t_full, full = _run(root, "--harness-replay=full")
    batch_cassettes = sum(1 for p in (root / "cassettes").rglob("*.yaml")
                          if "recorded_via: batch" in p.read_text())
    print(f"items: {n}; first run (submit, stop): {sum(v == 'ERROR' for v in first.values())} "
          f"pending ERRORs")
    print(f"batch cassettes written: {batch_cassettes}; normal cassettes: "
          f"{len(list((root / 'normal').rglob('*.yaml')))}")
    print(f"verdicts equal to the normal recording: resumed run {second == normal}, "
          f"fast replay {fast == normal}, full replay {full == normal}")
    print(f"times (s): normal record {t_normal:.1f}, batch submit {t_submit:.1f}, "
          f"batch resume+collect {t_resume:.1f}, fast replay {t_fast:.1f}, "
          f"full replay {t_full:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
