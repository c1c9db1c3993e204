"""Token prices from ``[tool.harness.prices]`` and the cost of a result record.

The user keeps the table; the harness invents no price. A model without an entry has an unknown
cost (None), never zero::

    [tool.harness.prices]
    "gemini-2.5-flash" = {input = 0.30, output = 2.50}
    "gemini-2.5-pro" = {input = 1.25, output = 10.00, thought = 10.00}

Prices are USD per 1M tokens. ``thought`` defaults to the ``output`` price and
``tool_use_prompt`` to the ``input`` price, which is how Gemini bills thinking tokens and the
code-execution tool's prompt tokens.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PER_TOKENS = 1_000_000
_EXAMPLE = '"gemini-2.5-flash" = {input = 0.30, output = 2.50}'


class PriceError(ValueError):
    """A bad price table; the message names the model, the key and the expected shape."""


class _PriceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    input: float = Field(ge=0, description="USD per 1M prompt tokens.")
    output: float = Field(ge=0, description="USD per 1M output (candidate) tokens.")
    thought: float | None = Field(None, ge=0, description="USD per 1M thought tokens "
                                  "(default: the output price).")
    tool_use_prompt: float | None = Field(None, ge=0, description="USD per 1M tool-use prompt "
                                          "tokens (default: the input price).")


@dataclass(frozen=True)
class Price:
    """One model's prices in USD per 1M tokens, defaults resolved.

    Attributes:
        input: Prompt tokens.
        output: Output (candidate) tokens.
        thought: Thought tokens.
        tool_use_prompt: Tool-use prompt tokens (the code-execution tool's context).

    """

    input: float
    output: float
    thought: float
    tool_use_prompt: float

    def cost_usd(self, usage: Mapping[str, Any] | None) -> float | None:
        """Cost of one call's usage (the record's ``usage`` dict); None without usage.

        A token count the API did not report (None) adds nothing.
        """
        if not usage:
            return None
        rates = (("prompt_tokens", self.input), ("output_tokens", self.output),
                 ("thought_tokens", self.thought), ("tool_use_prompt_tokens",
                                                    self.tool_use_prompt))
        return sum((usage.get(kind) or 0) * rate for kind, rate in rates) / PER_TOKENS


def parse_prices(table: Mapping[str, Any],
                 source: str = "[tool.harness.prices]") -> dict[str, Price]:
    """Validate a ``{model: {input, output[, thought][, tool_use_prompt]}}`` table.

    Args:
        table: The parsed TOML table.
        source: Where the table came from, for messages.

    Returns:
        Prices by model name.

    Raises:
        PriceError: A model entry that is not a table, lacks ``input``/``output``, has an
            unknown key, or a negative or non-numeric price.

    """
    if not isinstance(table, Mapping):
        raise PriceError(f"{source} must be a table of models, e.g. {_EXAMPLE}")
    prices: dict[str, Price] = {}
    for model, entry in table.items():
        if isinstance(entry, Mapping):
            entry = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                     for k, v in entry.items()}
        try:
            parsed = _PriceEntry.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}"
                for e in exc.errors())
            raise PriceError(
                f"{source}: model {model!r}: {problems}. Expected USD per 1M tokens with keys "
                f"{', '.join(_PriceEntry.model_fields)} (input and output required), "
                f"e.g. {_EXAMPLE}") from None
        prices[str(model)] = Price(
            input=parsed.input, output=parsed.output,
            thought=parsed.output if parsed.thought is None else parsed.thought,
            tool_use_prompt=(parsed.input if parsed.tool_use_prompt is None
                             else parsed.tool_use_prompt))
    return prices


def load_prices(pyproject: Path) -> dict[str, Price]:
    """Prices from ``[tool.harness.prices]`` of a pyproject.toml ({} when absent)."""
    if not pyproject.is_file():
        return {}
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PriceError(f"{pyproject}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("harness", {}).get("prices", {})
    return parse_prices(table, source=f"{pyproject}: [tool.harness.prices]")
