"""How paths are shown in messages: relative to a root (the working directory by default)."""

from __future__ import annotations

from pathlib import Path


def display_path(path: Path, root: Path | None = None) -> str:
    """``path`` relative to ``root`` (default: the working directory) when it lies below it."""
    try:
        return path.relative_to(root or Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()
