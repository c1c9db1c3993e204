"""The eval file format: pydantic models of ``*.eval.yaml`` and its JSON Schema.

The models (``extra="forbid"``, strict types) are the single description of the format:
:mod:`harness.spec` validates files with them, and :func:`eval_schema` turns them into the
JSON Schema committed as ``harness/schema/eval.schema.json`` (for editors), so the loader
and the schema agree. Import these names from :mod:`harness.spec`, which re-exports them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from harness.checks import check_json_schema
from harness.checks.numbers import integral

Api = Literal["generate_content", "stream", "interactions", "chat"]
APIS: tuple[str, ...] = get_args(Api)
SCHEMA_PATH = Path(__file__).parent / "schema" / "eval.schema.json"

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
TAG_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Tags become pytest marks: these names would change how pytest runs the item.
RESERVED_TAGS = ("filterwarnings", "parametrize", "skip", "skipif", "usefixtures", "xfail")


# The JSON Schema type "integer" accepts 5.0 and 1e3 (YAML 1.2 floats), so integer fields do too.
_Int = Annotated[int, BeforeValidator(integral)]
_Samples = Annotated[int, Field(ge=1, le=1000), BeforeValidator(integral)]


class _Strict(BaseModel):
    # strict: `samples: "2"` is an error here exactly as it is in the JSON Schema.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ThinkingSettings(_Strict):
    """How much the model may think before answering (``config.thinking``)."""

    budget: Annotated[int, Field(ge=-1), BeforeValidator(integral)] | None = Field(
        default=None,
        description="Thinking token budget: 0 turns thinking off, -1 lets the model decide.")
    include_thoughts: bool | None = Field(default=None, description="Return thought summaries.")


class GenerationSettings(_Strict):
    """Generation settings of a case (``config:``), merged over ``defaults.config``."""

    temperature: float | None = Field(default=None, ge=0, le=2,
                                      description="Sampling temperature, 0-2.")
    top_p: float | None = Field(default=None, ge=0, le=1, description="Nucleus sampling mass, 0-1.")
    seed: _Int | None = Field(default=None, description="Sampling seed.")
    system_instruction: str | None = Field(default=None, description="System instruction text.")
    max_output_tokens: Annotated[int, Field(ge=1), BeforeValidator(integral)] | None = Field(
        default=None, description="Output token limit.")
    thinking: ThinkingSettings | None = Field(default=None, description="Thinking settings.")


Tag = Annotated[str, Field(pattern=TAG_PATTERN,
                           json_schema_extra={"not": {"enum": list(RESERVED_TAGS)}})]
_Expect = list[Any] | None  # entries are parsed by the check registry, not by pydantic


class DefaultsSpec(_Strict):
    """``defaults:``: values every case of the file starts from."""

    api: Api | None = Field(default=None, description="API surface of every case.")
    config: GenerationSettings | None = Field(
        default=None, description="Merged key-wise under each case's config.")
    samples: _Samples | None = Field(default=None, description="Runs per case and model.")
    tags: list[Tag] | None = Field(default=None, description="Added to every case's tags.")
    expect: _Expect = Field(default=None, description="Checks run before every case's own checks.")


class InputSpec(_Strict):
    """One input file (reserved: not supported yet)."""

    file: str
    mime_type: str | None = None


class CaseSpec(_Strict):
    """One eval case."""

    id: str = Field(pattern=ID_PATTERN, description="Unique in the file; names cassettes.")
    prompt: str = Field(pattern=r"\S", description="The user prompt.")
    description: str | None = Field(default=None, description="Free text about the case.")
    api: Api | None = Field(default=None, description="API surface (default generate_content).")
    config: GenerationSettings | None = Field(default=None, description=(
        "Generation settings, merged key-wise over defaults.config (null clears one)."))
    expect: _Expect = Field(default=None, description="Checks of the transcript.")
    tags: list[Tag] | None = Field(default=None, description="pytest marks (select with -m).")
    skip: bool | str | None = Field(default=None, description="true, or the reason for skipping.")
    samples: _Samples | None = Field(default=None, description="Runs per model (default 1).")
    reference: str | None = Field(default=None, pattern=r"\S", description=(
        "Trusted Python code that solves the case: the ground truth (usually a `|` block)."))
    inputs: list[InputSpec] | None = Field(default=None, description="Reserved: input files.")
    turns: list[str] | None = Field(default=None, min_length=1, description="Reserved: chat turns.")


class FileSpec(_Strict):
    """The top level of an eval file (``cases`` is checked case by case)."""

    suite: str | None = Field(default=None, pattern=ID_PATTERN, description=(
        "Suite name (default: the file name without .eval.yaml); names cassette folders."))
    description: str | None = Field(default=None, description="Free text about the suite.")
    defaults: DefaultsSpec | None = Field(default=None, description="Applied to every case.")
    cases: list[Any] = Field(min_length=1, description="The eval cases (at least one).")


class _FileSchema(FileSpec):
    cases: list[CaseSpec] = Field(min_length=1, description="The eval cases (at least one).")


def eval_schema() -> dict[str, Any]:
    """Build the JSON Schema (draft 2020-12) of an eval file.

    Generated from the pydantic models, with ``expect:`` entries described by the check
    registry (:func:`harness.checks.check_json_schema`), so plug-in checks appear too.
    """
    schema = _FileSchema.model_json_schema()
    defs = schema.setdefault("$defs", {})
    checks = copy.deepcopy(check_json_schema())
    for alt in checks["anyOf"]:
        for name in alt.get("properties", {}):
            _hoist_defs(alt, f"{name}.", defs)
    defs["Check"] = {"description": "One check: `name`, `name: value` or `name: {args}`.",
                     **checks}
    for model in ("CaseSpec", "DefaultsSpec"):
        for alt in defs[model]["properties"]["expect"]["anyOf"]:
            if alt.get("type") == "array":
                alt["items"] = {"$ref": "#/$defs/Check"}
    case = defs["CaseSpec"]
    case["required"] = ["id"]  # and a prompt, unless it is a (reserved) multi-turn case:
    case["anyOf"] = [{"required": ["prompt"]}, {"required": ["turns"]}]
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
