"""``--harness-budget-usd``: stop starting calls once the run's estimated cost would pass it.

An item's cost is its recorded usage at the ``prices`` of its model. Before an item starts,
its cost is estimated as the mean of the finished items of the same model (of any model
before one of its own finished; nothing before any finished). An item starts only when what
is spent, what the items in flight are expected to cost, and its own estimate stay within the
budget; once one is refused the budget is reached for the rest of the run, so the items that
did not start are a clear, contiguous remainder. The ledger lives in the run's SQLite file,
so xdist workers share one budget.
"""

from __future__ import annotations

from pathlib import Path

from harness.calls.ratelimit import immediate, opened

_SCHEMA = ("CREATE TABLE IF NOT EXISTS spend (id INTEGER PRIMARY KEY, model TEXT, "
           "cost REAL, done INTEGER); CREATE TABLE IF NOT EXISTS budget (reached INTEGER)")


def estimate(costs_by_model: dict[str, list[float]], model: str) -> float:
    """The expected cost of one more item of ``model`` (see the module docstring)."""
    own = costs_by_model.get(model)
    if own:
        return sum(own) / len(own)
    every = [c for costs in costs_by_model.values() for c in costs]
    return sum(every) / len(every) if every else 0.0


def may_start(limit: float, spent: float, in_flight: list[float], next_cost: float) -> bool:
    """Whether an item expected to cost ``next_cost`` fits beside what is spent and in flight."""
    return spent + sum(in_flight) + next_cost <= limit


class Budget:
    """The run's shared ledger of item costs (see the module docstring).

    Args:
        path: The run's SQLite file.
        limit_usd: The budget.
    """

    def __init__(self, path: Path, limit_usd: float) -> None:
        self.path, self.limit_usd = path, limit_usd
        path.parent.mkdir(parents=True, exist_ok=True)
        with opened(path) as db:
            db.executescript(_SCHEMA)

    def start(self, model: str) -> int | None:
        """Reserve an item's estimated cost; None when the budget is reached (nothing started)."""
        with immediate(self.path) as db:
            if db.execute("SELECT 1 FROM budget WHERE reached = 1").fetchone():
                return None
            done: dict[str, list[float]] = {}
            spent, flight = 0.0, []
            for m, cost, finished in db.execute("SELECT model, cost, done FROM spend"):
                if finished:
                    done.setdefault(m, []).append(cost)
                    spent += cost
                else:
                    flight.append(cost)
            guess = estimate(done, model)
            if not may_start(self.limit_usd, spent, flight, guess):
                db.execute("INSERT INTO budget (reached) VALUES (1)")
                return None
            cur = db.execute("INSERT INTO spend (model, cost, done) VALUES (?, ?, 0)",
                             (model, guess))
            return int(cur.lastrowid or 0)

    def finish(self, reservation: int, cost: float | None) -> None:
        """Replace the reservation with the item's cost (None: the call failed, nothing known)."""
        with opened(self.path) as db:
            if cost is None:
                db.execute("DELETE FROM spend WHERE id = ?", (reservation,))
            else:
                db.execute("UPDATE spend SET cost = ?, done = 1 WHERE id = ?",
                           (cost, reservation))

    def spent(self) -> float:
        """The estimated cost of the items finished so far (every process)."""
        with opened(self.path) as db:
            row = db.execute("SELECT coalesce(sum(cost), 0) FROM spend WHERE done = 1").fetchone()
            return float(row[0])
