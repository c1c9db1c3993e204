"""Large base64 payloads (figures, input files) stored once, beside the cassettes.

A figure a model drew is base64 text inside a response body; recorded for every model and
every sample, the same bytes would be copied into many cassettes and bloat every diff. Before
a cassette is saved, each long base64 JSON string is written to
``<cassette root>/<target>/_blobs/<sha256>.<ext>`` (the decoded bytes, viewable as a file)
and replaced by a short reference; after a cassette is loaded, references are replaced by the
exact original text again, so the SDK and the matchers see what was recorded. Suite names
cannot start with ``_``, so ``_blobs`` never collides with a suite.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any

from harness.errors import CassetteError

MIN_CHARS = 4096  # shorter strings stay inline: references would not make cassettes smaller
_BASE64_STRING = re.compile(rb'"([A-Za-z0-9+/_-]{%d,}={0,2})"' % MIN_CHARS)
_REFERENCE = re.compile(rb'"harness-blob:([0-9a-f]{64})\.([a-z]+):(std|url)"')
# A whole raw body (a Files API upload chunk: the file's own bytes) stored as one blob.
_RAW_REFERENCE = re.compile(rb"harness-blob:([0-9a-f]{64})\.([a-z]+):raw")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF8", "gif"),
          (b"%PDF", "pdf"))


def blob_dir(cassette_path: str | Path) -> Path:
    """``<root>/<target>/_blobs`` for ``<root>/<target>/<suite>/<case>/<model>/<k>.yaml``."""
    return Path(cassette_path).parents[3] / "_blobs"


def _ext(data: bytes) -> str:
    return next((ext for magic, ext in _MAGIC if data.startswith(magic)), "bin")


def _decode_exact(text: bytes) -> tuple[bytes, str] | None:
    """The bytes and alphabet of a base64 text that re-encodes to exactly the same text."""
    for kind, decode, encode in (("std", base64.b64decode, base64.b64encode),
                                 ("url", base64.urlsafe_b64decode, base64.urlsafe_b64encode)):
        try:
            data = decode(text)
        except (binascii.Error, ValueError):
            continue
        if encode(data) == text:
            return data, kind
    return None


def _write_blob(data: bytes, directory: Path) -> tuple[str, str]:
    """Store ``data`` once as ``<sha256>.<ext>``; returns (digest, ext)."""
    digest = hashlib.sha256(data).hexdigest()
    ext = _ext(data)
    path = directory / f"{digest}.{ext}"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        # pid and thread: concurrent recordings in one process may store the same blob
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return digest, ext


def externalize_text(body: bytes, directory: Path) -> bytes:
    """Replace long base64 JSON strings by references, writing each blob once."""
    def swap(match: re.Match[bytes]) -> bytes:
        decoded = _decode_exact(match.group(1))
        if decoded is None:
            return match.group(0)  # not canonical base64: keep it inline, exactly
        data, kind = decoded
        digest, ext = _write_blob(data, directory)
        return f'"harness-blob:{digest}.{ext}:{kind}"'.encode()

    return _BASE64_STRING.sub(swap, body)


def externalize_raw(body: bytes, directory: Path) -> bytes:
    """A long request body that is not JSON (an upload's bytes) becomes one reference."""
    if len(body) < MIN_CHARS or body.lstrip()[:1] in (b"{", b"["):
        return externalize_text(body, directory)
    digest, ext = _write_blob(body, directory)
    return f"harness-blob:{digest}.{ext}:raw".encode()


def _read_blob(directory: Path, digest: str, ext: str) -> bytes:
    path = directory / f"{digest}.{ext}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CassetteError(f"the cassette refers to {path}, which is missing: restore it "
                            "from version control, or re-record the item") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise CassetteError(f"{path} does not match its name (sha256): restore it from "
                            "version control, or re-record the item")
    return data


def restore_raw(body: bytes, directory: Path) -> bytes:
    """Inverse of :func:`externalize_raw`."""
    match = _RAW_REFERENCE.fullmatch(body)
    if match is None:
        return restore_text(body, directory)
    return _read_blob(directory, match.group(1).decode(), match.group(2).decode())


def restore_text(body: bytes, directory: Path) -> bytes:
    """Put the original base64 text back in place of each reference.

    Raises:
        CassetteError: a referenced blob is missing or does not match its hash.
    """
    def swap(match: re.Match[bytes]) -> bytes:
        digest, ext, kind = (g.decode() for g in match.groups())
        data = _read_blob(directory, digest, ext)
        encode = base64.b64encode if kind == "std" else base64.urlsafe_b64encode
        return b'"' + encode(data) + b'"'

    return _REFERENCE.sub(swap, body)


def _map_bodies(request: Any, response: dict[str, Any], fn: Any, request_fn: Any) -> None:
    body = response.get("body", {}).get("string")
    if isinstance(body, str):
        response["body"]["string"] = fn(body.encode("utf-8")).decode("utf-8")
    elif isinstance(body, bytes):
        response["body"]["string"] = fn(body)
    if isinstance(request.body, bytes):
        request.body = request_fn(request.body)
    elif isinstance(request.body, str):
        request.body = fn(request.body.encode("utf-8")).decode("utf-8")


def before_save(request: Any, response: dict[str, Any], cassette: Any) -> tuple[Any, Any]:
    """The vcrpy ``before_save_interaction`` hook (it receives copies)."""
    directory = blob_dir(cassette._path)
    _map_bodies(request, response, lambda b: externalize_text(b, directory),
                lambda b: externalize_raw(b, directory))
    return request, response


def after_load(request: Any, response: dict[str, Any], cassette: Any) -> tuple[Any, Any]:
    """The vcrpy ``after_load_interaction`` hook."""
    directory = blob_dir(cassette._path)
    _map_bodies(request, response, lambda b: restore_text(b, directory),
                lambda b: restore_raw(b, directory))
    return request, response
