"""``api: live`` end to end through pytest and the real SDK: recorded against the simulator's
wss endpoint (the plugin starts it with a throwaway certificate), replayed offline from
``<k>.live.yaml``; a session cut mid-turn, a cassette cut short, a changed prompt and a
missing cassette are each an ERROR that says what happened and how to re-record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.test_plugin_e2e import eval_project, outcomes

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.harness]
models = ["sim-oracle", "sim-wrong"]
target = "sim"
retry = {attempts = 3, initial_delay = 0.0, max_delay = 0.1}
"""
PRIMES = "What is the sum of the first 50 prime numbers? Generate and run code."
EVALS = f"""
suite: lv
defaults: {{api: live}}
cases:
  - id: primes
    prompt: {PRIMES}
    reference: |
      from sympy import prime
      print(sum(prime(i) for i in range(1, 51)))
    expect: [code_executed, {{answer_number: 5117}}]
  - id: two-turns
    turns:
      - I have a math question for you.
      - prompt: What is 6 times 7? Run code.
        expect: [code_executed, {{answer_number: 42}}]
    reference: print(6 * 7)
"""
# Every host name resolved in the run goes to this file: a replay must resolve (and so
# connect to) nothing; pytest-recording's guard refuses any connect() besides.
CONFTEST = """
import socket
_real = socket.getaddrinfo
def _noted(host, *args, **kwargs):
    with open("resolved.txt", "a") as f:
        f.write(f"{host}\\n")
    return _real(host, *args, **kwargs)
socket.getaddrinfo = _noted
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return eval_project(pytester, PYPROJECT, "lv.eval.yaml", EVALS)


def _cassette(project: pytest.Pytester, case: str, model: str = "sim-oracle") -> Path:
    return project.path / f"cassettes/sim/lv/{case}/{model}/1.live.yaml"


def test_live_records_then_replays_offline(project: pytest.Pytester) -> None:
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-rA")
    got = outcomes(rec)
    assert got == {"evals/lv.eval.yaml::primes[sim-oracle]": "PASSED",
                   "evals/lv.eval.yaml::two-turns[sim-oracle]": "PASSED",
                   # sim-wrong states the last number plus one: a FAIL, not an ERROR
                   "evals/lv.eval.yaml::primes[sim-wrong]": "FAILED",
                   "evals/lv.eval.yaml::two-turns[sim-wrong]": "FAILED"}, rec.stdout.str()
    assert "Traceback" not in rec.stdout.str()
    assert "FAIL  turn 2: answer_number: 42" in rec.stdout.str()

    text = _cassette(project, "two-turns").read_text()
    doc = yaml.safe_load(text)
    sends = [f["json"] for f in doc["frames"] if f["direction"] == "send"]
    assert list(sends[0]) == ["setup"] and sends[0]["setup"]["model"] == "models/sim-oracle"
    assert sends[0]["setup"]["tools"] == [{"codeExecution": {}}]
    assert sends[0]["setup"]["generationConfig"]["responseModalities"] == ["TEXT"]
    # one clientContent per turn, each with only its own message (the server keeps history)
    assert [s["client_content"]["turns"][0]["parts"][0]["text"] for s in sends[1:]] == [
        "I have a math question for you.", "What is 6 times 7? Run code."]
    assert doc["uri"].startswith("wss://gemini.api.invalid/ws/")
    assert {k: doc["harness"][k] for k in ("target", "recorded_via")} == {
        "target": "sim", "recorded_via": "normal"}  # provenance, as in HTTP cassettes
    assert {"harness_version", "google_genai", "record_date"} <= set(doc["harness"])
    # the case headers went in the handshake, and neither they nor the key were stored
    for secret in ("x-harness", "sim-key", "127.0.0.1"):
        assert secret not in text
    assert not list((project.path / "cassettes").rglob("1.yaml"))  # no HTTP cassette
    assert not list((project.path / "cassettes").rglob(".*.recording-*"))

    records = [json.loads(line) for line in
               (project.path / "reports/latest/results.jsonl").read_text().splitlines()]
    convo = next(r for r in records if r["case"] == "two-turns" and r["model"] == "sim-oracle")
    assert convo["api"] == "live" and convo["cassette"].endswith("1.live.yaml")
    assert [t["attempts"] for t in convo["transcript"]["turns"]] == [0, 1]
    assert convo["usage"]["output_tokens"] and convo["usage"]["prompt_tokens"]
    assert convo["provenance"]["record_date"] == doc["harness"]["record_date"]

    (project.path / "resolved.txt").unlink(missing_ok=True)
    project.makeconftest(CONFTEST)
    replay = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(replay) == got, replay.stdout.str()
    resolved = project.path / "resolved.txt"
    assert not resolved.exists(), resolved.read_text()


def test_session_closed_mid_turn(project: pytest.Pytester,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # On every attempt the simulator drops the session after the turn's first part.
    monkeypatch.setenv("HARNESS_SIM_FAULTS", "truncate")
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-rA",
                                       "-k", "primes and sim-oracle")
    out = rec.stdout.str()
    assert outcomes(rec) == {"evals/lv.eval.yaml::primes[sim-oracle]": "ERROR"}, out
    assert ("API error calling live for case 'primes' with model 'sim-oracle' (after 3 "
            "attempts): the Live API closed the websocket in turn 1 of 1 (close code 1011: "
            "Internal error occurred.)") in out
    assert "Traceback" not in out
    assert not (project.path / "cassettes").exists() or not list(
        (project.path / "cassettes").rglob("*.live.yaml"))
    assert not list(project.path.rglob(".*.recording-*"))

    # Dropped once only: retried, and the cassette keeps the one whole session.
    monkeypatch.setenv("HARNESS_SIM_FAULTS", "truncate@1")
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-rA",
                                       "-k", "primes and sim-oracle")
    assert outcomes(rec) == {"evals/lv.eval.yaml::primes[sim-oracle]": "PASSED"}
    frames = yaml.safe_load(_cassette(project, "primes").read_text())["frames"]
    assert [f["direction"] for f in frames].count("send") == 2  # setup + the one turn
    assert not any(f["direction"] == "close" for f in frames)


def test_replay_errors_say_what_and_how_to_rerecord(project: pytest.Pytester) -> None:
    project.runpytest_subprocess("evals", "--record-mode=rewrite", "-k", "primes")
    # primes[sim-wrong]: cut after the turn's first part (a recording that ended mid-turn)
    cut = _cassette(project, "primes", "sim-wrong")
    doc = yaml.safe_load(cut.read_text())
    cut.write_text(yaml.safe_dump({**doc, "frames": doc["frames"][:4]}))
    # primes[sim-oracle]: recorded with another prompt than the eval now sends
    changed = _cassette(project, "primes")
    changed.write_text(changed.read_text().replace("first 50 prime", "first 60 prime"))

    result = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert set(outcomes(result).values()) == {"ERROR"} and len(outcomes(result)) == 4, out
    assert "Traceback" not in out
    # two-turns was never recorded
    assert "cassettes/sim/lv/two-turns/sim-oracle/1.live.yaml does not exist" in out
    assert ("To record it: pytest 'evals/lv.eval.yaml::two-turns[sim-oracle]' "
            "--record-mode=rewrite") in out
    assert ("cassettes/sim/lv/primes/sim-wrong/1.live.yaml ends after frame 3, but the SDK "
            "waits for a server frame") in out
    assert ("To record it again: pytest 'evals/lv.eval.yaml::primes[sim-wrong]' "
            "--record-mode=rewrite") in out
    assert ("cassettes/sim/lv/primes/sim-oracle/1.live.yaml frame 2: the outbound frame "
            "differs from the recorded one at $.clientContent.turns[0].parts[0].text") in out
    assert "differences (JSON paths):" in out
    assert re.search(r"clientContent\.turns\[0\]\.parts\[0\]\.text: recorded \"What is the "
                     r"sum of the first 60 prime numbers\?.*\", now \"What is the sum of the "
                     r"first 50 prime numbers\?", out), out
    assert ("The eval changed since it was recorded. To re-record: pytest "
            "'evals/lv.eval.yaml::primes[sim-oracle]' --record-mode=rewrite") in out
