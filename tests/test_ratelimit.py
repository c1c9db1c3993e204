"""The shared rate limit (sliding 60 s window in SQLite) and the budget's arithmetic."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from harness.calls.budget import Budget, estimate, may_start
from harness.calls.ratelimit import Limit, RateLimiter, reported_tokens


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def test_no_more_than_rpm_calls_start_in_any_window(tmp_path):
    clock = Clock()
    limiter = RateLimiter(tmp_path / "r.sqlite", {"m": Limit(rpm=3)}, clock=clock,
                          sleep=clock.sleep)
    starts = []
    for _ in range(7):
        limiter.acquire("m")
        starts.append(clock.t)
    assert starts[:3] == [1000.0] * 3
    assert all(later - earlier >= 60 for earlier, later in zip(starts, starts[3:], strict=False))
    assert limiter.waits == 2 and limiter.waited_s >= 120


def test_other_models_and_the_star_default(tmp_path):
    clock = Clock()
    limiter = RateLimiter(tmp_path / "r.sqlite", {"*": Limit(rpm=1)}, clock=clock,
                          sleep=clock.sleep)
    limiter.acquire("a")
    limiter.acquire("b")  # its own window
    assert clock.slept == []
    limiter.acquire("a")
    assert clock.t >= 1060


def test_tokens_per_minute_use_reported_usage(tmp_path):
    clock = Clock()
    limiter = RateLimiter(tmp_path / "r.sqlite", {"m": Limit(tpm=100)}, clock=clock,
                          sleep=clock.sleep)
    first = limiter.acquire("m", 10)
    limiter.settle(first, 95)  # the response said 95 tokens
    limiter.acquire("m", 10)
    assert clock.t >= 1060
    body = b'{"usageMetadata": {"totalTokenCount": 12}} {"totalTokenCount": 40}'
    assert reported_tokens(body) == 40


def test_a_429_pause_holds_every_caller(tmp_path):
    clock = Clock()
    path = tmp_path / "r.sqlite"
    RateLimiter(path, {}, clock=clock).pause("m", 7)
    other = RateLimiter(path, {}, clock=clock, sleep=clock.sleep)  # another worker
    other.acquire("m")
    assert clock.t >= 1007


class Refused(Exception):
    pass


def _refuse(_s: float) -> None:
    raise Refused


def _worker(path: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from pathlib import Path

    limiter = RateLimiter(Path(path), {"m": Limit(rpm=5)}, clock=lambda: 1000.0, sleep=_refuse)
    got = 0
    for _ in range(5):
        try:
            limiter.acquire("m")
            got += 1
        except Refused:
            pass
    out.put(got)


def test_two_processes_share_one_window(tmp_path):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path / "r.sqlite"), out))
             for _ in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sum(got) == 5  # not 5 each


def test_budget_estimate_and_fit():
    assert estimate({}, "m") == 0.0
    assert estimate({"a": [1.0, 3.0]}, "m") == 2.0  # no own history: every model's mean
    assert estimate({"a": [1.0], "m": [0.5]}, "m") == 0.5
    assert may_start(1.0, 0.5, [0.25], 0.25)
    assert not may_start(1.0, 0.5, [0.25], 0.3)


def test_budget_stops_for_good_once_reached(tmp_path):
    budget = Budget(tmp_path / "r.sqlite", 1.0)
    first = budget.start("m")
    assert first is not None  # nothing known yet: it starts
    budget.finish(first, 0.6)
    assert budget.start("m") is None  # 0.6 + 0.6 > 1.0
    assert Budget(tmp_path / "r.sqlite", 1.0).start("cheap") is None  # every process, for good
    assert budget.spent() == pytest.approx(0.6)


def test_a_failed_item_frees_its_reservation(tmp_path):
    budget = Budget(tmp_path / "r.sqlite", 1.0)
    first = budget.start("m")
    assert first is not None
    budget.finish(first, None)
    assert budget.spent() == 0.0
