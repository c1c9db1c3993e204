"""Targets: where calls go (Gemini API, Vertex AI, simulator) and the SDK client for each.

The target alone picks the backend: the client is always made with ``vertexai`` set, so the
SDK's environment switches (GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_ENTERPRISE) never
move traffic. Vertex AI uses Application Default Credentials through google-auth, or express
mode with an API key; replay needs neither (a placeholder token that is never refreshed).

google.genai is imported lazily, when the first client is made, so that
``pytest --collect-only`` never pays for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from harness.calls.credentials import default_credentials, replay_credentials
from harness.config import TARGETS, VertexSettings
from harness.errors import SetupError

API_VERSION = "v1beta"  # the SDK defaults to v1 for the Gemini API; set it explicitly (Decisions)
VERTEX_API_VERSION = "v1beta1"
# Replay scrubs project and location from paths (harness.cassettes.scrub) before matching, so
# any values do; these name what they stand for.
REPLAY_PROJECT, REPLAY_LOCATION = "PROJECT", "LOCATION"
REPLAY_KEY = "replay-placeholder-key"  # replay needs no key, but the SDK wants one
REPLAY_BASE_URL = "https://gemini.api.invalid/"  # replay never resolves a host
KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
SIM_KEY = "sim-key"  # the simulator wants a key, like the API, but any will do

_clients: dict[tuple[str | None, ...], Any] = {}


@dataclass(frozen=True)
class Endpoint:
    """Where calls go.

    Attributes:
        target: ``gemini`` | ``vertex`` | ``sim``.
        recording: False when replaying (no network, placeholder key).
        base_url: The simulator's URL or a gateway; None for the SDK's default (or
            GOOGLE_GEMINI_BASE_URL / GOOGLE_VERTEX_BASE_URL).
        vertex: Project, location and express mode (``vertex`` only).
        cafile: A certificate to trust for ``wss`` (the simulator's own, for ``api: live``:
            the SDK always connects the Live API with TLS); None for the system's.
    """

    target: str
    recording: bool
    base_url: str | None = None
    vertex: VertexSettings | None = None
    cafile: str | None = None

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
        SetupError: an unsupported target, recording the Gemini API (or Vertex express mode)
            without a key, or Vertex AI without a project, location or credentials.
    """
    target, recording = endpoint.target, endpoint.recording
    if target not in TARGETS:
        raise SetupError(f"unknown target {target!r} (available: " + ", ".join(TARGETS) + ")")
    if target == "vertex":
        return _vertex_client(endpoint)
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
    cache_key = (target, key, base_url, endpoint.cafile)
    if cache_key not in _clients:
        from google import genai

        # vertexai=False: the target decides the backend. Left unset, the SDK would read
        # GOOGLE_GENAI_USE_VERTEXAI / GOOGLE_GENAI_USE_ENTERPRISE and silently send Gemini
        # API traffic to Vertex AI.
        _clients[cache_key] = genai.Client(vertexai=False, api_key=key,
                                           http_options=_options(endpoint, API_VERSION))
    return _clients[cache_key]


def _options(endpoint: Endpoint, version: str) -> Any:
    from google.genai import types

    options = types.HttpOptions(
        api_version=version,
        # attempts=1: the SDK's own retries (on by default for interactions) would hide
        # failures from the harness's policy, which treats every surface alike.
        retry_options=types.HttpRetryOptions(attempts=1))
    if not endpoint.recording:
        from harness.cassettes.replay import replay_http_client

        options.httpx_client = replay_http_client()
        options.base_url = REPLAY_BASE_URL
    elif endpoint.base_url is not None:
        options.base_url = endpoint.base_url
    if endpoint.cafile is not None and endpoint.recording:
        import ssl

        # The SDK hands `async_client_args["ssl"]` to its websocket connect (Live API) only.
        options.async_client_args = {"ssl": ssl.create_default_context(cafile=endpoint.cafile)}
    return options


def _vertex_client(endpoint: Endpoint) -> Any:
    """Vertex AI: express mode with a key, or a project and location with ADC."""
    from google import genai

    vertex = endpoint.vertex or VertexSettings()
    base_url = endpoint.base_url or os.environ.get("GOOGLE_VERTEX_BASE_URL")
    if vertex.express:
        key = api_key_from_env() if endpoint.recording else REPLAY_KEY
        if key is None:
            raise SetupError("recording Vertex AI in express mode (`express = true` in "
                             "[tool.harness.vertex]) needs an API key: set GOOGLE_API_KEY (or "
                             "GEMINI_API_KEY), e.g. `export GOOGLE_API_KEY=...`")
        cache_key: tuple[str | None, ...] = ("vertex-express", key, base_url)
        if cache_key not in _clients:
            _clients[cache_key] = genai.Client(
                vertexai=True, api_key=key,
                http_options=_options(endpoint, VERTEX_API_VERSION))
        return _clients[cache_key]
    if endpoint.recording:
        project = vertex.project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        location = vertex.location or os.environ.get("GOOGLE_CLOUD_LOCATION")
        missing = [n for n, v in (("project", project), ("location", location)) if not v]
        if missing:
            raise SetupError(
                f"--target vertex needs a {' and a '.join(missing)}: set them in "
                "[tool.harness.vertex] (project = \"my-project\", location = \"us-central1\") "
                "or in GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION; or use express mode "
                "(express = true) with GOOGLE_API_KEY")
    else:
        project, location = REPLAY_PROJECT, REPLAY_LOCATION
    cache_key = ("vertex", str(project), str(location), str(base_url), str(endpoint.recording))
    if cache_key not in _clients:
        # ADC once per client: the SDK refreshes the token itself when it expires.
        credentials = default_credentials() if endpoint.recording else replay_credentials()
        _clients[cache_key] = genai.Client(
            vertexai=True, project=project, location=location, credentials=credentials,
            http_options=_options(endpoint, VERTEX_API_VERSION))
    return _clients[cache_key]

