"""Known secret values, replaced wherever the harness writes or logs.

Header and query filters (:mod:`harness.cassettes.scrub`) remove secrets by *where* they are;
this module removes them by *what* they are: the values of the API key variables and of every
variable listed in ``[tool.harness] secret_env``, wherever they turn up (a key in a gateway
path echoed by a 404, a token in a log line). Cassettes, result records, reports, history,
the messages pytest prints and log records all pass through :func:`redact`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

PLACEHOLDER = "REDACTED"
KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
MIN_SECRET_CHARS = 8  # shorter values ("1", "true") would redact ordinary text

_secret_env: tuple[str, ...] = ()
_extra: set[str] = set()


def configure(secret_env: Iterable[str] = ()) -> None:
    """Name the variables whose values are secrets, besides the API key variables."""
    global _secret_env
    _secret_env = tuple(dict.fromkeys(secret_env))


def add_secret(value: str) -> None:
    """Treat ``value`` (a bearer token, say) as a secret from now on."""
    if len(value) >= MIN_SECRET_CHARS:
        _extra.add(value)


def known_secrets() -> list[str]:
    """Every secret value known now, longest first (so no secret is half-replaced)."""
    values = {os.environ.get(name, "") for name in (*KEY_ENV_VARS, *_secret_env)} | _extra
    return sorted((v for v in values if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every known secret value replaced by :data:`PLACEHOLDER`."""
    for secret in known_secrets():
        if secret in text:
            text = text.replace(secret, PLACEHOLDER)
    return text


def redact_bytes(data: bytes) -> bytes:
    """:func:`redact` for bytes (secrets compared as UTF-8)."""
    for secret in known_secrets():
        raw = secret.encode("utf-8")
        if raw in data:
            data = data.replace(raw, PLACEHOLDER.encode())
    return data


_factory_installed = False


def install_log_redaction() -> None:
    """Redact every log record as it is made (httpx2 and vcr log full URLs at DEBUG).

    A record factory sees records of every logger, whatever handler pytest or the user
    attached later; a logger filter would miss the records of child loggers.
    """
    global _factory_installed
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if known_secrets():
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
