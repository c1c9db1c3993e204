"""The sandbox's front: ``run`` code in this process's shared warm pool, and what it offers."""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from harness.sandbox.api import DEFAULT_TIMEOUT_S, ExecResult, SandboxError
from harness.sandbox.libraries import GEMINI_LIBRARIES, IMPORT_CHECK_CODE, installed
from harness.sandbox.pool import Pool

_lock = threading.Lock()
_default: Pool | None = None
_default_pid = 0


def default_pool() -> Pool:
    """This process's shared pool (one per process, hence one per xdist worker)."""
    global _default, _default_pid
    with _lock:
        if _default is None or _default_pid != os.getpid():
            _default = Pool()
            _default_pid = os.getpid()
            atexit.register(_default.close)
        return _default


def run(code: str, files: Mapping[str, bytes] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S, seed: int | None = None, *,
        level: str | None = None, prelude: Sequence[str] = ()) -> ExecResult:
    """Execute ``code`` in the sandbox and report it in Gemini's terms.

    Args:
        code: Python source, run as ``__main__`` with ``exec`` (tracebacks name ``<string>``).
        files: Input files, written into the working directory (names may contain ``/``).
        timeout: Wall-clock limit in seconds; sleeping counts as much as computing.
        seed: Seeds ``random`` and NumPy's global RNG; None draws a fresh one (reported in
            ``ExecResult.seed``, so any run can be reproduced).
        level: Isolation level to apply (see :mod:`harness.sandbox`); None: the best available.
            A level the machine cannot reach degrades to the best one below it.
        prelude: Earlier code runs of the same interpreter session (Gemini's runs share
            state within a response): run first, in the same process and namespace, with
            their output, errors and figures discarded; ``timeout`` covers them too.

    Returns:
        The outcome, output (stdout on success, the traceback on failure, partial stdout at
        the deadline), figures as validated PNGs, and the isolation level reached.

    Raises:
        SandboxError: The sandbox itself failed (never for anything the code does).
        ValueError: An unknown level, a non-positive timeout, or a file name outside the
            working directory.
    """
    return default_pool().run(code, files, timeout, seed, level=level, prelude=prelude)


def isolation_report() -> dict[str, Any]:
    """Which layers this machine offers, the level reached, and why anything is missing."""
    return default_pool().report()


def available_libraries(*, import_check: bool = False) -> dict[str, bool]:
    """Which of Gemini's documented libraries the sandbox has (distribution name -> bool).

    Args:
        import_check: Import each one inside the sandbox instead of only locating it (slow:
            tensorflow alone takes seconds; catches libraries that are installed but broken).
    """
    if not import_check:
        return installed()
    result = run(IMPORT_CHECK_CODE % (GEMINI_LIBRARIES,), timeout=120)
    if result.outcome != "OUTCOME_OK":
        raise SandboxError(f"library check failed: {result.output}")
    found: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return found
