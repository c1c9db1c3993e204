"""The JSON Schema of eval files, generated from the models and the registered checks.

Committed as ``harness/schema/eval.schema.json``; eval files reference that path, so it stays
where it is. Regenerate it with ``harness schema --write harness/schema/eval.schema.json``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from harness.checks.schema import check_json_schema
from harness.spec.models import FileSchemaSpec

SCHEMA_PATH = Path(__file__).parents[1] / "schema" / "eval.schema.json"


def eval_schema() -> dict[str, Any]:
    """Build the JSON Schema (draft 2020-12) of an eval file.

    Generated from the pydantic models, with ``expect:`` entries described by the check
    registry (:func:`harness.checks.schema.check_json_schema`), so plug-in checks appear too.
    """
    schema = FileSchemaSpec.model_json_schema()
    defs = schema.setdefault("$defs", {})
    checks = copy.deepcopy(check_json_schema())
    for alt in checks["anyOf"]:
        for name in alt.get("properties", {}):
            _hoist_defs(alt, f"{name}.", defs)
    defs["Check"] = {"description": "One check: `name`, `name: value` or `name: {args}`.",
                     **checks}
    for model in ("CaseSpec", "DefaultsSpec", "TurnSpec"):
        for alt in defs[model]["properties"]["expect"]["anyOf"]:
            if alt.get("type") == "array":
                alt["items"] = {"$ref": "#/$defs/Check"}
    case = defs["CaseSpec"]
    case["required"] = ["id"]  # and either a prompt or the turns of a conversation:
    # (null counts as absent, as the loader reads it)
    given = {"prompt": {"type": "string"}, "turns": {"type": "array"}}
    case["anyOf"] = [{"required": [k], "properties": {k: v}} for k, v in given.items()]
    case["not"] = {"required": list(given), "properties": given}
    schema.update({"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "title": "harness eval file",
                   "description": "Eval cases for harness (*.eval.yaml). Read as YAML 1.2: "
                                  "1e-9, 1E3, .5 and +1 are numbers, 1_000 is text."})
    return schema


def _hoist_defs(alt: dict[str, Any], prefix: str, root: dict[str, Any]) -> None:
    """Move a check model's own ``$defs`` to the root, renamed so checks cannot collide."""
    found: dict[str, Any] = {}

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.pop("$defs", {}).items():
                found[k] = v
                collect(v)
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)

    def rename(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.removeprefix("#/$defs/") in found:
                node["$ref"] = "#/$defs/" + prefix + ref.removeprefix("#/$defs/")
            for v in node.values():
                rename(v)
        elif isinstance(node, list):
            for v in node:
                rename(v)

    collect(alt)
    rename(alt)
    for k, v in found.items():
        rename(v)
        root[prefix + k] = v
