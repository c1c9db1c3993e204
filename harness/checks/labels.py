"""How checks and their arguments read in results, labels and error messages."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from harness.checks.numbers import format_number

MAX_SHOWN = 300


def check_label(name: str, args: BaseModel, short: str | None) -> str:
    """``name``, then the ``short`` argument, then other non-default arguments.

    E.g. ``answer_number: 5117``, ``output_contains: '5117' (run: last)``: what a failing
    item lists, so it must tell two entries of the same check apart. Free text is quoted,
    choices from a fixed set (``last``, ``OUTCOME_OK``) are not.
    """
    head, extra = name, []
    for key, required, default, choice in _label_fields(type(args)):
        value = getattr(args, key)
        if not required and value == default:
            continue
        shown = format_value(value, quote=not choice)
        if key == short:
            head = f"{name}: {shown}"
        else:
            extra.append(f"{key}: {shown}")
    return clip(head + (f" ({', '.join(extra)})" if extra else ""), 160)


@cache
def _label_fields(model: type[BaseModel]) -> tuple[tuple[str, bool, Any, bool], ...]:
    """(name, required, default, is a choice) per field: read once per model, not per label."""
    return tuple((key, f.is_required(), f.default, _is_choice(f.annotation))
                 for key, f in model.model_fields.items())


def describe_fields(model: type[BaseModel]) -> str:
    """List an argument model's fields: ``key (required)`` or ``key=default``."""
    out = []
    for key, field in model.model_fields.items():
        out.append(f"{key} (required)" if field.is_required()
                   else f"{key}={format_value(field.default)}")
    return ", ".join(out)


def describe_args(args: BaseModel) -> str:
    """List argument values as ``key: value``."""
    return ", ".join(f"{k}: {format_value(v)}" for k, v in args)


def _is_choice(annotation: Any) -> bool:
    """Whether a field's type is (a container of) Literal choices."""
    if get_origin(annotation) is Literal:
        return True
    return any(_is_choice(a) for a in get_args(annotation))


def format_value(value: Any, *, quote: bool = True) -> str:
    """Show a check argument as a label does: YAML-like booleans, numbers as written.

    Numbers come out exact and as the eval file spells them (``1e-9``, ``2.50``, all the
    digits of ``1267650600228229401496703205376``), see
    :func:`~harness.checks.numbers.format_number`.

    Args:
        value: The argument's value.
        quote: Quote strings (free text); False for choices such as ``last`` or ``OUTCOME_OK``.

    Returns:
        A short display string.

    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float | Decimal | Fraction):
        return clip(format_number(value), 60)
    if isinstance(value, str):
        return clip(repr(value), 60) if quote else value
    if isinstance(value, list | tuple | frozenset | set):
        return "[" + ", ".join(format_value(v, quote=quote) for v in value) + "]"
    return clip(repr(value), 60)


def short_repr(value: Any) -> str:
    """``repr`` clipped for an error message."""
    return clip(repr(value), 80)


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """Shorten text for display, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more chars]"
