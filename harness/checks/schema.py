"""The JSON Schema of one ``expect:`` entry, generated from the registered checks."""

from __future__ import annotations

from typing import Any

from harness.checks.registry import all_checks


def check_json_schema() -> dict[str, Any]:
    """JSON Schema of one ``expect:`` entry, generated from the registered argument models.

    Self-contained (no ``$ref``), so it can be embedded anywhere in the eval-file schema. It
    accepts what :func:`~harness.checks.registry.parse_check` accepts, except that it cannot
    check regex syntax (patterns carry ``format: regex`` for editors that do).
    """
    alternatives: list[dict[str, Any]] = []
    checks = all_checks()
    bare = [n for n, s in checks.items() if s.bare_allowed]
    if bare:
        alternatives.append({"type": "string", "enum": bare})
    for name, spec in checks.items():
        model_schema = _inline_refs(spec.args_model.model_json_schema())
        value_schemas: list[dict[str, Any]] = [model_schema]
        if spec.short is not None:
            short_schema = dict(model_schema["properties"][spec.short])
            short_schema.pop("title", None)
            short_schema.pop("default", None)
            value_schemas.insert(0, short_schema)
        if spec.bare_allowed:
            value_schemas.append({"type": "null"})
        alternatives.append({
            "type": "object",
            "description": spec.summary,
            "properties": {name: value_schemas[0] if len(value_schemas) == 1
                           else {"anyOf": value_schemas}},
            "required": [name],
            "additionalProperties": False,
        })
    return {"anyOf": alternatives}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace pydantic's ``#/$defs/...`` references by their definitions."""
    defs: dict[str, Any] = schema.get("$defs", {})

    def walk(node: Any, depth: int) -> Any:
        if depth > 100:
            raise ValueError("check argument models must not be recursive")
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return walk({**defs[ref.removeprefix("#/$defs/")], **rest}, depth + 1)
            return {k: walk(v, depth + 1) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v, depth + 1) for v in node]
        return node

    result: dict[str, Any] = walk(schema, 0)
    return result
