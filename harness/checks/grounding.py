"""Built-in checks on grounding (``config.tools``): ``searched`` and ``cites``.

They read :attr:`harness.transcript.values.Transcript.grounding`: the search queries the
model issued and the sources (search results, fetched URLs, retrieved documents) it reported.
"""

from __future__ import annotations

from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, WithJsonSchema, model_validator

from harness.checks._common import Count, Text, plural, quote
from harness.checks.api import CheckArgs, CheckContext, Judgement, check
from harness.transcript.values import Source, Transcript

# An explicit null is rejected (_no_nulls), so the schema offers only the value's own type.
_Queries = Annotated[Count | None, WithJsonSchema({"type": "integer", "minimum": 1})]
_Needle = Annotated[Text | None, WithJsonSchema({"type": "string", "minLength": 1})]
_LIST_AT_MOST = 5  # queries / sources shown in a message before "and N more"


def _no_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        nulls = [k for k, v in data.items() if v is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} is null: give a value or leave the key out")
    return data


class SearchedArgs(CheckArgs):
    """Arguments of the searched check."""

    value: bool = Field(True, description="true: the model searched; false: it did not.")
    min_queries: _Queries = Field(None, description=(
        "The fewest search queries it must have issued (implies value: true)."))

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _no_nulls(data)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_queries is not None and not self.value:
            raise ValueError("min_queries needs value: true (a search that did not happen "
                             "has no queries)")
        return self


class CitesArgs(CheckArgs):
    """Arguments of the cites check: exactly one of ``domain`` and ``uri_contains``."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["domain"]},
                                                           {"required": ["uri_contains"]}]})

    domain: _Needle = Field(None, description=(
        "A source's host is this domain or a subdomain of it (the source's domain or "
        "domain-like title counts too: the API's search results give the site there)."))
    uri_contains: _Needle = Field(None, description="A source's URI contains this text.")

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _no_nulls(data)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.domain is None) == (self.uri_contains is None):
            raise ValueError("give exactly one of domain and uri_contains")
        return self


def _listing(items: list[str]) -> str:
    shown = ", ".join(quote(i, 80) for i in items[:_LIST_AT_MOST])
    more = len(items) - _LIST_AT_MOST
    return shown + (f" and {more} more" if more > 0 else "")


def _count(n: int) -> str:
    return f"{n} search {'query' if n == 1 else 'queries'}"


def _queries(t: Transcript) -> list[str]:
    return list(t.grounding.queries) if t.grounding is not None else []


@check("searched", SearchedArgs, short="value",
       summary="The model issued search queries (`false`: none; `min_queries`: at least N); "
               "needs `config.tools: [google_search]`.")
def searched(ctx: CheckContext, args: SearchedArgs) -> Judgement:
    """Check whether (and how much) the model searched."""
    queries = _queries(ctx.transcript)
    actual = (f"{_count(len(queries))}: {_listing(queries)}" if queries
              else "no search queries" + ("" if ctx.transcript.grounding is not None
                                          else " (the response had no grounding metadata)"))
    if not args.value:
        return Judgement(not queries, "no search", actual)
    wanted = args.min_queries or 1
    expected = f"at least {_count(wanted)}" if args.min_queries else "a search"
    return Judgement(len(queries) >= wanted, expected, actual)


def host_matches(host: str, domain: str) -> bool:
    """True when ``host`` is ``domain`` or a subdomain of it (ignoring case and a ``www.``)."""
    host, domain = host.lower().rstrip("."), domain.lower().rstrip(".").removeprefix("www.")
    return host == domain or host.endswith("." + domain)


def _hosts(source: Source) -> list[str]:
    """Every host a source names: its URI's, its domain, and a title that is a host name."""
    hosts = []
    if source.uri:
        host = urlsplit(source.uri).hostname
        if host:
            hosts.append(host)
    if source.domain:
        hosts.append(source.domain)
    # The API's search results carry a redirect URI and the site ("wikipedia.org") as title.
    if source.title and "." in source.title and " " not in source.title.strip():
        hosts.append(source.title.strip())
    return hosts


def _describe(source: Source) -> str:
    return source.uri or source.title or source.domain or f"a {source.kind} source"


@check("cites", CitesArgs, short="domain",
       summary="Some grounding source is on `domain` (or a subdomain), or has a URI "
               "containing `uri_contains`.")
def cites(ctx: CheckContext, args: CitesArgs) -> Judgement:
    """Check that some source matches the domain or the URI text."""
    grounding = ctx.transcript.grounding
    sources = list(grounding.sources) if grounding is not None else []
    if args.domain is not None:
        expected = f"a source on {args.domain}"
        passed = any(host_matches(h, args.domain) for s in sources for h in _hosts(s))
    else:
        needle = args.uri_contains or ""
        expected = f"a source whose URI contains {needle!r}"
        passed = any(needle in (s.uri or "") for s in sources)
    if not sources:
        actual = "no sources" + ("" if grounding is not None
                                 else " (the response had no grounding metadata)")
    else:
        actual = f"{plural(len(sources), 'source')}: {_listing([_describe(s) for s in sources])}"
    return Judgement(passed, expected, actual)
