"""Reading result records: verdict counts per case, the keys items are paired by."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PASS, FAIL, ERROR, SKIPPED = "pass", "fail", "error", "skipped"
VERDICTS = (PASS, FAIL, ERROR, SKIPPED)

OUTCOME_OK = "OUTCOME_OK"
OUTCOME_DEADLINE = "OUTCOME_DEADLINE_EXCEEDED"
# A code run "failed" when the sandbox says so; OUTCOME_UNSPECIFIED or a missing result is
# not counted as a failure (nothing says the code went wrong).
FAILED_OUTCOMES = frozenset({"OUTCOME_FAILED", OUTCOME_DEADLINE})

CaseKey = tuple[str, str]
"""``(suite, case)``."""

ItemKey = tuple[str, str, str, int]
"""``(suite, case, model, sample)``."""


def case_key(record: Mapping[str, Any]) -> CaseKey:
    """``(suite, case)`` of a record."""
    return (str(record.get("suite", "")), str(record.get("case", "")))


def case_label(key: CaseKey) -> str:
    """How a case is named in lists and messages: ``suite::case``."""
    return f"{key[0]}::{key[1]}"


def item_key(record: Mapping[str, Any]) -> ItemKey:
    """``(suite, case, model, sample)`` of a record; a missing sample counts as 1."""
    sample = record.get("sample")
    return (str(record.get("suite", "")), str(record.get("case", "")),
            str(record.get("model", "")), int(sample) if sample is not None else 1)


def verdict_of(record: Mapping[str, Any]) -> str:
    """The record's verdict, validated."""
    verdict = record.get("verdict")
    if verdict not in VERDICTS:
        raise ValueError(f"record {record.get('nodeid') or item_key(record)}: verdict "
                         f"{verdict!r} is not one of {', '.join(VERDICTS)}")
    return str(verdict)


def outcomes_of(record: Mapping[str, Any]) -> list[str | None]:
    """The outcome of every (non-thought) code run; [] when none ran or the call failed."""
    return list(record.get("outcomes") or [])


@dataclass(frozen=True)
class CaseTally:
    """Verdict counts of one case's samples for one model.

    Attributes:
        passed: Samples that passed.
        failed: Samples that failed.
        errors: Samples that ended in an ERROR (not judged).
        skipped: Samples that were skipped (not judged).

    """

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def judged(self) -> int:
        """Samples with a pass/fail verdict."""
        return self.passed + self.failed

    @property
    def fraction(self) -> float | None:
        """Pass fraction over judged samples (None when none was judged)."""
        return self.passed / self.judged if self.judged else None


def tally_cases(records: Iterable[Mapping[str, Any]]) -> dict[CaseKey, CaseTally]:
    """Count verdicts per case, in order of first appearance.

    The records should be one model's; nothing here filters by model.
    """
    counts: dict[CaseKey, list[int]] = {}
    for rec in records:
        slot = counts.setdefault(case_key(rec), [0, 0, 0, 0])
        slot[VERDICTS.index(verdict_of(rec))] += 1
    return {key: CaseTally(*c) for key, c in counts.items()}


def dedupe_items(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One record per (suite, case, model, sample): the last one wins (a re-run appends)."""
    latest: dict[ItemKey, Mapping[str, Any]] = {}
    for rec in records:
        key = item_key(rec)
        latest.pop(key, None)
        latest[key] = rec
    return list(latest.values())
