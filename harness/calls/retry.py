"""The harness's own retry policy, alike for every surface: what is retryable, and how long to wait.

Bounded attempts and backoff that honours Retry-After (DESIGN.md, Decisions: Retries); the
SDK's own retries are switched off (see :mod:`harness.calls.targets`).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.calls.targets import Endpoint
    from harness.config import RetrySettings
    from harness.spec.case import Case

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class IncompleteResponse(Exception):
    """A 2xx response that ended early (a stream without a finish reason); retried."""


class SessionDropped(IncompleteResponse):
    """A websocket session (the Live API) closed before its turn completed; retried.

    The message says which turn, the close code and the server's reason.
    """


class TransportFailure(Exception):
    """No connection: refused, TLS, timeout, a refused handshake without a status; retried.

    For transports the SDK does not wrap in its own errors (the Live API's websockets).
    """


class UnreadableResponse(Exception):
    """A 2xx response the SDK (or the transcript) could not read; retried like a 502.

    The message is the one-line reason, e.g. ``candidates[0].finishReason: 5 is not a string``.
    """


# What the SDK's response parsing raises on a body it cannot read: pydantic's
# ValidationError is a ValueError, and an enum given a number fails with an AttributeError.
PARSE_FAILURES = (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError)


def unreadable(exc: BaseException,
               response: tuple[int, Any, str] | None) -> UnreadableResponse | None:
    """Say why a call failed on a 2xx it received, or None if it did not get that far.

    Args:
        exc: What the SDK call raised.
        response: ``(status, body, content-encoding)`` of the newest response of the call
            (:meth:`harness.cassettes.recording.Recording.last_response`), or None.
    """
    if not isinstance(exc, PARSE_FAILURES) or response is None:
        return None
    status, body, encoding = response
    if not 200 <= status < 300:
        return None
    from harness.transcript.bodies import TranscriptError
    from harness.transcript.parse import parse_body

    if isinstance(exc, TranscriptError):
        return UnreadableResponse(str(exc).removeprefix("body: "))
    try:  # the transcript reader names the field the SDK tripped over
        parse_body(body if isinstance(body, str | bytes) else "", encoding=encoding)
    except TranscriptError as reason:
        return UnreadableResponse(str(reason).removeprefix("body: "))
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return UnreadableResponse(f"{type(exc).__name__}: {first[:200]}")


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
    if isinstance(exc, IncompleteResponse | UnreadableResponse | json.JSONDecodeError
                  | errors.UnknownApiResponseError | ierrors.APIResponseValidationError):
        return 502, None
    if isinstance(exc, errors.APIError):
        status, response = exc.code, exc.response
    elif isinstance(exc, ierrors.APIStatusError):
        status, response = exc.status_code, exc.response
    elif isinstance(exc, ierrors.APIConnectionError | httpx2.TransportError | TransportFailure):
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
                       attempts: int, endpoint: Endpoint | None = None) -> str:
    """One readable paragraph for an API failure.

    Args:
        exc: What the SDK raised (or the harness's reading of it).
        status: The HTTP status (503 for transport failures).
        case: The case being called.
        model: The model name.
        attempts: How many attempts were made.
        endpoint: Where the call went (the hint for 401/403/404 depends on the target).
    """
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(exc, UnreadableResponse):
        return (f"API error: the response to {case.api} for case {case.id!r} with model "
                f"{model!r} could not be read ({tries}): {exc}")
    if isinstance(exc, SessionDropped | TransportFailure):  # no HTTP status to show
        return (f"API error calling {case.api} for case {case.id!r} with model {model!r} "
                f"({tries}): {exc}")
    detail = getattr(exc, "message", None) or str(exc)
    hint = _hint(status, model, endpoint)
    return (f"API error {status} calling {case.api} for case {case.id!r} with model {model!r} "
            f"({tries}): "
            f"{type(exc).__name__}: {detail}{hint}")


def _hint(status: int, model: str, endpoint: Endpoint | None) -> str:
    """What to check after a 401, 403 or 404, for the target the call went to."""
    vertex = endpoint is not None and endpoint.target == "vertex"
    express = vertex and bool(endpoint and endpoint.vertex and endpoint.vertex.express)
    if status == 404:
        where = "Vertex AI serves (in this location)" if vertex else "this API serves"
        return f"\nIs {model!r} a model {where}? Check --model or `models` in [tool.harness]."
    if status not in (401, 403):
        return ""
    if express:
        return "\nCheck GOOGLE_API_KEY (or GEMINI_API_KEY): an express-mode key for Vertex AI."
    if vertex:
        return ("\nCheck Application Default Credentials (`gcloud auth application-default "
                "login`), that the project has the Vertex AI API enabled, and that the account "
                "may use it (roles/aiplatform.user).")
    return "\nCheck GEMINI_API_KEY."
