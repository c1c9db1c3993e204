"""File-system helpers every stage shares: how paths are shown, and stale scratch files swept.

Paths in messages are shown relative to a root (the working directory by default). Scratch
files and directories carry the pid of the process that made them, so a later run can remove
those of processes that died (a ``kill -9`` while recording) without touching live ones.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path


def display_path(path: Path, root: Path | None = None) -> str:
    """``path`` relative to ``root`` (default: the working directory) when it lies below it."""
    try:
        return path.relative_to(root or Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (on this machine, in this pid namespace)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


def sweep_stale(entries: Iterable[Path], pattern: re.Pattern[str]) -> list[Path]:
    """Remove the scratch entries left behind by processes that no longer run.

    Args:
        entries: Candidate files or directories (e.g. ``directory.iterdir()``).
        pattern: Matches the names to remove; its ``pid`` group is the owner's pid.

    Returns:
        What was removed.
    """
    removed: list[Path] = []
    try:
        candidates = list(entries)
    except OSError:
        return removed
    for entry in candidates:
        match = pattern.match(entry.name)
        if match is None or pid_alive(int(match["pid"])):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue  # another process swept it first, or it is not ours to remove
        removed.append(entry)
    return removed
