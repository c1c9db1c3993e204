"""The pool <-> zygote wire format: a JSON header plus raw binary blobs, length-prefixed.

One message is ``u32 header length, u32 blob count, header JSON, (u64 length, bytes) per blob``.
Blobs carry input files and PNGs without base64. Both ends are trusted (the zygote is started
by the pool); the size caps only stop a corrupted stream from allocating without bound.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Sequence
from typing import Any

_HEAD = struct.Struct("!II")
_BLOB = struct.Struct("!Q")
MAX_HEADER = 64 * 1024 * 1024
MAX_BLOB = 1024 * 1024 * 1024


class ProtocolError(ConnectionError):
    """The peer closed the connection or sent something malformed."""


def send(sock: socket.socket, header: dict[str, Any], blobs: Sequence[bytes] = ()) -> None:
    """Send one message (blocking)."""
    head = json.dumps(header, separators=(",", ":")).encode()
    parts = [_HEAD.pack(len(head), len(blobs)), head]
    for blob in blobs:
        parts += [_BLOB.pack(len(blob)), blob]
    sock.sendall(b"".join(parts))


def _exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise ProtocolError("connection closed mid-message")
        got += k
    return bytes(buf)


def recv(sock: socket.socket) -> tuple[dict[str, Any], list[bytes]] | None:
    """Receive one message; None when the peer closed the connection between messages."""
    first = sock.recv(_HEAD.size, socket.MSG_PEEK)
    if not first:
        return None
    hlen, nblobs = _HEAD.unpack(_exact(sock, _HEAD.size))
    if hlen > MAX_HEADER:
        raise ProtocolError(f"header of {hlen} bytes exceeds the cap")
    header = json.loads(_exact(sock, hlen))
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    blobs = []
    for _ in range(nblobs):
        (blen,) = _BLOB.unpack(_exact(sock, _BLOB.size))
        if blen > MAX_BLOB:
            raise ProtocolError(f"blob of {blen} bytes exceeds the cap")
        blobs.append(_exact(sock, blen))
    return header, blobs
