"""Behaviour diff: each kind of change is detected on its own, and the CLI reads real recordings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.report.behaviour import behaviour_of, imported_libraries
from harness.report.diff import Item, Side, diff_sides

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"
if not CONFORMANCE.is_dir():
    CONFORMANCE = Path("/work/shared/conformance")


def test_imported_libraries_from_the_ast_and_from_code_that_does_not_parse() -> None:
    code = "import numpy as np, os.path\nfrom scipy.stats import norm\nfrom . import x\n"
    assert imported_libraries(code) == {"numpy", "os", "scipy"}
    assert imported_libraries("import pandas\nprnt(1\n") == {"pandas"}
    assert imported_libraries("def f(:\nfrom sympy import prime\n") == {"sympy"}


BASE = {"final_text": "5117", "usage": {"prompt_tokens": 10, "output_tokens": 5},
        "code_runs": [{"code": "import sympy\nprint(1)", "outcome": "OUTCOME_OK",
                       "thought": False}],
        "steps": [{"type": "image", "sha256": "aa"}]}


def _variant(kind: str) -> tuple[dict, float | None]:
    t = json.loads(json.dumps(BASE))
    latency = 2.0
    if kind == "answer":
        t["final_text"] = "5118"
    elif kind == "outcomes":  # same attempts, other outcome
        t["code_runs"][0]["outcome"] = "OUTCOME_FAILED"
    elif kind == "attempts":  # OK -> FAILED, OK changes the sequence too
        t["code_runs"].insert(0, {"code": "import sympy\nprint(2)", "outcome": "OUTCOME_FAILED"})
        t["code_runs"][1]["code"] = ""
    elif kind == "libraries":
        t["code_runs"][0]["code"] = "import numpy\nprint(1)"
    elif kind == "code_size":
        t["code_runs"][0]["code"] = "import sympy\nprint(10)"
    elif kind == "tokens":
        t["usage"]["output_tokens"] = 7
    elif kind == "images":
        t["steps"].append({"type": "image", "sha256": "bb"})
    elif kind == "latency":
        latency = 4.0
    return t, latency


def test_every_kind_is_detected_and_nothing_else() -> None:
    kinds = ["answer", "outcomes", "attempts", "libraries", "code_size", "tokens", "images",
             "latency"]
    a = Side("A", {k: Item(behaviour_of(BASE, latency_s=2.0)) for k in [*kinds, "same"]})
    b = Side("B", {k: Item(behaviour_of(*_variant(k)[:1], latency_s=_variant(k)[1]))
                   for k in [*kinds, "same"]})
    diff = diff_sides(a, b)
    found = {kind: sorted(c.item for c in changes) for kind, changes in diff.groups.items()}
    expected = {k: [k] for k in kinds}
    expected["outcomes"] = ["attempts", "outcomes"]  # OK -> FAILED, OK is both
    assert found == expected
    assert diff.compared == 9 and diff.changed_items == 8
    small = Side("B", {"same": Item(behaviour_of(BASE, latency_s=2.2))})  # timing noise
    assert not diff_sides(Side("A", {"same": a.items["same"]}), small).groups


def test_cli_diff_on_two_committed_sim_samples(capsys: pytest.CaptureFixture[str]) -> None:
    d = "cassettes/sim/data-questions/compound-interest/sim-flaky"
    assert main(["diff", f"{d}/1.yaml", f"{d}/3.yaml", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"answer": 1, "outcomes": 1, "attempts": 1, "code_size": 1,
                             "tokens": 1}
    assert out["groups"]["outcomes"][0]["summary"] == "OK → FAILED, OK"


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="no conformance corpus")
def test_cli_diff_on_two_real_recordings(capsys: pytest.CaptureFixture[str]) -> None:
    a = CONFORMANCE / "firebase-googleai-g25flash-unary/unary-success-code-execution.json"
    b = next((CONFORMANCE / "vercel-g3flash-failed-zerodiv").glob("google-*.json"))
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "## Outcome sequence changed (1)" in out and "OK → FAILED" in out
