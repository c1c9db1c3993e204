"""Input files of a case (``inputs:``): where they are, what type they are, and what is refused.

The policy (README, "Inputs"): a path is relative to the eval file and must stay inside the
project root (no absolute paths, no ``..`` out of it, no symlink that leads out); only the file
types Google documents for code execution; a regular file of at most the API's inline limit
(uploads through the Files API may be larger). The type comes from the extension, and for
images the content must agree with it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from harness.paths import display_path

# The file types of Gemini's code-execution docs, with the MIME types sent for them.
MIME_TYPES = {
    ".png": "image/png", ".jpeg": "image/jpeg", ".jpg": "image/jpeg", ".csv": "text/csv",
    ".xml": "text/xml", ".cpp": "text/x-c++src", ".java": "text/x-java", ".py": "text/x-python",
    ".js": "text/javascript", ".ts": "text/x-typescript", ".txt": "text/plain",
    ".json": "application/json",
}
INLINE_LIMIT = 20 * 2**20  # the API's limit for a whole inline request
UPLOAD_LIMIT = 100 * 2**20  # every upload is stored in the cassettes' blob store too
_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


class InputError(Exception):
    """An input file that cannot be sent; ``str()`` is the reason and the fix."""


@dataclass(frozen=True)
class InputFile:
    """One validated input file.

    Attributes:
        name: The path as written in the eval file (relative to it, ``/``-separated).
        path: The file on disk (absolute, resolved).
        mime_type: From the extension (see :data:`MIME_TYPES`).
        upload: Sent through the Files API first (Gemini API only), else inline.
        size: Bytes.
    """

    name: str
    path: Path
    mime_type: str
    upload: bool
    size: int

    @property
    def base_name(self) -> str:
        """The name the code sees in its working directory (``organ-pedals.png``)."""
        return PurePosixPath(self.name).name

    def read(self) -> bytes:
        """The file's bytes."""
        return self.path.read_bytes()


def resolve_input(name: str, eval_file: Path, root: Path | None = None, *,
                  upload: bool = False) -> InputFile:
    """Validate one ``inputs:`` entry.

    Args:
        name: The path as written (relative to the eval file).
        eval_file: The eval file that names it.
        root: The project root the file must stay inside (default: the working directory).
        upload: Whether it goes through the Files API (a larger limit applies).

    Raises:
        InputError: an absolute path, a path or symlink out of the project, a missing file,
            not a regular file, a type the API does not take, content that does not match its
            extension, or a file over the limit.
    """
    root = (root or Path.cwd()).resolve()
    written = PurePosixPath(name.replace("\\", "/"))
    if written.is_absolute() or PureWindowsPath(name).drive:
        raise InputError(f"{name!r} is an absolute path; give a path relative to the eval "
                         "file, inside the project")
    suffix = written.suffix.lower()
    if suffix not in MIME_TYPES:
        raise InputError(f"{name!r}: {suffix or 'a file without an extension'} is not a type "
                         "the API takes with code execution; use one of: "
                         + ", ".join(MIME_TYPES))
    candidate = (eval_file.parent / written).absolute()
    try:
        target = candidate.resolve(strict=True)
        info = os.stat(target)
    except (OSError, RuntimeError):
        raise InputError(f"{name!r}: no such file (looked for "
                         f"{display_path(candidate, root)})") from None
    if not target.is_relative_to(root):
        raise InputError(f"{name!r} leads outside the project root {display_path(root)} (to "
                         f"{target}); inputs must live inside the project: copy the file in")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{name!r} is not a regular file")
    limit = UPLOAD_LIMIT if upload else INLINE_LIMIT
    if info.st_size > limit:
        how = ("" if upload else "; send it through the Files API with `upload: true`, "
               f"which takes up to {UPLOAD_LIMIT // 2**20} MiB here")
        raise InputError(f"{name!r} is {info.st_size / 2**20:.1f} MiB, over the "
                         f"{limit // 2**20} MiB {'upload' if upload else 'inline'} limit{how}")
    mime = MIME_TYPES[suffix]
    magic = _MAGIC.get(mime)
    if magic is not None:
        with open(target, "rb") as fh:
            head = fh.read(len(magic))
        if head != magic:
            raise InputError(f"{name!r} is named {suffix} but its content is not a "
                             f"{suffix[1:].upper()} image; fix the file or its extension")
    return InputFile(written.as_posix(), target, mime, upload, info.st_size)
