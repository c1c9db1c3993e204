"""Grounding metadata (Google Search, URL context, retrieval) -> a :class:`Grounding` value.

Two wire shapes carry it:

* generateContent candidates: ``groundingMetadata`` (``webSearchQueries``, ``groundingChunks``
  with ``web`` / ``retrievedContext``, ``groundingSupports``) and ``urlContextMetadata``. In a
  stream several chunks carry metadata, and a support's ``groundingChunkIndices`` count the
  grounding chunks of every chunk so far (a real Gemini 2.5 stream in ../shared/conformance/
  cites index 1 from a chunk that lists one grounding chunk, after an earlier chunk listed
  another), so the chunks are read as one list.
* Interactions steps: ``google_search_call`` (its ``arguments.queries``),
  ``url_context_call`` / ``url_context_result`` (URLs and their status), and
  ``url_citation`` annotations on model text (the cited URL, title and byte range).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from harness.transcript.sdkvalues import as_list, as_str, enum_str
from harness.transcript.values import Grounding, Source, Support, merge_groundings


def from_candidates(candidates: Sequence[Any]) -> Grounding | None:
    """The grounding of one response's candidate 0 across all its chunks, in order.

    Args:
        candidates: The SDK's ``Candidate`` of every chunk (None where a chunk had none).

    Returns:
        None when no chunk carried grounding or URL context metadata.

    """
    queries: list[str] = []
    sources: list[Source] = []
    supports: list[Support] = []
    seen = False
    for candidate in candidates:
        meta = getattr(candidate, "grounding_metadata", None)
        if meta is not None:
            seen = True
            for field in ("web_search_queries", "retrieval_queries"):
                queries.extend(q for q in _field(meta, field) if isinstance(q, str))
            sources.extend(_chunk_source(c) for c in _field(meta, "grounding_chunks"))
            supports.extend(_support(s) for s in _field(meta, "grounding_supports"))
        url_meta = getattr(candidate, "url_context_metadata", None)
        if url_meta is not None:
            seen = True
            sources.extend(_url_source(as_str(getattr(u, "retrieved_url", None)),
                                       enum_str(getattr(u, "url_retrieval_status", None)))
                           for u in as_list(getattr(url_meta, "url_metadata", None)))
    if not seen:
        return None
    return merge_groundings([Grounding(tuple(queries), tuple(sources), tuple(supports))])


def _field(obj: Any, name: str) -> list[Any]:
    """A list field of a leniently parsed SDK value (``[]`` when absent or not a list)."""
    return as_list(getattr(obj, name, None))


def _chunk_source(chunk: Any) -> Source:
    web = getattr(chunk, "web", None)
    if web is not None:
        return Source("web", uri=as_str(getattr(web, "uri", None)),
                      title=as_str(getattr(web, "title", None)),
                      domain=as_str(getattr(web, "domain", None)))
    ctx = getattr(chunk, "retrieved_context", None)
    if ctx is not None:
        return Source("retrieved", uri=as_str(getattr(ctx, "uri", None)),
                      title=as_str(getattr(ctx, "title", None)),
                      text=as_str(getattr(ctx, "text", None)))
    # maps and image chunks: kept as a source of their own kind, with what they name.
    for kind in ("maps", "image"):
        other = getattr(chunk, kind, None)
        if other is not None:
            return Source(kind, uri=as_str(getattr(other, "uri", None)),
                          title=as_str(getattr(other, "title", None)))
    return Source("unknown")


def _support(support: Any) -> Support:
    segment = getattr(support, "segment", None)
    # proto3 JSON omits zero values: a missing startIndex is 0 (seen in the real stream).
    return Support(
        text=as_str(getattr(segment, "text", None)) or "",
        start=_int(getattr(segment, "start_index", None)),
        end=_int(getattr(segment, "end_index", None)),
        source_indices=tuple(i for i in as_list(getattr(support, "grounding_chunk_indices",
                                                        None)) if isinstance(i, int)))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _url_source(url: str | None, status: str | None) -> Source:
    return Source("url_context", uri=url, status=status)


def from_interaction_steps(steps: Iterable[Any]) -> Grounding | None:
    """The grounding in an interaction's steps (search calls, URL context, citations).

    Args:
        steps: The SDK's typed steps of the call's output (after its ``user_input``).

    Returns:
        None when no step is a search or URL context step and no text carries a citation.

    """
    from google.genai import interactions as gi

    queries: list[str] = []
    sources: list[Source] = []
    supports: list[Support] = []
    seen = False
    for st in steps:
        if isinstance(st, gi.GoogleSearchCallStep):
            seen = True
            args = st.arguments
            queries.extend(q for q in as_list(getattr(args, "queries", None))
                           if isinstance(q, str))
        elif isinstance(st, gi.GoogleSearchResultStep):
            seen = True
        elif isinstance(st, gi.URLContextResultStep):
            seen = True
            sources.extend(_url_source(as_str(getattr(r, "url", None)),
                                       as_str(getattr(r, "status", None)))
                           for r in as_list(st.result))
        elif isinstance(st, gi.URLContextCallStep):
            seen = True
        elif isinstance(st, gi.ModelOutputStep):
            text = ""
            for content in as_list(st.content):
                if not isinstance(content, gi.TextContent) or not isinstance(content.text, str):
                    continue
                for note in as_list(content.annotations):
                    if isinstance(note, gi.URLCitation):
                        seen = True
                        sources.append(Source("web", uri=as_str(note.url),
                                              title=as_str(note.title)))
                        start, end = _int(note.start_index), _int(note.end_index)
                        supports.append(Support(_byte_slice(content.text, start, end),
                                                start + len(text.encode()),
                                                end + len(text.encode()), (len(sources) - 1,)))
                text += content.text
    if not seen:
        return None
    return merge_groundings([Grounding(tuple(queries), tuple(sources), tuple(supports))])


def _byte_slice(text: str, start: int, end: int) -> str:
    """``text[start:end]`` with the API's byte offsets (UTF-8)."""
    return text.encode()[start:end].decode("utf-8", errors="replace")
