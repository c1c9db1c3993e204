"""The values the spec stage hands on: validated cases and eval files, and their problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.checks.api import CheckCall
from harness.paths import display_path
from harness.spec.functions import DEFAULT_MAX_CALLS, FunctionDecl
from harness.spec.inputs import InputFile
from harness.spec.models import GenerationSettings


@dataclass(frozen=True)
class Turn:
    """One user turn of a multi-turn case.

    Attributes:
        prompt: The user's message.
        inputs: Files sent before it.
        expect: Checks of this turn's reply (the case's own ``expect`` judges the last turn).
        reference: Trusted Python that solves this turn, or None.
        line: 1-based line of the turn in the eval file.
    """

    prompt: str
    inputs: tuple[InputFile, ...] = ()
    expect: tuple[CheckCall, ...] = ()
    reference: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Case:
    """One validated case, with the file's defaults applied.

    Attributes:
        suite: The suite (file) it belongs to.
        id: Unique, filename-safe id within the suite.
        prompt: The user prompt.
        api: API surface, one of :data:`APIS`.
        config: Generation settings (defaults merged in).
        expect: Checks to run: the defaults' first, then the case's own.
        tags: pytest marks (defaults' first).
        skip: None to run, else the reason it is skipped.
        samples: Runs per model.
        path: The eval file.
        line: 1-based line where the case's mapping starts.
        description: Free text.
        reference: Trusted Python source that solves the case (compiles), or None.
        reference_line: 1-based line where the reference's text starts (the line after
            ``reference: |``), or None without a reference.
        inputs: Files sent before the prompt (single-turn cases; see ``turns`` otherwise).
        turns: The user turns of a multi-turn case (empty for a single-turn case); ``prompt``
            is then the last turn's.
        stream: ``api: chat``: every turn is sent with ``send_message_stream``.
        functions: Declared functions the model may call, with canned results.
        max_function_calls: The most function calls the harness answers before it stops.
        sim: The ``sim:`` hints as plain JSON values (only the simulator reads them), or None.

    """

    suite: str
    id: str
    prompt: str
    api: str
    config: GenerationSettings
    expect: tuple[CheckCall, ...]
    tags: tuple[str, ...]
    skip: str | None
    samples: int
    path: Path
    line: int
    description: str | None = None
    reference: str | None = None
    reference_line: int | None = None
    inputs: tuple[InputFile, ...] = ()
    turns: tuple[Turn, ...] = ()
    stream: bool = False
    functions: tuple[FunctionDecl, ...] = ()
    max_function_calls: int = DEFAULT_MAX_CALLS
    sim: dict[str, Any] | None = None

    @property
    def conversation(self) -> tuple[Turn, ...]:
        """Every user turn in order; a single-turn case is one turn of its prompt and inputs."""
        return self.turns or (Turn(self.prompt, self.inputs, (), self.reference, self.line),)

    def judgements(self) -> list[tuple[int, tuple[CheckCall, ...]]]:
        """``(turn index, checks)`` pairs: each turn's own checks, then the case's (last turn)."""
        last = len(self.conversation) - 1
        pairs = [(i, t.expect) for i, t in enumerate(self.turns) if t.expect]
        return [*pairs, (last, self.expect)] if self.expect or not pairs else pairs

    def reference_for(self, turn: int) -> str | None:
        """The reference that solves ``turn``: its own, or the case's for the last turn."""
        own = self.conversation[turn].reference if self.turns else None
        last = turn == len(self.conversation) - 1
        return own if own is not None else (self.reference if last else None)

    def all_inputs(self) -> tuple[InputFile, ...]:
        """Every input file of every turn, in order."""
        return tuple(f for t in self.conversation for f in t.inputs)

    def location(self) -> str:
        """``file:line`` of the case, e.g. ``evals/docs.eval.yaml:12``."""
        return f"{display_path(self.path)}:{self.line}"


@dataclass(frozen=True)
class EvalFile:
    """A validated eval file."""

    path: Path
    suite: str
    description: str | None
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class SpecIssue:
    """One problem in an eval file.

    Attributes:
        path: The file.
        line: 1-based line of the offending node, when known.
        field: Field path such as ``cases[1].expect[0].answer_number`` ("" for the file).
        message: What is wrong, the valid choices and the fix.

    """

    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = display_path(self.path) + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.field + ': ' if self.field else ''}{self.message}"
        return text.replace("\n", "\n    ")


class SpecWarning(UserWarning):
    """Something in an eval file that works but is probably not what its author meant."""


class SpecError(Exception):
    """An eval file that cannot be used; carries every problem found in it."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        super().__init__(issues)
        self.issues = issues

    def __str__(self) -> str:
        lines = [str(issue) for issue in self.issues]
        paths = dict.fromkeys(display_path(i.path) for i in self.issues)
        lines.append(f"Check the file with: harness validate {' '.join(paths)}")
        return "\n".join(lines)
