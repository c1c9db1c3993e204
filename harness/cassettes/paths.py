"""Where an item's cassette lives, and the record modes (pytest-recording's ``--record-mode``)."""

from __future__ import annotations

import re
from pathlib import Path

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def is_replay(record_mode: str, path: Path) -> bool:
    """Whether an item with this cassette path replays (no network) under ``record_mode``."""
    return record_mode == "none" or (record_mode == "once" and path.exists())


def safe_name(name: str) -> str:
    """Make a model (or other) name usable as one path component."""
    cleaned = _SAFE.sub("_", name).strip(".")
    return cleaned or "_"


def cassette_path(root: Path, target: str, suite: str, case_id: str, model: str,
                  sample: int) -> Path:
    """``<root>/<target>/<suite>/<case>/<model>/<k>.yaml`` with k from 1."""
    return root / target / safe_name(suite) / case_id / safe_name(model) / f"{sample}.yaml"
