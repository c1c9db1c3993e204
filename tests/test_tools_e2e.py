"""End to end through pytest and the real SDK against the simulator: ``config.tools`` on every
surface, judged by ``searched`` and ``cites``; recorded, then replayed offline alike."""

from __future__ import annotations

import json

import pytest

from tests.test_plugin_e2e import eval_project, outcomes

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle", "sim-nocode"]
target = "sim"
"""

EVALS = """
suite: tools
defaults:
  config: {tools: [google_search]}
cases:
  - id: search-generate
    prompt: Look up the heights of Burj Khalifa and Shanghai Tower, then add them in code.
    sim:
      search:
        queries: [Burj Khalifa height, Shanghai Tower height]
        sources:
          - {title: Burj Khalifa, uri: "https://en.wikipedia.org/wiki/Burj_Khalifa"}
          - {title: Shanghai Tower, uri: "https://en.wikipedia.org/wiki/Shanghai_Tower"}
    reference: print(828 + 632)
    expect: [{searched: {min_queries: 2}}, {cites: wikipedia.org}, {answer_number: 1460}]
  - id: search-stream
    api: stream
    prompt: Stream it - the heights of Burj Khalifa and Shanghai Tower, added in code.
    reference: print(828 + 632)
    expect: [searched, {cites: sim-search.invalid}, {answer_number: 1460}]
  - id: search-chat
    api: chat
    turns: [I have a question that needs a search., Add the two tallest heights in code.]
    reference: print(828 + 632)
    expect: [searched, {answer_number: 1460}]
  - id: search-interactions
    api: interactions
    prompt: Interactions - the heights of Burj Khalifa and Shanghai Tower, added in code.
    reference: print(828 + 632)
    expect: [searched, {cites: {uri_contains: "sim-search.invalid/search"}}]
  - id: no-search
    prompt: Add 828 and 632 in code, without searching.
    config: {tools: null}
    reference: print(828 + 632)
    expect: [{searched: false}]
  - id: wrong-domain
    prompt: Which site did you find the heights on? Add them in code.
    reference: print(828 + 632)
    expect: [{cites: example.com}]
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return eval_project(pytester, PYPROJECT, "tools.eval.yaml", EVALS)


def test_search_cases_record_and_replay(project: pytest.Pytester) -> None:
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-rA")
    got = outcomes(rec)
    out = rec.stdout.str()
    oracle = {k: v for k, v in got.items() if "sim-oracle" in k}
    assert oracle == {f"evals/tools.eval.yaml::{c}[sim-oracle]": "FAILED" if c == "wrong-domain"
                      else "PASSED" for c in ("search-generate", "search-stream", "search-chat",
                                              "search-interactions", "no-search",
                                              "wrong-domain")}, out
    # The failure lists what was cited, readable
    assert "expected: a source on example.com" in out
    assert "1 source: 'https://sim-search.invalid/" in out
    assert "Traceback" not in out

    cassette = (project.path / "cassettes/sim/tools/search-generate/sim-oracle/1.yaml")
    text = cassette.read_text()
    assert '"googleSearch"' in text and "groundingMetadata" in text
    records = [json.loads(line) for line in
               (project.path / "reports/latest/results.jsonl").read_text().splitlines()]
    rec_gen = next(r for r in records if r["case"] == "search-generate"
                   and r["model"] == "sim-oracle")
    assert rec_gen["transcript"]["grounding"]["queries"] == ["Burj Khalifa height",
                                                             "Shanghai Tower height"]
    plain = next(r for r in records if r["case"] == "no-search" and r["model"] == "sim-oracle")
    assert "grounding" not in plain["transcript"]

    replay = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(replay) == got
