"""What is stored of an exchange: secrets, hosts and Vertex scopes scrubbed, only 2xx kept.

vcrpy applies :func:`before_record_request` both before storing and before matching, so a
scrubbed recording still matches the live request it came from.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.redact import add_secret, redact, redact_bytes
from harness.transcript.bodies import inflate

SECRET_REQUEST_HEADERS = frozenset({
    "x-goog-api-key", "authorization", "x-goog-user-project", "cookie",
    # Vary by machine and SDK version: stored they only make re-records noisy.
    "user-agent", "x-goog-api-client", "host", "content-length", "accept-encoding", "connection",
})
# Their values are secrets wherever they turn up again (a token echoed in an error, say).
CREDENTIAL_HEADERS = frozenset({"x-goog-api-key", "authorization"})
# Headers the harness itself sends (case id, sample) to backends that want them: never stored.
HARNESS_HEADER_PREFIX = "x-harness-"
KEPT_RESPONSE_HEADERS = frozenset({"content-type", "x-goog-upload-status", "x-goog-upload-url"})
PLACEHOLDER_HOST = "https://gemini.api.invalid"
SECRET_QUERY_PARAMS = frozenset({"key", "upload_id"})
# Where google-auth gets and refreshes tokens (and the GCE metadata server it asks on Cloud).
AUTH_HOSTS = frozenset({"oauth2.googleapis.com", "sts.googleapis.com", "accounts.google.com",
                        "metadata.google.internal", "169.254.169.254"})
_VERTEX_SCOPE = re.compile(r"/projects/[^/]+/locations/[^/]+/")


# A secret parameter wherever it hides: after ?, & or ; (plain, percent-encoded, or encoded
# twice), even inside another parameter's value, as in `alt=sse?key=K`: the SDK appends
# `?alt=sse` to a base URL that already has a query.
_SECRET_PARAM = re.compile(
    r"([?&;]|%3F|%26|%3B|%253F|%2526)(?:" + "|".join(sorted(SECRET_QUERY_PARAMS))
    + r")(?:=|%3D|%253D)[^&#;]*", re.IGNORECASE)


def _drop_param(match: re.Match[str]) -> str:
    # Keep the `?` that starts the query: `files?upload_id=U&upload_protocol=resumable` must
    # keep `?upload_protocol=resumable` (one inside a value, as in `alt=sse?key=K`, goes).
    starts_query = match.group(1) == "?" and match.start() == match.string.find("?")
    return "?" if starts_query else ""


def scrub_uri(uri: str) -> str:
    """Replace the host, drop secret query values and the Vertex project/location.

    Secret parameters are removed however the URL is formed (see ``_SECRET_PARAM``), and
    every known secret value (:mod:`harness.redact`) is replaced wherever it appears.
    """
    uri = redact(_SECRET_PARAM.sub(_drop_param, uri))
    parts = urlsplit(uri)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k not in SECRET_QUERY_PARAMS])
    path = _VERTEX_SCOPE.sub("/projects/PROJECT/locations/LOCATION/", parts.path)
    base = urlsplit(PLACEHOLDER_HOST)
    return urlunsplit((base.scheme, base.netloc, path, query, ""))


def remember_credential(value: object) -> None:
    """Make a credential header's value a known secret (:func:`harness.redact.add_secret`).

    A bearer token is minted by google-auth, not read from a variable the harness knows, and
    a refresh mints a new one: learning each from the request that carries it means every
    token is replaced wherever the harness later writes or logs (messages, records, reports).
    """
    for item in value if isinstance(value, list | tuple) else [value]:
        if isinstance(item, str):
            scheme, _, token = item.strip().partition(" ")
            add_secret(token.strip() if scheme.lower() == "bearer" and token else item.strip())


def before_record_request(request: Any) -> Any:
    """Normalise a vcrpy request for storing and for matching (vcrpy applies it to both).

    OAuth exchanges (a token refresh of Vertex AI's credentials) are never stored: None
    tells vcrpy to leave the request alone. Credential headers are dropped, and their values
    become known secrets first (:func:`remember_credential`).
    """
    if (urlsplit(request.uri).hostname or "").lower() in AUTH_HOSTS:
        return None
    request.method = request.method.upper()  # aiohttp records 'post', httpx2 'POST'
    for name in list(request.headers):
        low = name.lower()
        if low in CREDENTIAL_HEADERS:
            remember_credential(request.headers[name])
        if low in SECRET_REQUEST_HEADERS or low.startswith(HARNESS_HEADER_PREFIX):
            del request.headers[name]
        elif isinstance(request.headers[name], str):
            request.headers[name] = redact(request.headers[name])
    request.uri = scrub_uri(request.uri)
    if isinstance(request.body, bytes):
        request.body = redact_bytes(request.body)
    elif isinstance(request.body, str):
        request.body = redact(request.body)
    return request


def before_record_response(response: dict[str, Any]) -> dict[str, Any] | None:
    """Keep only 2xx exchanges, with a small allow-list of response headers."""
    status = response.get("status", {}).get("code", 0)
    if not 200 <= int(status) < 300:
        return None  # a 429 or 5xx must never become the recording
    _inflate(response)
    headers = {}
    for name, values in response.get("headers", {}).items():
        if name.lower() not in KEPT_RESPONSE_HEADERS:
            continue
        if name.lower() == "x-goog-upload-url":
            values = [scrub_uri(v) for v in values]
        headers[name] = [redact(v) if isinstance(v, str) else v for v in values]
    response["headers"] = headers
    body = response.get("body", {})
    if isinstance(body.get("string"), bytes):
        body["string"] = redact_bytes(body["string"])
    elif isinstance(body.get("string"), str):
        body["string"] = redact(body["string"])
    return response


def _inflate(response: dict[str, Any]) -> None:
    """Store bodies decompressed (gzip, deflate), capped: a bomb is refused, not inflated.

    vcrpy runs this on every response it records and on every one it loads from a cassette.

    Raises:
        TranscriptError: the body does not decompress, or inflates beyond the cap.
    """
    headers = response.get("headers") or {}
    name = next((k for k in headers if k.lower() == "content-encoding"), None)
    encoding = ",".join(headers[name]).lower() if name else ""
    body = response.get("body") or {}
    if not ("gzip" in encoding or "deflate" in encoding) or not isinstance(body.get("string"),
                                                                           bytes):
        return
    body["string"] = inflate(body["string"], encoding, where="a response body")
    del headers[name]
    for key in [k for k in headers if k.lower() == "content-length"]:
        headers[key] = [str(len(body["string"]))]
