"""An eval file's text, read safely: regular files only, inside the project, size-capped.

The policy (README, "Eval files"): an eval file must be a regular file; a symlink may point
anywhere inside the project root but not outside it (so that a ``x.eval.yaml -> ~/.env``
never has its content quoted back in an error message); and a file may be at most
:data:`MAX_BYTES` long (YAML parsing time and memory grow with it). A FIFO, a device or a
directory named ``*.eval.yaml`` is refused without being opened, so it can never hang a run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.paths import display_path

MAX_BYTES = 2 * 1024 * 1024  # ~5 s of YAML parsing; a suite larger than that should be split


class SourceError(Exception):
    """An eval file that is refused before parsing; ``str()`` is the one-line reason."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_eval_text(path: Path, root: Path | None = None) -> str:
    """The UTF-8 text of the eval file at ``path``.

    Args:
        path: The file as named (by pytest's collection or on the command line).
        root: The project root symlinks must stay inside (default: the working directory).

    Raises:
        SourceError: not a regular file, a symlink out of the project, too large, unreadable,
            or not UTF-8.
    """
    root = (root or Path.cwd()).resolve()
    try:
        target = path.resolve(strict=True)
        info = os.stat(target)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SourceError(f"cannot read the file: {reason}") from None
    if target != path.absolute() and not target.is_relative_to(root):
        raise SourceError(
            f"it is a symlink to {target}, outside the project root {display_path(root)}; "
            "eval files may only link inside the project (copy the file in instead)")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(f"it is {_kind(info.st_mode)}, not a regular file: eval files must "
                          "be regular files")
    if info.st_size > MAX_BYTES:
        raise SourceError(f"it is {info.st_size / 2**20:.1f} MiB; eval files may be at most "
                          f"{MAX_BYTES // 2**20} MiB: split the suite into several files")
    try:
        with open(target, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:  # it grew after the stat
        raise SourceError(f"it is larger than {MAX_BYTES // 2**20} MiB, the most an eval file "
                          "may be: split the suite into several files")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot read the file: it is not UTF-8 text ({exc})") from None
