"""``harness verify PATHS|RUN``: re-run recorded code runs locally and say which reproduce.

PATHS may be eval files or directories of them (every recorded cassette of their cases, with
the case's input files), a run directory or ``results.jsonl`` (its items' cassettes and
cases), recordings (cassettes or response bodies, with no input files) or directories of
recordings (a recording found twice in one directory, e.g. a cassette and its body, counts
once). Cached results beside a cassette are used; ``--write-cache`` stores what was computed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cassettes.verify_runs import CACHE_SUFFIX, Cache, cache_path, rerun_turns
from harness.checks.reexec import OUTCOME_WORDS, Verification, verify_run
from harness.transcript.values import Transcript

_SKIP = re.compile(r"^(meta\.json|index\.json|request_\d+\.json|README\.md|\..*)$")


@dataclass(frozen=True)
class Target:
    """One recording to verify, with the input files its case gives."""

    label: str
    path: Path
    files: dict[str, bytes]
    transcript: Transcript | None = None


def _transcript(path: Path) -> Transcript | None:
    from harness.cassettes.files import transcript_from_path
    from harness.transcript.bodies import TranscriptError

    try:
        return transcript_from_path(path)
    except (OSError, TranscriptError, ValueError):
        return None


def _case_targets(eval_file: Path, cassette_root: Path) -> Iterator[Target]:
    from harness.spec.load import load_eval_file

    for case in load_eval_file(eval_file).cases:
        files = {f.base_name: f.read() for f in case.all_inputs()}
        case_dir = cassette_root / case.suite / case.id
        for cassette in sorted(case_dir.glob("*/*.yaml")):
            if not cassette.name.startswith("."):
                yield Target(f"{case.suite}::{case.id}[{cassette.parent.name}#"
                             f"{cassette.name.split('.')[0]}]", cassette, files)


def _run_targets(run: Path) -> Iterator[Target]:
    from harness.results.records import read_results
    from harness.spec.load import load_eval_file

    cases: dict[str, Any] = {}
    for rec in read_results(run):
        files: dict[str, bytes] = {}
        where = str(rec.get("location", "")).rpartition(":")[0]
        if where:
            if where not in cases:
                try:
                    cases[where] = {c.id: c for c in load_eval_file(Path(where)).cases}
                except Exception:  # a moved or broken eval file: verify without inputs
                    cases[where] = {}
            case = cases[where].get(rec.get("case"))
            if case is not None:
                files = {f.base_name: f.read() for f in case.all_inputs()}
        yield Target(str(rec.get("nodeid") or rec.get("case")), Path(str(rec["cassette"])),
                     files)


def _recordings(folder: Path) -> Iterator[Target]:
    """Each directory's recording: its cassettes, or else its response bodies, deduplicated."""
    for sub in sorted({p.parent for p in folder.rglob("*") if p.is_file()}):
        files = sorted(p for p in sub.iterdir() if p.is_file() and not _SKIP.match(p.name)
                       and not p.name.endswith(CACHE_SUFFIX))
        cassettes = [p for p in files if p.suffix in (".yaml", ".yml")]
        found: list[Target] = []
        seen: set[tuple[Any, ...]] = set()
        for path in cassettes + [p for p in files if p not in cassettes]:
            if found and path not in cassettes:
                break  # a cassette holds the whole exchange; its bodies would count twice
            t = _transcript(path)
            if t is None or not t.code_runs or (t.code_runs, t.final_text) in seen:
                continue
            seen.add((t.code_runs, t.final_text))
            found.append(Target(str(path), path, {}, t))
        yield from found


def targets(paths: Sequence[str], cassette_root: Path) -> Iterator[Target]:
    """What ``paths`` name, in order (see the module docstring)."""
    for raw in paths:
        p = Path(raw)
        if p.name == "results.jsonl" or (p.is_dir() and (p / "results.jsonl").is_file()):
            yield from _run_targets(p)
        elif p.is_file() and p.name.endswith(".eval.yaml"):
            yield from _case_targets(p, cassette_root)
        elif p.is_dir() and any(p.rglob("*.eval.yaml")):
            for f in sorted(p.rglob("*.eval.yaml")):
                yield from _case_targets(f, cassette_root)
        elif p.is_dir():
            yield from _recordings(p)
        else:
            yield Target(str(p), p, {})


def verify_target(target: Target, *, write_cache: bool) -> list[tuple[int, Verification]]:
    """Each checked run's verification, with its 1-based turn.

    Raises:
        FileNotFoundError: the recording does not exist or holds no response.
        harness.sandbox.api.SandboxError: the sandbox failed.
    """
    transcript = target.transcript or _transcript(target.path)
    if transcript is None:
        raise FileNotFoundError(f"{target.path}: no readable recording of a model response")
    own_cache = target.path.suffix == ".yaml"
    cache = Cache.load(cache_path(target.path) if own_cache else None)
    local = rerun_turns(transcript, target.files, cache)
    if write_cache and own_cache and cache.used:
        cache.store(cache_path(target.path))
    out = []
    for k, runs in local.items():
        turn = transcript.turns[k] if transcript.turns else transcript
        for i, lr in enumerate(runs):
            if lr is not None:
                out.append((k + 1, verify_run(i, turn.code_runs, lr)))
    return out


def run_command(paths: Sequence[str], cassette_root: Path, *, write_cache: bool = False,
                show_diff: bool = True) -> int:
    """Print per-run outcomes and a summary; 1 if any run diverged or was unsafe."""
    from harness.sandbox.api import SandboxError

    counts = dict.fromkeys(OUTCOME_WORDS, 0)
    failed = 0
    recordings = 0
    for target in targets(paths, cassette_root):
        try:
            results = verify_target(target, write_cache=write_cache)
        except (FileNotFoundError, SandboxError) as exc:
            print(f"harness verify: {exc}", file=sys.stderr)
            failed += 1
            continue
        recordings += 1
        for turn, v in results:
            counts[v.outcome] += 1
            where = f"turn {turn} run {v.index + 1}" if turn > 1 else f"run {v.index + 1}"
            print(f"{target.label} {where}: {v.words}: {v.reason}")
            if v.diff and show_diff:
                print("  " + v.diff.replace("\n", "\n  "))
    total = sum(counts.values())
    print(f"{recordings} recording(s), {total} code run(s): "
          + ", ".join(f"{n} {OUTCOME_WORDS[k]}" for k, n in counts.items()))
    if failed:
        print(f"{failed} path(s) could not be verified", file=sys.stderr)
    if counts["diverged"] or counts["unsafe"]:
        return 1
    return 2 if failed and not recordings else 0
