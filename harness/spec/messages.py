"""User-facing messages for problems in eval files (used by :mod:`harness.spec`).

Turns pydantic validation errors, YAML syntax errors and reference-code syntax errors into
messages that say what is wrong, what the valid choices are and how to fix it. Nothing here
knows where a problem is in the file: :mod:`harness.spec` adds ``file:line`` and the field path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel

from harness.spec.models import ID_PATTERN
from harness.spec.yamlload import Path_, YamlFloat

_WANT = {"string_type": "text", "int_type": "a whole number", "float_type": "a number",
         "bool_type": "true or false", "list_type": "a list",
         "model_type": "a mapping (`key: value` lines)", "dict_type": "a mapping"}


def got(value: Any) -> str:
    """Name a value as the user wrote it, e.g. ``'two' (text)`` or ``a list``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"{value!r} (text)" if len(value) < 60 else f"{value[:57]!r}... (text)"
    if isinstance(value, YamlFloat):
        return f"{value.text} (a number)"
    if isinstance(value, int | float):
        return f"{value!r} (a number)"
    return "a list" if isinstance(value, list) else "a mapping"


def _unwrap(tp: Any) -> Any:
    while True:
        if hasattr(tp, "__metadata__"):  # Annotated[...]
            tp = get_args(tp)[0]
            continue
        args = [a for a in get_args(tp) if a is not type(None)]
        if type(None) in get_args(tp) and len(args) == 1:
            tp = args[0]
            continue
        return tp


def _is_union(tp: Any) -> bool:
    tp = _unwrap(tp)
    return (len([a for a in get_args(tp) if a is not type(None)]) > 1 and not _is_list(tp)
            and get_origin(tp) is not dict)


def _is_list(tp: Any) -> bool:
    return getattr(tp, "__origin__", None) is list


def clean_loc(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Path_, list[Any]]:
    """Pydantic's error location without its union-member labels, and the type at each step."""
    path: list[str | int] = []
    types: list[Any] = [model]
    label_next = False
    for part in loc:
        if label_next:  # e.g. ("skip", "bool"): the label names the union member that failed
            label_next = False
            member = next((a for a in get_args(_unwrap(types[-1]))
                           if getattr(a, "__name__", None) == part), None)
            if member is not None:  # ("turns", 0, "TurnSpec", "promt"): read on in TurnSpec
                types[-1] = member
            continue
        cur = _unwrap(types[-1])
        nxt: Any = None
        if isinstance(cur, type) and issubclass(cur, BaseModel) and part in cur.model_fields:
            nxt = cur.model_fields[part].annotation
        elif _is_list(cur) and isinstance(part, int):
            nxt = get_args(cur)[0]
        elif get_origin(cur) is dict and len(get_args(cur)) == 2:  # functions: {name: spec}
            nxt = get_args(cur)[1]
        path.append(part)
        types.append(nxt)
        label_next = _is_union(nxt)
    return tuple(path), types


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """`` Did you mean 'x'?`` for the closest choice, or "" when none is close."""
    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {near[0]!r}?" if near else ""


