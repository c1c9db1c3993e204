"""DEVELOPMENT/TEST FALLBACK executor: a plain subprocess, NOT a sandbox.

Used by tests that want an executor without the sandbox's start-up cost (the simulator's
default is the sandbox: :func:`harness.sim.executor.default_executor`). It isolates
nothing: run only trusted code with it (``reference:`` solutions and the simulator's own code).
It honours the sandbox contract (:class:`harness.sandbox.api.ExecResult`): outcome codes,
stdout on success, the traceback on failure, partial output on timeout, figures as PNG.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from harness.sandbox.api import OUTPUT_CAP_BYTES, ExecResult, Image, Outcome

ISOLATION = "none (harness.sim.devexec development fallback)"
_FIG_DIR = ".sim-figures"
# The code is compiled as "<string>" and the wrapper's own frame is dropped from tracebacks,
# so a failure reads like Gemini's: `File "<string>", line 3, in <module>`.
_WRAPPER = r"""
import sys, traceback
_code = open(sys.argv[1], encoding="utf-8").read()
_seed = sys.argv[2]
if _seed:
    import random
    random.seed(int(_seed))
    if "numpy" in _code:
        try:
            import numpy
            numpy.random.seed(int(_seed))
        except ImportError:
            pass
_rc = 0
try:
    exec(compile(_code, "<string>", "exec"), {"__name__": "__main__"})
except SystemExit as _exc:
    _rc = _exc.code if isinstance(_exc.code, int) else 1
except BaseException:
    _t, _v, _tb = sys.exc_info()
    traceback.print_exception(_t, _v, _tb.tb_next)
    _rc = 1
finally:
    sys.stdout.flush()
    if "matplotlib.pyplot" in sys.modules:
        import os
        import matplotlib.pyplot as _plt
        os.makedirs(sys.argv[3], exist_ok=True)
        for _i, _num in enumerate(_plt.get_fignums()[:8]):
            _plt.figure(_num).savefig(os.path.join(sys.argv[3], f"{_i}.png"), format="png")
sys.exit(_rc)
"""


def run(code: str, files: Mapping[str, bytes] | None = None, timeout: float = 30.0,
        seed: int | None = None) -> ExecResult:
    """Run ``code`` in a fresh Python subprocess (development fallback, not isolated).

    Args:
        code: Python source.
        files: Input files, written into the working directory by name.
        timeout: Wall-clock limit in seconds; past it the process is killed and the outcome
            is OUTCOME_DEADLINE_EXCEEDED with whatever was printed before.
        seed: Seeds ``random`` (and NumPy's global RNG when the code mentions numpy).

    Returns:
        The run's outcome, output and figures.

    """
    import time

    with tempfile.TemporaryDirectory(prefix="harness-sim-") as tmp:
        work = Path(tmp)
        for name, data in (files or {}).items():
            (work / Path(name).name).write_bytes(data)
        (work / ".sim-code.py").write_text(code, encoding="utf-8")
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
        argv = [sys.executable, "-u", "-c", _WRAPPER, ".sim-code.py",
                "" if seed is None else str(seed), _FIG_DIR]
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            timed_out = True
        duration = time.perf_counter() - start
        images = tuple(Image("image/png", p.read_bytes())
                       for p in sorted((work / _FIG_DIR).glob("*.png"),
                                       key=lambda p: int(p.stem)))
    outcome: Outcome
    if timed_out:
        outcome, raw = "OUTCOME_DEADLINE_EXCEEDED", out
    elif proc.returncode == 0:
        outcome, raw = "OUTCOME_OK", out
    else:
        outcome, raw = "OUTCOME_FAILED", err or out
    truncated = len(raw) > OUTPUT_CAP_BYTES
    text = raw[:OUTPUT_CAP_BYTES].decode("utf-8", "replace")
    return ExecResult(outcome=outcome, output=text,
                      images=() if timed_out else images, duration_s=duration,
                      isolation=ISOLATION, truncated=truncated)
