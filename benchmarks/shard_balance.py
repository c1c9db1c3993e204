"""How evenly --harness-shard splits the committed evals/ (items per shard, no timing).

Prints, for N = 2, 3, 4, the largest shard over the mean shard (1.00 is perfect) for the
split the plugin uses (greedy by items per case, ties in sorted key order: round-robin over
sorted case keys when the cases are equal) and for a stable hash of the case key mod N.

    PYTHONPATH=$PWD python benchmarks/shard_balance.py [evals]
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.config import load_settings
from harness.shard import GroupKey, assign, hash_assign, imbalance
from harness.spec.load import expand_paths, load_eval_file

ROOT = Path(__file__).resolve().parents[1]


def weights(paths: list[Path]) -> dict[GroupKey, int]:
    settings = load_settings(ROOT)
    files, _ = expand_paths(paths)
    out: dict[GroupKey, int] = {}
    for path in files:
        for case in load_eval_file(path, ROOT).cases:
            samples = settings.samples or case.samples
            out[("case", case.suite, case.id)] = samples * len(settings.models)
    return out


def main() -> None:
    w = weights([Path(p) for p in sys.argv[1:]] or [ROOT / "evals"])
    print(f"{len(w)} cases, {sum(w.values())} items")
    for n in (2, 3, 4):
        greedy = assign(w, n)
        hashed = hash_assign(w, n)
        sizes = [sum(v for k, v in w.items() if greedy[k] == i) for i in range(1, n + 1)]
        hsizes = [sum(v for k, v in w.items() if hashed[k] == i) for i in range(1, n + 1)]
        print(f"N={n}: greedy {imbalance(w, greedy, n):.2f} (items {sizes}); "
              f"hash {imbalance(w, hashed, n):.2f} (items {hsizes})")


if __name__ == "__main__":
    main()
