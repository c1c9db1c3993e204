"""One rate limit for the whole run: requests and tokens per minute per model, across processes.

A sliding 60-second window kept in SQLite in the run directory, so the xdist workers and the
threads of every worker share it with no server to start. Each model call is a row
``(model, started, tokens)``; a call may start when fewer than ``rpm`` rows of its model
started in the last 60 s and their tokens plus its estimate stay within ``tpm``. That is
exactly the guarantee quotas are stated in: no more than ``rpm`` calls start in any 60 s
window. ``BEGIN IMMEDIATE`` makes check-and-insert atomic between processes.

A 429 pauses the model for everyone (:meth:`RateLimiter.pause`): its Retry-After goes into
the same database, and every caller waits it out before its next start.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WINDOW_S = 60.0
_SCHEMA = ("CREATE TABLE IF NOT EXISTS starts (id INTEGER PRIMARY KEY, model TEXT, t REAL, "
           "tokens INTEGER); CREATE INDEX IF NOT EXISTS starts_model ON starts (model, t); "
           "CREATE TABLE IF NOT EXISTS pauses (model TEXT PRIMARY KEY, until REAL)")
_TOTAL = re.compile(rb'"(?:totalTokenCount|total_tokens)"\s*:\s*([0-9]+)')


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the run's shared SQLite file, waiting up to 30 s for others' locks.

    Autocommit mode: ``BEGIN IMMEDIATE`` takes the lock where it matters. One connection per
    operation: sqlite3 connections are not shared between threads.
    """
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 30000")
    return db


@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    """:func:`connect`, closed when the block ends."""
    db = connect(path)
    try:
        yield db
    finally:
        db.close()


@contextmanager
def immediate(path: Path) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction, atomic across processes.

    Committed when the block ends (a ``return`` inside it too), rolled back when it raises.
    """
    with opened(path) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


@dataclass(frozen=True)
class Limit:
    """A model's limits (None: unlimited).

    Attributes:
        rpm: Calls started per 60 s.
        tpm: Tokens per 60 s (estimated at the start, corrected from the response's usage).
    """

    rpm: int | None = None
    tpm: int | None = None


def estimate_tokens(body: bytes) -> int:
    """A request's prompt tokens, roughly (4 bytes a token): corrected once usage is known."""
    return max(1, len(body) // 4)


def reported_tokens(body: bytes) -> int | None:
    """The total token count a response reports (its last usage block), or None."""
    found = _TOTAL.findall(body)
    return int(found[-1]) if found else None


class RateLimiter:
    """The run's shared window (see the module docstring); safe across threads and processes.

    Args:
        path: The SQLite file (in the run directory).
        limits: Limits by model name; ``"*"`` applies to models without their own.
        clock: Seconds since the epoch (shared between processes, unlike a monotonic clock).
        sleep: How to wait (tests pass a fake).
    """

    def __init__(self, path: Path, limits: dict[str, Limit], *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.path, self.limits, self.clock, self.sleep = path, limits, clock, sleep
        self.waits = 0  # starts that had to wait (this process)
        self.waited_s = 0.0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with opened(path) as db:
            db.executescript(_SCHEMA)

    def limit(self, model: str) -> Limit:
        """The limits that apply to ``model``."""
        return self.limits.get(model) or self.limits.get("*") or Limit()

    def acquire(self, model: str, tokens: int = 1) -> int:
        """Wait until a call of ``model`` may start, and count it as started.

        Returns:
            The start's id (for :meth:`settle`).
        """
        waited = 0.0
        while True:
            wait, start_id = self._try(model, tokens)
            if start_id is not None:
                if waited:
                    with self._lock:
                        self.waits += 1
                        self.waited_s += waited
                return start_id
            step = min(max(wait, 0.01), 5.0)  # re-check: a pause may have been added meanwhile
            self.sleep(step)
            waited += step

    def _try(self, model: str, tokens: int) -> tuple[float, int | None]:
        limit = self.limit(model)
        with immediate(self.path) as db:
            now = self.clock()  # read under the lock: a stale time would let starts bunch up
            db.execute("DELETE FROM starts WHERE t <= ?", (now - WINDOW_S,))
            row = db.execute("SELECT until FROM pauses WHERE model = ?", (model,)).fetchone()
            if row is not None and row[0] > now:
                return row[0] - now, None
            rows = db.execute("SELECT t, tokens FROM starts WHERE model = ? ORDER BY t",
                              (model,)).fetchall()
            wait = 0.0
            if limit.rpm is not None and len(rows) >= limit.rpm:
                wait = rows[len(rows) - limit.rpm][0] + WINDOW_S - now
            if limit.tpm is not None:
                used = sum(r[1] for r in rows)
                for t, n in rows:  # the oldest starts leave the window first
                    if used + tokens <= limit.tpm:
                        break
                    used -= n
                    wait = max(wait, t + WINDOW_S - now)
            if wait > 0:
                return wait, None
            cur = db.execute("INSERT INTO starts (model, t, tokens) VALUES (?, ?, ?)",
                             (model, now, tokens))
            return 0.0, int(cur.lastrowid or 0)

    def settle(self, start_id: int, tokens: int) -> None:
        """Replace a start's token estimate with what the response reported."""
        with opened(self.path) as db:
            db.execute("UPDATE starts SET tokens = ? WHERE id = ?", (tokens, start_id))

    def pause(self, model: str, seconds: float) -> None:
        """Hold every caller of ``model`` (all processes) for ``seconds`` (a 429's Retry-After)."""
        until = self.clock() + max(0.0, seconds)
        with opened(self.path) as db:
            db.execute("INSERT INTO pauses (model, until) VALUES (?, ?) ON CONFLICT(model) "
                       "DO UPDATE SET until = max(until, excluded.until)", (model, until))

    def started_in_window(self, model: str) -> int:
        """Calls of ``model`` started in the last 60 s (for tests and the benchmark)."""
        with opened(self.path) as db:
            row = db.execute("SELECT count(*) FROM starts WHERE model = ? AND t > ?",
                             (model, self.clock() - WINDOW_S)).fetchone()
            return int(row[0])
