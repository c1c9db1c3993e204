"""Model calls N at a time in threads, under the run's rate limit and budget.

Threads, not ``client.aio``: every surface (generate_content, stream, chat, interactions,
function-calling hops, uploads) is written against the SDK's sync client, whose httpx2 client
is thread-safe, so the very code that records serially records concurrently, and the request
fingerprints of committed cassettes stay what they are. The work is waiting on the network,
which releases the GIL. An item's calls stay sequential inside its job; jobs run side by side.

The pool knows jobs by key and gives each finished job's result (or its exception) back to
whoever asks for that key: the item's setup, in pytest's order, so verdicts, node ids and
ERROR-vs-FAIL are what a serial run gives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from harness.calls.budget import Budget
from harness.calls.ratelimit import RateLimiter, estimate_tokens, reported_tokens
from harness.errors import BudgetReached

MODEL_CALL_ENDINGS = (":generateContent", ":streamGenerateContent", "/interactions")


@dataclass
class Counters:
    """What the progress line shows (this process)."""

    done: int = 0
    in_flight: int = 0
    retries: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    paused_429: int = 0


@dataclass(frozen=True)
class Hooks:
    """What a job passes to :func:`harness.cassettes.threaded.record_cassette`."""

    gate: Callable[[str, str, bytes], None]
    settle: Callable[[int, Any, bytes], None]
    stopped: threading.Event
    on_retry: Callable[[str], None]


class CallPool:
    """A thread pool of recording jobs (see the module docstring).

    Args:
        workers: How many jobs run at once (``--harness-concurrency``).
        limiter: The run's shared rate limit.
        budget: The run's budget, or None.
        prices: Prices by model (``Price.cost_usd``), for the cost shown and the budget.
        pause_s: How long a 429 without Retry-After holds a model's callers.
    """

    def __init__(self, workers: int, limiter: RateLimiter, budget: Budget | None,
                 prices: dict[str, Any], pause_s: float = 1.0) -> None:
        self.workers, self.limiter, self.budget, self.prices = workers, limiter, budget, prices
        self.pause_s = pause_s
        self.counters = Counters()
        self.started_at = time.monotonic()
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="harness-call")

    def submitted(self, key: str) -> bool:
        """Whether a job for ``key`` was submitted."""
        return key in self._futures

    @property
    def busy(self) -> bool:
        """Whether any job is queued or running."""
        return any(not f.done() for f in self._futures.values())

    def submit(self, key: str, model: str, job: Callable[[Hooks], Any]) -> None:
        """Queue ``job`` for ``key``; it starts when a thread is free and the budget allows."""
        if key not in self._futures and not self.stopped.is_set():
            self._futures[key] = self._executor.submit(self._run, model, job)

    def result(self, key: str, *, on_wait: Callable[[], None] | None = None,
               tick_s: float = 0.5) -> Any:
        """The job's result (raises what it raised); ``on_wait`` runs every tick while waiting."""
        future = self._futures.pop(key)
        while on_wait is not None and not future.done():
            on_wait()
            try:
                return future.result(timeout=tick_s)
            except TimeoutError:
                continue
        return future.result()

    def _run(self, model: str, job: Callable[[Hooks], Any]) -> Any:
        reservation = None
        if self.budget is not None:
            reservation = self.budget.start(model)
            if reservation is None:
                raise BudgetReached(f"{self.budget.spent():.4f}")
        with self._lock:
            self.counters.in_flight += 1
        cost = None
        try:
            result = job(self._hooks(model))
            cost = self.cost_of(model, result)
            return result
        finally:
            with self._lock:
                self.counters.in_flight -= 1
                self.counters.done += 1
                self.counters.cost_usd += cost or 0.0
            if reservation is not None and self.budget is not None:
                self.budget.finish(reservation, cost)

    def cost_of(self, model: str, result: Any) -> float | None:
        """The estimated cost of a job's transcript (its ``usage``) at the model's prices."""
        transcript = result[-1] if isinstance(result, tuple) else result
        usage = getattr(transcript, "usage", None)
        price = self.prices.get(model)
        if usage is None or price is None:
            return None
        cost: float | None = price.cost_usd(usage.to_json())
        return cost

    def _hooks(self, model: str) -> Hooks:
        start: list[int] = []

        def gate(method: str, path: str, body: bytes) -> None:
            if method.upper() == "POST" and path.rstrip("/").endswith(MODEL_CALL_ENDINGS):
                start[:] = [self.limiter.acquire(model, estimate_tokens(body))]
                with self._lock:
                    self.counters.calls += 1
            else:
                start.clear()

        def settle(status: int, headers: Any, body: bytes) -> None:
            if status == 429:
                self.limiter.pause(model, _retry_after(headers, self.pause_s))
                with self._lock:
                    self.counters.paused_429 += 1
            tokens = reported_tokens(body) if 200 <= status < 300 else None
            if start and tokens is not None:
                self.limiter.settle(start[0], tokens)
                with self._lock:
                    self.counters.tokens += tokens

        def on_retry(line: str) -> None:
            with self._lock:
                self.counters.retries += 1

        return Hooks(gate, settle, self.stopped, on_retry)

    def close(self) -> None:
        """Start nothing more; wait for the running jobs (their requests are not cut off)."""
        self.stopped.set()
        self._executor.shutdown(wait=True, cancel_futures=True)


def _retry_after(headers: Any, default: float) -> float:
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else default
    except (TypeError, ValueError):
        return default
