"""``functions:``: declared functions with canned results, validated when the file loads.

A case declares the functions the model may call and what each returns. The harness (see
:mod:`harness.calls.functions`) answers every call from these declarations, so a case that
uses function calling is as reproducible as one that does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.checks.api import CheckCall
from harness.spec.yamlload import Path_

DEFAULT_MAX_CALLS = 10


@dataclass(frozen=True)
class CannedResult:
    """What a function returns for the calls whose arguments match ``when``.

    Attributes:
        returns: The result, a JSON value.
        when: Arguments a call must have (partial match); None matches every call.
    """

    returns: Any
    when: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class FunctionDecl:
    """One declared function.

    Attributes:
        name: Its name, as the model calls it.
        description: What it does (sent to the model), or None.
        parameters: The JSON Schema of its arguments (sent to the model), or None.
        results: Canned results, tried in order.
        line: 1-based line of its declaration in the eval file.
    """

    name: str
    description: str | None
    parameters: Mapping[str, Any] | None
    results: tuple[CannedResult, ...] = field(default=())
    line: int = 0


AddIssue = Callable[[Path_, str], None]


def is_conditional(returns: Any) -> bool:
    """Whether ``returns`` is the list-of-``{when, returns}`` form rather than a plain value."""
    return (isinstance(returns, list) and bool(returns)
            and all(isinstance(e, dict) and "returns" in e and set(e) <= {"when", "returns"}
                    for e in returns))


def build_functions(raw: Any, base: Path_, add: AddIssue,
                    line_of: Callable[[Path_], int | None]) -> tuple[FunctionDecl, ...]:
    """Turn a case's validated ``functions:`` mapping into declarations.

    Args:
        raw: The ``functions:`` value (already checked against the pydantic model).
        base: Its field path, for messages.
        add: Records one problem at a field path.
        line_of: The line of a field path.

    Returns:
        The declarations in file order (empty when ``raw`` is not a mapping).
    """
    out: list[FunctionDecl] = []
    for name, spec in (raw.items() if isinstance(raw, dict) else ()):
        if not isinstance(spec, dict):
            continue
        where: Path_ = (*base, name)
        parameters = spec.get("parameters")
        if isinstance(parameters, dict):
            _check_schema(parameters, (*where, "parameters"), add)
        returns = spec.get("returns")
        if isinstance(returns, list) and is_conditional(returns):
            results = tuple(CannedResult(e["returns"], e.get("when")) for e in returns)
            for j, entry in enumerate(returns):
                if entry.get("when") is not None and not isinstance(entry["when"], dict):
                    add((*where, "returns", j, "when"), "`when:` is a mapping of argument "
                        "names to the values a call must have, e.g. `when: {base: EUR}`")
        else:
            results = (CannedResult(returns),)
        out.append(FunctionDecl(name, spec.get("description"),
                                parameters if isinstance(parameters, dict) else None,
                                results, line_of(where) or 0))
    return tuple(out)


def with_limit_check(raw: dict[str, Any], base: Path_, functions: tuple[FunctionDecl, ...],
                     calls: list[CheckCall], add: Callable[..., None]) -> list[CheckCall]:
    """The case's checks, plus ``max_function_calls: <limit>`` when it declares functions.

    A model that keeps calling is stopped at the limit, and this check then fails the case
    (unless the case gives its own). ``max_function_calls`` without functions is an error.
    """
    if not functions:
        if raw.get("max_function_calls") is not None:
            add((*base, "max_function_calls"), "`max_function_calls` limits the calls to "
                "declared `functions:`, and this case declares none; declare them, or remove "
                "the key", key=True)
        return calls
    if any(c.name == "max_function_calls" for c in calls):
        return calls
    from harness.checks.registry import parse_check

    cap = raw.get("max_function_calls")
    return [*calls, parse_check({"max_function_calls": cap if isinstance(cap, int)
                                 else DEFAULT_MAX_CALLS})]


def _check_schema(schema: dict[str, Any], where: Path_, add: AddIssue) -> None:
    # Imported here: only files that declare functions pay for jsonschema at collection.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        at = "/".join(str(p) for p in exc.path) or "the top level"
        add(where, f"`parameters` is not a valid JSON Schema ({at}: {exc.message}); write "
            "an object schema such as `{type: object, properties: {city: {type: string}}, "
            "required: [city]}`")
        return
    if schema.get("type", "object") != "object":
        add(where, f"`parameters` describes the call's arguments, which are an object: use "
            f"`type: object` (got type {schema.get('type')!r})")
