"""Where the simulator's code runs: an injectable executor, the sandbox by default.

Any callable with the signature of :func:`harness.sandbox.execute.run` works (see
:class:`Executor`); the default is that function, imported lazily (the sandbox's pool starts
only when a simulated model first runs code). Tests may inject :mod:`harness.sim.devexec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import anyio.to_thread

from harness.sandbox.api import ExecResult

DEFAULT_EXEC_TIMEOUT_S = 30.0  # Gemini's code-execution limit, for reference code
DEFAULT_DEADLINE_S = 2.0  # sim-timeout's deadline: short, so that recording stays fast


class Executor(Protocol):
    """Runs Python and reports it in Gemini's terms (the signature of the sandbox's ``run``)."""

    def __call__(self, code: str, files: Mapping[str, bytes] | None = None,
                 timeout: float = DEFAULT_EXEC_TIMEOUT_S,
                 seed: int | None = None) -> ExecResult:
        """Run ``code`` with input ``files`` (name -> bytes) within ``timeout`` seconds."""
        ...


def default_executor() -> Executor:
    """The sandbox: :func:`harness.sandbox.execute.run`."""
    from harness.sandbox.execute import run

    return run


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
