"""Files under a target's cassette folder that no current item uses (``harness unused``).

Three kinds: cassettes no (suite, case, model, sample) of the eval files names any more (a case
renamed or removed, a model dropped, fewer samples), temporary recordings a killed run left
(``.<k>.recording-<pid>.yaml``), and blobs no used cassette refers to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cassettes.paths import cassette_path
from harness.cassettes.recording import TEMP_NAME
from harness.cassettes.reference import stored_path
from harness.cassettes.verify_runs import cache_path

if TYPE_CHECKING:
    from harness.spec.case import Case

_BLOB_REF = re.compile(r"harness-blob:([0-9a-f]{64})\.[a-z]+:")


@dataclass
class Unused:
    """What ``harness unused`` lists (each sorted)."""

    stale: list[Path] = field(default_factory=list)
    temporary: list[Path] = field(default_factory=list)
    blobs: list[Path] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.stale or self.temporary or self.blobs)


def find_unused(root: Path, target: str, cases: Iterable[Case], models: Sequence[str],
                samples: int | None = None) -> Unused:
    """The files under ``root/target`` that the given items do not use.

    Args:
        root: The cassette root (``cassette_dir``).
        target: The target whose folder is searched.
        cases: Every case of the eval files.
        models: The models every case runs against.
        samples: Overrides each case's ``samples`` when set (as ``--samples`` does).
    """
    from harness.cassettes.live_item import live_path

    used: set[Path] = set()
    for case in cases:
        paths = (cassette_path(root, target, case.suite, case.id, model, k)
                 for model in models for k in range(1, (samples or case.samples) + 1))
        cassettes = [live_path(p) if case.api == "live" else p for p in paths]
        used.update(cassettes)
        used.update(cache_path(p) for p in cassettes)  # verify_output's cached re-runs
        case_dir = cassette_path(root, target, case.suite, case.id, "m", 1).parents[1]
        used.update(stored_path(case_dir, case, t) for t in range(len(case.conversation)))
    out = Unused()
    folder = root / target
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    referenced: set[str] = set()
    for path in files:
        if path in used and path.suffix == ".yaml":
            referenced.update(_BLOB_REF.findall(path.read_text(encoding="utf-8",
                                                                errors="replace")))
    for path in files:
        if TEMP_NAME.match(path.name):
            out.temporary.append(path)
        elif path.parent == folder / "_blobs":
            if path.stem not in referenced:
                out.blobs.append(path)
        elif path not in used and path.name != ".gitignore":
            out.stale.append(path)
    return out