def safe_name(text: str) -> str:
    """A filename-safe id made from ``text`` (the example in :func:`bad_name`)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text)
    name = re.sub(r"^[^A-Za-z0-9]+", "", name)[:100].rstrip("-._") or "case-1"
    return name if re.match(ID_PATTERN, name) else f"{name}-1"  # con -> con-1


def bad_name(what: str, value: str) -> str:
    """Explain why a case id or suite name is not filename-safe, with a safe example."""
    return (f"{what} {value!r} is not filename-safe ({what}s name cassette folders and test ids):"
            " use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit, not "
            "ending in '.', and not a name Windows reserves (con, nul, com1, ...). "
            f"For example: {safe_name(value)}")


def _unknown_key(key: str, path: Path_, types: list[Any], case_keys: Collection[str]) -> str:
    parent = _unwrap(types[-2])
    allowed = list(parent.model_fields)
    hint = did_you_mean(key, allowed)
    config = parent.model_fields.get("config")  # cases and defaults: generation settings
    settings = _unwrap(config.annotation) if config is not None else None
    if isinstance(settings, type) and issubclass(settings, BaseModel) \
            and key in settings.model_fields:
        hint = f" `{key}` is a generation setting: put it under `config:`."
    elif key in case_keys and "cases" in allowed:  # the top level
        hint = f" `{key}` belongs to a case: put it inside a case under `cases:`."
    elif key in case_keys and path[:-1] == ("defaults",):  # the file is validated from its top
        what = ("a reference solves one case" if key == "reference"
                else "it cannot be shared by every case")
        hint = (f" `{key}` is set per case, not in `defaults:` ({what}): put it inside "
                "the case under `cases:`.")
    return f"unknown key {key!r}.{hint} Allowed keys here: {', '.join(allowed)}"


def describe(errs: list[dict[str, Any]], path: Path_, types: list[Any], *,
             case_keys: Collection[str] = ()) -> str:
    """Describe the errors at one field: what is wrong, the choices and the fix.

    Args:
        errs: Pydantic's errors at this field (several when every member of a union failed).
        path: The field path from the validated model, as given by :func:`clean_loc`.
        types: The annotation at each step of ``path``, as given by :func:`clean_loc`.
        case_keys: The keys of a case, to tell where a misplaced case key belongs.

    """
    err, key = errs[0], str(path[-1]) if path else ""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if len(errs) > 1:  # every member of a union failed: list what each would accept
        if key == "skip":
            return f"`skip:` takes true, false or a reason (text), got {got(value)}"
        wants = ", or ".join(dict.fromkeys(_WANT.get(e["type"], e["msg"]) for e in errs))
        return f"expected {wants}, got {got(value)}"
    if kind == "extra_forbidden":
        return _unknown_key(key, path, types, case_keys)
    if kind == "missing":
        return (f"missing required key {key!r}"
                + (" (every case needs an `id` and a `prompt`)"
                   if key in ("id", "prompt") and len(path) == 1 else ""))
    if kind == "literal_error":
        choices = [c.strip("'") for c in str(ctx.get("expected", "")).replace(" or ", ", ")
                   .split(", ")]
        what = "API" if key == "api" else "value"
        if not isinstance(value, str):
            return f"expected one of: {', '.join(choices)}; got {got(value)}"
        return (f"unknown {what} {value!r}.{did_you_mean(value, choices)} "
                f"Valid {what}s: {', '.join(choices)}")
    if kind == "string_pattern_mismatch":
        return _bad_pattern(key, value, path)
    if kind == "too_short" or (key == "cases" and value is None and len(path) == 1):
        if key == "cases":
            return ("`cases:` is empty: add at least one case, e.g.\n"
                    "cases:\n  - id: my-case\n    prompt: What is 2 + 2? Run code to check.")
        return f"{key} must not be empty"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        op = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">",
              "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), 0)
        return f"must be {op} {limit:g}, got {value!r}"
    if kind in _WANT:
        return _wrong_type(kind, value)
    return f"{err['msg']} (got {got(value)})"


def _bad_pattern(key: str, value: Any, path: Path_ = ()) -> str:
    if key == "[key]" and "functions" in path:
        return (f"function name {value!r} is not one the API accepts: use letters, digits, "
                "'_', '.', ':' or '-', starting with a letter or '_', at most 128 characters "
                f"(e.g. {re.sub(r'[^A-Za-z0-9_.:-]+', '_', str(value)).strip('_') or 'lookup'})")
    if key == "prompt":
        return "the prompt is blank: write the question the model should answer"
    if key == "reference":
        return ("the reference is blank: write the Python code that solves the case "
                "(e.g. `reference: |` and the code indented below it), or remove `reference:`")
    if key in ("id", "suite"):
        return bad_name("case id" if key == "id" else "suite", str(value))
    if "tags" not in path and not str(value).strip():
        return f"`{key}` is blank: write it, or remove the key"
    fixed = re.sub(r"\W+", "_", str(value)).strip("_") or "my_tag"
    return (f"tag {value!r} is not a valid tag: tags become pytest marks, so use letters, "
            f"digits and '_', starting with a letter or '_'. For example: "
            f"{'_' + fixed if fixed[0].isdigit() else fixed}")


def _wrong_type(kind: str, value: Any) -> str:
    text = f"expected {_WANT[kind]}, got {got(value)}"
    if kind in ("int_type", "float_type") and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            pass
        else:  # Python reads `1_000`; YAML 1.2 does not
            text += (f": write it without `_` ({value.replace('_', '')})" if "_" in value
                     else ": remove the quotes")
    elif kind == "string_type" and isinstance(value, bool | int | float):
        text += ": put it in quotes" + (" (YAML reads yes/no/on/off as true/false)"
                                        if isinstance(value, bool) else "")
    return text


def yaml_error(exc: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    """The 1-based line (when known) and the message for a YAML syntax error in ``text``."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.reader.ReaderError):  # a control character: it has no mark
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return line, (f"invalid YAML: line {line} has the control character U+{code:04X}, which "
                      "YAML does not allow: remove it (or write it as an escape such as "
                      f"\\x{code:02x} inside double quotes)")
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    where = f" ({context} started at line {cmark.line + 1}, column {cmark.column + 1})" \
        if context and cmark else ""
    col = f" at column {mark.column + 1}" if mark else ""
    lines = text.splitlines()
    if mark and mark.line < len(lines) and "\t" in lines[mark.line]:
        fix = "YAML does not allow tabs for indentation: indent with spaces."
    else:
        fix = "Check the indentation (spaces, not tabs), quotes and closing brackets there."
    return (mark.line + 1 if mark else None), f"invalid YAML{col}: {problem}{where}. {fix}"


def reference_error(exc: Exception, *, literal: bool) -> str:
    """Explain why a case's ``reference:`` code does not compile.

    Args:
        exc: What :func:`compile` raised (a SyntaxError, or ValueError for a NUL character,
            RecursionError/MemoryError for code nested too deeply).
        literal: The code is a literal block (``reference: |``), which keeps line breaks.

    """
    if isinstance(exc, SyntaxError) and exc.lineno:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        code = (exc.text or "").strip()
        shown = f": `{code}`" if code and len(code) <= 80 else ""
        text = (f"the reference is not valid Python: {type(exc).__name__}: {exc.msg} "
                f"({where} of the reference{shown})")
        if not literal:
            text += (". Write the code as a literal block (`reference: |` and the code indented "
                     "below it) so YAML keeps its line breaks and indentation")
    else:
        msg = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        text = f"the reference cannot be compiled: {type(exc).__name__}: {msg}"
    return text + ". The reference is the case's ground truth: it must be runnable Python."
