"""How simulated batch jobs behave (``$HARNESS_SIM_BATCH``), and a job as the simulator keeps it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from harness.sim import det

ENV_VAR = "HARNESS_SIM_BATCH"
# Final states a job can be forced into; the Gemini API names them BATCH_STATE_*, and
# PARTIALLY_SUCCEEDED exists only as the SDK's JOB_STATE_* name (the SDK passes it through).
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED", "PARTIALLY_SUCCEEDED")
WITH_OUTPUT = ("SUCCEEDED", "PARTIALLY_SUCCEEDED")


class BatchSpecError(ValueError):
    """A ``$HARNESS_SIM_BATCH`` value that cannot be parsed (says which item)."""


@dataclass(frozen=True)
class BatchConfig:
    """How simulated batch jobs behave.

    Attributes:
        delay_s: Seconds from creation until a job is done (pending the first half).
        fail_rate: Probability per item that it fails (drawn from seed, case, sample).
        fail: Case ids whose items always fail.
        state: The final state instead of SUCCEEDED (one of :data:`FINAL_STATES`).
        seed: Changes the draws of ``fail_rate``.
    """

    delay_s: float = 0.0
    fail_rate: float = 0.0
    fail: frozenset[str] = field(default_factory=frozenset)
    state: str = "SUCCEEDED"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.state not in FINAL_STATES:
            raise BatchSpecError(f"state={self.state!r}: one of {', '.join(FINAL_STATES)}")
        if not 0 <= self.fail_rate <= 1 or self.delay_s < 0:
            raise BatchSpecError("fail_rate must be in [0, 1] and delay_s at least 0")

    @classmethod
    def parse(cls, spec: str) -> BatchConfig:
        """Parse ``"delay_s=2,fail_rate=0.1,fail=case-a|case-b,state=EXPIRED,seed=3"``.

        Raises:
            BatchSpecError: an unknown key or a value of the wrong kind.
        """
        opts: dict[str, Any] = {}
        for raw in spec.split(","):
            key, eq, value = raw.strip().partition("=")
            if not key:
                continue
            if key not in ("delay_s", "fail_rate", "seed", "fail", "state"):
                raise BatchSpecError(f"{raw.strip()!r}: unknown key {key!r} (delay_s, "
                                     "fail_rate, fail, state, seed)")
            try:
                if not eq:
                    raise ValueError
                if key in ("delay_s", "fail_rate"):
                    opts[key] = float(value)
                elif key == "seed":
                    opts[key] = int(value)
                elif key == "fail":
                    opts[key] = frozenset(v for v in value.split("|") if v)
                else:
                    opts[key] = value.upper()
            except ValueError:
                raise BatchSpecError(f"{raw.strip()!r}: expected {key}=VALUE of the right "
                                     "kind") from None
        return cls(**opts)

    @classmethod
    def from_env(cls) -> BatchConfig:
        """From ``$HARNESS_SIM_BATCH`` (unset: jobs finish at once and never fail)."""
        return cls.parse(os.environ.get(ENV_VAR, ""))

    def fails(self, case_key: str, sample: int) -> bool:
        """Whether this item fails (a pure function of the config and the item)."""
        case_id = case_key.rpartition("/")[2]
        return case_id in self.fail or (
            self.fail_rate > 0 and det.unit("batch", self.seed, case_key, sample) < self.fail_rate)


@dataclass
class SimBatch:
    """One job: its requests, and their responses once computed."""

    name: str
    model: str
    display_name: str | None
    created: float
    created_at: str
    requests: list[dict[str, Any]]
    responses: list[dict[str, Any]] | None = None
    task: Any = None
