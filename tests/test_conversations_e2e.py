"""End to end through pytest and the real SDK against the simulator: input files (inline and
through the Files API) on every surface, chats (plain and streamed) and chained interactions,
judged per turn; recorded, then replayed offline with the same verdicts."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.test_plugin_e2e import outcomes

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle", "sim-wrong"]
target = "sim"
"""

READ_CSV = """
import csv
rows = list(csv.DictReader(open("sales.csv")))
print(max(rows, key=lambda r: int(r["revenue"]))["month"])
"""
EVALS = f"""
suite: conv
cases:
  - id: csv-inline
    inputs: [{{file: data/sales.csv}}]
    prompt: Which month had the most revenue in the attached CSV?
    reference: |{READ_CSV.replace(chr(10), chr(10) + "      ")}
    expect: [code_executed, {{answer_contains: Mar}}]
  - id: csv-upload-stream
    api: stream
    inputs: [{{file: data/sales.csv, upload: true}}]
    prompt: Stream the best month of the attached CSV.
    reference: |{READ_CSV.replace(chr(10), chr(10) + "      ")}
    expect: [{{answer_contains: Mar}}]
  - id: csv-upload-interactions
    api: interactions
    inputs: [{{file: data/sales.csv, upload: true}}]
    prompt: Interactions, the best month of the attached CSV?
    reference: |{READ_CSV.replace(chr(10), chr(10) + "      ")}
    expect: [{{answer_contains: Mar}}]
  - id: chat-primes
    api: chat
    turns:
      - I have a math question for you.
      - prompt: What is the sum of the first 50 prime numbers? Generate and run code.
        expect: [code_executed, {{answer_number: 5117}}]
    reference: |
      from sympy import prime
      print(sum(prime(i) for i in range(1, 51)))
    expect: [{{max_attempts: 5}}]
  - id: chat-stream
    api: chat
    stream: true
    turns:
      - prompt: First, how many bytes is the attached file?
        inputs: [{{file: data/sales.csv, upload: true}}]
        reference: |
          import os
          print(os.path.getsize("sales.csv"))
        expect: [{{answer_number: from_reference}}]
      - prompt: What is 6 times 7? Run code.
        expect: [{{answer_number: from_reference}}]  # the last turn's: the case's reference
    reference: print(6 * 7)
    expect: [{{max_attempts: 5}}]
  - id: interactions-two-turns
    api: interactions
    inputs: [{{file: data/sales.csv}}]
    turns:
      - I will ask about the attached CSV next.
      - prompt: Now, which month of the CSV had the most revenue?
        expect: [{{answer_contains: Mar}}]
    reference: |{READ_CSV.replace(chr(10), chr(10) + "      ")}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    (pytester.path / "evals" / "data").mkdir(parents=True)
    (pytester.path / "evals" / "data" / "sales.csv").write_text(
        "month,revenue\nJan,100\nFeb,120\nMar,180\nApr,90\n")
    (pytester.path / "evals" / "conv.eval.yaml").write_text(EVALS)
    return pytester


def test_inputs_and_conversations_record_and_replay(project: pytest.Pytester) -> None:
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-rA")
    got = outcomes(rec)
    assert {k: v for k, v in got.items() if "sim-oracle" in k} == {
        f"evals/conv.eval.yaml::{c}[sim-oracle]": "PASSED" for c in (
            "csv-inline", "csv-upload-stream", "csv-upload-interactions", "chat-primes",
            "chat-stream", "interactions-two-turns")}, rec.stdout.str()
    out = rec.stdout.str()
    # sim-wrong states the last number plus one: the FAIL listing names the turn it judged
    assert "FAIL  turn 2: answer_number: 5117" in out
    assert "turn 1: code runs: 0 (no code ran)" in out
    assert "Traceback" not in out

    root = project.path / "cassettes/sim/conv"
    upload = (root / "csv-upload-stream/sim-oracle/1.yaml").read_text()
    exchanges = yaml.safe_load(upload)["interactions"]
    assert [e["request"]["uri"].split("?")[0].split("/", 3)[-1] for e in exchanges][:2] == [
        "upload/v1beta/files", "upload/v1beta/files"]
    assert "upload_id" not in upload
    chat = yaml.safe_load((root / "chat-primes/sim-oracle/1.yaml").read_text())["interactions"]
    second = json.loads(chat[1]["request"]["body"])
    assert [c["role"] for c in second["contents"]] == ["user", "model", "user"]
    chained = yaml.safe_load(
        (root / "interactions-two-turns/sim-oracle/1.yaml").read_text())["interactions"]
    assert "previous_interaction_id" in json.loads(chained[1]["request"]["body"])
    first = json.loads(chained[0]["request"]["body"])
    assert first["input"][0]["content"][0]["type"] == "document"
    assert (root / "chat-stream/reference.turn-1.json").exists()

    records = [json.loads(line) for line in
               (project.path / "reports/latest/results.jsonl").read_text().splitlines()]
    convo = next(r for r in records if r["case"] == "chat-primes" and r["model"] == "sim-oracle")
    assert convo["turns"] == ["I have a math question for you.",
                              "What is the sum of the first 50 prime numbers? Generate and run "
                              "code."]
    assert [c["turn"] for c in convo["checks"]] == [2, 2, 2]
    breakdown = convo["transcript"]["turns"]
    assert [t["attempts"] for t in breakdown] == [0, 1] and convo["attempts"] == 1
    assert convo["usage"]["prompt_tokens"] == sum(t["usage"]["prompt_tokens"] for t in breakdown)

    replay = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(replay) == got
