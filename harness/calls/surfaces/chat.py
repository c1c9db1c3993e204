"""``api: chat``: the SDK's chat object (``client.chats.create``), one ``send_message`` per turn.

The chat keeps the curated history (code and result parts with their ids, thought
signatures) and sends it back with every turn exactly as the SDK does, so each turn's request
carries the conversation so far. ``stream: true`` sends every turn with
``send_message_stream``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from harness.calls.surfaces.generate import generate_config
from harness.calls.surfaces.protocol import Timing
from harness.calls.surfaces.stream import read_stream

if TYPE_CHECKING:
    from harness.spec.case import Case
    from harness.transcript.values import Transcript


class Chat:
    """The chat surface (generateContent under the hood, history kept by the SDK)."""

    name = "chat"

    def call(self, client: Any, case: Case, model: str,
             headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        """Send every turn through one chat; see :class:`~.protocol.Surface`.

        Raises:
            IncompleteResponse: a streamed turn ended without a finish reason.
        """
        from harness.calls.functions import FunctionLoop, unsent_turns
        from harness.calls.surfaces.contents import user_parts
        from harness.calls.surfaces.generate import response_parts
        from harness.transcript.generate import from_generate_content
        from harness.transcript.values import combine_turns

        # The SDK writes its chat user-agent into the config it is given: give it a copy,
        # never the config shared with the case's other calls.
        config = generate_config(case, headers).model_copy(deep=True)
        chat = client.chats.create(model=model, config=config)
        turns: list[Transcript] = []
        elapsed, first_chunk = 0.0, None
        for number, turn in enumerate(case.conversation, start=1):
            loop = FunctionLoop(case, number)
            message: Any = user_parts(client, case, turn)
            while True:  # one send per hop: the chat keeps the calls and answers in history
                start = time.perf_counter()
                if case.stream:
                    hop, timing = read_stream(chat.send_message_stream(message), start,
                                              "a streamed chat turn")
                    if first_chunk is None and timing.ttft_s is not None:
                        first_chunk = elapsed + timing.ttft_s
                    took = timing.latency_s
                else:
                    response = chat.send_message(message)
                    took = time.perf_counter() - start
                    hop = from_generate_content([response], latency_s=took)
                elapsed += took
                answers = loop.answers(hop)
                if not answers:
                    break
                message = response_parts(answers)
            turns.append(loop.transcript())
            if loop.stopped:
                turns.extend(unsent_turns(case, number))
                break
        return combine_turns(turns), Timing(elapsed, first_chunk)
