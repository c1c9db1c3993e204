"""Settings from ``[tool.harness]`` in pyproject.toml, overridable from the command line.

The plugin and the CLI both build a :class:`Settings` here, so they read configuration alike.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

TARGETS = ("gemini", "vertex", "sim")  # offered by --target and [tool.harness] target


GateMode = Literal["off", "on", "only"]
GATE_MODES = ("off", "on", "only")
ReplayMode = Literal["fast", "full"]
REPLAY_MODES = ("fast", "full")
UnderpoweredMode = Literal["warn", "fail"]
UNDERPOWERED_MODES = ("warn", "fail")


class ConfigError(Exception):
    """A bad ``[tool.harness]`` table or command-line setting; the message says how to fix it."""


class RetrySettings(BaseModel):
    """The harness's own retry policy while recording (every API surface alike)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(4, ge=1, le=20, description="Tries per call, the first included.")
    initial_delay: float = Field(1.0, ge=0, description="Seconds before the first retry.")
    max_delay: float = Field(30.0, ge=0,
                             description="Upper bound of one wait, Retry-After included.")
    multiplier: float = Field(2.0, ge=1, description="Backoff growth per retry.")


class VertexSettings(BaseModel):
    """``[tool.harness.vertex]``: where Vertex AI calls go (``--target vertex``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str | None = Field(default=None, description="Google Cloud project; default "
                                                   "GOOGLE_CLOUD_PROJECT.")
    location: str | None = Field(default=None, description="Region, e.g. us-central1; default "
                                                    "GOOGLE_CLOUD_LOCATION.")
    express: bool = Field(default=False, description="Express mode: an API key instead of "
                                             "Application Default Credentials.")


class RateLimitSettings(BaseModel):
    """One model's entry of ``[tool.harness.rate_limits]`` (``"*"``: every other model)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpm: int | None = Field(None, ge=1, description="Calls started per minute.")
    tpm: int | None = Field(None, ge=1, description="Tokens per minute.")


