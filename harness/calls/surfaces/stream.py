"""``api: stream``: ``client.models.generate_content_stream``, every chunk read in order."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from harness.calls.retry import IncompleteResponse
from harness.calls.surfaces.generate import generate_config
from harness.calls.surfaces.protocol import Timing

if TYPE_CHECKING:
    from harness.spec.case import Case
    from harness.transcript.values import Transcript


class Stream:
    """The streamed generateContent surface (SSE)."""

    name = "stream"

    def call(self, client: Any, case: Case, model: str,
             headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        """Read the whole stream; see :class:`~.protocol.Surface`.

        Raises:
            IncompleteResponse: the stream ended without a chunk carrying a finish reason.
        """
        from harness.calls.functions import FunctionLoop
        from harness.calls.surfaces.contents import user_parts
        from harness.calls.surfaces.generate import continue_contents, model_content

        contents = user_parts(client, case, case.conversation[0])
        config = generate_config(case, headers)
        loop = FunctionLoop(case)
        elapsed, first_chunk = 0.0, None
        while True:
            start = time.perf_counter()
            read: list[Any] = []
            hop, timing = read_stream(client.models.generate_content_stream(
                model=model, contents=contents, config=config), start, "the stream", read)
            if first_chunk is None:
                first_chunk = timing.ttft_s
            elapsed += timing.latency_s
            answers = loop.answers(hop)
            if not answers:
                return loop.transcript(), Timing(elapsed, first_chunk)
            contents = continue_contents(contents, model_content(read), answers)


def read_stream(chunks: Iterable[Any], start: float, what: str,
                read: list[Any] | None = None) -> tuple[Transcript, Timing]:
    """Read a generateContent stream begun at ``start`` (``time.perf_counter()``) to its end.

    Args:
        chunks: The stream.
        start: When the call began.
        what: Names the stream in messages.
        read: Receives every chunk read, when given (to send the model's turn back).

    Raises:
        IncompleteResponse: it ended without a chunk carrying a finish reason.
    """
    from harness.transcript.generate import from_generate_content

    read = [] if read is None else read
    ttft = None
    for chunk in chunks:
        if ttft is None:
            ttft = time.perf_counter() - start
        read.append(chunk)
    timing = Timing(time.perf_counter() - start, ttft)
    result = from_generate_content(read, latency_s=timing.latency_s, ttft_s=ttft)
    if result.finish_reason is None:
        # The API always ends a stream with a finish reason: this one was cut short.
        raise IncompleteResponse(f"{what} ended without a chunk carrying a finish reason")
    return result, timing
