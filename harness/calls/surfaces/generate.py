"""``api: generate_content``: one ``client.models.generate_content`` call."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from harness.calls.surfaces.protocol import Timing

if TYPE_CHECKING:
    from harness.calls.functions import Answer
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
    if case.functions:
        tools.append(types.Tool(function_declarations=[
            types.FunctionDeclaration(name=f.name, description=f.description,
                                      parameters_json_schema=f.parameters)
            for f in case.functions]))
    # The harness answers calls itself; the SDK's automatic function calling only runs
    # Python callables, and says so in a warning for every call unless it is switched off.
    afc = types.AutomaticFunctionCallingConfig(disable=True) if case.functions else None
    return types.GenerateContentConfig(
        tools=tools, automatic_function_calling=afc,
        temperature=cfg.temperature, seed=cfg.seed, max_output_tokens=cfg.max_output_tokens,
        system_instruction=cfg.system_instruction, thinking_config=thinking)


class GenerateContent:
    """The unary generateContent surface."""

    name = "generate_content"

    def call(self, client: Any, case: Case, model: str,
             headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        """One ``generate_content`` call (one per hop of a function-calling loop).

        See :class:`~.protocol.Surface`.
        """
        from harness.calls.functions import FunctionLoop
        from harness.calls.surfaces.contents import user_parts
        from harness.transcript.generate import from_generate_content

        contents = user_parts(client, case, case.conversation[0])
        config = generate_config(case, headers)
        loop = FunctionLoop(case)
        elapsed = 0.0
        while True:
            start = time.perf_counter()
            response = client.models.generate_content(model=model, contents=contents,
                                                      config=config)
            took = time.perf_counter() - start
            elapsed += took
            answers = loop.answers(from_generate_content([response], latency_s=took))
            if not answers:
                return loop.transcript(), Timing(elapsed, None)
            contents = continue_contents(contents, model_content([response]), answers)


def model_content(responses: list[Any]) -> Any:
    """The model's turn to send back: candidate 0's parts of every response (or chunk).

    The parts go back as they came (thought signatures included), as the SDK's chats do.
    """
    from google.genai import types

    parts = [part for r in responses for c in (r.candidates or [])[:1]
             for part in ((c.content.parts if c.content else None) or [])]
    return types.Content(role="model", parts=parts)


def continue_contents(contents: Any, model_turn: Any, answers: list[Answer]) -> list[Any]:
    """The next hop's contents: what was sent, the model's turn, then the answers."""
    from google.genai import types

    if isinstance(contents, str):
        history = [types.Content(role="user", parts=[types.Part.from_text(text=contents)])]
    elif contents and isinstance(contents[0], types.Content):
        history = list(contents)
    else:
        history = [types.Content(role="user", parts=list(contents))]
    return [*history, model_turn, types.Content(role="user", parts=response_parts(answers))]


def response_parts(answers: list[Answer]) -> list[Any]:
    """The ``functionResponse`` parts answering a hop's calls (ids echoed when given)."""
    from google.genai import types

    return [types.Part(function_response=types.FunctionResponse(
        name=a.call.name, response=a.response, id=a.call.id)) for a in answers]
