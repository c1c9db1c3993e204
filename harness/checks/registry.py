"""The name-keyed check registry: a check is a function plus a pydantic model of its arguments.

YAML short forms accepted by :func:`parse_check`:

* ``name``                 -> the argument model built from its defaults;
* ``name: value``          -> ``value`` fills the model's ``short`` field;
* ``name: {key: value}``   -> keyword arguments of the model.

Other packages add checks through the ``harness.checks`` entry-point group; an entry point
resolves to a :class:`CheckSpec` (or a list of them).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.checks.labels import (
    check_label,
    clip,
    describe_args,
    describe_fields,
    short_repr,
)
from harness.steps import Transcript

ENTRY_POINT_GROUP = "harness.checks"
FROM_REFERENCE = "from_reference"  # an argument value meaning "what the reference printed"


class CheckArgs(BaseModel):
    """Base for check argument models: unknown keys are errors, values are immutable.

    Validation is strict (no ``"5"`` -> 5, no ``1`` -> True) so that what :func:`parse_check`
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
    """

    name: str
    passed: bool
    expected: str
    actual: str
    error: str | None = None
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON form for result records."""
        return {"name": self.name, "label": self.label or self.name, "passed": self.passed,
                "expected": self.expected, "actual": self.actual, "error": self.error}


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

    @property
    def uses_reference(self) -> bool:
        """Whether an argument is ``from_reference`` (the check needs the reference output)."""
        return any(v == FROM_REFERENCE for v in self.args.model_dump().values())

    def run(self, ctx: CheckContext) -> CheckResult:
        """Run the check; an exception becomes a failed result carrying its reason."""
        spec = get(self.name)
        try:
            j = spec.func(ctx, self.args)
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


_REGISTRY: dict[str, CheckSpec[Any]] = {}
_loaded_entry_points = False


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


def _load_entry_points() -> None:
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    import harness.checks.builtin  # noqa: F401  (registers the built-in checks)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {ep.name!r} ({ep.value}) in group {ENTRY_POINT_GROUP!r}"
        try:
            obj = ep.load()
        except Exception as exc:
            raise ImportError(f"{where} failed to load: {type(exc).__name__}: {exc}. "
                              "Fix or uninstall the package that declares it.") from exc
        specs: Iterable[Any] = obj if isinstance(obj, list | tuple) else [obj]
        for spec in specs:
            if not isinstance(spec, CheckSpec):
                raise TypeError(f"{where} gave {type(spec).__name__}, expected harness CheckSpec")
            try:
                register(spec)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
    # Only now: a failure above repeats on the next call instead of leaving a partial registry.
    _loaded_entry_points = True


def all_checks() -> dict[str, CheckSpec[Any]]:
    """Every registered check, built-ins and entry points, by name."""
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> CheckSpec[Any]:
    """Return the check called ``name``; KeyError if there is none."""
    _load_entry_points()
    return _REGISTRY[name]  # not all_checks(): this runs for every check of every item


class CheckParseError(ValueError):
    """An ``expect:`` entry that names no check or has bad arguments.

    Attributes:
        message: What is wrong and the fix.
        subpath: Field path inside the entry (e.g. ``["answer_number", "tolerance"]``).

    """

    def __init__(self, message: str, subpath: list[str | int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.subpath = subpath or []


def parse_check(raw: Any) -> CheckCall:
    """Parse one YAML ``expect:`` entry into a :class:`CheckCall`.

    ``name:`` with no value (YAML null) is read as the bare ``name`` form.

    Raises:
        CheckParseError: unknown name, wrong form or invalid arguments; the message lists the
            valid choices.

    """
    checks = all_checks()
    if isinstance(raw, str):
        name, value, form = raw, None, "bare"
    elif isinstance(raw, dict) and len(raw) == 1:
        name, value = next(iter(raw.items()))
        form = "bare" if value is None else "kwargs" if isinstance(value, dict) else "short"
    else:
        raise CheckParseError(
            "each expect entry is a check name (`- code_executed`) or a one-key mapping "
            f"(`- answer_number: 42`), got {short_repr(raw)}")
    if not isinstance(name, str) or name not in checks:
        near = get_close_matches(str(name), list(checks), n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise CheckParseError(f"unknown check {name!r}.{hint} Valid checks: "
                              + ", ".join(checks))
    spec = checks[name]
    if form == "bare" and not spec.bare_allowed:
        raise CheckParseError(f"check {name!r} needs an argument, e.g. "
                              f"`- {name}: <{spec.short or 'value'}>`. "
                              f"Arguments of {name}: {describe_fields(spec.args_model)}", [name])
    if form == "short" and spec.short is None:
        raise CheckParseError(f"check {name!r} takes keyword arguments "
                              f"({describe_fields(spec.args_model)}): "
                              f"write `- {name}: {{...}}`", [name])
    try:
        if form == "bare":
            args = spec.args_model()
        elif form == "short":
            args = spec.args_model.model_validate({spec.short: value})
        else:
            args = spec.args_model.model_validate(value)
    except ValidationError as exc:
        raise _argument_error(spec, form, exc) from None
    return CheckCall(name=name, args=args, label=check_label(name, args, spec.short))


def _argument_error(spec: CheckSpec[Any], form: str, exc: ValidationError) -> CheckParseError:
    errors = exc.errors()
    err = errors[0]
    loc = [str(p) for p in err["loc"]]
    where = f" at {'.'.join(loc)}" if loc and form == "kwargs" else ""
    subpath: list[str | int] = [spec.name]
    if err["type"] == "extra_forbidden":
        near = get_close_matches(loc[-1], list(spec.args_model.model_fields), n=1)
        what = f"unknown argument {loc[-1]!r}." + (f" Did you mean {near[0]!r}?" if near else "")
        subpath.append(loc[-1])
        where = ""
    elif err["type"] == "missing":
        what, where = f"missing argument {loc[-1]!r}.", ""
    else:
        msg = str(err["msg"]).removeprefix("Value error, ")
        what = f"{msg} (got {short_repr(err.get('input'))})."
        if form == "kwargs":
            subpath.extend(loc)
    more = f" ({len(errors) - 1} more problem(s) after this one)" if len(errors) > 1 else ""
    return CheckParseError(f"bad argument for check {spec.name!r}{where}: {what}{more} "
                           f"Arguments of {spec.name}: {describe_fields(spec.args_model)}",
                           subpath)
