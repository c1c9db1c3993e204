"""Responses in the API's error format, and the credential check that produces 401/403.

The Gemini API answers a request without a key with 403 PERMISSION_DENIED ("Method doesn't
allow unregistered callers..."); Vertex AI answers one without a bearer token (or express-mode
key) with 401 UNAUTHENTICATED. Any non-empty key or token is accepted: the simulator checks
presence, not validity.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from harness.sim import wire

COMMON_HEADERS = {"vary": "Origin, X-Origin, Referer", "x-content-type-options": "nosniff"}
NO_CALLER = ("Method doesn't allow unregistered callers (callers without established identity)."
             " Please use API Key or other form of API consumer identity to call this API.")
NO_CREDENTIAL = ("Request is missing required authentication credential. Expected OAuth 2 "
                 "access token, login cookie or other valid authentication credential. See "
                 "https://developers.google.com/identity/sign-in/web/devconsole-project.")


def json_response(value: Any, *, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """A pretty-printed JSON response, as the API sends unary responses."""
    return Response(wire.dumps(value, pretty=True), status_code=status,
                    media_type=wire.JSON_TYPE, headers={**COMMON_HEADERS, **(headers or {})})


def api_error(code: int, status: str, message: str, *, headers: dict[str, str] | None = None,
              details: list[dict[str, Any]] | None = None) -> Response:
    """An error response: ``{"error": {"code", "message", "status"}}`` with that HTTP status."""
    return Response(wire.error_body(code, status, message, details), status_code=code,
                    media_type=wire.JSON_TYPE, headers={**COMMON_HEADERS, **(headers or {})})


def auth_error(request: Request, *, vertex: bool) -> Response | None:
    """The API's answer to a request without credentials, or None when it has some."""
    key = request.headers.get("x-goog-api-key", "").strip()
    bearer = request.headers.get("authorization", "")
    if key or (bearer.lower().startswith("bearer ") and bearer[7:].strip()):
        return None
    if vertex:
        return api_error(401, "UNAUTHENTICATED", NO_CREDENTIAL)
    return api_error(403, "PERMISSION_DENIED", NO_CALLER)
