"""The normalised transcript of one model call: value types only, no SDK imports.

Every API surface (generateContent, its stream, Interactions) is turned into these values by
`harness.transcript`; checks, results and reports only ever see them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal

StepType = Literal["text", "thought", "code", "result", "image", "call", "call_result"]

_TOOL_STEPS = frozenset({"code", "result", "call", "call_result"})
OUTCOMES = ("OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED", "OUTCOME_UNSPECIFIED")


@dataclass(frozen=True)
class Step:
    """One ordered element of what the model produced.

    Attributes:
        type: ``text`` | ``thought`` | ``code`` | ``result`` | ``image``, or a function
            ``call`` and the harness's ``call_result`` answer to it.
        text: The text of a text or thought step.
        code: The source of a code step.
        language: The language of a code step (``PYTHON``), when given.
        outcome: The outcome string of a result step (``OUTCOME_OK`` ...).
        output: The output of a result step (stdout, or stderr on failure).
        mime_type: The MIME type of an image step.
        data: The raw bytes of an image step.
        thought: True when the API flagged the part as thought.
        id: The part's id (code/result ids pair a result with its call), when given.
        name: The function of a call or call_result step.
        args: The arguments of a call step.
        response: The value a call_result step sent back.

    """

    type: StepType
    text: str | None = None
    code: str | None = None
    language: str | None = None
    outcome: str | None = None
    output: str | None = None
    mime_type: str | None = None
    data: bytes | None = field(default=None, repr=False)
    thought: bool = False
    id: str | None = None
    name: str | None = None
    args: dict[str, Any] | None = None
    response: Any = None

    @property
    def sha256(self) -> str | None:
        """Content hash of an image's bytes (names the file it is stored in)."""
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``{"type", ...}`` with only the fields that apply; images as base64."""
        out: dict[str, Any] = {"type": self.type}
        if self.type in ("text", "thought"):
            out["text"] = self.text
        elif self.type == "code":
            out.update(code=self.code, language=self.language)
        elif self.type == "result":
            out.update(outcome=self.outcome, output=self.output)
        elif self.type == "image":
            out.update(mime_type=self.mime_type, sha256=self.sha256,
                       data=base64.b64encode(self.data or b"").decode("ascii"))
        elif self.type == "call":
            out.update(name=self.name, args=self.args)
        elif self.type == "call_result":
            out.update(name=self.name, response=self.response)
        if self.type != "thought":
            out["thought"] = self.thought
        if self.id is not None:
            out["id"] = self.id
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Step:
        """Inverse of :meth:`to_json` (``data`` may be absent when images are stored as files)."""
        data = d.get("data")
        return cls(
            type=d["type"], text=d.get("text"), code=d.get("code"), language=d.get("language"),
            outcome=d.get("outcome"), output=d.get("output"), mime_type=d.get("mime_type"),
            data=base64.b64decode(data) if isinstance(data, str) else None,
            thought=bool(d.get("thought", d["type"] == "thought")), id=d.get("id"),
            name=d.get("name"), args=d.get("args"), response=d.get("response"),
        )


@dataclass(frozen=True)
class CodeRun:
    """A code part with the result parts that follow it before the next code part.

    Attributes:
        code: The code the model ran.
        outcome: The last following result's outcome; None when no result followed.
        output: The following results' outputs joined; None when no result followed.
        thought: True when the code part was flagged ``thought`` (kept, but not an attempt).

    """

    code: str
    outcome: str | None
    output: str | None
    thought: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON form ``{code, outcome, output, thought}``."""
        return {"code": self.code, "outcome": self.outcome, "output": self.output,
                "thought": self.thought}


