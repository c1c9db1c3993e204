"""Re-run a response's recorded code runs in the local sandbox, cached beside the cassette.

Each code run is re-run with the case's input files in the working directory and the runs
before it in the same response replayed first in the same interpreter (Gemini's runs share
state within a response; the sandbox's ``prelude``). Earlier runs are replayed, not resumed:
one fresh, isolated child per checked run, so no run can leave anything behind for the next
check, and a run's output is its own.

Results are cached in ``<k>.verify.json`` beside the cassette ``<k>.yaml``, keyed by (hash of
the session's code, hash of the inputs, ``SANDBOX_VERSION``), so replay runs nothing: a record
mode other than ``none`` recomputes and stores them; replay reads them and re-runs (in memory,
writing nothing) only what is missing or stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.reexec import LocalRun
from harness.sandbox.api import DEFAULT_TIMEOUT_S, SANDBOX_VERSION
from harness.transcript.values import CodeRun, Transcript

CACHE_SUFFIX = ".verify.json"
SEED = 0  # a fixed seed: a re-run's output is stable, so it can be cached
DEADLINE_SKIP = ("the recording hit the API's deadline: its partial output depends on how "
                 "fast that machine was, and re-running it would take the whole limit")


def cache_path(cassette: Path) -> Path:
    """``<k>.verify.json`` beside ``<k>.yaml`` (or ``<k>.live.yaml``)."""
    return cassette.with_name(cassette.name.split(".")[0] + CACHE_SUFFIX)


def inputs_hash(files: Mapping[str, bytes]) -> str:
    """Hash of the input files (names and contents)."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def session_hash(prelude: Sequence[str], code: str) -> str:
    """Hash of a run's code with the earlier runs replayed before it."""
    return hashlib.sha256(json.dumps([*prelude, code]).encode()).hexdigest()


@dataclass
class Cache:
    """The re-run results of one cassette, by (session hash, inputs hash)."""

    entries: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    used: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    computed: int = 0

    @classmethod
    def load(cls, path: Path | None) -> Cache:
        """Read ``path`` (a missing, unreadable or other-version file is an empty cache)."""
        cache = cls()
        if path is None:
            return cache
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cache
        if not isinstance(data, dict) or data.get("sandbox_version") != SANDBOX_VERSION:
            return cache
        for e in data.get("runs", []):
            if isinstance(e, dict) and {"code_sha256", "inputs_sha256", "outcome",
                                        "output"} <= e.keys():
                cache.entries[(e["code_sha256"], e["inputs_sha256"])] = e
        return cache

    def store(self, path: Path) -> None:
        """Write the entries used by this cassette's runs, atomically and deterministically."""
        runs = [self.used[k] for k in sorted(self.used)]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"sandbox_version": SANDBOX_VERSION, "runs": runs},
                                  indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)


def _prelude(runs: Sequence[CodeRun], index: int) -> tuple[list[str], bool]:
    """Earlier runs to replay (recorded deadline runs left out: they would loop again)."""
    before = runs[:index]
    return ([r.code for r in before if r.outcome != "OUTCOME_DEADLINE_EXCEEDED"],
            any(r.outcome == "OUTCOME_DEADLINE_EXCEEDED" for r in before))


def rerun_response(transcript: Transcript, files: Mapping[str, bytes], cache: Cache, *,
                   refresh: bool = False, level: str | None = None) -> tuple[LocalRun | None, ...]:
    """Re-run each non-thought code run of one response; aligned with ``code_runs``.

    Args:
        transcript: One response's transcript (one turn of a conversation).
        files: The case's input files (name -> bytes), put in the working directory.
        cache: Results to reuse; every result used or computed is added to ``cache.used``.
        refresh: Ignore cached results (record modes recompute them).
        level: The sandbox isolation level (None: the best this machine reaches).

    Raises:
        harness.sandbox.api.SandboxError: The sandbox itself failed.
    """
    from harness.sandbox.execute import run

    names = tuple(sorted(files))
    ihash = inputs_hash(files)
    out: list[LocalRun | None] = []
    runs = transcript.code_runs
    for i, code_run in enumerate(runs):
        if code_run.thought:
            out.append(None)
            continue
        prelude, after_deadline = _prelude(runs, i)
        timeout = DEFAULT_TIMEOUT_S * (1 + len(prelude))
        if code_run.outcome == "OUTCOME_DEADLINE_EXCEEDED":
            out.append(LocalRun(None, "", names, skipped=DEADLINE_SKIP))
            continue
        if code_run.outcome is None:
            out.append(LocalRun(None, "", names, skipped="the recording holds no result for "
                                                         "this run: nothing to compare"))
            continue
        key = (session_hash(prelude, code_run.code), ihash)
        entry = None if refresh else cache.entries.get(key)
        cached = entry is not None
        if entry is None:
            result = run(code_run.code, files or None, timeout=timeout, seed=SEED,
                         level=level, prelude=prelude)
            entry = {"code_sha256": key[0], "inputs_sha256": key[1],
                     "outcome": result.outcome, "output": result.output,
                     "isolation": result.isolation,
                     "python": platform.python_version()}
            cache.entries[key] = entry
            cache.computed += 1
        cache.used[key] = entry
        out.append(LocalRun(str(entry["outcome"]), str(entry["output"]), names,
                            isolation=str(entry.get("isolation", "")), prelude=len(prelude),
                            after_deadline=after_deadline, timeout_s=timeout, cached=cached))
    return tuple(out)


def rerun_turns(transcript: Transcript, files: Mapping[str, bytes], cache: Cache, *,
                refresh: bool = False) -> dict[int, tuple[LocalRun | None, ...]]:
    """:func:`rerun_response` for each turn (0-based) of a conversation, or turn 0 of a call."""
    turns = transcript.turns or (transcript,)
    return {k: rerun_response(t, files, cache, refresh=refresh) for k, t in enumerate(turns)}
