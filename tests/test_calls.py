"""Calls: the target alone decides the backend, whatever the SDK's environment switches say;
Vertex AI settings, credentials and error hints."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.calls import credentials, targets
from harness.calls.retry import describe_api_error
from harness.calls.targets import Endpoint, make_client
from harness.config import VertexSettings
from harness.errors import SetupError


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


@pytest.mark.parametrize("variable", ["GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"])
def test_recording_vertex_with_the_switches_off_is_still_vertex(
        monkeypatch: pytest.MonkeyPatch, adc: list[str], variable: str) -> None:
    monkeypatch.setenv(variable, "false")
    client = make_client(Endpoint("vertex", recording=True, base_url="http://127.0.0.1:9/",
                                  vertex=VertexSettings(project="p", location="l")))
    assert client.vertexai is True and adc == ["default"]


@pytest.fixture
def adc(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """google.auth.default answering with a token credential; the list records each call."""
    import google.auth
    import google.oauth2.credentials

    calls: list[str] = []

    def default(scopes: object = None, **kwargs: object) -> tuple[object, str]:
        calls.append("default")
        return google.oauth2.credentials.Credentials(token="adc-token-0f9e"), "adc-project"

    monkeypatch.setattr(google.auth, "default", default)
    monkeypatch.setattr(targets, "_clients", {})
    for name in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_API_KEY",
                 "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return calls


@pytest.mark.parametrize(("table", "env", "expected"), [
    (VertexSettings(project="tp", location="tl"), {"GOOGLE_CLOUD_PROJECT": "ep",
                                                   "GOOGLE_CLOUD_LOCATION": "el"}, ("tp", "tl")),
    (VertexSettings(project="tp"), {"GOOGLE_CLOUD_LOCATION": "el"}, ("tp", "el")),
    (VertexSettings(), {"GOOGLE_CLOUD_PROJECT": "ep", "GOOGLE_CLOUD_LOCATION": "el"},
     ("ep", "el")),
], ids=["table-wins", "mixed", "environment"])
def test_vertex_project_and_location_come_from_the_table_then_the_environment(
        monkeypatch: pytest.MonkeyPatch, adc: list[str], table: VertexSettings,
        env: dict[str, str], expected: tuple[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = make_client(Endpoint("vertex", recording=True, vertex=table))
    assert (client._api_client.project, client._api_client.location) == expected
    assert client._api_client._http_options.api_version == "v1beta1"
    make_client(Endpoint("vertex", recording=True, vertex=table))
    assert adc == ["default"]  # ADC is loaded once per client, not per item


@pytest.mark.parametrize(("table", "missing"), [
    (VertexSettings(), "a project and a location"),
    (VertexSettings(project="p"), "a location:"),
])
def test_vertex_without_project_or_location_names_both_places(
        adc: list[str], table: VertexSettings, missing: str) -> None:
    with pytest.raises(SetupError) as info:
        make_client(Endpoint("vertex", recording=True, vertex=table))
    message = str(info.value)
    assert f"--target vertex needs {missing}" in message
    assert "[tool.harness.vertex]" in message and "GOOGLE_CLOUD_PROJECT" in message
    assert adc == []  # nothing was asked of google-auth
    # replay needs neither: placeholders, and a token that is never refreshed
    client = make_client(Endpoint("vertex", recording=False, vertex=table))
    assert client._api_client.project == "PROJECT" and adc == []


def test_express_mode_takes_either_key_variable(monkeypatch: pytest.MonkeyPatch,
                                                adc: list[str]) -> None:
    express = Endpoint("vertex", recording=True, vertex=VertexSettings(express=True))
    with pytest.raises(SetupError, match=r"needs an API key: set GOOGLE_API_KEY \(or "
                                         r"GEMINI_API_KEY\)"):
        make_client(express)
    monkeypatch.setenv("GEMINI_API_KEY", "express-key-77aa")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "ignored")  # the key wins, as the SDK says
    client = make_client(express)
    assert client.vertexai is True and client._api_client.api_key == "express-key-77aa"
    assert client._api_client.project is None and adc == []


def test_adc_missing_or_expired_is_a_setup_error_that_says_how(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError, RefreshError

    def no_adc(**kwargs: object) -> None:
        raise DefaultCredentialsError("File /nope.json was not found.")

    monkeypatch.setattr(google.auth, "default", no_adc)
    with pytest.raises(SetupError, match=r"found no Application Default Credentials \(File "
                                         r"/nope.json was not found.\)\. Run `gcloud auth "
                                         r"application-default login`, or use express mode"):
        credentials.default_credentials()
    expired = credentials.auth_failure(RefreshError("Reauthentication is needed.\nmore"))
    assert expired is not None
    assert str(expired).startswith("--target vertex could not get an access token from "
                                   "Application Default Credentials (RefreshError: "
                                   "Reauthentication is needed.). Run `gcloud auth")
    assert credentials.auth_failure(ValueError("x")) is None


@pytest.mark.parametrize(("endpoint", "status", "hint"), [
    (Endpoint("gemini", recording=True), 403, "Check GEMINI_API_KEY."),
    (Endpoint("vertex", recording=True, vertex=VertexSettings(project="p", location="l")), 403,
     "gcloud auth application-default login`), that the project has the Vertex AI API enabled"),
    (Endpoint("vertex", recording=True, vertex=VertexSettings(express=True)), 401,
     "Check GOOGLE_API_KEY (or GEMINI_API_KEY): an express-mode key for Vertex AI."),
    (Endpoint("vertex", recording=True, vertex=VertexSettings(project="p", location="l")), 404,
     "Is 'm' a model Vertex AI serves (in this location)?"),
    (Endpoint("gemini", recording=True), 404, "Is 'm' a model this API serves?"),
], ids=["gemini-403", "vertex-403", "express-401", "vertex-404", "gemini-404"])
def test_api_error_hints_fit_the_target(endpoint: Endpoint, status: int, hint: str) -> None:
    case = SimpleNamespace(api="generate_content", id="c")
    text = describe_api_error(RuntimeError("denied"), status, case, "m", 1,  # type: ignore[arg-type]
                              endpoint)
    assert hint in text
    assert ("GEMINI_API_KEY." in text) == (hint == "Check GEMINI_API_KEY.")
