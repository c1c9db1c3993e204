"""The ``sim-*`` models: behaviours that write a neutral script of steps, with real code runs.

A :class:`Script` is what a model "said": text, code, the code's real result, figures, final
text. :mod:`harness.sim.wire` turns it into generateContent JSON, SSE chunks or interactions.

Behaviours (a case with a ``reference:``; a case without one, an unknown prompt or an early
turn of a multi-turn case without its own ``reference:`` gets a plain text reply without code
from every model):

* ``sim-oracle``: intro text, the reference code, its real result (and figures), then
  "The result is **<last output line>**." (the last number instead, if that line is long).
* ``sim-retry``: the reference with a typo (its last ``print(`` becomes ``prnt(``; with no
  ``print`` an undefined name is appended), a real OUTCOME_FAILED with the traceback, a line
  about the error, then the reference and the oracle's answer.
* ``sim-timeout``: code that loops past the simulator's short deadline (2 s by default):
  OUTCOME_DEADLINE_EXCEEDED, then a text saying there is no result.
* ``sim-nocode``: no code in the reply: one text stating the reference's answer (the
  reference runs hidden), so ``code_executed`` checks fail while answer checks may pass.
* ``sim-wrong``: like the oracle, but the stated answer has its last number plus one.
* ``sim-flaky``: per (case, sample), a fixed draw picks one of the above:
  oracle 50 %, retry 20 %, wrong 15 %, nocode 10 %, timeout 5 % (:data:`FLAKY_MIX`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.sandbox.api import ExecResult, Outcome
from harness.sim import det
from harness.sim.catalog import SimCase
from harness.sim.executor import Runner

BEHAVIOURS = ("oracle", "retry", "timeout", "nocode", "wrong", "flaky")
SIM_MODELS = tuple(f"sim-{b}" for b in BEHAVIOURS)
FLAKY_MIX = (("oracle", 0.50), ("retry", 0.20), ("wrong", 0.15), ("nocode", 0.10),
             ("timeout", 0.05))
MODEL_VERSION_SUFFIX = "-001"

INTROS = ("I'll write and run Python code to work this out.",
          "Let me compute this with Python.",
          "I'll use code execution to calculate this.")
UNKNOWN_PROMPT = ("This reply comes from the harness simulator: it knows no eval case with this "
                  "prompt, so it answers without running code.")
NO_REFERENCE = ("This reply comes from the harness simulator: this case has no `reference:` "
                "solution, so it answers without running code.")
EARLY_TURN = "Sure, go ahead: what would you like me to compute?"
TIMEOUT_ANSWER = "The code did not finish within the time limit, so I can't give a result."
TIMEOUT_CODE = """import itertools
import time

# Exhaustive search over every candidate.
print("Searching exhaustively...", flush=True)
for candidate in itertools.count():
    time.sleep(0.01)
"""
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_CACHE_MAX = 4096


@dataclass(frozen=True)
class Text:
    """Model text."""

    text: str


@dataclass(frozen=True)
class Code:
    """Code the model wrote (``id`` links it to its result)."""

    code: str
    id: str


@dataclass(frozen=True)
class Result:
    """The real result of running a :class:`Code`."""

    outcome: Outcome
    output: str
    id: str


@dataclass(frozen=True)
class Picture:
    """A figure the code produced."""

    mime_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Call:
    """A function call the model makes (the harness answers it in the next request)."""

    name: str
    args: Mapping[str, Any]
    id: str


Step = Text | Code | Result | Picture | Call


@dataclass(frozen=True)
class Script:
    """What a sim model answered, in order.

    Attributes:
        behaviour: The behaviour that wrote it (``oracle``... or ``plain``).
        steps: The steps in the order the model produced them.

    """

    behaviour: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Ask:
    """What the model is asked.

    Attributes:
        model: A name from :data:`SIM_MODELS`.
        case: The case (None: unknown prompt).
        sample: The sample number (1-based).
        text: The user's latest message.
        files: Files sent with the request (name -> bytes), added to the case's inputs.
        functions: Functions the request declares.
        function_results: Function results sent back so far in this turn.

    """

    model: str
    case: SimCase | None
    sample: int
    text: str
    files: Mapping[str, bytes] = field(default_factory=dict)
    functions: frozenset[str] = frozenset()
    function_results: int = 0


def is_sim_model(model: str) -> bool:
    """True for a model this simulator serves."""
    return model in SIM_MODELS


def behaviour_for(model: str, case_key: str, sample: int) -> str:
    """The behaviour a model shows for a (case, sample); resolves ``sim-flaky``'s draw."""
    name = model.removeprefix("sim-")
    if name != "flaky":
        return name
    draw, total = det.unit("sim-flaky", case_key, sample), 0.0
    for behaviour, share in FLAKY_MIX:
        total += share
        if draw < total:
            return behaviour
    return FLAKY_MIX[0][0]


