"""Re-executed code runs judged against their recording: the four outcomes and their reasons.

* ``reproduced``: the local run printed what the recording says (trailing whitespace ignored,
  numbers within ``tolerance``); for failed runs, the same outcome and the same error line
  (tracebacks name paths of the machine that ran them).
* ``unsafe``: the local sandbox blocked what the code did; the reason names the rule.
* ``not_reproducible``: the run needs what this machine does not offer (a library, the
  network, files outside the inputs, unseeded randomness, the clock, more time).
* ``diverged``: none of the above explains the difference; a unified diff shows it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from harness.checks.codefacts import CodeFacts, run_facts
from harness.checks.numbers import Exact
from harness.transcript.values import CodeRun

VerifyOutcome = Literal["reproduced", "diverged", "not_reproducible", "unsafe"]
OUTCOME_WORDS = {"reproduced": "reproduced", "diverged": "diverged",
                 "not_reproducible": "not reproducible here", "unsafe": "unsafe"}
_NUM = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_MISSING = re.compile(r"No module named '([^']+)'")
_SHELL_ERROR = re.compile(r"^\d+:\d+: (a command can only contain|\"[^\"]*\" must be followed)",
                          re.MULTILINE)
_NO_FILE = re.compile(r"No such file or directory: '([^']+)'")
_NETWORK_ERRORS = ("Address family not supported", "Temporary failure in name resolution",
                   "Name or service not known", "Network is unreachable", "gaierror",
                   "No address associated with hostname", "Connection refused")
_BLOCKED = (("[output exceeded", "the output cap (1 MiB per stream): the run was stopped"),
            ("MemoryError", "the memory limit"),
            ("Read-only file system", "writes only inside the working directory "
                                      "(read-only private root)"),
            ("PermissionError", "file access only inside the working directory (Landlock)"),
            ("Operation not permitted", "the system-call filter (seccomp)"),
            ("Resource temporarily unavailable", "the process limit (pids)"),
            ("The process was killed", "the sandbox's process kill"))


@dataclass(frozen=True)
class LocalRun:
    """One recorded code run as re-run in the local sandbox.

    Attributes:
        outcome: The local outcome code; None when it was not run (``skipped`` says why).
        output: What the local run returned (stdout, or the error on failure).
        inputs: The input files it had in its working directory.
        isolation: The isolation level the sandbox reached.
        prelude: How many earlier runs of the response were replayed first.
        skipped: Why it was not run (e.g. the recording hit the API's deadline).
        after_deadline: An earlier run of the response hit the deadline (state unknown).
        timeout_s: The local time limit.
        cached: Read from the cache beside the cassette.
    """

    outcome: str | None
    output: str
    inputs: tuple[str, ...] = ()
    isolation: str = ""
    prelude: int = 0
    skipped: str | None = None
    after_deadline: bool = False
    timeout_s: float = 30.0
    cached: bool = False


@dataclass(frozen=True)
class Verification:
    """The judgement of one run: outcome, reason, and a diff when it diverged."""

    index: int
    outcome: VerifyOutcome
    reason: str
    recorded: str
    local: str
    code: str
    diff: str = ""

    @property
    def words(self) -> str:
        """The outcome as a report says it (``not reproducible here``)."""
        return OUTCOME_WORDS[self.outcome]


def normalise(text: str) -> str:
    """Line endings unified, trailing whitespace of each line and of the text dropped."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).rstrip()


def _error_line(text: str) -> str:
    lines = [ln for ln in normalise(text).split("\n") if ln.strip()]
    return lines[-1].strip() if lines else ""


def same_output(recorded: str, local: str, tolerance: Exact | None = None) -> bool:
    """Equal after :func:`normalise`, numbers within ``tolerance`` when it is given."""
    a, b = normalise(recorded), normalise(local)
    if a == b:
        return True
    if tolerance is None:
        return False
    if _NUM.split(a) != _NUM.split(b):
        return False
    na, nb = _NUM.findall(a), _NUM.findall(b)
    try:
        return len(na) == len(nb) and all(abs(Decimal(x) - Decimal(y)) <= tolerance
                                          for x, y in zip(na, nb, strict=True))
    except InvalidOperation:
        return False


def _matches(run: CodeRun, local: LocalRun, tolerance: Exact | None) -> bool:
    if local.outcome != run.outcome:
        return False
    if run.outcome == "OUTCOME_FAILED":
        return _error_line(run.output or "") == _error_line(local.output)
    return same_output(run.output or "", local.output, tolerance)


def _unsafe(local: LocalRun) -> str | None:
    if local.outcome != "OUTCOME_FAILED":
        return None
    for needle, rule in _BLOCKED:
        if needle in local.output:
            return (f"blocked by the local sandbox (level {local.isolation or '?'}): {rule}: "
                    f"{_error_line(local.output)}")
    return None


def _not_reproducible(local: LocalRun, facts: CodeFacts) -> list[str]:
    reasons: list[str] = []
    out = local.output
    if local.outcome == "OUTCOME_DEADLINE_EXCEEDED":
        reasons.append(f"hit the local deadline of {local.timeout_s:g} s")
    missing = _MISSING.search(out) if local.outcome == "OUTCOME_FAILED" else None
    if missing:
        reasons.append(f"module {missing.group(1)!r} is missing from the local sandbox")
    if facts.network or any(n in out for n in _NETWORK_ERRORS):
        what = ", ".join(sorted(facts.network)) or "a socket"
        reasons.append(f"uses the network ({what}); the sandbox has none")
    nofile = _NO_FILE.search(out) if local.outcome == "OUTCOME_FAILED" else None
    inputs = ", ".join(local.inputs) or "none"
    if nofile:
        reasons.append(f"reads {nofile.group(1)!r}, which is not among the case's inputs "
                       f"({inputs})")
    outside = [p for p in facts.paths if p != "." and p not in local.inputs
               and p.split("/")[-1] not in local.inputs]
    if outside and not nofile:
        reasons.append(f"reads {', '.join(map(repr, outside))}, not among the inputs ({inputs})")
    if "." in facts.paths:
        reasons.append("lists the working directory (its contents differ here)")
    if facts.unseeded_random:
        reasons.append(f"draws random numbers without a seed ({', '.join(facts.unseeded_random)})")
    if facts.time:
        reasons.append(f"reads the clock or the date ({', '.join(facts.time)})")
    if local.after_deadline:
        reasons.append("an earlier run of this response hit the deadline, so the state it "
                       "left is unknown")
    return reasons


def verify_run(index: int, runs: Sequence[CodeRun], local: LocalRun,
               tolerance: Exact | None = None) -> Verification:
    """Judge run ``index`` of a response (``runs``: all its code runs, in order)."""
    run = runs[index]
    recorded = run.output or ""

    def result(outcome: VerifyOutcome, reason: str, diff: str = "") -> Verification:
        return Verification(index, outcome, reason, recorded, local.output, run.code, diff)

    if local.skipped is not None:
        return result("not_reproducible", local.skipped)
    if _matches(run, local, tolerance):
        note = f", after replaying {local.prelude} earlier run(s)" if local.prelude else ""
        return result("reproduced", f"the local run printed the recorded output{note}")
    blocked = _unsafe(local)
    if blocked is not None:
        return result("unsafe", blocked)
    reasons = _not_reproducible(local, run_facts([r.code for r in runs[:index + 1]]))
    if reasons:
        return result("not_reproducible", "; ".join(reasons))
    diff = "\n".join(difflib.unified_diff(
        normalise(recorded).split("\n"), normalise(local.output).split("\n"),
        "recorded", "local", lineterm=""))
    what = (f"outcome {run.outcome} recorded, {local.outcome} here"
            if run.outcome != local.outcome else "the output differs")
    why = ("; the recorded error is a shell parser's: the API did not run this code as Python"
           if _SHELL_ERROR.search(recorded) else "; nothing in the code explains it")
    return result("diverged", what + why, diff)
