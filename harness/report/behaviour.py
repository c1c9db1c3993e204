"""What a recording shows of how the model worked, reduced to the figures a diff compares.

A :class:`Behaviour` is built from a transcript in its JSON form (a result record's
``transcript``, or ``Transcript.to_json()`` of a cassette read by ``harness transcript``), so
this module reads data only: no SDK, no cassettes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TOKEN_KINDS = ("prompt_tokens", "output_tokens", "tool_use_prompt_tokens", "thought_tokens",
               "total_tokens")
# Code that does not parse (a typo the model then fixed, an IPython magic) still names its
# imports on lines of their own.
_IMPORT_LINE = re.compile(r"^\s*(?:import\s+([\w.]+(?:\s*,\s*[\w.]+)*)|from\s+([\w.]+)\s+import\b)",
                          re.MULTILINE)


def imported_libraries(code: str) -> set[str]:
    """The top-level modules the code imports (``import a.b``, ``from a.b import c``: ``a``).

    Relative imports (``from . import x``) name no library and are left out. Code that does
    not parse is read line by line instead, so a failed attempt still counts.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        found: set[str] = set()
        for match in _IMPORT_LINE.finditer(code):
            listed = match.group(1) or match.group(2) or ""
            found.update(n.strip().split(".")[0] for n in listed.split(",") if n.strip())
        return {n for n in found if n}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def outcome_name(outcome: str | None) -> str:
    """``OUTCOME_FAILED`` -> ``FAILED``; a run without a result -> ``no result``."""
    return "no result" if outcome is None else str(outcome).removeprefix("OUTCOME_")


@dataclass(frozen=True)
class Behaviour:
    """One recording's figures.

    Attributes:
        final_text: The final answer.
        outcomes: The outcome of every code run not flagged thought, in order.
        libraries: Top-level modules imported by all the code that ran.
        code_chars: Characters of code over all code runs.
        code_lines: Lines of code over all code runs.
        tokens: Usage by kind (:data:`TOKEN_KINDS`; None where the API reported none).
        images: The content hashes of the images produced, in order.
        latency_s: Record-time latency (None when none was stored).
        error: What went wrong instead of a transcript (an ERROR item), if anything.
    """

    final_text: str = ""
    outcomes: tuple[str | None, ...] = ()
    libraries: frozenset[str] = frozenset()
    code_chars: int = 0
    code_lines: int = 0
    tokens: dict[str, int | None] = field(default_factory=dict)
    images: tuple[str, ...] = ()
    latency_s: float | None = None
    error: str | None = None

    @property
    def attempts(self) -> int:
        """Code runs not flagged thought (as the transcript counts them)."""
        return len(self.outcomes)


def behaviour_of(transcript: Mapping[str, Any] | None, *, latency_s: float | None = None,
                 error: str | None = None) -> Behaviour:
    """Reduce a transcript's JSON form to its :class:`Behaviour`.

    Args:
        transcript: ``Transcript.to_json()`` or a record's ``transcript`` (None: no call).
        latency_s: The record-time latency (records keep it beside the transcript).
        error: Why there is no transcript (shown instead of an answer).
    """
    if not transcript:
        return Behaviour(latency_s=latency_s, error=error or "no transcript")
    runs = [r for r in transcript.get("code_runs") or [] if isinstance(r, Mapping)]
    code = [str(r.get("code") or "") for r in runs]
    libraries: set[str] = set()
    for source in code:
        libraries |= imported_libraries(source)
    usage = transcript.get("usage") or {}
    images = tuple(str(s.get("sha256") or s.get("file") or "")
                   for s in transcript.get("steps") or []
                   if isinstance(s, Mapping) and s.get("type") == "image")
    return Behaviour(
        final_text=str(transcript.get("final_text") or ""),
        outcomes=tuple(r.get("outcome") for r in runs if not r.get("thought")),
        libraries=frozenset(libraries), code_chars=sum(len(c) for c in code),
        code_lines=sum(len(c.splitlines()) for c in code),
        tokens={k: usage.get(k) if isinstance(usage.get(k), int) else None
                for k in TOKEN_KINDS},
        images=images, latency_s=latency_s, error=error)


def behaviour_of_record(record: Mapping[str, Any], transcript: Mapping[str, Any] | None
                        ) -> Behaviour:
    """A result record's :class:`Behaviour` (its transcript given, read by the caller)."""
    err = record.get("error")
    message = None
    if isinstance(err, Mapping):
        message = f"ERROR ({err.get('kind', 'error')}): {err.get('message', '')}"
    latency = record.get("latency_s")
    return behaviour_of(transcript, latency_s=latency if isinstance(latency, int | float)
                        else None, error=message)
