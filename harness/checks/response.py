"""Built-in checks on the response as a whole: finish reason, token usage, images."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, WithJsonSchema, model_validator

from harness.checks._common import Count, Text, TokenLimit, plural
from harness.checks.api import CheckArgs, CheckContext, Judgement, check

# An explicit null is rejected by the model validator below, so the schema offers only integers
# (pydantic would otherwise advertise `anyOf: [integer, null]` for an optional field).
_Limit = Annotated[TokenLimit | None, WithJsonSchema({"type": "integer", "minimum": 0})]

# argument name -> (Usage attribute, how a message names it)
_USAGE_FIELDS = {
    "total": ("total_tokens", "total tokens"),
    "prompt": ("prompt_tokens", "prompt tokens"),
    "output": ("output_tokens", "output tokens"),
    "tool_use_prompt": ("tool_use_prompt_tokens", "tool-use prompt tokens"),
    "thought": ("thought_tokens", "thought tokens"),
}


class FinishReasonArgs(CheckArgs):
    """Arguments of the finish_reason check."""

    reason: Text = Field(description="E.g. STOP, MAX_TOKENS; Interactions: the status. "
                                     "Compared ignoring case.")


class MaxTokensArgs(CheckArgs):
    """Arguments of the max_tokens check: at least one limit."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    total: _Limit = Field(None, description="Most total tokens.")
    prompt: _Limit = Field(None, description="Most prompt tokens.")
    output: _Limit = Field(None, description="Most output (candidate) tokens.")
    tool_use_prompt: _Limit = Field(None, description="Most tool-use prompt tokens.")
    thought: _Limit = Field(None, description="Most thought tokens.")

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [k for k, v in data.items() if v is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} is null: give a number of tokens or "
                                 "leave the key out")
        return data

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if all(getattr(self, key) is None for key in _USAGE_FIELDS):
            raise ValueError("give at least one limit: " + ", ".join(_USAGE_FIELDS))
        return self


class MinImagesArgs(CheckArgs):
    """Arguments of the min_images check."""

    n: Count = Field(description="The fewest images the response must hold.")


@check("finish_reason", FinishReasonArgs, short="reason",
       summary="The response's finish reason (Interactions: status) is `reason`, ignoring case.")
def finish_reason(ctx: CheckContext, args: FinishReasonArgs) -> Judgement:
    """Check the finish reason."""
    actual = ctx.transcript.finish_reason
    expected = f"finish reason {args.reason}"
    if actual is None:
        return Judgement(False, expected, "not reported")
    return Judgement(actual.casefold() == args.reason.casefold(), expected, str(actual))


@check("max_tokens", MaxTokensArgs, short="total",
       summary="Token usage within every given limit (`total`, `prompt`, `output`, "
               "`tool_use_prompt`, `thought`); a field the API did not report fails.")
def max_tokens(ctx: CheckContext, args: MaxTokensArgs) -> Judgement:
    """Check every given token limit."""
    usage = ctx.transcript.usage
    expected, actual, passed = [], [], True
    for key, (attr, shown) in _USAGE_FIELDS.items():
        limit = getattr(args, key)
        if limit is None:
            continue
        used: int | None = getattr(usage, attr)
        expected.append(f"{shown} <= {limit}")
        if used is None:
            passed = False
            actual.append(f"{shown} not reported")
        elif used > limit:
            passed = False
            actual.append(f"{shown} {used} (over by {used - limit})")
        else:
            actual.append(f"{shown} {used}")
    return Judgement(passed, "; ".join(expected), "; ".join(actual))


@check("min_images", MinImagesArgs, short="n",
       summary="The response holds at least `n` images (e.g. matplotlib figures).")
def min_images(ctx: CheckContext, args: MinImagesArgs) -> Judgement:
    """Check that there are at least n image steps."""
    images = ctx.transcript.images
    kinds = ", ".join(sorted({i.mime_type or "unknown type" for i in images}))
    return Judgement(len(images) >= args.n, f"at least {plural(args.n, 'image')}",
                     plural(len(images), "image") + (f" ({kinds})" if images else ""))