@dataclass(frozen=True)
class FunctionCall:
    """One function call the model made, as the harness judged and answered it.

    Attributes:
        name: The function it called.
        args: Its arguments.
        problem: Why the call was the model's mistake (an undeclared function, arguments
            that fail the declared schema, no canned result for them), or None.
        answered: False when the harness stopped the call loop instead of answering it.
        turn: The 1-based turn it was made in.
    """

    name: str
    args: dict[str, Any]
    problem: str | None = None
    answered: bool = True
    turn: int = 1

    @property
    def valid(self) -> bool:
        """A call to a declared function with arguments its schema accepts."""
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        """JSON form ``{name, args, problem, answered, turn}``."""
        return {"name": self.name, "args": self.args, "problem": self.problem,
                "answered": self.answered, "turn": self.turn}

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        note = f" ({self.problem})" if self.problem else ""
        return f"{self.name}({args}){note}" + ("" if self.answered else " [not answered]")


@dataclass(frozen=True)
class Usage:
    """Token counts; None where the API did not report the field."""

    prompt_tokens: int | None = None
    output_tokens: int | None = None
    tool_use_prompt_tokens: int | None = None
    thought_tokens: int | None = None
    total_tokens: int | None = None

    def to_json(self) -> dict[str, int | None]:
        """JSON form with exactly the five keys."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "tool_use_prompt_tokens": self.tool_use_prompt_tokens,
            "thought_tokens": self.thought_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True)
class Source:
    """One source the response was grounded on (a search result, a document, a fetched URL).

    Attributes:
        kind: ``web`` (Google Search), ``retrieved`` (file search / retrieval) or
            ``url_context`` (a URL the URL context tool fetched).
        uri: Its URI, when given (search results give a redirect URI on the real API).
        title: Its title (for search results the API gives the site's domain here).
        domain: Its domain, when the API gives one.
        text: The retrieved text of a ``retrieved`` source, when given.
        status: The retrieval status of a ``url_context`` source
            (``URL_RETRIEVAL_STATUS_SUCCESS`` ...).

    """

    kind: str = "web"
    uri: str | None = None
    title: str | None = None
    domain: str | None = None
    text: str | None = None
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``kind`` and only the fields that are set."""
        return {"kind": self.kind, **{k: v for k, v in (
            ("uri", self.uri), ("title", self.title), ("domain", self.domain),
            ("text", self.text), ("status", self.status)) if v is not None}}


@dataclass(frozen=True)
class Support:
    """A piece of the answer and the sources that back it.

    Attributes:
        text: The supported text.
        start: Its start offset (as the API gives it: bytes of the response text).
        end: Its end offset, exclusive.
        source_indices: Indices into :attr:`Grounding.sources`.

    """

    text: str = ""
    start: int = 0
    end: int = 0
    source_indices: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form ``{text, start, end, sources}``."""
        return {"text": self.text, "start": self.start, "end": self.end,
                "sources": list(self.source_indices)}


@dataclass(frozen=True)
class Grounding:
    """What the grounding tools (Google Search, URL context, retrieval) reported.

    Attributes:
        queries: The search queries the model issued, in order, without repeats.
        sources: The sources, in order, without repeats.
        supports: Which parts of the answer which sources back.

    """

    queries: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    supports: tuple[Support, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form ``{queries, sources, supports}``."""
        return {"queries": list(self.queries), "sources": [s.to_json() for s in self.sources],
                "supports": [s.to_json() for s in self.supports]}


def merge_groundings(parts: list[Grounding | None]) -> Grounding | None:
    """Join groundings (a stream's chunks, a conversation's turns) into one, or None if none.

    Each part's support indices point into that part's own sources; the sources are
    concatenated, repeats dropped, and every index is mapped to the joined list (indices
    outside their part's sources are dropped). Queries keep their first occurrence; identical
    supports are kept once. A single part is deduplicated the same way.
    """
    present = [g for g in parts if g is not None]
    if not present:
        return None
    queries = tuple(dict.fromkeys(q for g in present for q in g.queries))
    sources: list[Source] = []
    supports: list[Support] = []
    for g in present:
        where = []
        for source in g.sources:
            if source not in sources:
                sources.append(source)
            where.append(sources.index(source))
        for support in g.supports:
            mapped = replace(support, source_indices=tuple(
                where[i] for i in support.source_indices if 0 <= i < len(where)))
            if mapped not in supports:
                supports.append(mapped)
    return Grounding(queries, tuple(sources), tuple(supports))


@dataclass(frozen=True)
class Transcript:
    """Everything one eval item's model call produced, API-independent.

    Attributes:
        steps: Ordered steps across all chunks/steps of the response.
        code_runs: Derived code runs (see :class:`CodeRun`).
        final_text: Non-thought text after the last code/result step (all non-thought text when
            no code ran).
        usage: Token usage (each field from the last chunk that carries it).
        model_version: The model version the API reported.
        finish_reason: The finish reason (``STOP`` ...) or, for Interactions, the status.
        latency_s: Wall time of the call, measured when recording.
        ttft_s: Time to first chunk, measured when recording (streams).
        error: An error the API reported inside a 2xx response, if any.
        turns: For a conversation, each turn's own transcript in order (this one then holds
            every turn's steps and runs, the last turn's answer, and usage summed over the
            turns); empty for a single call.
        function_calls: Every function call the model made, as the harness answered it.
        function_loop_stopped: The harness stopped answering calls (``max_function_calls``).
        grounding: What Google Search / URL context / retrieval reported (every turn's, in a
            conversation); None when the response carried no grounding metadata.

    """

    steps: tuple[Step, ...] = ()
    code_runs: tuple[CodeRun, ...] = ()
    final_text: str = ""
    usage: Usage = field(default_factory=Usage)
    model_version: str | None = None
    finish_reason: str | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    error: str | None = None
    turns: tuple[Transcript, ...] = ()
    function_calls: tuple[FunctionCall, ...] = ()
    function_loop_stopped: bool = False
    grounding: Grounding | None = None

    def judged(self, turn: int) -> Transcript:
        """The transcript checks of ``turn`` (0-based) see: that turn's, or this one."""
        return self.turns[turn] if self.turns else self

    @property
    def attempts(self) -> int:
        """Code runs not flagged as thought (what Gemini counts as regenerations)."""
        return sum(1 for run in self.code_runs if not run.thought)

    @property
    def outcomes(self) -> list[str | None]:
        """The outcome of every non-thought code run, in order."""
        return [run.outcome for run in self.code_runs if not run.thought]

    @property
    def images(self) -> list[Step]:
        """The image steps."""
        return [s for s in self.steps if s.type == "image"]

    def to_json(self) -> dict[str, Any]:
        """Return the ``harness transcript`` JSON shape (with ``turns`` for a conversation)."""
        out: dict[str, Any] = {
            "model_version": self.model_version,
            "finish_reason": self.finish_reason,
            "final_text": self.final_text,
            "code_runs": [r.to_json() for r in self.code_runs],
            "steps": [s.to_json() for s in self.steps],
            "usage": self.usage.to_json(),
        }
        if self.function_calls:  # only cases with functions: other records keep their shape
            out["function_calls"] = [c.to_json() for c in self.function_calls]
            out["function_loop_stopped"] = self.function_loop_stopped
        if self.grounding is not None:  # only when present: older records keep their shape
            out["grounding"] = self.grounding.to_json()
        if self.turns:  # the per-turn breakdown; the steps above are every turn's, in order
            out["turns"] = [{"steps": len(t.steps), "attempts": t.attempts,
                             "outcomes": t.outcomes, "final_text": t.final_text,
                             "finish_reason": t.finish_reason, "usage": t.usage.to_json(),
                             "latency_s": t.latency_s, "error": t.error} for t in self.turns]
        return out


def combine_turns(turns: list[Transcript]) -> Transcript:
    """One transcript for a conversation: every turn's steps, the last answer, summed usage.

    A single turn is returned as it is. Usage fields are summed over the turns that report
    them (each turn is billed for its whole prompt); latency is the sum of the turns'.
    """
    if len(turns) == 1:
        return turns[0]
    last = turns[-1]

    def total(values: list[float | None]) -> Any:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    usage = sum_usage([t.usage for t in turns])
    errors = [f"turn {i}: {t.error}" for i, t in enumerate(turns, 1) if t.error]
    return Transcript(
        steps=tuple(s for t in turns for s in t.steps),
        code_runs=tuple(r for t in turns for r in t.code_runs), final_text=last.final_text,
        usage=usage, model_version=last.model_version, finish_reason=last.finish_reason,
        latency_s=total([t.latency_s for t in turns]), ttft_s=turns[0].ttft_s,
        error="; ".join(errors) or None, turns=tuple(turns),
        function_calls=tuple(c for t in turns for c in t.function_calls),
        function_loop_stopped=any(t.function_loop_stopped for t in turns),
        grounding=merge_groundings([t.grounding for t in turns]))


def sum_usage(usages: list[Usage]) -> Usage:
    """Usage fields summed over the calls that report them (None where none does)."""
    def total(values: list[int | None]) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    return Usage(**{k: total([getattr(u, k) for u in usages]) for k in Usage().to_json()})


def combine_hops(hops: list[Transcript], answers: list[list[Step]]) -> Transcript:
    """One turn's transcript from the calls of its function-calling loop.

    Args:
        hops: Each call's transcript in order (the model's reply up to its function calls).
        answers: After each hop, the ``call_result`` steps the harness sent back (the last
            hop's list is empty unless the loop was stopped).
    """
    if len(hops) == 1 and not answers[0]:
        return hops[0]
    steps = [s for hop, sent in zip(hops, answers, strict=True) for s in (*hop.steps, *sent)]
    last = hops[-1]
    latencies = [h.latency_s for h in hops if h.latency_s is not None]
    errors = [f"call {i}: {h.error}" for i, h in enumerate(hops, 1) if h.error]
    return build_transcript(steps, usage=sum_usage([h.usage for h in hops]),
                            model_version=last.model_version, finish_reason=last.finish_reason,
                            latency_s=sum(latencies) if latencies else None,
                            ttft_s=hops[0].ttft_s, error="; ".join(errors) or None,
                            grounding=merge_groundings([h.grounding for h in hops]))


def derive_code_runs(steps: tuple[Step, ...] | list[Step]) -> tuple[CodeRun, ...]:
    """Group steps into code runs: each code step with the result steps that follow it.

    Result steps before any code step (the API never sends them, but a truncated stream might)
    are ignored rather than invented into a run.
    """
    runs: list[CodeRun] = []
    current: Step | None = None
    results: list[Step] = []

    def close() -> None:
        if current is None:
            return
        outcome = results[-1].outcome if results else None
        output = "".join(r.output or "" for r in results) if results else None
        runs.append(CodeRun(code=current.code or "", outcome=outcome, output=output,
                            thought=current.thought))

    for step in steps:
        if step.type == "code":
            close()
            current, results = step, []
        elif step.type == "result" and current is not None:
            results.append(step)
    close()
    return tuple(runs)


def derive_final_text(steps: tuple[Step, ...] | list[Step]) -> str:
    """Non-thought text after the last code, result or function step; all of it if none ran."""
    last_exec = max((i for i, s in enumerate(steps) if s.type in _TOOL_STEPS), default=-1)
    return "".join(s.text or "" for s in steps[last_exec + 1:]
                   if s.type == "text" and not s.thought)


def build_transcript(steps: list[Step], **kwargs: Any) -> Transcript:
    """Make a Transcript from ordered steps, deriving code runs and the final answer."""
    frozen = tuple(steps)
    return Transcript(steps=frozen, code_runs=derive_code_runs(frozen),
                      final_text=derive_final_text(frozen), **kwargs)


def merge_adjacent_text(steps: list[Step]) -> list[Step]:
    """Join adjacent text (or thought) fragments: streams split text at arbitrary points."""
    merged: list[Step] = []
    for step in steps:
        prev = merged[-1] if merged else None
        if (prev is not None and step.type in ("text", "thought") and prev.type == step.type
                and prev.thought == step.thought):
            merged[-1] = replace(prev, text=(prev.text or "") + (step.text or ""))
        else:
            merged.append(step)
    return merged
