"""Targets: where calls go (Gemini API, simulator; Vertex later) and the SDK client for each.

google.genai is imported lazily, when the first client is made, so that
``pytest --collect-only`` never pays for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from harness.config import TARGETS
from harness.errors import SetupError

API_VERSION = "v1beta"  # the SDK defaults to v1 for the Gemini API; set it explicitly (Decisions)
REPLAY_KEY = "replay-placeholder-key"  # replay needs no key, but the SDK wants one
REPLAY_BASE_URL = "https://gemini.api.invalid/"  # replay never resolves a host
KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
SIM_KEY = "sim-key"  # the simulator wants a key, like the API, but any will do

_clients: dict[tuple[str, str, str | None], Any] = {}


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
    if target not in TARGETS:
        raise SetupError(f"target {target!r} is not supported yet (available: "
                         + ", ".join(TARGETS) + "); run with --target gemini")
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
            from harness.cassettes.replay import replay_http_client

            options.httpx_client = replay_http_client()
            options.base_url = REPLAY_BASE_URL
        elif endpoint.base_url is not None:
            options.base_url = endpoint.base_url
        # vertexai=False: the target decides the backend. Left unset, the SDK would read
        # GOOGLE_GENAI_USE_VERTEXAI / GOOGLE_GENAI_USE_ENTERPRISE and silently send Gemini
        # API traffic to Vertex AI.
        _clients[cache_key] = genai.Client(vertexai=False, api_key=key, http_options=options)
    return _clients[cache_key]
