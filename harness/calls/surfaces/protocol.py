"""The one small protocol every API surface implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from harness.spec.case import Case
    from harness.transcript.values import Transcript


@dataclass(frozen=True)
class Timing:
    """Record-time measurements of one call.

    Attributes:
        latency_s: Wall time of the whole call.
        ttft_s: Time to the first chunk or event (streamed surfaces only).
    """

    latency_s: float
    ttft_s: float | None


class Surface(Protocol):
    """How a case goes through one API surface of the SDK.

    Attributes:
        name: The ``api:`` value that selects this surface.
    """

    name: str

    def call(self, client: Any, case: Case, model: str,
             headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
        """Make the case's call with ``client`` and build its transcript.

        Args:
            client: A ``google.genai.Client`` (see :mod:`harness.calls.targets`).
            case: The case to run.
            model: The model name as the API knows it.
            headers: Extra HTTP headers for this call (the simulator's case headers), or None.

        Raises:
            harness.calls.retry.IncompleteResponse: a 2xx that ended early (retried).
            harness.errors.SetupError: the case asks for something this surface cannot do.
        """
        ...
