"""Vertex AI credentials: Application Default Credentials, the replay stand-in, auth failures.

google-auth is imported here (and only under ``harness.calls``), lazily: replay and the other
targets never load it. Whatever token the SDK sends becomes a known secret when the recorder
sees it (:func:`harness.cassettes.scrub.before_record_request`), so a refreshed token is
covered too.
"""

from __future__ import annotations

from typing import Any

from harness.errors import SetupError

VERTEX_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
REPLAY_TOKEN = "replay-placeholder-token"  # not a secret: replay sends nothing anywhere
ADC_FIX = ("Run `gcloud auth application-default login`, or use express mode: express = true "
           "in [tool.harness.vertex] with GOOGLE_API_KEY (or GEMINI_API_KEY)")


def default_credentials() -> Any:
    """Application Default Credentials (google-auth), or a SetupError that says how to get them.

    Raises:
        SetupError: google-auth found no credentials.
    """
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=list(VERTEX_SCOPES))
    except DefaultCredentialsError as exc:
        raise SetupError("--target vertex found no Application Default Credentials "
                         f"({_first_line(exc)}). {ADC_FIX}") from None
    return credentials


def replay_credentials() -> Any:
    """A token credential without expiry: the SDK never refreshes it, so nothing is called."""
    from google.oauth2.credentials import Credentials

    return Credentials(token=REPLAY_TOKEN)  # type: ignore[no-untyped-call]


def auth_failure(exc: BaseException) -> SetupError | None:
    """The SetupError for a failed token refresh during a call, or None for anything else.

    The SDK refreshes Application Default Credentials when a request needs a token; a revoked
    or expired login raises google-auth's RefreshError from every surface, unwrapped.
    """
    import sys

    if "google.auth" not in sys.modules:  # nothing can have raised it
        return None
    from google.auth.exceptions import RefreshError

    if not isinstance(exc, RefreshError):
        return None
    return SetupError("--target vertex could not get an access token from Application Default "
                      f"Credentials (RefreshError: {_first_line(exc)}). {ADC_FIX}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
