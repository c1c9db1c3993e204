"""Concurrent recording: the next items' model calls run ahead, N at a time, in threads.

When recording with ``--harness-concurrency N`` (or a rate limit or a budget), the first
recording item's setup submits the calls of the items after it (those this process will
run: under xdist, the worker's own queue) to a :class:`~harness.calls.pool.CallPool`, each
into its own temporary cassette (:mod:`harness.cassettes.threaded`); every item's setup then
takes its own finished result and tops the window up. Items are still set up, judged and
reported one by one in pytest's order, so verdicts, node ids and ERROR-vs-FAIL are exactly
what a serial run gives; a call that failed raises in its item's setup as it would have.
"""

from __future__ import annotations

import contextlib
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cassettes.paths import is_replay
from harness.errors import BudgetReached
from harness.redact import redact
from harness.report.progress import progress_line

if TYPE_CHECKING:
    import pytest

    from harness.calls.pool import CallPool

DB_NAME = ".recording.sqlite"  # the run's shared rate limit and budget, in reports/<run-id>/


def run_db(runtime: Any) -> Path:
    """The SQLite file this run's processes share (in the run directory)."""
    report_dir: Path = runtime.settings.report_dir
    return report_dir / (runtime.run_id or "local") / DB_NAME


def continue_command(config: pytest.Config) -> str:
    """This run's command with ``--record-mode=once``: it records only what is missing."""
    args, skip = [], False
    for arg in config.invocation_params.args:
        if skip:
            skip = False
            continue
        if arg == "--record-mode":
            skip = True
            continue
        if not arg.startswith("--record-mode="):
            args.append(arg)
    return "pytest " + " ".join(shlex.quote(a) for a in [*args, "--record-mode=once"])


class Ahead:
    """The session's concurrent recorder (see the module docstring)."""

    def __init__(self, runtime: Any, session: pytest.Session) -> None:
        from harness.calls.budget import Budget
        from harness.calls.pool import CallPool
        from harness.calls.ratelimit import Limit, RateLimiter

        settings = runtime.settings
        self.runtime, self.session, self.config = runtime, session, runtime.pytestconfig
        db = run_db(runtime)
        limiter = RateLimiter(db, {m: Limit(v.rpm, v.tpm)
                                   for m, v in settings.rate_limits.items()})
        budget = Budget(db, settings.budget_usd) if settings.budget_usd is not None else None
        self.pool: CallPool = CallPool(settings.concurrency, limiter, budget, settings.prices,
                                       pause_s=max(settings.retry.initial_delay, 0.1))
        self.window = max(2 * settings.concurrency, 2)
        self._index = {id(item): i for i, item in enumerate(session.items)}
        self.total = sum(1 for item in session.items if self.eligible(item))
        self._status_width = 0
        _ = runtime.vcr  # made here, in the main thread, before any job needs it

    def eligible(self, item: Any) -> bool:
        """Whether the item's call can run ahead (an HTTP item this run records, not skipped)."""
        # An EvalItem (known by its job method: collect imports this module, not the reverse)
        batch = self.runtime.batch  # --harness-batch wrote it, or failed it: not called here
        return (callable(getattr(item, "recorded_call", None)) and item.case.api != "live"
                and not (batch is not None and (item.nodeid in batch.written
                                                or item.nodeid in batch.errors))
                and not is_replay(self.runtime.record_mode, item.cassette)
                and item.get_closest_marker("skip") is None
                and item.get_closest_marker("skipif") is None)

    def upcoming(self, item: Any) -> list[Any]:
        """The item and those this process runs after it, in order."""
        items = self.session.items
        queue = _xdist_queue(self.config)
        if queue is not None:
            return [item, *(items[i] for i in queue)]
        start = self._index.get(id(item), 0)
        return list(items[start:start + self.window + 1])

    def take(self, item: Any) -> tuple[dict[int, str], Any]:
        """Fill the window, then wait for the item's own result (showing progress)."""
        for other in self.upcoming(item)[:self.window + 1]:
            if self.eligible(other) and not self.pool.submitted(other.nodeid):
                other.prepare_ahead()
                self.pool.submit(other.nodeid, other.model, other.recorded_call)
        if not self.pool.submitted(item.nodeid):  # e.g. run again by a rerun plugin
            item.prepare_ahead()
            self.pool.submit(item.nodeid, item.model, item.recorded_call)
        started = time.monotonic()
        try:
            return self.pool.result(item.nodeid, on_wait=self._show_status)  # type: ignore[no-any-return]
        except BudgetReached as exc:
            limit = self.runtime.settings.budget_usd
            raise BudgetReached(
                f"budget reached: the recordings of this run are estimated at ${exc} (usage x "
                f"[tool.harness.prices]), and starting this item would pass the "
                f"--harness-budget-usd {limit:g} budget, so it was not called.\n"
                f"To continue (--record-mode=once records only what is missing): "
                f"{continue_command(self.config)}") from None
        finally:
            self._clear_status()
            if self.config.get_verbosity() >= 1:
                took = time.monotonic() - started
                self._write_line(f"{self.status()} (waited {took:.1f}s for {item.name})")

    def status(self) -> str:
        """The progress line."""
        c, limiter = self.pool.counters, self.pool.limiter
        return progress_line(done=c.done, total=self.total, in_flight=c.in_flight,
                             retries=c.retries, waits=limiter.waits, waited_s=limiter.waited_s,
                             paused_429=c.paused_429, tokens=c.tokens,
                             cost_usd=c.cost_usd if self.runtime.settings.prices else None,
                             elapsed_s=time.monotonic() - self.pool.started_at,
                             budget_usd=self.runtime.settings.budget_usd)

    def _reporter(self) -> Any:
        return self.config.pluginmanager.get_plugin("terminalreporter")

    def _show_status(self) -> None:
        """At default verbosity on a terminal: the line after pytest's dots, rewritten in place."""
        tr = self._reporter()
        if tr is None or self.config.get_verbosity() != 0 or not getattr(tr, "isatty", False):
            return
        room = tr._tw.fullwidth - tr._tw.width_of_current_line - 2
        if room < 20:
            return
        text = " " + self.status()[:room]
        self._clear_status()
        with self._uncaptured():
            tr._tw.write_raw(text, flush=True)  # not counted in pytest's line: erased below
        self._status_width = len(text)

    def _clear_status(self) -> None:
        if self._status_width:
            tr = self._reporter()
            with self._uncaptured():
                tr._tw.write_raw(f"\x1b[{self._status_width}D\x1b[K", flush=True)
            self._status_width = 0

    def _write_line(self, line: str) -> None:
        tr = self._reporter()
        if tr is not None:
            with self._uncaptured():
                tr.write_line(redact(line))

    def _uncaptured(self) -> Any:
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        return capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()

    def busy(self) -> bool:
        """Whether calls are queued or in flight (replay must not block sockets then)."""
        return self.pool.busy

    def close(self) -> None:
        """Stop: nothing more starts; running calls finish, and their cassettes are kept."""
        from harness.cassettes import threaded

        self.pool.close()
        threaded.uninstall()


def _xdist_queue(config: pytest.Config) -> list[int] | None:
    """The item indices queued for this xdist worker (None outside xdist)."""
    if not hasattr(config, "workerinput"):
        return None
    for plugin in config.pluginmanager.get_plugins():
        torun = getattr(plugin, "torun", None)
        if type(plugin).__name__ == "WorkerInteractor" and torun is not None:
            queue = [getattr(plugin, "nextitem_index", None)]
            with torun.lock() as pending:
                queue.extend(pending)
            return [i for i in queue if isinstance(i, int)]
    return []
