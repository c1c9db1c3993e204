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
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.steps import Transcript

ENTRY_POINT_GROUP = "harness.checks"
_MAX_SHOWN = 300


class CheckArgs(BaseModel):
    """Base for check argument models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


A = TypeVar("A", bound=CheckArgs)


@dataclass(frozen=True)
class CheckContext:
    """What a check sees: the transcript and where it came from."""

    transcript: Transcript
    case_id: str = ""
    model: str = ""


@dataclass(frozen=True)
class Judgement:
    """What a check function returns: pass/fail with readable expected and actual values."""

    passed: bool
    expected: str
    actual: str


@dataclass(frozen=True)
class CheckResult:
    """One check's result for one item."""

    name: str
    passed: bool
    expected: str
    actual: str
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form for result records."""
        return {"name": self.name, "passed": self.passed, "expected": self.expected,
                "actual": self.actual, "error": self.error}


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
        """Whether the plain ``name`` form is valid (every argument has a default)."""
        return all(not f.is_required() for f in self.args_model.model_fields.values())


@dataclass(frozen=True)
class CheckCall:
    """A parsed ``expect:`` entry: the check to run with validated arguments."""

    name: str
    args: CheckArgs
    label: str

    def run(self, ctx: CheckContext) -> CheckResult:
        """Run the check; an exception becomes a failed result carrying its reason."""
        spec = get(self.name)
        try:
            j = spec.func(ctx, self.args)
        except Exception as exc:  # a broken check must fail the item, not crash the run
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return CheckResult(self.label, False, _describe_args(self.args), "(check raised)",
                               error=f"{type(exc).__name__}: {exc} "
                                     f"({where.filename}:{where.lineno})")
        return CheckResult(self.label, j.passed, clip(j.expected), clip(j.actual))


_REGISTRY: dict[str, CheckSpec[Any]] = {}
_loaded_entry_points = False


def register(spec: CheckSpec[Any]) -> CheckSpec[Any]:
    """Add a check; a name registered twice is a programming error."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"check {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def check(name: str, args: type[A], *, short: str | None = None,
          summary: str = "") -> Callable[[Callable[[CheckContext, A], Judgement]],
                                         Callable[[CheckContext, A], Judgement]]:
    """Decorator form of :func:`register`."""
    def deco(func: Callable[[CheckContext, A], Judgement]) -> Callable[[CheckContext, A], Judgement]:
        register(CheckSpec(name, func, args, short, summary or (func.__doc__ or "").strip()
                           .splitlines()[0]))
        return func
    return deco


def _load_entry_points() -> None:
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    _loaded_entry_points = True
    import harness.checks.builtin  # noqa: F401  (registers the built-in checks)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        specs: Iterable[Any] = obj if isinstance(obj, list | tuple) else [obj]
        for spec in specs:
            if not isinstance(spec, CheckSpec):
                raise TypeError(f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP!r} "
                                f"gave {type(spec).__name__}, expected harness CheckSpec")
            register(spec)


def all_checks() -> dict[str, CheckSpec[Any]]:
    """Every registered check, built-ins and entry points, by name."""
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> CheckSpec[Any]:
    """The check called ``name``; KeyError if there is none."""
    return all_checks()[name]


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

    Raises:
        CheckParseError: unknown name, wrong form or invalid arguments; the message lists the
            valid choices.
    """
    checks = all_checks()
    if isinstance(raw, str):
        name, value, form = raw, None, "bare"
    elif isinstance(raw, dict) and len(raw) == 1:
        name, value = next(iter(raw.items()))
        form = "kwargs" if isinstance(value, dict) else "short"
    else:
        raise CheckParseError(
            "each expect entry is a check name (`- code_executed`) or a one-key mapping "
            f"(`- answer_number: 42`), got {_short_repr(raw)}")
    if not isinstance(name, str) or name not in checks:
        from difflib import get_close_matches

        near = get_close_matches(str(name), list(checks), n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise CheckParseError(f"unknown check {name!r}.{hint} Valid checks: "
                              + ", ".join(checks))
    spec = checks[name]
    try:
        if form == "bare":
            if not spec.bare_allowed:
                raise CheckParseError(f"check {name!r} needs an argument, e.g. "
                                      f"`- {name}: <{spec.short or 'value'}>`", [name])
            args = spec.args_model()
        elif form == "short":
            if spec.short is None:
                fields = ", ".join(spec.args_model.model_fields)
                raise CheckParseError(f"check {name!r} takes keyword arguments "
                                      f"({fields}): write `- {name}: {{...}}`", [name])
            args = spec.args_model.model_validate({spec.short: value})
        else:
            args = spec.args_model.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        fields = ", ".join(f"{k}" for k in spec.args_model.model_fields)
        raise CheckParseError(
            f"bad argument for check {name!r}"
            f"{' at ' + '.'.join(loc) if loc and form == 'kwargs' else ''}: {err['msg']} "
            f"(got {_short_repr(err.get('input'))}). Arguments of {name}: {fields}",
            [name, *loc] if form == "kwargs" else [name]) from None
    return CheckCall(name=name, args=args, label=_label(name, args, spec))


def _label(name: str, args: CheckArgs, spec: CheckSpec[Any]) -> str:
    return name


def _describe_args(args: CheckArgs) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.model_dump().items())


def _short_repr(value: Any) -> str:
    return clip(repr(value), 80)


def clip(text: str, limit: int = _MAX_SHOWN) -> str:
    """Shorten text for display, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more chars]"


def check_json_schema() -> dict[str, Any]:
    """JSON Schema of one ``expect:`` entry, generated from the registered argument models."""
    alternatives: list[dict[str, Any]] = []
    bare = [n for n, s in all_checks().items() if s.bare_allowed]
    if bare:
        alternatives.append({"type": "string", "enum": bare})
    for name, spec in all_checks().items():
        model_schema = spec.args_model.model_json_schema()
        value_schemas: list[dict[str, Any]] = [model_schema]
        if spec.short is not None:
            short_schema = dict(model_schema["properties"][spec.short])
            short_schema.pop("title", None)
            value_schemas.insert(0, short_schema)
        alternatives.append({
            "type": "object",
            "description": spec.summary,
            "properties": {name: value_schemas[0] if len(value_schemas) == 1
                           else {"anyOf": value_schemas}},
            "required": [name],
            "additionalProperties": False,
        })
    return {"anyOf": alternatives}
