"""Calls: the target alone decides the backend, whatever the SDK's environment switches say."""

from __future__ import annotations

import pytest

from harness.calls import targets
from harness.calls.targets import Endpoint, make_client
from harness.config import VertexSettings


@pytest.mark.parametrize("variable", ["GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"])
@pytest.mark.parametrize("endpoint", [Endpoint("gemini", recording=False),
                                      Endpoint("sim", recording=True,
                                               base_url="http://127.0.0.1:9/")])
def test_vertex_switches_in_the_environment_do_not_move_traffic(
        monkeypatch: pytest.MonkeyPatch, variable: str, endpoint: Endpoint) -> None:
    monkeypatch.setenv(variable, "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "some-project")
    monkeypatch.setattr(targets, "_clients", {})
    client = make_client(endpoint)
    assert client.vertexai is False
    assert "aiplatform" not in str(client._api_client._http_options.base_url)


@pytest.mark.parametrize("variable", ["GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"])
@pytest.mark.parametrize("express", [False, True])
def test_vertex_stays_vertex_with_the_switches_off(
        monkeypatch: pytest.MonkeyPatch, variable: str, express: bool) -> None:
    monkeypatch.setenv(variable, "false")
    monkeypatch.setattr(targets, "_clients", {})
    client = make_client(Endpoint("vertex", recording=False,
                                  vertex=VertexSettings(express=express)))
    assert client.vertexai is True
    assert client._api_client._http_options.api_version == "v1beta1"
