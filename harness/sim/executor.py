"""Where the simulator's code runs: an injectable executor, the sandbox by default.

Any callable with the signature of ``harness.sandbox.run`` works (see :class:`Executor`). The
default is ``harness.sandbox.run``, imported lazily; while that does not exist yet, the
development fallback :mod:`harness.sim.devexec` (a plain subprocess) is used, with a warning.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, cast

import anyio.to_thread

from harness.sandbox.api import ExecResult

log = logging.getLogger("harness.sim")

DEFAULT_EXEC_TIMEOUT_S = 30.0  # Gemini's code-execution limit, for reference code
DEFAULT_DEADLINE_S = 2.0  # sim-timeout's deadline: short, so that recording stays fast


class Executor(Protocol):
    """Runs Python and reports it in Gemini's terms (``harness.sandbox.run``'s signature)."""

    def __call__(self, code: str, files: Mapping[str, bytes] | None = None,
                 timeout: float = DEFAULT_EXEC_TIMEOUT_S,
                 seed: int | None = None) -> ExecResult:
        """Run ``code`` with input ``files`` (name -> bytes) within ``timeout`` seconds."""
        ...


def default_executor() -> Executor:
    """``harness.sandbox.run`` if it exists, else the development fallback."""
    try:
        sandbox = importlib.import_module("harness.sandbox")
        run = getattr(sandbox, "run", None)
    except ImportError:
        run = None
    if callable(run):
        return cast(Executor, run)
    from harness.sim import devexec

    log.warning("sim: harness.sandbox.run is not available; running code with the "
                "development fallback harness.sim.devexec (a plain subprocess, not isolated)")
    return devexec.run


@dataclass
class Runner:
    """Calls the executor off the event loop, with the simulator's time limits.

    Attributes:
        executor: The executor; None resolves :func:`default_executor` on first use.
        exec_timeout_s: Limit for ordinary runs (reference code).
        deadline_s: Limit for runs meant to exceed it (``sim-timeout``).

    """

    executor: Executor | None = None
    exec_timeout_s: float = DEFAULT_EXEC_TIMEOUT_S
    deadline_s: float = DEFAULT_DEADLINE_S

    async def run(self, code: str, files: Mapping[str, bytes], *, seed: int,
                  deadline: bool = False) -> ExecResult:
        """Run ``code`` in a worker thread (executors block); ``deadline`` picks the short limit."""
        if self.executor is None:
            self.executor = default_executor()
        executor = self.executor
        timeout = self.deadline_s if deadline else self.exec_timeout_s

        def call() -> ExecResult:
            return executor(code, files=dict(files) or None, timeout=timeout, seed=seed)

        return await anyio.to_thread.run_sync(call)
