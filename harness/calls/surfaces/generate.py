"""``api: generate_content``: one ``client.models.generate_content`` call."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from harness.calls.surfaces.protocol import Timing

if TYPE_CHECKING:
    from harness.spec.case import Case
    from harness.transcript.values import Transcript

_configs: dict[int, tuple[Case, Any]] = {}


def generate_config(case: Case, headers: dict[str, str] | None = None) -> Any:
    """The SDK's ``GenerateContentConfig`` for a case (built once per case: it is immutable).

    Args:
        case: The case whose ``config:`` it reflects (code execution always on).
        headers: Extra HTTP headers for this call only, or None.
    """
    cached = _configs.get(id(case))
    if cached is not None and cached[0] is case:
        config = cached[1]
    else:
        config = _build_config(case)
        _configs[id(case)] = (case, config)
    if headers:
        from google.genai import types

        config = config.model_copy(update={"http_options": types.HttpOptions(headers=headers)})
    return config


def _build_config(case: Case) -> Any:
    from google.genai import types

    cfg = case.config
    thinking = None
    if cfg.thinking is not None:
        thinking = types.ThinkingConfig(thinking_budget=cfg.thinking.budget,
                                        include_thoughts=cfg.thinking.include_thoughts)
    tools: list[Any] = [types.Tool(code_execution=types.ToolCodeExecution())]
    for name in cfg.tools or ():  # config.tools: built-in tools beside code execution
        tools.append(types.Tool(google_search=types.GoogleSearch()) if name == "google_search"
                     else types.Tool(url_context=types.UrlContext()))
    return types.GenerateContentConfig(
        tools=tools,
        temperature=cfg.temperature, seed=cfg.seed, max_output_tokens=cfg.max_output_tokens,
        system_instruction=cfg.system_instruction, thinking_config=thinking)


class GenerateContent:
    """The unary generateContent surface."""

    name = "generate_content"

    def call(self, client: Any, case: Case, model: str,
             headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        """One ``generate_content`` call; see :class:`~.protocol.Surface`."""
        from harness.calls.surfaces.contents import user_parts
        from harness.transcript.generate import from_generate_content

        contents = user_parts(client, case, case.conversation[0])
        start = time.perf_counter()
        response = client.models.generate_content(model=model, contents=contents,
                                                  config=generate_config(case, headers))
        timing = Timing(time.perf_counter() - start, None)
        return from_generate_content([response], latency_s=timing.latency_s), timing
