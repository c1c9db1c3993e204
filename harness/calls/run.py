"""Calling Gemini: targets (backends), API surfaces, and the harness's own retry policy.

google.genai is imported here and in ``harness.transcript`` only, and lazily, so that
``pytest --collect-only`` never pays for it.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.config import IMPLEMENTED_TARGETS, RetrySettings
from harness.errors import ApiError, SetupError
from harness.steps import Transcript

if TYPE_CHECKING:
    from harness.recording import Recording
    from harness.spec import Case

API_VERSION = "v1beta"  # the SDK defaults to v1 for the Gemini API; set it explicitly (Decisions)
REPLAY_KEY = "replay-placeholder-key"  # replay needs no key, but the SDK wants one
REPLAY_BASE_URL = "https://gemini.api.invalid/"  # replay never resolves a host
KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
SURFACES = ("generate_content", "stream", "interactions")

_clients: dict[tuple[str, str, str | None], Any] = {}
SIM_KEY = "sim-key"  # the simulator wants a key, like the API, but any will do


@dataclass(frozen=True)
class Endpoint:
    """Where calls go.

    Attributes:
        target: ``gemini`` | ``sim`` (``vertex`` later).
        recording: False when replaying (no network, placeholder key).
        base_url: The simulator's URL; None for the SDK's default (or GOOGLE_GEMINI_BASE_URL).
    """

    target: str
    recording: bool
    base_url: str | None = None

    @property
    def sends_case_headers(self) -> bool:
        """The simulator needs to know the case and sample (identical prompts exist)."""
        return self.target == "sim" and self.recording


@dataclass(frozen=True)
class Timing:
    """Record-time measurements of the successful attempt."""

    latency_s: float
    ttft_s: float | None


def api_key_from_env() -> str | None:
    """The key from GEMINI_API_KEY or GOOGLE_API_KEY (None when neither is set)."""
    for name in KEY_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return None


def make_client(endpoint: Endpoint) -> Any:
    """A cached ``genai.Client`` for the endpoint; replay gets a placeholder key.

    Raises:
        SetupError: an unsupported target, or recording the Gemini API without a key.
    """
    target, recording = endpoint.target, endpoint.recording
    if target not in IMPLEMENTED_TARGETS:
        raise SetupError(f"target {target!r} is not supported yet (available: "
                         + ", ".join(IMPLEMENTED_TARGETS) + "); run with --target gemini")
    if not recording:
        key: str | None = REPLAY_KEY
    elif target == "sim":
        key = SIM_KEY
    else:
        key = api_key_from_env()
    if key is None:
        raise SetupError("recording needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), "
                         "e.g. `export GEMINI_API_KEY=...`. Replaying (--record-mode=none, the "
                         "default) needs none, nor does recording the simulator (--target sim).")
    # The SDK reads GOOGLE_GEMINI_BASE_URL when the client is made: part of the cache key.
    base_url = endpoint.base_url or os.environ.get("GOOGLE_GEMINI_BASE_URL")
    cache_key = (target, key, base_url)
    if cache_key not in _clients:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            api_version=API_VERSION,
            # attempts=1: the SDK's own retries (on by default for interactions) would hide
            # failures from the harness's policy, which treats every surface alike.
            retry_options=types.HttpRetryOptions(attempts=1))
        if not recording:
            from harness.replay import replay_http_client

            options.httpx_client = replay_http_client()
            options.base_url = REPLAY_BASE_URL
        elif endpoint.base_url is not None:
            options.base_url = endpoint.base_url
        _clients[cache_key] = genai.Client(api_key=key, http_options=options)
    return _clients[cache_key]


_configs: dict[int, tuple[Case, Any]] = {}


def _generate_config(case: Case) -> Any:
    """The SDK config for a case, built once per case (it is immutable)."""
    cached = _configs.get(id(case))
    if cached is not None and cached[0] is case:
        return cached[1]
    config = _build_generate_config(case)
    _configs[id(case)] = (case, config)
    return config


def _build_generate_config(case: Case) -> Any:
    from google.genai import types

    cfg = case.config
    thinking = None
    if cfg.thinking is not None:
        thinking = types.ThinkingConfig(thinking_budget=cfg.thinking.budget,
                                        include_thoughts=cfg.thinking.include_thoughts)
    return types.GenerateContentConfig(
        tools=[types.Tool(code_execution=types.ToolCodeExecution())],
        temperature=cfg.temperature, seed=cfg.seed, max_output_tokens=cfg.max_output_tokens,
        system_instruction=cfg.system_instruction, thinking_config=thinking)


def _interaction_kwargs(case: Case) -> dict[str, Any]:
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
    kwargs: dict[str, Any] = {"tools": [{"type": "code_execution"}]}
    if generation:
        kwargs["generation_config"] = generation
    if cfg.system_instruction is not None:
        kwargs["system_instruction"] = cfg.system_instruction
    return kwargs


class IncompleteResponse(Exception):
    """A 2xx response that ended early (a stream without a finish reason); retried."""


def _call_once(client: Any, case: Case, model: str,
               headers: dict[str, str] | None) -> tuple[Transcript, Timing]:
    from harness import transcript

    start = time.perf_counter()
    if case.api == "interactions":
        interaction = client.interactions.create(model=model, input=case.prompt,
                                                 extra_headers=headers,
                                                 **_interaction_kwargs(case))
        timing = Timing(time.perf_counter() - start, None)
        return transcript.from_interaction(interaction, latency_s=timing.latency_s), timing
    if case.api not in ("generate_content", "stream"):
        raise SetupError(f"{case.location()}: api {case.api!r} is not supported yet; "
                         "available: " + ", ".join(SURFACES))
    config = _generate_config(case)
    if headers:
        from google.genai import types

        config = config.model_copy(update={"http_options": types.HttpOptions(headers=headers)})
    if case.api == "generate_content":
        response = client.models.generate_content(model=model, contents=case.prompt,
                                                  config=config)
        timing = Timing(time.perf_counter() - start, None)
        return transcript.from_generate_content([response], latency_s=timing.latency_s), timing
    chunks: list[Any] = []
    ttft = None
    for chunk in client.models.generate_content_stream(model=model, contents=case.prompt,
                                                       config=config):
        if ttft is None:
            ttft = time.perf_counter() - start
        chunks.append(chunk)
    timing = Timing(time.perf_counter() - start, ttft)
    result = transcript.from_generate_content(chunks, latency_s=timing.latency_s, ttft_s=ttft)
    if result.finish_reason is None:
        # The API always ends a stream with a finish reason: this one was cut short.
        raise IncompleteResponse("the stream ended without a chunk carrying a finish reason")
    return result, timing


def run_case(case: Case, model: str, *, endpoint: Endpoint, recording: Recording,
             retry: RetrySettings, sample: int = 1,
             sleep: Callable[[float], None] = time.sleep) -> Transcript:
    """Drive the case's API surface through the SDK inside an open cassette.

    In replay the stored record-time timing replaces the (instant) replay timing.

    Raises:
        ApiError: the call failed after the retry policy gave up (or at once when replaying).
        SetupError: the target or the case cannot be called as configured.
    """
    client = make_client(endpoint)
    attempts = 1 if recording.replaying else retry.attempts
    for attempt in range(1, attempts + 1):
        mark = recording.mark()
        headers = None
        if endpoint.sends_case_headers:
            headers = {"x-harness-case": f"{case.suite}/{case.id}",
                       "x-harness-sample": str(sample), "x-harness-attempt": str(attempt)}
        try:
            result, timing = _call_once(client, case, model, headers)
        except Exception as exc:
            status, retry_after = classify(exc)
            if status is None:
                raise  # not an API/transport failure: cassette misses and bugs pass through
            if status not in RETRYABLE_STATUS or attempt == attempts:
                raise ApiError(describe_api_error(exc, status, case, model, attempt)) from None
            recording.rollback(mark)  # nothing of a failed attempt may end up in the cassette
            sleep(backoff(retry, attempt, retry_after))
            continue
        if recording.replaying:
            stored = recording.stored_timing()
            return _with_timing(result, stored.get("latency_s"), stored.get("ttft_s"))
        if endpoint.target == "sim":
            # A local simulator's timing says nothing about a model, and storing it would
            # make re-records of unchanged cases differ: simulated runs carry no latency.
            return _with_timing(result, None, None)
        # vcrpy reads a streamed body to its end before the SDK sees the first chunk, so a
        # time to first chunk measured here would only repeat the latency: store none.
        recording.store_timing({"latency_s": round(timing.latency_s, 3), "ttft_s": None})
        return _with_timing(result, timing.latency_s, None)
    raise AssertionError("unreachable")  # pragma: no cover


def _with_timing(t: Transcript, latency: float | None, ttft: float | None) -> Transcript:
    from dataclasses import replace

    return replace(t, latency_s=latency, ttft_s=ttft)


def backoff(retry: RetrySettings, attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``attempt`` (Retry-After wins, capped)."""
    if retry_after is not None:
        return min(retry.max_delay, max(0.0, retry_after))
    base = retry.initial_delay * retry.multiplier ** (attempt - 1)
    return min(retry.max_delay, base * (0.75 + random.random() / 2))  # jitter spreads retries


