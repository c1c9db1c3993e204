"""``api: interactions``: one ``client.interactions.create`` call (the Interactions API)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from harness.calls.surfaces.protocol import Timing
from harness.errors import SetupError

if TYPE_CHECKING:
    from harness.spec.case import Case
    from harness.transcript.values import Transcript


def interaction_kwargs(case: Case) -> dict[str, Any]:
    """``interactions.create`` arguments for a case's ``config:`` (code execution, config.tools).

    Raises:
        SetupError: ``config.thinking.budget``, which this API does not have.
    """
    cfg = case.config
    generation: dict[str, Any] = {k: v for k, v in (
        ("temperature", cfg.temperature), ("seed", cfg.seed),
        ("max_output_tokens", cfg.max_output_tokens)) if v is not None}
    if cfg.thinking is not None:
        if cfg.thinking.budget is not None:
            raise SetupError(f"{case.location()}: case {case.id!r}: config.thinking.budget is not "
                             "available on the Interactions API; remove it or use "
                             "api: generate_content")
        if cfg.thinking.include_thoughts:
            generation["thinking_summaries"] = "auto"
    # config.tools names are this API's tool types too (google_search, url_context).
    tools: list[dict[str, Any]] = [{"type": "code_execution"},
                                   *({"type": name} for name in cfg.tools or ())]
    tools.extend({"type": "function", "name": f.name,
                  **({"description": f.description} if f.description else {}),
                  **({"parameters": dict(f.parameters)} if f.parameters else {})}
                 for f in case.functions)
    kwargs: dict[str, Any] = {"tools": tools}
    if generation:
        kwargs["generation_config"] = generation
    if cfg.system_instruction is not None:
        kwargs["system_instruction"] = cfg.system_instruction
    return kwargs


class Interactions:
    """The Interactions API surface (unary); a conversation chains its turns by id."""

    name = "interactions"

    def call(self, client: Any, case: Case, model: str,
             headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        """One ``interactions.create`` per turn; see :class:`~.protocol.Surface`.

        Turn *n* after the first names turn *n-1*'s interaction in
        ``previous_interaction_id``, so the API keeps the conversation (as the docs show).
        """
        from harness.calls.functions import FunctionLoop, unsent_turns
        from harness.calls.surfaces.contents import interaction_input
        from harness.transcript.interactions import from_interaction
        from harness.transcript.values import combine_turns

        kwargs = interaction_kwargs(case)
        turns: list[Transcript] = []
        previous: str | None = None
        elapsed = 0.0
        for number, turn in enumerate(case.conversation, start=1):
            loop = FunctionLoop(case, number)
            data: Any = interaction_input(client, case, turn)
            while True:  # one interaction per hop, each continuing the one before
                start = time.perf_counter()
                chained = {"previous_interaction_id": previous} if previous else {}
                interaction = client.interactions.create(model=model, input=data,
                                                         extra_headers=headers, **chained,
                                                         **kwargs)
                took = time.perf_counter() - start
                elapsed += took
                answers = loop.answers(from_interaction(interaction, latency_s=took))
                previous = getattr(interaction, "id", None)
                more = bool(answers) or turn is not case.conversation[-1]
                if previous is None and more:
                    raise SetupError(f"{case.location()}: case {case.id!r}: an interaction "
                                     "came back without an id, so the conversation cannot "
                                     "continue it")
                if not answers:
                    break
                data = [{"type": "function_result", "call_id": a.call.id or "",
                         "name": a.call.name, "result": a.response} for a in answers]
            turns.append(loop.transcript())
            if loop.stopped:
                turns.extend(unsent_turns(case, number))
                break
        return combine_turns(turns), Timing(elapsed, None)
