"""The grounding checks ``searched`` and ``cites``: verdicts, messages, argument errors."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.checks.api import CheckContext, CheckResult
from harness.checks.grounding import host_matches
from harness.checks.registry import CheckParseError, parse_check
from harness.checks.schema import check_json_schema
from harness.transcript.values import Grounding, Source, Transcript

GROUNDED = Transcript(grounding=Grounding(
    queries=("Burj Khalifa height", "Shanghai Tower height"),
    sources=(Source(uri="https://vertexaisearch.cloud.google.com/grounding-api-redirect/AbC",
                    title="wikipedia.org"),
             Source(uri="https://www.ctbuh.org/buildings/shanghai-tower", title="CTBUH"),
             Source("url_context", uri="https://docs.example.com/a.csv"))))
UNGROUNDED = Transcript()


def run(raw: Any, t: Transcript) -> CheckResult:
    return parse_check(raw).run(CheckContext(t))


@pytest.mark.parametrize(("raw", "transcript", "passed"), [
    ("searched", GROUNDED, True),
    ("searched", UNGROUNDED, False),
    ({"searched": False}, UNGROUNDED, True),
    ({"searched": False}, GROUNDED, False),
    ({"searched": {"min_queries": 2}}, GROUNDED, True),
    ({"searched": {"min_queries": 3}}, GROUNDED, False),
    ({"cites": "wikipedia.org"}, GROUNDED, True),         # the title names the site
    ({"cites": "ctbuh.org"}, GROUNDED, True),             # www. subdomain of the URI's host
    ({"cites": "example.com"}, GROUNDED, True),           # docs.example.com (url_context)
    ({"cites": "buh.org"}, GROUNDED, False),              # not a suffix at a dot
    ({"cites": "wikipedia.org"}, UNGROUNDED, False),
    ({"cites": {"uri_contains": "shanghai-tower"}}, GROUNDED, True),
    ({"cites": {"uri_contains": "burj"}}, GROUNDED, False),
])
def test_verdicts(raw: Any, transcript: Transcript, passed: bool) -> None:
    result = run(raw, transcript)
    assert result.error is None and result.passed is passed, result


def test_messages_list_queries_and_sources() -> None:
    many = run({"searched": {"min_queries": 3}}, GROUNDED)
    assert many.expected == "at least 3 search queries"
    assert many.actual == ("2 search queries: 'Burj Khalifa height', "
                           "'Shanghai Tower height'")
    none = run("searched", UNGROUNDED)
    assert none.actual == "no search queries (the response had no grounding metadata)"
    miss = run({"cites": "nytimes.com"}, GROUNDED)
    assert miss.expected == "a source on nytimes.com"
    assert miss.actual.startswith("3 sources: 'https://vertexaisearch")
    assert "'https://www.ctbuh.org/buildings/shanghai-tower'" in miss.actual


def test_host_matching() -> None:
    assert host_matches("en.wikipedia.org", "wikipedia.org")
    assert host_matches("WIKIPEDIA.ORG.", "www.wikipedia.org")
    assert not host_matches("notwikipedia.org", "wikipedia.org")


@pytest.mark.parametrize(("raw", "message"), [
    ({"cites": {}}, "give exactly one of domain and uri_contains"),
    ({"cites": {"domain": "a.org", "uri_contains": "b"}}, "give exactly one"),
    ({"searched": {"value": False, "min_queries": 1}}, "min_queries needs value: true"),
    ({"searched": {"min_queries": 0}}, "greater than or equal to 1"),
    ({"searched": {"min_queries": None}}, "min_queries is null"),
    ({"cites": {"site": "a.org"}}, "unknown argument 'site'"),
])
def test_bad_arguments(raw: Any, message: str) -> None:
    with pytest.raises(CheckParseError, match=message):
        parse_check(raw)


@pytest.mark.parametrize(("entry", "valid"), [
    ({"cites": "a.org"}, True), ({"cites": {"uri_contains": "x"}}, True),
    ({"cites": {}}, False), ({"cites": {"domain": "a", "uri_contains": "b"}}, False),
    ({"searched": {"min_queries": 2}}, True), ({"searched": {"min_queries": None}}, False),
])
def test_schema_agrees(entry: dict[str, Any], valid: bool) -> None:
    validator = Draft202012Validator({"type": "array", "items": check_json_schema()})
    assert validator.is_valid([entry]) is valid