def classify(exc: BaseException) -> tuple[int | None, float | None]:
    """(status, retry_after) of an API or transport failure; (None, None) for anything else.

    Transport failures (connection refused/reset, cut streams) count as status 503; a 2xx
    whose body is broken or ends early (malformed JSON, no finish reason) counts as 502.
    """
    import json

    import httpx2
    from google.genai import _interactions as ierrors
    from google.genai import errors

    response = None
    status: int | None = None
    if isinstance(exc, IncompleteResponse | json.JSONDecodeError | errors.UnknownApiResponseError
                  | ierrors.APIResponseValidationError):
        return 502, None
    if isinstance(exc, errors.APIError):
        status, response = exc.code, exc.response
    elif isinstance(exc, ierrors.APIStatusError):
        status, response = exc.status_code, exc.response
    elif isinstance(exc, ierrors.APIConnectionError | httpx2.TransportError):
        return 503, None
    if status is None:
        return None, None
    headers = getattr(response, "headers", None) or {}
    return status, _retry_after(headers)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # an HTTP date: fall back to backoff rather than parse clocks


def describe_api_error(exc: BaseException, status: int, case: Case, model: str,
                       attempts: int) -> str:
    """One readable paragraph for an API failure."""
    detail = getattr(exc, "message", None) or str(exc)
    hint = ""
    if status == 404:
        hint = (f"\nIs {model!r} a model this API serves? Check --model or `models` in "
                "[tool.harness].")
    elif status in (401, 403):
        hint = "\nCheck GEMINI_API_KEY."
    return (f"API error {status} calling {case.api} for case {case.id!r} with model {model!r} "
            f"(after {attempts} attempt{'s' if attempts != 1 else ''}): "
            f"{type(exc).__name__}: {detail}{hint}")
