"""Simulated Google Search and URL context: what a ``sim-*`` model "found", on the wire.

Nothing is searched or fetched. With the ``google_search`` tool in a request the queries and
results come from the case's ``sim: {search: ...}`` hint, or by default one query (the prompt)
and one result under ``https://sim-search.invalid/``. Results are plainly simulated: the
search entry point (Interactions: the search result's ``search_suggestions``) says so, and the
default result's title starts with ``sim-search:``. With ``url_context`` every URL in the
prompt is reported as retrieved.

Wire shapes follow the API: generateContent candidates get ``groundingMetadata``
(``webSearchQueries``, ``groundingChunks[].web``, ``groundingSupports`` tying the final answer
to every result, ``searchEntryPoint``) and ``urlContextMetadata``, in the last chunk of a
stream; Interactions gets ``google_search_call`` / ``google_search_result`` and
``url_context_call`` / ``url_context_result`` steps before the model's own, and
``url_citation`` annotations on the final answer text. Everything is derived from the case,
model and sample, so re-records diff cleanly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from harness.sim import det
from harness.sim.models import Script, Text

SEARCH_TOOL = "google_search"
URL_TOOL = "url_context"
SIM_SEARCH = "sim-search"
NOTICE = f"{SIM_SEARCH}: simulated results, not Google Search"
_URL = re.compile(r"https?://[^\s<>\"'`)\]]+")

# Request tool entries -> the harness's names (generateContent camelCase or snake_case keys;
# Interactions `{"type": ...}`); googleSearchRetrieval is the older search tool.
_GENERATE_TOOLS = {"googleSearch": SEARCH_TOOL, "google_search": SEARCH_TOOL,
                   "googleSearchRetrieval": SEARCH_TOOL, "google_search_retrieval": SEARCH_TOOL,
                   "urlContext": URL_TOOL, "url_context": URL_TOOL}


def request_tools(body: Mapping[str, Any]) -> frozenset[str]:
    """The grounding tools a generateContent or Interactions body asks for."""
    found: set[str] = set()
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        if tool.get("type") in (SEARCH_TOOL, URL_TOOL):
            found.add(str(tool["type"]))
        found.update(name for key, name in _GENERATE_TOOLS.items() if key in tool)
    return frozenset(found)


@dataclass(frozen=True)
class Result:
    """One simulated search result."""

    title: str
    uri: str
    text: str | None = None


@dataclass(frozen=True)
class Plan:
    """What the model "searched" and "fetched" for one reply.

    Attributes:
        queries: The search queries (empty without the search tool).
        results: The search results.
        urls: The URLs the URL context tool "retrieved".
        call_id: The id linking Interactions tool calls to their results.

    """

    queries: tuple[str, ...] = ()
    results: tuple[Result, ...] = ()
    urls: tuple[str, ...] = ()
    call_id: str = ""

    @property
    def searched(self) -> bool:
        """True when the reply carries a search."""
        return bool(self.queries)


def plan(tools: frozenset[str], hint: Mapping[str, Any] | None, prompt: str,
         *ident: object) -> Plan | None:
    """The plan for a request with ``tools``; None when it asked for no grounding tool.

    Args:
        tools: The request's grounding tools (:func:`request_tools`).
        hint: The case's ``sim:`` hint (its ``search`` key is read), or None.
        prompt: The user's latest message (the default query; its URLs for URL context).
        *ident: What makes the reply's ids (case, model, sample).

    """
    if not tools:
        return None
    queries: tuple[str, ...] = ()
    results: tuple[Result, ...] = ()
    if SEARCH_TOOL in tools:
        search = (hint or {}).get("search") or {}
        queries = tuple(str(q) for q in search.get("queries") or () if str(q).strip())
        queries = queries or (" ".join(prompt.split())[:200] or "search",)
        results = tuple(Result(str(s.get("title") or s.get("uri")), str(s.get("uri")),
                               s.get("text")) for s in search.get("sources") or ()
                        if isinstance(s, Mapping) and s.get("uri"))
        results = results or (Result(f"{SIM_SEARCH}: simulated result for {queries[0]}",
                                     f"https://{SIM_SEARCH}.invalid/search?q="
                                     f"{quote(queries[0], safe='')}"),)
    urls = tuple(dict.fromkeys(u.rstrip(".,;:!?") for u in _URL.findall(prompt))
                 ) if URL_TOOL in tools else ()
    if not queries and not urls:
        return None
    return Plan(queries, results, urls, call_id=det.short_id("grounding", *ident))


def _final_text(script: Script) -> str | None:
    texts = [s.text for s in script.steps if isinstance(s, Text)]
    return texts[-1] if texts else None


def _entry_point(p: Plan) -> dict[str, Any]:
    chips = "".join(f'<a class="chip">{q}</a>' for q in p.queries)
    return {"renderedContent": f'<div class="{SIM_SEARCH}"><!-- {NOTICE} -->'
                               f"<span>{NOTICE}</span>{chips}</div>"}


def candidate_fields(p: Plan, script: Script) -> dict[str, Any]:
    """``groundingMetadata`` / ``urlContextMetadata`` for the reply's (last) candidate."""
    out: dict[str, Any] = {}
    if p.searched:
        meta: dict[str, Any] = {
            "webSearchQueries": list(p.queries),
            "searchEntryPoint": _entry_point(p),
            "groundingChunks": [{"web": {"uri": r.uri, "title": r.title,
                                         "domain": urlsplit(r.uri).hostname or ""}}
                                for r in p.results]}
        final = _final_text(script)
        if final:
            index = max(i for i, s in enumerate(script.steps) if isinstance(s, Text))
            # proto3 JSON leaves out zero values, so startIndex 0 is not written.
            meta["groundingSupports"] = [{
                "segment": {"partIndex": index, "endIndex": len(final.encode()),
                            "text": final},
                "groundingChunkIndices": list(range(len(p.results)))}]
        out["groundingMetadata"] = meta
    if p.urls:
        out["urlContextMetadata"] = {"urlMetadata": [
            {"retrievedUrl": u, "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}
            for u in p.urls]}
    return out


def add_to_response(response: dict[str, Any], p: Plan | None, script: Script) -> None:
    """Put the plan's metadata on a generateContent response (or a stream's last chunk)."""
    if p is None:
        return
    for candidate in response.get("candidates") or []:
        candidate.update(candidate_fields(p, script))


def interaction_steps(p: Plan | None, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's tool steps before the model's ``steps``, citations on its last text."""
    if p is None:
        return steps
    tools: list[dict[str, Any]] = []
    if p.searched:
        tools += [{"type": "google_search_call", "id": p.call_id + "s",
                   "arguments": {"queries": list(p.queries)}},
                  {"type": "google_search_result", "call_id": p.call_id + "s",
                   "result": [{"search_suggestions": _entry_point(p)["renderedContent"]}]}]
    if p.urls:
        tools += [{"type": "url_context_call", "id": p.call_id + "u",
                   "arguments": {"urls": list(p.urls)}},
                  {"type": "url_context_result", "call_id": p.call_id + "u",
                   "result": [{"url": u, "status": "success"} for u in p.urls]}]
    texts = [c for s in steps if s.get("type") == "model_output"
             for c in s.get("content", []) if c.get("type") == "text"]
    if p.searched and texts:
        end = len(texts[-1]["text"].encode())
        texts[-1]["annotations"] = [{"type": "url_citation", "url": r.uri, "title": r.title,
                                     "start_index": 0, "end_index": end} for r in p.results]
    return tools + steps


def step_events(index: int, step: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The stream events of a tool step this module writes (None for any other step)."""
    kind = step.get("type")
    if kind in ("google_search_call", "url_context_call"):
        shell: dict[str, Any] = {"type": kind, "id": step["id"], "arguments": {}}
        delta: dict[str, Any] = {"type": kind, "arguments": step["arguments"]}
    elif kind in ("google_search_result", "url_context_result"):
        shell = {"type": kind, "call_id": step["call_id"], "result": []}
        delta = {"type": kind, "result": step["result"]}
    else:
        return None
    return [{"event_type": "step.start", "index": index, "step": shell},
            {"event_type": "step.delta", "index": index, "delta": delta},
            {"event_type": "step.stop", "index": index}]


def annotation_delta(item: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``text_annotation_delta`` for a streamed text content block with citations."""
    notes = item.get("annotations")
    return [{"type": "text_annotation_delta", "annotations": notes}] if notes else []
