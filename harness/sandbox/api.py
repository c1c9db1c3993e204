"""The sandbox's public contract: what a run takes and what it gives back.

Gemini runs the model's Python in a sandbox with a 30 s limit and returns an outcome code; this
package reproduces that locally (see ``harness.sandbox.execute.run``). Kept separate from the
implementation so the simulator and the reference runner depend only on these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"]
DEFAULT_TIMEOUT_S = 30.0
OUTPUT_CAP_BYTES = 1024 * 1024
# Bumped whenever what a run prints could change (execution, seeding, outcome mapping, the
# session replay): results cached by it (verify caches) are recomputed after a bump.
SANDBOX_VERSION = "1"


@dataclass(frozen=True)
class Image:
    """A figure the code produced, as validated PNG bytes."""

    mime_type: str
    data: bytes = field(repr=False)
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class ExecResult:
    """The result of one run, in Gemini's terms.

    Attributes:
        outcome: OUTCOME_OK, OUTCOME_FAILED (output holds stderr/traceback) or
            OUTCOME_DEADLINE_EXCEEDED (output holds what was printed before the deadline).
        output: stdout on success; stderr (with the traceback) on failure; capped.
        images: Figures left open (or shown) by the code, as PNG.
        duration_s: Wall time of the run.
        isolation: The isolation level reached (names a level in the sandbox's level table).
        truncated: True when output hit the cap.
        stdout: Everything the code printed to stdout (capped), whatever the outcome.
        stderr: Everything it printed to stderr, including the traceback (capped).
        seed: The seed the run's RNGs got (pass it back to reproduce a run).
        layers: The isolation layers actually applied (see ``harness.sandbox.levels``).
    """

    outcome: Outcome
    output: str
    images: tuple[Image, ...] = ()
    duration_s: float = 0.0
    isolation: str = "none"
    truncated: bool = False
    stdout: str = ""
    stderr: str = ""
    seed: int | None = None
    layers: tuple[str, ...] = ()


class SandboxError(RuntimeError):
    """The sandbox itself failed (worker died, setup failed): an infrastructure error.

    Never raised for anything the executed code does: that becomes an ``ExecResult``.
    """
