"""``--harness-shard I/N``: a deterministic split of the collected items into N parts.

Items are grouped by case (``suite::case``): a case's models and samples always land in the
same shard, so each shard can pair its models per case, and the shards' runs combine with
``harness merge`` into exactly the run an unsharded session would have made. Groups are
assigned greedily, largest first (ties in sorted key order), to the least-loaded shard: with
equal group sizes that is round-robin over the sorted case keys. It needs no stored
durations, and every process that collects the same items computes the same split (xdist
workers included).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GroupKey = tuple[str, ...]
"""``("case", suite, case)`` for an eval item, ``("file", path)`` for any other item."""

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A malformed ``--harness-shard`` value; the message says the valid forms."""


@dataclass(frozen=True)
class Shard:
    """Which part of the suite a run takes: ``index`` of ``count``, from 1."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """Parse ``I/N`` (1 <= I <= N).

    Raises:
        ShardError: naming the value and the valid range.
    """
    m = _SPEC.match(text)
    if m is None:
        raise ShardError(f"--harness-shard {text!r}: expected I/N, e.g. --harness-shard 1/4 "
                         "(shard I of N, counted from 1)")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1:
        raise ShardError(f"--harness-shard {text!r}: N must be at least 1")
    if not 1 <= index <= count:
        raise ShardError(f"--harness-shard {text!r}: I must be between 1 and {count} "
                         f"(the shards are 1/{count} ... {count}/{count})")
    return Shard(index, count)


def assign(weights: Mapping[GroupKey, int], count: int) -> dict[GroupKey, int]:
    """Assign each group to a shard (1..count), balancing the summed weights.

    Deterministic: depends only on the groups and their weights, not on their order.

    Args:
        weights: Items per group.
        count: Number of shards.

    Returns:
        Shard index per group.
    """
    loads = [0] * count
    out: dict[GroupKey, int] = {}
    for key in sorted(weights, key=lambda k: (-weights[k], k)):
        target = min(range(count), key=lambda i: (loads[i], i))
        loads[target] += weights[key]
        out[key] = target + 1
    return out


def digest(weights: Mapping[GroupKey, int]) -> str:
    """A fingerprint of what was split: shards that collected different items differ here."""
    text = json.dumps(sorted([list(k), w] for k, w in weights.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def imbalance(weights: Mapping[GroupKey, int], assignment: Mapping[GroupKey, int],
              count: int) -> float:
    """Largest shard over the mean shard (1.0 is perfect), in items."""
    loads = [0] * count
    for key, index in assignment.items():
        loads[index - 1] += weights[key]
    mean = sum(loads) / count
    return max(loads) / mean if mean else 1.0


@dataclass(frozen=True)
class Selection:
    """What one shard took of the collected items (stored in the run's ``run.json``).

    Attributes:
        shard: Which shard.
        digest: :func:`digest` of every collected group.
        items: Eval items this shard kept.
        total_items: Eval items of all shards.
        groups: Groups (cases, other files) this shard kept.
        total_groups: Groups of all shards.
    """

    shard: Shard
    digest: str
    items: int
    total_items: int
    groups: int
    total_groups: int

    def to_json(self) -> dict[str, Any]:
        """The ``shard`` entry of ``run.json``."""
        return {"index": self.shard.index, "count": self.shard.count, "digest": self.digest,
                "items": self.items, "total_items": self.total_items, "groups": self.groups,
                "total_groups": self.total_groups}


def split(keys: Sequence[GroupKey], evals: Sequence[bool],
          shard: Shard) -> tuple[list[int], list[int], Selection]:
    """Split items, given each one's group key, into those this shard keeps and the others.

    Args:
        keys: Each item's group key, in collection order.
        evals: Whether each item is an eval item (counted in :class:`Selection`).
        shard: This run's shard.

    Returns:
        Positions kept, positions deselected (both in collection order), and the selection.
    """
    weights: dict[GroupKey, int] = {}
    for key in keys:
        weights[key] = weights.get(key, 0) + 1
    where = assign(weights, shard.count)
    kept = [i for i, key in enumerate(keys) if where[key] == shard.index]
    dropped = [i for i, key in enumerate(keys) if where[key] != shard.index]
    selection = Selection(
        shard=shard, digest=digest(weights), items=sum(evals[i] for i in kept),
        total_items=sum(evals), groups=sum(1 for k in where if where[k] == shard.index),
        total_groups=len(weights))
    return kept, dropped, selection


def group_key(item: Any) -> GroupKey:
    """An item's group: its case for an eval item, its file otherwise."""
    case = getattr(item, "case", None)
    if case is not None and hasattr(case, "suite"):
        return ("case", str(case.suite), str(case.id))
    return ("file", str(item.nodeid).split("::", 1)[0])


def select(items: list[Any], shard: Shard) -> tuple[list[Any], list[Any], Selection]:
    """:func:`split` over pytest items: (kept, deselected, selection)."""
    keys = [group_key(i) for i in items]
    kept, dropped, selection = split(keys, [k[0] == "case" for k in keys], shard)
    return [items[i] for i in kept], [items[i] for i in dropped], selection


def hash_assign(keys: Iterable[GroupKey], count: int) -> dict[GroupKey, int]:
    """The alternative measured against :func:`assign`: a stable hash of the key, mod N.

    Kept for ``benchmarks/shard_balance.py``; it moves no group when others are added, but on
    a suite of tens of cases it leaves the shards far less even.
    """
    return {k: int(hashlib.sha256("\0".join(k).encode()).hexdigest(), 16) % count + 1
            for k in keys}
