"""report.md, the GitHub step summary, the terminal summary and history.jsonl."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from harness.report.history import append_history, read_history
from harness.report.markdown import STEP_SUMMARY_LIMIT, append_step_summary, md, render_markdown
from harness.report.summary import summary_json
from harness.report.terminal import render_terminal
from harness.stats.pricing import Price
from tests.test_compare import records

USAGE_PRICE = {"flash": Price(0.3, 2.5, 2.5, 0.3)}


@pytest.fixture
def regressed() -> dict[str, Any]:
    recs = (records("flash", {f"c{i}": "1" for i in range(8)} | {"x": "0", "e": "E"})
            + records("pro", {f"c{i}": "0" for i in range(8)} | {"x": "1", "e": "1"}))
    return summary_json(recs, baseline="flash", prices=USAGE_PRICE)


def test_markdown_model_table(regressed: dict[str, Any]) -> None:
    text = render_markdown(regressed, run_id="20261121-104512-3fa9")
    lines = text.splitlines()
    assert lines[0] == "# Eval report: 20261121-104512-3fa9"
    head = next(i for i, line in enumerate(lines) if line.startswith("| Model |"))
    assert "Pass rate (95% CI)" in lines[head] and "First try" in lines[head]
    assert "Mean attempts" in lines[head] and "Cost" in lines[head]
    flash = lines[head + 2].split(" | ")
    assert flash[0] == "| flash" and flash[1:5] == ["10", "8", "1", "1"]
    m = regressed["models"]["flash"]
    assert f"{100 * m['pass_rate']:.1f}% \\[{100 * m['ci_low']:.1f}" in lines[head + 2]
    assert "$0.0066" in lines[head + 2]
    assert lines[head + 3].startswith("| pro |") and lines[head + 3].endswith("| unknown | 0 |")


def test_markdown_comparison_and_gate(regressed: dict[str, Any]) -> None:
    text = render_markdown(regressed)
    assert "### pro vs flash: 🔻 **REGRESSED**" in text
    assert "mid-p McNemar: p = 0.0215 (8 cases worse, 1 better) at alpha 0.05" in text
    assert "- Now failing (8): `s::c0`, `s::c1`" in text and "- Now passing (1): `s::x`" in text
    assert "- Regressed (per-case test, Holm-adjusted) (0)" in text
    assert "Not compared (ERROR or nothing judged) (1): `s::e` (1 ERROR of 1 samples" in text
    assert "❌ **failed**" in text and "- pro vs flash: REGRESSED" in text


def test_markdown_caps_lists_and_escapes(tmp_path: Path) -> None:
    recs = (records("a|<b>x</b>", {f"c{i}": "1" for i in range(40)})
            + records("b", {f"c{i}": "0" for i in range(40)}))
    text = render_markdown(summary_json(recs, baseline="a|<b>x</b>"), case_limit=5)
    assert "- Now failing (40): `s::c0`" in text and ", and 35 more" in text
    # Backslash escapes: GitHub shows "a|<b>x</b>" as text, not as bold HTML or a new column.
    assert "<b>" not in text and "a\\|\\<b\\>x\\</b\\>" in text
    assert md("*x* [y](z) `q` a&b") == "\\*x\\* \\[y\\](z) \\`q\\` a&amp;b"


def test_markdown_without_comparisons_and_with_samples() -> None:
    summary = summary_json(records("a", {"c1": "110", "c2": "111"}) + records("b", {"c1": "1"}))
    text = render_markdown(summary)
    assert "## Comparisons" not in text and "no comparisons to judge" in text
    assert "no baseline set" in text  # the note says why nothing was compared
    assert "| a | 3 | 83.3% | 100.0% (k=3) | 50.0% (k=3) |" in text


def test_step_summary(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    assert append_step_summary("# x\n", env={}) is None
    assert append_step_summary("# x\n", env={"GITHUB_STEP_SUMMARY": str(target)}) == target
    append_step_summary("# y\n", env={"GITHUB_STEP_SUMMARY": str(target)})
    assert target.read_text() == "\n# x\n\n# y\n"
    append_step_summary("é" * STEP_SUMMARY_LIMIT, env={"GITHUB_STEP_SUMMARY": str(target)})
    assert target.stat().st_size <= STEP_SUMMARY_LIMIT
    assert target.read_text(encoding="utf-8").endswith("see report.md\n")


def test_terminal_lines(regressed: dict[str, Any]) -> None:
    lines = render_terminal(regressed)
    assert lines[0].split() == ["model", "pass", "rate", "95%", "CI", "pass/fail/err/skip",
                                "first-try", "attempts"]
    assert lines[1].split()[:2] == ["flash", "88.9%"] and "8/1/1/0" in lines[1]
    assert lines[2].split()[:2] == ["pro", "20.0%"] and "2/8/0/0" in lines[2]
    comp = next(line for line in lines if line.startswith("pro vs flash"))
    assert "REGRESSED (p=0.0215, -77.8 pts 95% CI" in comp
    assert any(line.strip().startswith("now failing 8: s::c0, s::c1") and "+" in line
               for line in lines)
    assert any(line.strip() == "now passing 1: s::x" for line in lines)
    assert any(line.strip() == "regressed 0: none" for line in lines)
    assert "gate: FAILED (1 reason)" in lines
    assert all(len(line) < 500 for line in lines)


def test_terminal_without_anything() -> None:
    assert render_terminal(summary_json([])) == ["no eval items ran",
                                                 "gate: passed (no comparisons)"]


def test_history_round_trip(tmp_path: Path) -> None:
    recs = records("a", {"c1": "1", "c2": "0"}) + records("b", {"c1": "E"})
    for r in recs:
        r["model_version"] = "a-002" if r["model"] == "a" else None
    summary = summary_json(recs)
    path = tmp_path / "reports" / "history.jsonl"
    lines = append_history(path, summary, "run-1", "2026-11-21T10:45:12", records=recs)
    # b judged nothing (its one item ERRORed): no point for it.
    assert [line["model"] for line in lines] == ["a"]
    assert lines[0] == {"run_id": "run-1", "time": "2026-11-21T10:45:12", "model": "a",
                        "model_version": "a-002", "pass_rate": 0.5,
                        "ci_low": summary["models"]["a"]["ci_low"],
                        "ci_high": summary["models"]["a"]["ci_high"], "items": 2}
    append_history(path, summary, "run-2", "2026-11-22T10:00:00")
    with path.open("a") as fh:
        fh.write("<<<<<<< HEAD\n\n" + json.dumps({"nope": 1}) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = read_history(path)
    assert [h["run_id"] for h in history] == ["run-1", "run-2"]
    assert history[1]["model_version"] is None
    assert len(caught) == 2 and "history.jsonl:3: skipped" in str(caught[0].message)
    assert read_history(tmp_path / "missing.jsonl") == []