class HarnessTable(BaseModel):
    """The ``[tool.harness]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[str] = Field(default_factory=list)
    baseline: str | None = None
    target: str = "gemini"
    samples: int | None = Field(None, ge=1)
    cassette_dir: str = "cassettes"
    report_dir: str = "reports"
    keep_runs: int = Field(20, ge=0)
    retry: RetrySettings = Field(default_factory=RetrySettings)  # type: ignore[arg-type]
    alpha: float = Field(0.05, gt=0, lt=1)
    gate: GateMode = "off"
    gate_underpowered: UnderpoweredMode = "warn"
    prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    secret_env: list[str] = Field(default_factory=list)
    vertex: VertexSettings = Field(default_factory=VertexSettings)
    base_url: str | None = None
    replay: ReplayMode = "fast"
    concurrency: int = Field(1, ge=1, le=256)
    rate_limits: dict[str, RateLimitSettings] = Field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one run.

    Attributes:
        root: The directory relative paths are resolved against (pytest's rootdir).
        models: Model names every case runs against.
        baseline: The model others are compared with (reports; later issues).
        target: Backend: ``gemini`` (the Gemini API), ``vertex`` (Vertex AI) or ``sim`` (the
            bundled simulator).
        samples: Overrides every case's ``samples`` when set.
        cassette_dir: Root of ``<target>/<suite>/<case>/<model>/<k>.yaml``.
        report_dir: Where ``<run-id>/`` report directories go.
        keep_runs: How many run directories to keep (the newest; 0 keeps all); history stays.
        retry: Retry policy while recording.
        alpha: Significance level of the paired comparison.
        gate: ``off``: pytest's exit code as usual; ``on``: also fail when the regression
            gate fails; ``only``: the gate (and infrastructure ERRORs) alone decide the exit
            code, eval FAILs are still shown.
        gate_underpowered: ``warn`` (default): a comparison whose suite cannot reach
            significance at all is a gate warning; ``fail``: it fails the gate.
        prices: USD per 1M tokens by model (validated by ``harness.stats.pricing``).
        secret_env: Variables whose values are secrets besides the API key variables:
            replaced wherever the harness writes or logs (:mod:`harness.redact`).
        vertex: Project, location and express mode of ``--target vertex``.
        base_url: Where recording calls go instead of the target's own host (a gateway, or
            the simulator); None for the SDK's default.
        replay: ``fast``: a recording whose stored request fingerprint matches the case is
            read without the SDK; ``full``: every replay goes through the SDK and matching.
        concurrency: Items recorded at once in one process (1: one at a time, as before).
        rate_limits: Requests and tokens per minute by model, shared by the whole run.
        budget_usd: Stop starting calls once the estimated cost would pass it (None: no cap).
    """

    root: Path
    models: tuple[str, ...] = ()
    baseline: str | None = None
    target: str = "gemini"
    samples: int | None = None
    cassette_dir: Path = Path("cassettes")
    report_dir: Path = Path("reports")
    keep_runs: int = 20
    retry: RetrySettings = field(default_factory=RetrySettings)  # type: ignore[arg-type]
    alpha: float = 0.05
    gate: str = "off"
    gate_underpowered: str = "warn"
    prices: dict[str, Any] = field(default_factory=dict)
    secret_env: tuple[str, ...] = ()
    vertex: VertexSettings = field(default_factory=VertexSettings)
    base_url: str | None = None
    replay: str = "fast"
    concurrency: int = 1
    rate_limits: dict[str, RateLimitSettings] = field(default_factory=dict)
    budget_usd: float | None = None

    @property
    def managed_recording(self) -> bool:
        """Recording goes through the call pool (concurrency, a rate limit or a budget)."""
        return self.concurrency > 1 or bool(self.rate_limits) or self.budget_usd is not None

    def with_overrides(self, *, models: list[str] | None = None, baseline: str | None = None,
                       target: str | None = None, samples: int | None = None,
                       cassette_dir: str | None = None, report_dir: str | None = None,
                       retries: int | None = None, gate: str | None = None,
                       gate_underpowered: str | None = None,
                       base_url: str | None = None, replay: str | None = None,
                       concurrency: int | None = None,
                       budget_usd: float | None = None) -> Settings:
        """Apply command-line values (None means "not given")."""
        out = self
        if models:
            out = replace(out, models=tuple(dict.fromkeys(models)))
        if baseline is not None:
            out = replace(out, baseline=baseline)
            out.check_baseline("--baseline")
        if target is not None:
            out = replace(out, target=target)
        if samples is not None:
            if samples < 1:
                raise ConfigError(f"--samples must be at least 1, got {samples}")
            out = replace(out, samples=samples)
        if cassette_dir is not None:
            out = replace(out, cassette_dir=self._abs(cassette_dir))
        if report_dir is not None:
            out = replace(out, report_dir=self._abs(report_dir))
        if gate is not None:
            out = replace(out, gate=gate)
        if gate_underpowered is not None:
            out = replace(out, gate_underpowered=gate_underpowered)
        if base_url is not None:
            out = replace(out, base_url=base_url)
        if replay is not None:
            out = replace(out, replay=replay)
        if concurrency is not None:
            if not 1 <= concurrency <= 256:
                raise ConfigError(f"--harness-concurrency must be 1 to 256, got {concurrency}")
            out = replace(out, concurrency=concurrency)
        if budget_usd is not None:
            if budget_usd <= 0:
                raise ConfigError(f"--harness-budget-usd must be above 0, got {budget_usd}")
            out = replace(out, budget_usd=budget_usd)
            out.check_budget_prices()
        if retries is not None:
            out = replace(out, retry=out.retry.model_copy(update={"attempts": max(1, retries)}))
        out.check()
        return out

    def _abs(self, p: str | Path) -> Path:
        path = Path(p)
        return path if path.is_absolute() else self.root / path

    def check_baseline(self, source: str) -> None:
        """Raise ConfigError when the baseline is not one of the models (a typo gates nothing).

        Args:
            source: Where the baseline was set, for the message (``--baseline``, a file).
        """
        if self.baseline is None or not self.models or self.baseline in self.models:
            return
        near = difflib.get_close_matches(self.baseline, self.models, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise ConfigError(f"{source}: baseline {self.baseline!r} is not one of the models this "
                          f"run uses ({', '.join(self.models)}).{hint} Set it to one of them, "
                          "or add it to --model / `models` in [tool.harness].")

    def check_budget_prices(self) -> None:
        """Raise ConfigError when a budget is set but a model has no price (its cost is unknown)."""
        missing = [m for m in self.models if m not in self.prices]
        if self.budget_usd is not None and missing:
            raise ConfigError(
                "--harness-budget-usd needs the price of every model it records; none for "
                + ", ".join(missing) + ". Add them under [tool.harness.prices] in "
                "pyproject.toml, e.g. \"" + missing[0] + "\" = {input = 0.30, output = 2.50} "
                "(USD per 1M tokens)")

    def check(self) -> None:
        """Raise ConfigError for settings that cannot work."""
        if self.gate not in GATE_MODES:
            raise ConfigError(f"unknown gate mode {self.gate!r}; valid: " + ", ".join(GATE_MODES))
        if self.gate_underpowered not in UNDERPOWERED_MODES:
            raise ConfigError(f"unknown gate_underpowered mode {self.gate_underpowered!r}; "
                              "valid: " + ", ".join(UNDERPOWERED_MODES))
        if self.replay not in REPLAY_MODES:
            raise ConfigError(f"unknown replay mode {self.replay!r}; valid: "
                              + ", ".join(REPLAY_MODES))
        if self.target not in TARGETS:
            raise ConfigError(f"unknown target {self.target!r}; valid targets: "
                              + ", ".join(TARGETS)
                              + " (set `target` in [tool.harness] or --target)")


def load_settings(root: Path, pyproject: Path | None = None) -> Settings:
    """Read ``[tool.harness]`` from ``pyproject`` (default ``root/pyproject.toml``).

    A missing file or table gives the defaults; a bad table raises ConfigError naming the key.
    """
    path = pyproject or root / "pyproject.toml"
    table: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        table = data.get("tool", {}).get("harness", {})
    try:
        parsed = HarnessTable.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: [tool.harness]: {problems}. Valid keys: "
                          + ", ".join(HarnessTable.model_fields)) from None
    from harness.stats.pricing import PriceError, parse_prices

    try:
        prices = parse_prices(parsed.prices, source=f"{path}: [tool.harness.prices]")
    except PriceError as exc:
        raise ConfigError(str(exc)) from None
    settings = Settings(
        root=root, models=tuple(parsed.models), baseline=parsed.baseline, target=parsed.target,
        samples=parsed.samples, cassette_dir=root / parsed.cassette_dir,
        report_dir=root / parsed.report_dir, keep_runs=parsed.keep_runs, retry=parsed.retry,
        alpha=parsed.alpha, gate=parsed.gate, gate_underpowered=parsed.gate_underpowered,
        prices=prices, secret_env=tuple(parsed.secret_env), vertex=parsed.vertex,
        base_url=parsed.base_url, replay=parsed.replay, concurrency=parsed.concurrency,
        rate_limits=dict(parsed.rate_limits))
    try:
        settings.check()
    except ConfigError as exc:
        raise ConfigError(f"{path}: [tool.harness]: {exc}") from None
    settings.check_baseline(f"{path}: [tool.harness]")
    return settings
