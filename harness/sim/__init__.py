"""A local Gemini-compatible server whose ``sim-*`` models really run code (``harness sim``).

The unmodified google-genai SDK talks to it as to Google: generateContent, streaming (SSE),
interactions (plain, streamed, get, ``previous_interaction_id``), the Files upload pair,
Vertex AI paths and the API's error format. Point a client at :attr:`SimServer.base_url`::

    from harness import sim
    with sim.start(cases) as server:
        client = genai.Client(api_key="any", http_options={
            "base_url": server.base_url, "api_version": "v1beta"})

Everything it invents is deterministic for a (case, model, sample), so re-recording an
unchanged case changes nothing. Modules: ``app`` (routes), ``models`` (behaviours -> scripts),
``wire`` (scripts -> JSON/SSE), ``faults``, ``deliver``, ``parse``, ``files``, ``catalog``,
``server`` (uvicorn), ``cli`` (``harness sim``), ``devexec`` (development fallback executor).
"""

from __future__ import annotations

from harness.sim.app import CASE_HEADER, SAMPLE_HEADER
from harness.sim.catalog import SimCase
from harness.sim.faults import ATTEMPT_HEADER, ENV_VAR, FAULT_HEADER, FAULT_KINDS, FaultConfig
from harness.sim.models import FLAKY_MIX, SIM_MODELS
from harness.sim.server import SimServer, serve_forever, start

__all__ = [
    "ATTEMPT_HEADER", "CASE_HEADER", "ENV_VAR", "FAULT_HEADER", "FAULT_KINDS", "FLAKY_MIX",
    "SAMPLE_HEADER", "SIM_MODELS", "FaultConfig", "SimCase", "SimServer", "serve_forever",
    "start",
]
