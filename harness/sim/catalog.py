"""The cases the simulator knows: by ``suite/id`` (from request headers) and by prompt text.

The simulator needs only a case's prompt, its ``reference:`` code, its input files and (for
multi-turn cases) its turns. :class:`SimCase` holds just that, so the simulator does not depend
on the rest of :mod:`harness.spec.load` and keeps working while spec fields are added.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("harness.sim")


@dataclass(frozen=True)
class SimCase:
    """What the simulator knows about one eval case.

    Attributes:
        key: ``<suite>/<case-id>``, the value of the ``x-harness-case`` header.
        prompt: The user prompt (for chat cases, the last turn).
        reference: Trusted Python that solves the case; None: every sim model answers in
            plain text without running code.
        turns: The user turns of a multi-turn case (empty for single-turn cases).
        inputs: Input files of the case (given to the executor by their base names).
        turn_references: Each turn's own ``reference:`` (None where it has none).
        hint: The case's ``sim:`` hints (``search``, ``calls``) as plain JSON values.

    """

    key: str
    prompt: str
    reference: str | None = None
    turns: tuple[str, ...] = ()
    inputs: tuple[Path, ...] = ()
    turn_references: tuple[str | None, ...] = ()
    hint: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_case(cls, case: Any) -> SimCase:
        """Build from a :class:`harness.spec.case.Case` (or anything with the same attributes)."""
        raw_turns = tuple(getattr(case, "turns", None) or ())
        turns = tuple(str(getattr(t, "prompt", t)) for t in raw_turns)
        base = Path(getattr(case, "path", ".")).parent
        every = case.all_inputs() if hasattr(case, "all_inputs") else (
            getattr(case, "inputs", None) or ())
        inputs: list[Path] = []
        for item in every:
            if isinstance(getattr(item, "path", None), Path):
                inputs.append(item.path)  # a validated InputFile
                continue
            name = item if isinstance(item, str | Path) else getattr(item, "file", None)
            if name:
                inputs.append(base / str(name))
        prompt = case.prompt if not turns else turns[-1]
        return cls(key=f"{case.suite}/{case.id}", prompt=prompt,
                   reference=getattr(case, "reference", None), turns=turns,
                   inputs=tuple(inputs),
                   turn_references=tuple(getattr(t, "reference", None) for t in raw_turns),
                   hint=dict(getattr(case, "sim", None) or {}))

    def is_early_turn(self, text: str) -> bool:
        """True when ``text`` is a turn of this case before its last one."""
        wanted = _norm(text)
        return any(_norm(t) == wanted for t in self.turns[:-1])

    def reference_for(self, text: str) -> str | None:
        """The reference that answers ``text``: an early turn's own (or None), else the case's."""
        wanted = _norm(text)
        for i, turn in enumerate(self.turns[:-1]):
            if _norm(turn) == wanted:
                return self.turn_references[i] if i < len(self.turn_references) else None
        last = self.turn_references[-1] if self.turn_references else None
        return last or self.reference

    def input_files(self) -> dict[str, bytes]:
        """The case's input files as ``{base name: bytes}`` (unreadable ones are skipped)."""
        files: dict[str, bytes] = {}
        for path in self.inputs:
            try:
                files[path.name] = path.read_bytes()
            except OSError as exc:
                log.warning("sim: case %s: cannot read input %s (%s)", self.key, path, exc)
        return files


def _norm(text: str) -> str:
    return " ".join(text.split())


class Catalog:
    """Known cases, looked up by key or by the exact prompt (whitespace-normalised).

    Identical prompts in several cases: the first one added wins the prompt lookup; requests
    that carry the ``x-harness-case`` header are not affected.
    """

    def __init__(self, cases: Iterable[Any] = ()) -> None:
        self._by_key: dict[str, SimCase] = {}
        self._by_prompt: dict[str, SimCase] = {}
        self._lock = threading.Lock()
        self.add(cases)

    def add(self, cases: Iterable[Any]) -> int:
        """Add cases (``SimCase`` or spec ``Case`` objects); returns how many were added."""
        added = 0
        with self._lock:
            for case in cases:
                sim = case if isinstance(case, SimCase) else SimCase.from_case(case)
                self._by_key[sim.key] = sim
                for text in (sim.prompt, *sim.turns):
                    self._by_prompt.setdefault(_norm(text), sim)
                added += 1
        return added

    def __len__(self) -> int:
        return len(self._by_key)

    def by_key(self, key: str | None) -> SimCase | None:
        """The case named by an ``x-harness-case`` header value."""
        return self._by_key.get(key.strip()) if key else None

    def by_prompt(self, text: str | None) -> SimCase | None:
        """The case whose prompt (or one of whose turns) is exactly ``text``."""
        return self._by_prompt.get(_norm(text)) if text else None


def load_dir(directory: Path) -> list[SimCase]:
    """Every case of every ``*.eval.yaml`` under ``directory`` (invalid files are logged).

    Raises:
        FileNotFoundError: ``directory`` does not exist.

    """
    from harness.spec.case import SpecError
    from harness.spec.load import load_eval_file

    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(f"no such directory: {directory}")
    files = [directory] if directory.is_file() else sorted(directory.rglob("*.eval.yaml"))
    cases: list[SimCase] = []
    for path in files:
        try:
            cases.extend(SimCase.from_case(c) for c in load_eval_file(path).cases)
        except SpecError as exc:
            log.warning("sim: skipping %s: %s", path, exc)
    return cases
