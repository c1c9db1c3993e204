"""--harness-shard's split, and harness merge's checks of the shard runs it is given."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from harness.merge import MergeError, check_runs, combined_exitstatus, load_run, merge_runs
from harness.results.runmeta import run_meta, write_run_meta
from harness.shard import ShardError, assign, digest, parse_shard, split
from tests.test_stats import rec

# ---- the split ----------------------------------------------------------------------------


def items(cases: int, per_case: int = 6) -> list[tuple[str, ...]]:
    """Group keys of a suite's items in collection order: each case's models x samples."""
    return [("case", "s", f"c{c:02d}") for c in range(cases) for _ in range(per_case)]


@pytest.mark.parametrize("text", ["1/1", "1/3", "3/3", " 2 / 4 "])
def test_valid_shards_parse(text: str) -> None:
    shard = parse_shard(text)
    assert 1 <= shard.index <= shard.count


@pytest.mark.parametrize(("text", "message"), [
    ("0/3", "I must be between 1 and 3 (the shards are 1/3 ... 3/3)"),
    ("4/3", "I must be between 1 and 3"),
    ("1/0", "N must be at least 1"),
    ("2", "expected I/N, e.g. --harness-shard 1/4"),
    ("a/b", "expected I/N"),
    ("-1/2", "expected I/N"),
])
def test_bad_shards_say_what_is_valid(text: str, message: str) -> None:
    with pytest.raises(ShardError, match="--harness-shard") as exc:
        parse_shard(text)
    assert message in str(exc.value)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 40])
def test_every_item_lands_in_exactly_one_shard_with_its_case(count: int) -> None:
    keys = items(18)
    owners: dict[int, int] = {}
    for index in range(1, count + 1):
        kept, dropped, selection = split(keys, [True] * len(keys), parse_shard(f"{index}/{count}"))
        assert sorted(kept + dropped) == list(range(len(keys)))
        assert selection.items == len(kept) and selection.total_items == len(keys)
        for i in kept:
            assert owners.setdefault(i, index) == index
    assert sorted(owners) == list(range(len(keys)))
    case_shard: dict[tuple[str, ...], set[int]] = {}
    for i, key in enumerate(keys):
        case_shard.setdefault(key, set()).add(owners[i])
    assert all(len(shards) == 1 for shards in case_shard.values())  # models+samples together


def test_the_split_is_deterministic_whatever_the_order() -> None:
    weights = {("case", "s", f"c{c}"): 1 + c % 4 for c in range(30)}
    shuffled = list(weights.items())
    random.Random(7).shuffle(shuffled)
    assert assign(weights, 4) == assign(dict(shuffled), 4)
    assert digest(weights) == digest(dict(shuffled))
    assert digest(weights) != digest({**weights, ("case", "s", "new"): 1})


def test_equal_cases_balance_to_within_one_case() -> None:
    where = assign({("case", "s", f"c{c:02d}"): 9 for c in range(18)}, 4)
    sizes = sorted(list(where.values()).count(i) for i in range(1, 5))
    assert sizes == [4, 4, 5, 5]


def test_a_big_case_is_balanced_by_the_small_ones() -> None:
    weights = {("case", "s", "big"): 10} | {("case", "s", f"c{c}"): 1 for c in range(10)}
    where = assign(weights, 2)
    loads = [sum(w for k, w in weights.items() if where[k] == i) for i in (1, 2)]
    assert loads == [10, 10]


# ---- merge's refusals ---------------------------------------------------------------------

SETTINGS = {"models": ["a", "b"], "baseline": "a", "target": "sim", "samples": 1,
            "alpha": 0.05, "gate": "on", "gate_underpowered": "warn"}


def shard_run(root: Path, index: int, count: int, cases: list[str], *,
              total: int = 4, digest_: str = "d1", settings: dict[str, Any] | None = None,
              record_mode: str = "none", items: int | None = None,
              run_id: str | None = None, exitstatus: int = 0) -> Path:
    """A finished shard run: results.jsonl (both models per case) and run.json."""
    path = root / (run_id or f"run{index}of{count}-{len(list(root.glob('*')))}")
    path.mkdir(parents=True)
    recs = [rec(c, "pass", model=m, location=f"evals/x.eval.yaml:{10 + int(c[1:])}")
            for c in cases for m in ("a", "b")]
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    write_run_meta(path, run_meta(
        run_id=path.name, settings=settings or SETTINGS, record_mode=record_mode,
        full_run=True, exitstatus=exitstatus, other_failures=0, items=len(recs),
        shard={"index": index, "count": count, "digest": digest_,
               "items": len(recs) if items is None else items, "total_items": total * 2,
               "groups": len(cases), "total_groups": total}))
    return path


def refusal(paths: list[Path], **kw: Any) -> str:
    with pytest.raises(MergeError) as exc:
        check_runs([load_run(p) for p in paths], **kw)
    return str(exc.value)


def test_two_complete_shards_pass_the_checks(tmp_path: Path) -> None:
    runs = [shard_run(tmp_path, 1, 2, ["c1", "c2"]), shard_run(tmp_path, 2, 2, ["c3", "c4"])]
    assert check_runs([load_run(p) for p in runs]) == []


def test_overlapping_shards_are_refused(tmp_path: Path) -> None:
    runs = [shard_run(tmp_path, 1, 2, ["c1", "c2"]), shard_run(tmp_path, 2, 2, ["c2", "c3"])]
    msg = refusal(runs)
    assert "both hold s::c2[a#1]" in msg and "the shards overlap" in msg
    assert runs[0].name in msg and runs[1].name in msg


def test_inconsistent_settings_are_refused_naming_the_setting(tmp_path: Path) -> None:
    runs = [shard_run(tmp_path, 1, 2, ["c1"]),
            shard_run(tmp_path, 2, 2, ["c2"], settings={**SETTINGS, "models": ["a", "c"]})]
    msg = refusal(runs)
    assert "different models" in msg and "['a', 'c'] in" in msg and "--model" in msg


def test_different_n_and_different_collections_are_refused(tmp_path: Path) -> None:
    msg = refusal([shard_run(tmp_path, 1, 2, ["c1"]), shard_run(tmp_path, 2, 3, ["c2"])])
    assert "different numbers of shards" in msg and "same N" in msg
    msg = refusal([shard_run(tmp_path / "d", 1, 2, ["c1"]),
                   shard_run(tmp_path / "d", 2, 2, ["c2"], digest_="other", total=5)])
    assert "collected different items" in msg and "10 items in 5 cases" in msg


def test_two_runs_claiming_one_shard_or_one_run_twice_are_refused(tmp_path: Path) -> None:
    first = shard_run(tmp_path, 1, 2, ["c1"])
    msg = refusal([first, shard_run(tmp_path, 1, 2, ["c2"])])
    assert "both are shard 1/2" in msg and "latest attempt" in msg
    assert "same run" in refusal([first, first])


def test_missing_and_incomplete_shards_are_refused_unless_allowed(tmp_path: Path) -> None:
    runs = [shard_run(tmp_path, 1, 3, ["c1"]), shard_run(tmp_path, 3, 3, ["c3"], items=4,
                                                          exitstatus=2)]
    msg = refusal(runs)
    assert "shard 2/3 missing (given: 1, 3)" in msg and "--harness-shard 2/3" in msg
    assert "holds 2 of its 4 items (pytest exit status 2" in msg and "--allow-missing" in msg
    warnings = check_runs([load_run(p) for p in runs], allow_missing=True)
    assert len(warnings) == 2 and all("part of the suite" in w for w in warnings)


def test_runs_that_are_not_finished_shards_are_refused(tmp_path: Path) -> None:
    run = shard_run(tmp_path, 1, 2, ["c1"])
    meta = json.loads((run / "run.json").read_text())
    write_run_meta(run, {**meta, "shard": None})
    with pytest.raises(MergeError, match="not a shard run"):
        load_run(run)
    (run / "run.json").unlink()
    with pytest.raises(MergeError, match=r"no run\.json: the run did not finish"):
        load_run(run)
    with pytest.raises(MergeError, match=r"no results\.jsonl here"):
        load_run(tmp_path / "nothing")


def test_exit_status_of_the_shards_together() -> None:
    assert combined_exitstatus([0, 5, 0]) == 0
    assert combined_exitstatus([0, 1]) == 1
    assert combined_exitstatus([1, 2, 0]) == 2


@pytest.mark.parametrize(("mode", "history"), [("none", False), ("new_episodes", True)])
def test_merge_writes_one_run_and_history_only_for_record_shards(
        tmp_path: Path, mode: str, history: bool) -> None:
    reports = tmp_path / "reports"
    runs = [shard_run(reports, 2, 2, ["c3", "c2"], record_mode=mode),
            shard_run(reports, 1, 2, ["c1", "c4"], record_mode=mode)]
    merged = merge_runs(runs, reports)
    lines = (merged.run_dir / "results.jsonl").read_text().splitlines()
    assert [json.loads(x)["case"] for x in lines] == ["c1", "c1", "c2", "c2", "c3", "c3",
                                                      "c4", "c4"]  # collection order
    assert merged.summary["models"]["a"]["items"] == 4 and merged.summary["gate"]["ok"]
    assert [m["shard"] for m in merged.meta["merged_from"]] == ["1/2", "2/2"]
    assert (reports / "latest").resolve() == merged.run_dir
    assert (reports / "history.jsonl").exists() is history
    assert merged.history_appended is history
    with pytest.raises(MergeError, match="already holds a run"):
        merge_runs(runs, reports, out=merged.run_dir)
