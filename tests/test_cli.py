"""The `harness` command: validate, schema, transcript."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.spec.schema import SCHEMA_PATH

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
GOOD = """suite: s
cases:
  - id: a
    prompt: hi
    expect: [code_executed]
"""


def test_validate_good_and_bad(tmp_path, capsys):
    (tmp_path / "good.eval.yaml").write_text(GOOD)
    (tmp_path / "bad.eval.yaml").write_text(
        "cases:\n  - id: a\n    prompt: hi\n    expect: [nope]\n")
    assert main(["validate", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "1 of 2 eval files valid (1 cases)" in captured.out
    assert "bad.eval.yaml:4" in captured.err and "unknown check 'nope'" in captured.err


def test_validate_only_good(tmp_path, capsys):
    path = tmp_path / "good.eval.yaml"
    path.write_text(GOOD)
    assert main(["validate", str(path)]) == 0
    assert "1 of 1 eval files valid" in capsys.readouterr().out


def test_validate_missing_path(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_committed_evals_validate(capsys):
    evals = Path(__file__).resolve().parents[1] / "evals"
    assert main(["validate", str(evals)]) == 0


def test_schema_prints_the_committed_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(SCHEMA_PATH.read_text())


def test_schema_write(tmp_path):
    out = tmp_path / "s.json"
    assert main(["schema", "--write", str(out)]) == 0
    assert out.read_text() == SCHEMA_PATH.read_text()


@pytest.mark.skipif(not CONFORMANCE.is_dir(),
                    reason="../shared/conformance is not beside the checkout")
def test_transcript_of_a_real_response(capsys):
    body = (CONFORMANCE / "vercel-g3flash-one-code-two-results"
            / "google-code-execution-multiple-results.json")
    assert main(["transcript", str(body)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["model_version", "finish_reason", "final_text", "code_runs", "steps",
                          "usage"]
    assert len(data["code_runs"]) == 1
    assert data["code_runs"][0]["outcome"] == "OUTCOME_FAILED"


def test_transcript_of_garbage_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "x.txt"
    path.write_text("hello, not a response")
    assert main(["transcript", str(path)]) == 1
    err = capsys.readouterr().err
    assert "harness transcript:" in err and "Traceback" not in err


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "harness", "--help"], capture_output=True,
                            text=True, check=True)
    assert "validate" in result.stdout and "transcript" in result.stdout


def test_transcript_of_a_cassette_restores_stored_figures(capsys):
    cassette = (Path(__file__).resolve().parents[1] / "cassettes" / "sim" / "data-questions"
                / "squares-chart" / "sim-oracle" / "1.yaml")
    assert main(["transcript", str(cassette), "--with-image-data"]) == 0
    data = json.loads(capsys.readouterr().out)
    [image] = [s for s in data["steps"] if s["type"] == "image"]
    assert image["mime_type"] == "image/png"
    import base64
    import hashlib
    raw = base64.b64decode(image["data"])
    assert raw.startswith(b"\x89PNG") and hashlib.sha256(raw).hexdigest() == image["sha256"]


@pytest.mark.parametrize("case", ["chat-sum-first-50-primes",
                                  "interactions-sum-first-50-primes-two-turns"])
def test_transcript_of_a_conversation_has_every_turn(case, capsys):
    # Chat turns resend the history; interactions turns chain by previous_interaction_id.
    cassette = (Path(__file__).resolve().parents[1] / "cassettes" / "sim" / "gemini-docs"
                / case / "sim-oracle" / "1.yaml")
    assert main(["transcript", str(cassette)]) == 0
    data = json.loads(capsys.readouterr().out)
    first, last = data["turns"]
    assert first["outcomes"] == [] and last["outcomes"] == ["OUTCOME_OK"]
    assert data["final_text"] == last["final_text"] and "5117" in data["final_text"]
    assert len(data["steps"]) == first["steps"] + last["steps"]
    assert data["usage"]["prompt_tokens"] == \
        first["usage"]["prompt_tokens"] + last["usage"]["prompt_tokens"]
    # A hand-picked exchange is that exchange alone.
    assert main(["transcript", str(cassette), "--interaction", "0"]) == 0
    assert not json.loads(capsys.readouterr().out).get("turns")


def test_compare_json_prints_json_alone(tmp_path, capsys, monkeypatch):
    from harness.report.synthetic import synthetic_run

    monkeypatch.chdir(tmp_path)  # no pyproject here: default settings
    synthetic_run(tmp_path / "reports", "run-a", cases=6)
    synthetic_run(tmp_path / "reports", "run-b", cases=6, seed=8)
    assert main(["compare", "reports/run-a", "reports/run-b", "--json"]) == 0
    captured = capsys.readouterr()
    assert isinstance(json.loads(captured.out), dict)  # nothing after the document
    assert captured.err.startswith("gate: ")


def test_a_closed_pipe_is_not_a_traceback():
    # `harness schema | head -c 10`, with the reader gone before anything is written.
    proc = subprocess.Popen([sys.executable, "-m", "harness", "schema"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_unused_lists_stale_cassettes_temporary_recordings_and_orphan_blobs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.harness]\nmodels = ["m1"]\ntarget = "sim"\n')
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "s.eval.yaml").write_text("cases:\n  - {id: a, prompt: p}\n")
    case = tmp_path / "cassettes/sim/s/a"
    blob = "ab" * 32
    for rel, text in (("m1/1.yaml", f'"harness-blob:{blob}.png:std"'), ("m1/2.yaml", ""),
                      ("gone-model/1.yaml", ""), ("m1/.1.recording-99.yaml", "")):
        (case / rel).parent.mkdir(parents=True, exist_ok=True)
        (case / rel).write_text(text)
    (tmp_path / "cassettes/sim/old-suite/x/m1").mkdir(parents=True)
    (tmp_path / "cassettes/sim/old-suite/x/m1/1.yaml").write_text("")
    (tmp_path / "cassettes/sim/_blobs").mkdir()
    (tmp_path / f"cassettes/sim/_blobs/{blob}.png").write_bytes(b"x")
    (tmp_path / f"cassettes/sim/_blobs/{'cd' * 32}.png").write_bytes(b"y")
    monkeypatch.chdir(tmp_path)
    assert main(["unused", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "cassettes no item uses (3):" in out
    for rel in ("s/a/m1/2.yaml", "s/a/gone-model/1.yaml", "old-suite/x/m1/1.yaml"):
        assert f"cassettes/sim/{rel}" in out
    assert "temporary recordings left by killed runs (1):\n  cassettes/sim/s/a/m1/.1." in out
    assert f"blobs no used cassette refers to (1):\n  cassettes/sim/_blobs/{'cd' * 32}.png" in out
    assert "s/a/m1/1.yaml" not in out.replace("s/a/m1/.1.", "")
    assert main(["unused"]) == 0
