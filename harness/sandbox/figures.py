"""Figures: captured as PNG in the child, validated in the supervisor before they are trusted.

Child side: ``plt.show()`` renders every open figure and closes it (Gemini returns shown
figures as images), and after the code ends every figure still open is rendered too; at most
``MAX_FIGURES`` in all, each at most ``MAX_SIDE`` pixels a side (the dpi is lowered to fit).
The PNGs travel on their own pipe, never through stdout.

Supervisor side: the child ran untrusted code that could write anything to that pipe, so
``validate_png`` walks the chunks (signature, IHDR first with sane dimensions, CRCs, IEND last)
and rejects whatever is not a plausible PNG within the caps. Pixels are never decoded here.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from typing import Any

from harness.sandbox.api import Image

MAX_FIGURES = 10
MAX_SIDE = 4096
MAX_PNG_BYTES = 16 * 1024 * 1024
_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _pyplot() -> Any:
    return sys.modules.get("matplotlib.pyplot")


def render(fig: Any) -> bytes:
    """One figure as PNG bytes, the dpi lowered so neither side exceeds ``MAX_SIDE``."""
    w, h = fig.get_size_inches()
    dpi = float(fig.dpi)
    longest = max(w, h, 1e-3)
    dpi = max(1.0, min(dpi, (MAX_SIDE - 2) / longest))
    buf = io.BytesIO()
    # bbox_inches=None: "tight" could grow the canvas past the cap computed above.
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=None)
    return buf.getvalue()


class Collector:
    """Gathers PNGs in the child (through the patched ``plt.show`` and at the end)."""

    def __init__(self) -> None:
        self.images: list[bytes] = []
        self.errors: list[str] = []

    def capture_open(self) -> None:
        """Render and close every open figure, up to the cap."""
        plt = _pyplot()
        if plt is None:
            return
        for num in list(plt.get_fignums()):
            fig = plt.figure(num)
            if len(self.images) < MAX_FIGURES:
                try:
                    self.images.append(render(fig))
                except Exception as exc:
                    self.errors.append(f"figure {num} could not be rendered: {exc}")
            plt.close(fig)

    def discard(self) -> None:
        """Close every open figure and forget those captured so far (not this run's)."""
        self.images.clear()
        self.errors.clear()
        plt = _pyplot()
        if plt is not None:
            plt.close("all")

    def patch_show(self) -> None:
        """Make ``plt.show()`` capture instead of being a no-op on Agg."""
        plt = _pyplot()
        if plt is None:
            return

        def show(*args: Any, **kwargs: Any) -> None:
            self.capture_open()

        plt.show = show


def frame(images: list[bytes]) -> bytes:
    """Length-prefix each PNG for the figure pipe."""
    return b"".join(struct.pack("!I", len(png)) + png for png in images)


def unframe(data: bytes) -> list[bytes]:
    """Split the figure pipe's bytes back into blobs (garbage at the end is dropped)."""
    out: list[bytes] = []
    pos = 0
    while pos + 4 <= len(data) and len(out) < MAX_FIGURES:
        (n,) = struct.unpack_from("!I", data, pos)
        if n > MAX_PNG_BYTES or pos + 4 + n > len(data):
            break
        out.append(data[pos + 4: pos + 4 + n])
        pos += 4 + n
    return out


def validate_png(data: bytes) -> Image | None:
    """An ``Image`` when ``data`` is a well-formed PNG within the caps, else None."""
    if len(data) > MAX_PNG_BYTES or not data.startswith(_SIGNATURE):
        return None
    pos = len(_SIGNATURE)
    width = height = 0
    first = True
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("!I", data, pos)
        ctype = data[pos + 4: pos + 8]
        end = pos + 12 + length
        if length > len(data) or end > len(data):
            return None
        body = data[pos + 8: pos + 8 + length]
        (crc,) = struct.unpack_from("!I", data, pos + 8 + length)
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            return None
        if first:
            if ctype != b"IHDR" or length != 13:
                return None
            width, height = struct.unpack_from("!II", body)
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                return None
            first = False
        if ctype == b"IEND":
            return Image("image/png", data, width, height) if end == len(data) else None
        pos = end
    return None