def plain(text: str) -> Script:
    """A reply without code."""
    return Script("plain", (Text(text),))


class ScriptWriter:
    """Writes (and caches) scripts; identical asks run their code once."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._cache: dict[tuple[object, ...], Script] = {}
        self._locks: dict[tuple[object, ...], asyncio.Lock] = {}

    async def script(self, ask: Ask) -> Script:
        """The script for ``ask`` (cached per case, model, sample and input files)."""
        case = ask.case
        if case is None:
            return plain(UNKNOWN_PROMPT)
        reference = case.reference_for(ask.text)
        if reference is None and case.is_early_turn(ask.text):
            return plain(EARLY_TURN)  # "I have a math question for you." needs no code
        if not reference:
            return plain(NO_REFERENCE)
        call = next_call(ask, case)
        if call is not None:
            return call
        files = {**ask.files, **case.input_files()}
        key = (case.key, reference, ask.model, ask.sample,
               det.digest(*sorted((n, det.digest(b)) for n, b in files.items())))
        if key in self._cache:
            return self._cache[key]
        # One lock per ask: concurrent identical asks (samples recorded in parallel, retries)
        # wait for the first one's run instead of running the same code again.
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                if key not in self._cache:
                    script = await self._write(ask, case, reference, files)
                    if len(self._cache) >= _CACHE_MAX:
                        self._cache.pop(next(iter(self._cache)))
                    self._cache[key] = script
                return self._cache[key]
        finally:
            self._locks.pop(key, None)

    async def _write(self, ask: Ask, case: SimCase, reference: str,
                     files: Mapping[str, bytes]) -> Script:
        behaviour = behaviour_for(ask.model, case.key, ask.sample)
        seed = det.seed(case.key, ask.model, ask.sample)
        ids = [det.short_id(case.key, ask.model, ask.sample, i) for i in range(2)]
        intro = Text(INTROS[int(det.unit("intro", case.key, ask.sample) * len(INTROS))])

        async def run(code: str, deadline: bool = False) -> ExecResult:
            return await self.runner.run(code, files, seed=seed, deadline=deadline)

        if behaviour == "timeout":
            res = await run(TIMEOUT_CODE, deadline=True)
            return Script(behaviour, (intro, Code(TIMEOUT_CODE, ids[0]), _result(res, ids[0]),
                                      Text(TIMEOUT_ANSWER)))
        if behaviour == "retry":
            broken = break_code(reference)
            first = await run(broken)
            if first.outcome == "OUTCOME_OK":  # the typo sat in code that never ran
                broken = reference.rstrip("\n") + "\nprint(reslt)\n"
                first = await run(broken)
            res = await run(reference)
            return Script(behaviour, (
                intro, Code(broken, ids[0]), _result(first, ids[0]),
                Text(f"The code failed with `{last_line(first.output) or first.outcome}`. "
                     "Let me fix that and run it again."),
                Code(reference, ids[1]), _result(res, ids[1]), *_pictures(res),
                Text(answer(res))))
        res = await run(reference)
        if behaviour == "nocode":
            return Script(behaviour, (Text(nocode_answer(res)),))
        final = wrong_answer(res) if behaviour == "wrong" else answer(res)
        return Script(behaviour, (intro, Code(reference, ids[0]), _result(res, ids[0]),
                                  *_pictures(res), Text(final)))


CALL_INTRO = "I'll look that up first."


def next_call(ask: Ask, case: SimCase) -> Script | None:
    """The next function call of the case's ``sim.calls`` hint, or None when all are answered.

    Sim models make the hinted calls one per reply, in order, when the request declares
    functions; each later request carries one more answer, and after the last one the
    model goes on as it would without functions.
    """
    calls = case.hint.get("calls") or []
    if not ask.functions or ask.function_results >= len(calls):
        return None
    wanted = calls[ask.function_results]
    call = Call(str(wanted.get("name")), dict(wanted.get("args") or {}),
                "call_" + det.short_id("call", case.key, ask.model, ask.sample,
                                        ask.function_results))
    steps: tuple[Step, ...] = (Text(CALL_INTRO), call) if ask.function_results == 0 else (call,)
    return Script("call", steps)


def _result(res: ExecResult, code_id: str) -> Result:
    return Result(res.outcome, res.output, code_id)


def _pictures(res: ExecResult) -> tuple[Picture, ...]:
    return tuple(Picture(img.mime_type, img.data) for img in res.images)


def break_code(code: str) -> str:
    """The code with a typo that raises NameError: its last ``print(`` becomes ``prnt(``."""
    lines = code.rstrip("\n").split("\n")
    for i in reversed(range(len(lines))):
        at = lines[i].rfind("print(")
        if at >= 0 and not lines[i][:at].rstrip().endswith((".", "#")):
            lines[i] = lines[i][:at] + "prnt(" + lines[i][at + len("print("):]
            return "\n".join(lines) + "\n"
    return code.rstrip("\n") + "\nprint(reslt)\n"


def last_line(output: str) -> str:
    """The last non-blank line of ``output``, stripped."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def stated_value(output: str) -> str | None:
    """What an answer quotes: the last output line, or its last number if the line is long."""
    line = last_line(output)
    if not line:
        return None
    if len(line) <= 80:
        return line
    numbers = _NUMBER.findall(output)
    return numbers[-1] if numbers else None


def answer(res: ExecResult) -> str:
    """The oracle's final text for a run."""
    if res.outcome == "OUTCOME_DEADLINE_EXCEEDED":
        return TIMEOUT_ANSWER
    if res.outcome != "OUTCOME_OK":
        return (f"The code failed with `{last_line(res.output) or res.outcome}`, "
                "so I could not compute the result.")
    value = stated_value(res.output)
    if value is not None:
        return f"The result is **{value}**."
    return "The figure is shown above." if res.images else "The code ran and printed nothing."


def bump_last_number(text: str) -> str | None:
    """``text`` with its last number increased by one (same decimals); None without numbers."""
    matches = list(_NUMBER.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    raw = m.group()
    if "." in raw:
        decimals = len(raw.split(".")[1])
        new = f"{float(raw) + 1:.{decimals}f}"
    else:
        new = str(int(raw) + 1)
    return text[:m.start()] + new + text[m.end():]


def wrong_answer(res: ExecResult) -> str:
    """``sim-wrong``'s final text: the oracle's value with its last number plus one."""
    value = stated_value(res.output) if res.outcome == "OUTCOME_OK" else None
    bumped = bump_last_number(value) if value else None
    return f"The result is **{bumped}**." if bumped else "I could not determine the result."


def nocode_answer(res: ExecResult) -> str:
    """``sim-nocode``'s only text: the reference's value, stated without showing code."""
    value = stated_value(res.output) if res.outcome == "OUTCOME_OK" else None
    if value is None:
        return "I would need to run code to answer this reliably."
    return f"Without running any code, I estimate the result is **{value}**."
