"""Provenance: a recording keeps where it came from; replay carries it into records and reports.

The e2e test records a case against the in-process simulator, reads the cassette's
``harness:`` block, replays (direct and through the SDK) and reads the record, summary.json
and report.md; the unit tests build the warnings from synthetic records.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from harness.calls.fingerprint import sdk_version
from harness.cassettes.files import harness_meta
from harness.report.markdown import render_markdown
from harness.report.provenance import provenance_rows, provenance_table, provenance_warnings
from harness.report.terminal import render_terminal
from harness.results.provenance import UNKNOWN, from_meta
from tests.test_plugin_e2e import eval_project

pytest_plugins = ["pytester"]

EVALS = """
suite: prov
cases:
  - id: sum
    prompt: What is 2 + 3? Run code.
    reference: print(2 + 3)
    expect: [code_executed, {answer_number: 5}]
"""
CASSETTE = "cassettes/sim/prov/sum/sim-oracle/1.yaml"


def _latest(project: pytest.Pytester) -> tuple[dict, dict, str]:
    run = project.path / "reports" / "latest"
    record = json.loads((run / "results.jsonl").read_text().splitlines()[0])
    return record, json.loads((run / "summary.json").read_text()), (run / "report.md").read_text()


def _set_meta(path: Path, **values: str | None) -> None:
    """Edit the cassette's harness: block (None drops a key), as an older harness wrote it."""
    text = path.read_text()
    at = text.rfind("\nharness:\n")
    meta = harness_meta(text)
    for k, v in values.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    path.write_text(text[:at + 1] + yaml.safe_dump({"harness": meta}, sort_keys=False))


def test_a_recording_keeps_its_provenance_and_replay_reports_it(pytester: pytest.Pytester
                                                                ) -> None:
    project = eval_project(pytester, '[tool.harness]\nmodels = ["sim-oracle"]\ntarget = "sim"\n',
                           "prov.eval.yaml", EVALS)
    project.runpytest_subprocess("evals", "--record-mode=rewrite").assert_outcomes(passed=1)
    cassette = project.path / CASSETTE
    meta = harness_meta(cassette.read_text())
    today = datetime.now(UTC).date()
    assert meta["record_date"] in (today.isoformat(), (today - timedelta(days=1)).isoformat())
    assert {k: meta[k] for k in ("harness_version", "google_genai", "model_version", "target",
                                 "recorded_via")} == {
        "harness_version": metadata.version("harness"), "google_genai": sdk_version(),
        "model_version": "sim-oracle-001", "target": "sim", "recorded_via": "normal"}
    assert "request_fingerprint" in meta  # beside the fingerprint, which still matches

    expected = {k: str(meta[k]) for k in ("harness_version", "google_genai", "model_version",
                                         "record_date", "target", "recorded_via")}
    for how in ((), ("--harness-replay=full",)):  # read straight from the file, and the SDK
        result = project.runpytest_subprocess("evals", "-p", "no:cacheprovider", *how)
        result.assert_outcomes(passed=1)
        record, summary, report = _latest(project)
        assert record["provenance"] == expected, how
    assert "through the SDK: 1 (--harness-replay=full)" in result.stdout.str()
    assert summary["provenance"]["sim-oracle"]["model_version"] == {"sim-oracle-001": 1}
    assert summary["provenance"]["sim-oracle"]["record_dates"] == {
        "first": meta["record_date"], "last": meta["record_date"], "unknown": 0}
    assert summary["provenance_warnings"] == []
    assert "## Provenance" in report
    assert (f"| sim-oracle | 1 | {metadata.version('harness')} | {sdk_version()} | "
            f"sim-oracle-001 | {meta['record_date']} | normal |") in report

    # A re-record that changes nothing but the day keeps the old date: the file is unchanged.
    _set_meta(cassette, record_date="2001-02-03")
    before = cassette.read_bytes()
    project.runpytest_subprocess("evals", "--record-mode=rewrite").assert_outcomes(passed=1)
    assert cassette.read_bytes() == before
    # new_episodes with nothing new: vcrpy leaves the file, and its block is not repeated
    project.runpytest_subprocess("evals", "--record-mode=new_episodes").assert_outcomes(passed=1)
    assert cassette.read_bytes() == before
    # Anything else that differs (here the harness version) dates the recording today.
    _set_meta(cassette, harness_version="0.0.0")
    project.runpytest_subprocess("evals", "--record-mode=rewrite").assert_outcomes(passed=1)
    now = harness_meta(cassette.read_text())
    assert now["record_date"] != "2001-02-03"
    assert now["harness_version"] == metadata.version("harness")

    # A cassette from before provenance: unknown, but the version its responses report.
    _set_meta(cassette, harness_version=None, model_version=None, record_date=None,
              target=None, recorded_via=None)
    project.runpytest_subprocess("evals").assert_outcomes(passed=1)
    record, summary, report = _latest(project)
    assert record["provenance"] == {**dict.fromkeys(expected, UNKNOWN),
                                    "google_genai": sdk_version(),
                                    "model_version": "sim-oracle-001"}
    assert summary["provenance"]["sim-oracle"]["record_dates"]["unknown"] == 1
    assert re.search(r"\| sim-oracle \| 1 \| unknown \| [^|]+ \| sim-oracle-001 \| unknown "
                     r"\| unknown \|", report)


