"""What a check author imports: argument models, the context, judgements, results, ``@check``.

A check is a plain function ``func(ctx, args) -> Judgement`` plus a pydantic model of its
arguments, registered by name with :func:`check` (or :func:`register`). The lookup, the
entry-point loading and the parsing of ``expect:`` entries live in
:mod:`harness.checks.registry`; this module imports no check, so check modules can import it
without a cycle.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.checks.labels import clip, describe_args
from harness.checks.reexec import LocalRun
from harness.transcript.values import Transcript

FROM_REFERENCE = "from_reference"  # an argument value meaning "what the reference printed"


class CheckArgs(BaseModel):
    """Base for check argument models: unknown keys are errors, values are immutable.

    Validation is strict (no ``"5"`` -> 5, no ``1`` -> True) so that what
    :func:`~harness.checks.registry.parse_check`
    accepts is exactly what the generated JSON Schema accepts: an editor that validates a YAML
    file against the schema agrees with the run.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


A = TypeVar("A", bound=CheckArgs)


@dataclass(frozen=True)
class CheckContext:
    """What a check sees: the transcript and where it came from."""

    transcript: Transcript
    case_id: str = ""
    model: str = ""
    reference_output: str | None = None  # what the case's `reference:` printed, if it has one
    # verify_output: each code run re-run locally (None: not re-run; the field None: no re-runs)
    local_runs: tuple[LocalRun | None, ...] | None = None


@dataclass(frozen=True)
class Judgement:
    """What a check function returns: pass/fail with readable expected and actual values."""

    passed: bool
    expected: str
    actual: str


@dataclass(frozen=True)
class CheckResult:
    """One check's result for one item.

    Attributes:
        name: The check's registry name (``answer_number``).
        passed: The verdict.
        expected: What would have passed, readable.
        actual: What the transcript held, readable.
        error: The exception a broken check raised, if any.
        label: The name with its main argument (``answer_number: 5117``), for display.
        turn: The 1-based turn it judged, in a conversation (None for a single call).
    """

    name: str
    passed: bool
    expected: str
    actual: str
    error: str | None = None
    label: str = ""
    turn: int | None = None

    @property
    def display(self) -> str:
        """The label, with the turn in a conversation (``turn 2: answer_number: 5117``)."""
        label = self.label or self.name
        return f"turn {self.turn}: {label}" if self.turn is not None else label

    def to_json(self) -> dict[str, Any]:
        """JSON form for result records (``turn`` only in a conversation)."""
        out = {"name": self.name, "label": self.label or self.name, "passed": self.passed,
               "expected": self.expected, "actual": self.actual, "error": self.error}
        return out if self.turn is None else {**out, "turn": self.turn}


@dataclass(frozen=True)
class CheckSpec(Generic[A]):
    """A registered check.

    Attributes:
        name: The YAML name.
        func: ``func(ctx, args) -> Judgement``.
        args_model: The pydantic model of its arguments.
        short: The argument that the ``name: value`` form fills (None: no short value form).
        summary: One line for the README and the schema's description.

    """

    name: str
    func: Callable[[CheckContext, A], Judgement]
    args_model: type[A]
    short: str | None
    summary: str

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (harness.spec.cache) by name: the registered spec is the one that runs. The
        # unpickler loads the built-ins first; only they are ever cached.
        return (_registered_spec, (self.name,))

    @property
    def bare_allowed(self) -> bool:
        """Whether the plain ``name`` form is valid (the defaults alone make valid arguments)."""
        if any(f.is_required() for f in self.args_model.model_fields.values()):
            return False
        try:  # a model validator may still demand something (max_tokens needs one limit)
            self.args_model()
        except ValidationError:
            return False
        return True


@dataclass(frozen=True)
class CheckCall:
    """A parsed ``expect:`` entry: the check to run with validated arguments."""

    name: str
    args: CheckArgs
    label: str
    spec: CheckSpec[Any] = field(compare=False, repr=False)

    @property
    def uses_reference(self) -> bool:
        """Whether an argument is ``from_reference`` (the check needs the reference output)."""
        return any(v == FROM_REFERENCE for v in self.args.model_dump().values())

    def run(self, ctx: CheckContext) -> CheckResult:
        """Run the check; an exception becomes a failed result carrying its reason."""
        try:
            j = self.spec.func(ctx, self.args)
            if not isinstance(j, Judgement):
                raise TypeError(f"check {self.name!r} returned {type(j).__name__}, "
                                "expected a harness Judgement")
        except Exception as exc:  # a broken check must fail the item, not crash the run
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return CheckResult(self.name, False, clip(describe_args(self.args)),
                               "(check raised)",
                               error=f"{type(exc).__name__}: {exc} "
                                     f"({where.filename}:{where.lineno})", label=self.label)
        # str(): a str subclass (an SDK enum value, say) must not leak into result records.
        return CheckResult(self.name, bool(j.passed), clip(str(j.expected)),
                           clip(str(j.actual)), label=self.label)


# Filled by @check as check modules are imported; read through harness.checks.registry.
_REGISTRY: dict[str, CheckSpec[Any]] = {}


def register(spec: CheckSpec[Any]) -> CheckSpec[Any]:
    """Add a check; a name registered twice is a programming error.

    Raises:
        ValueError: another check already has this name.

    """
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"check {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a check (tests that register throwaway checks clean up with this)."""
    _REGISTRY.pop(name, None)


def check(name: str, args: type[A], *, short: str | None = None,
          summary: str = "") -> Callable[[Callable[[CheckContext, A], Judgement]],
                                         Callable[[CheckContext, A], Judgement]]:
    """Register the decorated function as check ``name`` (decorator form of :func:`register`)."""
    def deco(func: Callable[[CheckContext, A], Judgement]
             ) -> Callable[[CheckContext, A], Judgement]:
        doc_lines = (func.__doc__ or "").strip().splitlines()
        register(CheckSpec(name, func, args, short, summary or (doc_lines[0] if doc_lines
                                                                  else "")))
        return func
    return deco


def _registered_spec(name: str) -> CheckSpec[Any]:
    return _REGISTRY[name]


def registered() -> dict[str, CheckSpec[Any]]:
    """The checks registered so far (no loading: see :func:`harness.checks.registry.all_checks`)."""
    return _REGISTRY
