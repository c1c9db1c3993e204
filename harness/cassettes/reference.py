"""Ground truth from a case's ``reference:`` code.

When recording (any record mode but ``none``), the reference runs in the local sandbox, with
the case's input files in its working directory, and its output is stored beside the case's
cassettes as ``reference.json`` with the code's hash, so replay needs no sandbox. A turn of a
conversation with its own reference stores ``reference.turn-<k>.json`` (k from 1); the
case's reference is the last turn's. Checks read it through ``from_reference`` arguments. A
reference that fails is the eval author's problem, reported as a spec ERROR, never as a model
failure.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.spec.case import Case

FILE_NAME = "reference.json"
TIMEOUT_S = 30.0  # Gemini's own limit: a reference slower than that is not a fair yardstick
SEED = 0  # references are trusted and deterministic; a fixed seed keeps re-records identical


class ReferenceError(HarnessError):
    """The reference failed, or its stored output is missing or stale."""

    kind = "spec"


@dataclass(frozen=True)
class ReferenceOutput:
    """What a reference printed, and for which code."""

    code_sha256: str
    outcome: str
    output: str


def code_hash(code: str) -> str:
    """The hash stored with an output, to notice a reference edited since."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def stored_path(case_dir: Path, case: Case | None = None, turn: int | None = None) -> Path:
    """``cassettes/<target>/<suite>/<case>/reference.json`` (or ``reference.turn-<k>.json``).

    Args:
        case_dir: The case's cassette folder.
        case: The case, when ``turn`` is given.
        turn: 0-based turn whose reference is stored; None or the last turn: the case's.
    """
    if case is None or turn is None or turn == len(case.conversation) - 1:
        return case_dir / FILE_NAME
    return case_dir / f"reference.turn-{turn + 1}.json"


def _code(case: Case, turn: int | None) -> str:
    code = case.reference_for(len(case.conversation) - 1 if turn is None else turn)
    assert code is not None
    return code


def compute(case: Case, turn: int | None = None) -> ReferenceOutput:
    """Run the reference of ``turn`` (default: the case's) in the sandbox, inputs in its cwd.

    Raises:
        ReferenceError: the reference did not end with OUTCOME_OK.
    """
    from harness.sandbox.execute import run

    code = _code(case, turn)
    files = {f.base_name: f.read() for f in case.all_inputs()}
    result = run(code, files or None, timeout=TIMEOUT_S, seed=SEED)
    if result.outcome != "OUTCOME_OK":
        raise ReferenceError(
            f"{case.location()}: the reference of case {case.id!r} ended with "
            f"{result.outcome}:\n{result.output.rstrip()}\n"
            "The reference is the case's ground truth: fix it (try it with "
            "`harness exec FILE.py`), then record again.")
    return ReferenceOutput(code_hash(code), result.outcome, result.output)


def store(path: Path, ref: ReferenceOutput) -> None:
    """Write atomically, deterministically (re-recording an unchanged case changes nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"code_sha256": ref.code_sha256, "outcome": ref.outcome,
                               "output": ref.output}, indent=2, sort_keys=True) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def load(path: Path, case: Case, rerecord_hint: str, turn: int | None = None) -> ReferenceOutput:
    """The stored output for the current reference of ``turn`` (default: the case's).

    Raises:
        ReferenceError: nothing stored, or stored for other code.
    """
    code = _code(case, turn)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        stored = ReferenceOutput(data["code_sha256"], data["outcome"], data["output"])
    except FileNotFoundError:
        raise ReferenceError(
            f"case {case.id!r} compares with its reference output, but none is stored "
            f"({path}). Record it (this runs the reference in the local sandbox): "
            f"{rerecord_hint}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ReferenceError(f"{path}: unreadable ({exc}); record again: {rerecord_hint}") from None
    if stored.code_sha256 != code_hash(code):
        raise ReferenceError(
            f"the reference of case {case.id!r} changed since its output was stored "
            f"({path}); record again to run the new reference: {rerecord_hint}")
    return stored
