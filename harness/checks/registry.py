"""The check registry: every check by name (built-ins and entry points), and ``expect:`` parsing.

YAML short forms accepted by :func:`parse_check`:

* ``name``                 -> the argument model built from its defaults;
* ``name: value``          -> ``value`` fills the model's ``short`` field;
* ``name: {key: value}``   -> keyword arguments of the model.

Other packages add checks through the ``harness.checks`` entry-point group; an entry point
resolves to a :class:`~harness.checks.api.CheckSpec` (or a list of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from harness.checks.api import CheckCall, CheckSpec, register, registered
from harness.checks.labels import check_label, describe_fields, short_repr

ENTRY_POINT_GROUP = "harness.checks"

_loaded_entry_points = False


def load_builtins() -> None:
    """Register the harness's own checks (importing them does it)."""
    import harness.checks.builtin  # noqa: F401  (importing it registers the built-in checks)


def _load_entry_points() -> None:
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    load_builtins()
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


def is_builtin(name: str) -> bool:
    """Whether ``name`` is one of the harness's own checks (not an entry point's or a test's)."""
    load_builtins()
    spec = registered().get(name)
    return spec is not None and spec.func.__module__.startswith("harness.checks.")


def all_checks() -> dict[str, CheckSpec[Any]]:
    """Every registered check, built-ins and entry points, by name."""
    _load_entry_points()
    return dict(sorted(registered().items()))


def get(name: str) -> CheckSpec[Any]:
    """Return the check called ``name``; KeyError if there is none."""
    _load_entry_points()
    return registered()[name]  # not all_checks(): this runs for every check of every item


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
    key = _memo_key(raw)
    hit = _PARSED.get(key) if key is not None else None
    if hit is not None and registered().get(hit.name) is hit.spec:
        return hit  # CheckCall is frozen: cases that share an entry can share its parse
    call = _parse_check(raw)
    if key is not None:
        _PARSED[key] = call
    return call


# Parsed entries by their YAML value: suites repeat the same entries (`- code_executed`) in
# every case, and parsing one (validation, its label) is most of what collecting a case costs.
_PARSED: dict[str, CheckCall] = {}
# Exact types only: a YamlFloat's repr loses the spelling its label shows (``1e-9``).
_PLAIN_TYPES = (str, int, bool)


def _memo_key(raw: Any) -> str | None:
    """A key that tells apart every entry that could parse differently, or None (don't cache).

    ``repr`` keeps the types apart (``1`` vs ``True`` vs ``Decimal('1.0')``, which compare
    equal) and the spelling the label shows; only plain YAML values are trusted with it.
    """
    def plain(v: Any) -> bool:
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        if isinstance(v, list):
            return all(plain(x) for x in v)
        return v is None or type(v) in _PLAIN_TYPES

    return f"{type(raw).__name__}:{raw!r}" if plain(raw) else None


def _parse_check(raw: Any) -> CheckCall:
    # Built-ins first: the entry points (a scan of every installed distribution) are loaded only
    # for a name the built-ins don't have, or when every check is listed (all_checks).
    load_builtins()
    if not ((isinstance(raw, str) and raw in registered())
            or (isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in registered())):
        _load_entry_points()
    checks = registered()  # sorted (all_checks) only for the messages below: this runs per check
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
        checks = all_checks()
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
    return CheckCall(name=name, args=args, label=check_label(name, args, spec.short), spec=spec)


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
