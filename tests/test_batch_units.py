"""Batch recording's bookkeeping: chunks under the inline limit, the jobs file's resume."""

from __future__ import annotations

import pytest

from harness.calls.batch_state import (
    ITEM_OVERHEAD_BYTES,
    JobsFile,
    SavedItem,
    SavedJob,
    chunk,
)
from harness.errors import SetupError
from harness.sim.batch_config import BatchConfig, BatchSpecError


def test_chunks_stay_under_the_limit_in_order_and_set_aside_oversized_items():
    size = 100 - ITEM_OVERHEAD_BYTES
    chunks, too_large = chunk(list("abcde"), [size, size, 10_000, size, size],
                              limit_bytes=250)
    assert chunks == [["a", "b"], ["d", "e"]]
    assert too_large == ["c"]


def test_chunks_respect_max_items():
    chunks, _ = chunk(list("abcde"), [1] * 5, limit_bytes=10_000, max_items=2)
    assert chunks == [["a", "b"], ["c", "d"], ["e"]]


def test_jobs_file_resumes_only_unchanged_items(tmp_path):
    jobs = JobsFile.load(tmp_path)
    jobs.add(SavedJob("batches/1", "m", "sim", "t", {"k1": SavedItem("f1", "c1"),
                                                       "k2": SavedItem("f2", "c2")}))
    jobs.add(SavedJob("batches/2", "m", "sim", "t", {"k3": SavedItem("f3", "c3")}))
    again = JobsFile.load(tmp_path)  # the next run reads what this one saved
    claimed, stale = again.claim({"k1": SavedItem("f1", "c1"), "k2": SavedItem("changed", "c2"),
                                  "k3": SavedItem("f3", "elsewhere")}, "sim")
    assert claimed == {"batches/1": ["k1"]}
    assert stale == ["batches/2"]
    again.remove("batches/1")
    again.remove("batches/2")
    assert not (tmp_path / "batch-jobs.json").exists()


def test_a_damaged_jobs_file_is_a_clear_error(tmp_path):
    (tmp_path / "batch-jobs.json").write_text("{not json")
    with pytest.raises(SetupError, match="delete it"):
        JobsFile.load(tmp_path)


def test_sim_batch_config_parses_and_refuses_unknown_keys():
    config = BatchConfig.parse("delay_s=2,fail=a|b,state=expired,seed=3")
    assert (config.delay_s, config.fail, config.state) == (2.0, frozenset({"a", "b"}),
                                                           "EXPIRED")
    assert config.fails("suite/a", 1) and not config.fails("suite/c", 1)
    with pytest.raises(BatchSpecError, match="unknown key"):
        BatchConfig.parse("delay=2")
