"""Parsed eval files kept in ``__pycache__``, as Python keeps compiled modules.

Parsing and validating a file (YAML with line numbers, pydantic, every check's arguments,
reference code compiled) is most of what collecting it costs: ~0.17 s per 1,000 cases, against
~0.015 s to unpickle the result. An entry is used only when nothing it was built from changed:
the file's bytes, the project root, the harness code that reads it (``spec/`` and ``checks/``,
by size and mtime), Python and pydantic, and every input file it names (size and mtime; a
deleted or edited input is then reported exactly as without the cache). A file with errors is
never stored, so its problems are always reported afresh; a file that uses a check from another
package (an entry point) is not stored either, since that package can change on its own.

Like ``.pyc`` files, entries are trusted: whoever can write ``__pycache__`` can already write
code Python runs. ``PYTHONDONTWRITEBYTECODE`` (``sys.dont_write_bytecode``) stops the writes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from harness.spec.case import EvalFile

FORMAT = 1
_HARNESS = Path(__file__).resolve().parent.parent
_CODE_DIRS = (_HARNESS / "spec", _HARNESS / "checks")
_code_stamp: str | None = None


def cache_file(path: Path) -> Path:
    """Where the entry of eval file ``path`` lives."""
    tag = sys.implementation.cache_tag or "python"
    return path.parent / "__pycache__" / f"{path.name}.harness-{tag}.pickle"


def load(path: Path, text: str, root: Path | None) -> EvalFile | None:
    """The cached parse of ``path`` (whose content is ``text``), or None (absent or stale)."""
    from harness.checks.registry import load_builtins

    load_builtins()  # the entry's checks are unpickled by name from the registry
    try:
        blob = cache_file(path).read_bytes()
        key, inputs, spec = pickle.loads(blob)
    except Exception:  # absent, unreadable, written by another version: parse afresh
        return None
    if key != _key(path, text, root) or inputs != _input_stamps(spec):
        return None
    return spec if isinstance(spec, EvalFile) else None


def store(path: Path, text: str, root: Path | None, spec: EvalFile) -> None:
    """Keep ``spec`` for the next run (best effort: a read-only tree just isn't cached)."""
    if sys.dont_write_bytecode or not _cacheable(spec):
        return
    target = cache_file(path)
    try:
        blob = pickle.dumps((_key(path, text, root), _input_stamps(spec), spec),
                            protocol=pickle.HIGHEST_PROTOCOL)
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, target)  # atomic: xdist workers may store the same file at once
    except Exception:  # unpicklable value, read-only directory, full disk: no cache, no error
        return


def _cacheable(spec: EvalFile) -> bool:
    from harness.checks.registry import is_builtin

    return all(is_builtin(call.name) for case in spec.cases
               for _, calls in case.judgements() for call in calls)


def _key(path: Path, text: str, root: Path | None) -> str:
    import pydantic

    h = hashlib.sha256()
    for part in (str(FORMAT), str(path.resolve()), str((root or Path.cwd()).resolve()),
                 sys.version, pydantic.VERSION, _code(), text):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _code() -> str:
    """Size and mtime of every module that reads eval files (a stat each, once per process)."""
    global _code_stamp
    if _code_stamp is None:
        stamps = []
        for folder in _CODE_DIRS:
            for module in sorted(folder.glob("*.py")):
                info = module.stat()
                stamps.append(f"{module.name}:{info.st_size}:{info.st_mtime_ns}")
        _code_stamp = ";".join(stamps)
    return _code_stamp


def _input_stamps(spec: Any) -> list[tuple[str, int, int]]:
    out = []
    for case in spec.cases:
        for f in case.all_inputs():
            try:
                info = os.stat(f.path)
            except OSError:
                return [("missing", -1, -1)]  # never equal to what was stored
            out.append((str(f.path), info.st_size, info.st_mtime_ns))
    return out
