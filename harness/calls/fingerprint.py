"""A fingerprint of everything that shapes an item's requests, stored with its recording.

Replay can skip the SDK only when the requests the SDK would send now are exactly the ones
recorded. Building them to find out costs as much as the replay itself, so the recorder
stores a digest of what they are built from instead, and replay compares digests:

* the case as the request sees it: its API surface, prompt or turns, every input file's
  name, type, upload flag and content hash, the generation config (tools included), the
  declared functions with their canned results and the call limit;
* the model, the target (and Vertex express mode), the API version;
* the installed google-genai version;
* the code that builds the requests: the surfaces, contents, function loop and client
  modules, compared by their syntax tree (comments and docstrings do not count).

Anything else that changed (the case's checks, its reference, the sim hints) does not reach
the request, so it does not matter. A difference in any of the above sends the item down the
full SDK path, where matching gives the precise miss message.
"""

from __future__ import annotations

import ast
import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.calls.targets import Endpoint
    from harness.spec.case import Case

FORMAT = 1
_HERE = Path(__file__).resolve().parent
# The modules whose code decides what goes over the wire for a case.
_REQUEST_CODE = ("surfaces/generate.py", "surfaces/stream.py", "surfaces/chat.py",
                 "surfaces/interactions.py", "surfaces/contents.py", "functions.py",
                 "targets.py")


@cache
def sdk_version() -> str:
    """The installed google-genai version (read from its metadata, without importing it)."""
    try:
        return metadata.version("google-genai")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "unknown"


@cache
def request_code_digest() -> str:
    """A digest of the request-building modules' syntax trees, docstrings left out."""
    h = hashlib.sha256()
    for name in _REQUEST_CODE:
        tree = ast.parse((_HERE / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                body[0] = ast.Pass()  # a docstring: words, not behaviour
        h.update(name.encode() + b"\0" + ast.dump(tree).encode() + b"\0")
    return h.hexdigest()[:16]


@cache
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _input_digest(path: Path) -> str:
    st = path.stat()  # keyed by size and mtime: an edited file is hashed again
    return _file_digest(path, st.st_size, st.st_mtime_ns)


_shapes: dict[int, tuple[Case, dict[str, Any]]] = {}


def _cached_shape(case: Case) -> dict[str, Any]:
    """:func:`case_shape`, once per case: its models and samples share it (the hot path)."""
    cached = _shapes.get(id(case))
    if cached is None or cached[0] is not case:  # held, so an id is never reused meanwhile
        cached = _shapes[id(case)] = (case, case_shape(case))
    return cached[1]


def case_shape(case: Case) -> dict[str, Any]:
    """The parts of a case that reach its requests, as plain JSON values."""
    turns = [{"prompt": t.prompt,
              "inputs": [{"name": f.name, "mime": f.mime_type, "upload": f.upload,
                          "sha256": _input_digest(f.path)} for f in t.inputs]}
             for t in case.conversation]
    functions = [{"name": f.name, "description": f.description, "parameters": f.parameters,
                  "results": [{"when": r.when, "returns": r.returns} for r in f.results]}
                 for f in case.functions]
    return {"api": case.api, "stream": case.stream, "turns": turns,
            "config": case.config.model_dump(mode="json"), "functions": functions,
            "max_function_calls": case.max_function_calls if case.functions else None}


def request_fingerprint(case: Case, model: str, endpoint: Endpoint) -> str:
    """The digest a recording stores and a replay compares (see the module docstring)."""
    from harness.calls.targets import API_VERSION, VERTEX_API_VERSION

    vertex = endpoint.target == "vertex"
    shape = {"format": FORMAT, "case": _cached_shape(case), "model": model,
             "target": endpoint.target,
             "express": bool(endpoint.vertex and endpoint.vertex.express) if vertex else None,
             "api_version": VERTEX_API_VERSION if vertex else API_VERSION,
             "sdk": sdk_version(), "code": request_code_digest()}
    text = json.dumps(shape, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
