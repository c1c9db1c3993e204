"""Known secret values never reach what the harness writes or logs."""

from __future__ import annotations

import logging

import pytest

from harness import redact
from harness.cassettes.scrub import scrub_uri

KEY = "AIzaSy-test-secret-0123456789"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    return KEY


@pytest.mark.parametrize("uri", [
    # the SDK appends ?alt=sse to a base URL that already has a query: one malformed query
    "https://gw.example/v1beta/models/m:streamGenerateContent?alt=sse?key=K9xYz",
    "https://gw.example/v1beta/models/m:generateContent?key=K9xYz&alt=json",
    "https://gw.example/v1beta/models/m:generateContent?alt=json&KEY=K9xYz",
    "https://gw.example/v1beta/models/m:generateContent?alt=sse%3Fkey%3DK9xYz",
    "https://gw.example/v1beta/models/m:generateContent?next=a%26key%253DK9xYz",
    "https://gw.example/upload/v1beta/files?upload_id=K9xYz&upload_protocol=resumable",
    "https://gw.example/v1beta/models/m:generateContent;key=K9xYz",
])
def test_secret_parameters_are_scrubbed_however_the_url_is_formed(uri: str) -> None:
    scrubbed = scrub_uri(uri)
    assert "K9xYz" not in scrubbed, scrubbed
    assert scrubbed.startswith("https://gemini.api.invalid/")


@pytest.mark.parametrize(("uri", "kept"), [
    ("https://h/upload/v1beta/files?upload_id=U1&upload_protocol=resumable",
     "https://gemini.api.invalid/upload/v1beta/files?upload_protocol=resumable"),
    ("https://h/v1beta/models/m:streamGenerateContent?alt=sse?key=K",
     "https://gemini.api.invalid/v1beta/models/m:streamGenerateContent?alt=sse"),
    ("https://h/v1beta/x?a=1&key=K&b=2", "https://gemini.api.invalid/v1beta/x?a=1&b=2"),
])
def test_the_rest_of_the_query_survives(uri: str, kept: str) -> None:
    assert scrub_uri(uri) == kept


def test_known_secret_values_are_replaced_wherever_they_are(
        key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert scrub_uri(f"https://gw.example/{key}/v1beta/models/m:generateContent") == (
        "https://gemini.api.invalid/REDACTED/v1beta/models/m:generateContent")
    monkeypatch.setenv("MY_TOKEN", "tok-1234567890")
    monkeypatch.setenv("SHORT", "1")
    redact.configure(["MY_TOKEN", "SHORT"])
    try:
        text = f"key {key}, token tok-1234567890, count 1"
        assert redact.redact(text) == "key REDACTED, token REDACTED, count 1"
        assert redact.redact_bytes(text.encode()) == b"key REDACTED, token REDACTED, count 1"
    finally:
        redact.configure(())


def test_log_lines_are_redacted(key: str, caplog: pytest.LogCaptureFixture) -> None:
    redact.install_log_redaction()
    with caplog.at_level(logging.DEBUG, logger="httpx2"):
        logging.getLogger("httpx2").debug("HTTP Request: POST %s", f"https://gw/?key={key}")
    assert key not in caplog.text and "REDACTED" in caplog.text


@pytest.mark.parametrize("host", ["oauth2.googleapis.com", "metadata.google.internal"])
def test_token_exchanges_are_never_recorded(host: str) -> None:
    from vcr.request import Request

    from harness.cassettes.scrub import before_record_request

    request = Request("POST", f"https://{host}/token", b"grant_type=refresh_token", {})
    assert before_record_request(request) is None
    kept = Request("POST", "https://aiplatform.googleapis.com/v1beta1/x", b"{}",
                   {"Authorization": "Bearer ya29.t"})
    assert "Authorization" not in before_record_request(kept).headers


@pytest.mark.parametrize(("recorded", "live"), [
    ("https://us-central1-aiplatform.googleapis.com/v1beta1/projects/my-proj-7731/locations/"
     "us-central1/publishers/google/models/m:generateContent",
     "https://gemini.api.invalid/v1beta1/projects/PROJECT/locations/LOCATION/publishers/google/"
     "models/m:generateContent"),
    ("https://aiplatform.googleapis.com/v1beta1/projects/123456/locations/global/publishers/"
     "google/models/m:streamGenerateContent?alt=sse",
     "https://gemini.api.invalid/v1beta1/projects/PROJECT/locations/LOCATION/publishers/google/"
     "models/m:streamGenerateContent?alt=sse"),
    ("https://europe-west9-aiplatform.googleapis.com/v1beta1/projects/p/locations/europe-west9/"
     "interactions/v1_abc",
     "https://gemini.api.invalid/v1beta1/projects/PROJECT/locations/LOCATION/interactions/v1_abc"),
    ("https://aiplatform.googleapis.com/v1beta1/publishers/google/models/m:generateContent",
     "https://gemini.api.invalid/v1beta1/publishers/google/models/m:generateContent"),
], ids=["regional", "global-stream", "interactions", "express"])
def test_vertex_project_and_location_become_placeholders(recorded: str, live: str) -> None:
    assert scrub_uri(recorded) == live
    assert scrub_uri(live) == live  # replay's placeholders scrub to the same: they match


def test_a_bearer_token_the_recorder_sees_is_a_secret_from_then_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vcr.request import Request

    from harness.cassettes.scrub import before_record_request

    monkeypatch.setattr(redact, "_extra", set())
    token, key = "ya29.minted-by-google-auth-41c7", "express-header-key-93d1"
    request = Request("POST", "https://aiplatform.googleapis.com/v1beta1/x", b"{}",
                      {"Authorization": f"Bearer {token}", "x-goog-api-key": key})
    scrubbed = before_record_request(request)
    assert not {"authorization", "x-goog-api-key"} & {h.lower() for h in scrubbed.headers}
    assert redact.redact(f"401: token {token} rejected for {key}") == (
        "401: token REDACTED rejected for REDACTED")
    assert redact.redact("Bearer") == "Bearer"  # the scheme itself is no secret