def _rec(model: str, sdk: str, version: str, date: str = "2026-11-01",
         via: str = "normal") -> dict:
    return {"model": model, "provenance": {
        "harness_version": "0.1.0", "google_genai": sdk, "model_version": version,
        "record_date": date, "target": "gemini", "recorded_via": via}}


def test_mixed_sdk_majors_and_model_versions_are_warned_of() -> None:
    records = [_rec("gemini-x", "3.6.1", "gemini-x-001"),
               _rec("gemini-x", "2.9.0", "gemini-x-002", "2026-10-01", via="batch"),
               _rec("gemini-x", "3.6.1", "gemini-x-001", "2026-12-01"),
               _rec("gemini-y", "3.1.0", "gemini-y-001"),
               _rec("gemini-y", "3.1.0", "gemini-y"),  # Interactions echo the name asked for
               {"model": "gemini-y", "verdict": "skipped"},  # no cassette: not counted
               {"model": "gemini-y", "provenance": from_meta({})}]  # before provenance
    table = provenance_table(records)
    assert table["gemini-x"]["record_dates"] == {"first": "2026-10-01", "last": "2026-12-01",
                                                 "unknown": 0}
    assert table["gemini-x"]["recorded_via"] == {"normal": 2, "batch": 1}
    assert table["gemini-y"]["items"] == 3
    assert table["gemini-y"]["model_version"] == {"gemini-y": 1, "gemini-y-001": 1, UNKNOWN: 1}
    warnings = provenance_warnings(table)
    assert len(warnings) == 2, warnings
    assert "google-genai major versions: 2.x (1 item), 3.x (4 items)" in warnings[0]
    assert warnings[1].startswith("gemini-x: its items report 2 different model versions "
                                  "(gemini-x-001 (2), gemini-x-002 (1))")
    # gemini-y's unknown and its own name are no second version; one major alone is no warning
    assert provenance_warnings(provenance_table(records[3:])) == []
    rows = dict((r[0], r) for r in provenance_rows(table))
    assert rows["gemini-x"][5] == "2026-10-01 to 2026-12-01"
    assert rows["gemini-y"][5] == "2026-11-01, unknown (1)"
    assert rows["gemini-y"][4] == "gemini-y (1), gemini-y-001 (1), unknown (1)"
    assert rows["gemini-x"][3] == "3.6.1 (2), 2.9.0 (1)"

    summary = {"models": {}, "provenance": table, "provenance_warnings": warnings}
    lines = render_terminal(summary)
    assert sum(line.startswith("provenance warning: ") for line in lines) == 2
    report = render_markdown(summary)
    assert "## Provenance" in report and report.count("- ⚠️ ") == 2
