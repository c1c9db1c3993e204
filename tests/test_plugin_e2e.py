"""End to end through pytest and the real google-genai SDK: record against the bundled
simulator (as a stand-in for the Gemini API, via GOOGLE_GEMINI_BASE_URL), stop it, replay with
the same verdicts; misses, faults and secrets."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.sim.devexec import run as dev_run
from harness.sim.faults import FaultConfig
from harness.sim.server import SimServer
from harness.sim.server import start as start_sim
from harness.spec.load import load_eval_file

pytest_plugins = ["pytester"]

SECRET = "SECRET-KEY-do-not-store-8f3a"

PYPROJECT = """
[tool.harness]
models = ["sim-oracle", "sim-wrong"]
retry = {attempts = 3, initial_delay = 0.0, max_delay = 0.1}
"""

EVALS = """
suite: demo
cases:
  - id: primes
    prompt: What is the sum of the first 50 primes? Run code.
    reference: |
      from sympy import prime
      print(sum(prime(i) for i in range(1, 51)))
    expect:
      - code_executed
      - final_outcome: OUTCOME_OK
      - output_contains: "5117"
      - answer_number: 5117
  - id: primes-stream
    api: stream
    prompt: What is the sum of the first 50 primes? Stream it.
    reference: |
      from sympy import prime
      print(sum(prime(i) for i in range(1, 51)))
    expect: [code_executed, {answer_number: 5117}]
  - id: palindrome-interactions
    api: interactions
    prompt: Nearest palindrome to the 20th Fibonacci number?
    reference: |
      a, b = 0, 1
      for _ in range(20):
          a, b = b, a + b
      print(a)
      up = a
      while str(up) != str(up)[::-1]:
          up += 1
      print(up)
    expect: [{output_contains: "6765"}, {answer_number: 6776}]
"""


class Api:
    """The simulator standing in for the Gemini API, with a request counter."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.url = server.base_url

    @property
    def hits(self) -> int:
        return sum(self.server.state.attempts.values())

    def fail(self, spec: str) -> None:
        """Force faults, e.g. '429@1' (first attempt of every call), with no Retry-After wait."""
        self.server.state.faults = FaultConfig.parse(spec + ",retry_after=0")


@pytest.fixture
def stub(tmp_path_factory) -> Iterator[Api]:
    path = tmp_path_factory.mktemp("evals") / "demo.eval.yaml"
    path.write_text(EVALS)
    # the development executor (a plain subprocess) is enough here: the code is trusted
    with start_sim(load_eval_file(path).cases, executor=dev_run) as server:
        yield Api(server)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    (pytester.path / "evals").mkdir()
    (pytester.path / "evals" / "demo.eval.yaml").write_text(EVALS)
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return pytester


def record(project: pytest.Pytester, stub: Api, monkeypatch: pytest.MonkeyPatch,
           *args: str) -> pytest.RunResult:
    monkeypatch.setenv("GEMINI_API_KEY", SECRET)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", stub.url)
    try:
        return project.runpytest_subprocess("evals", "--record-mode=rewrite", *args)
    finally:
        monkeypatch.delenv("GEMINI_API_KEY")
        monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL")


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """nodeid -> PASSED/FAILED/ERROR from the -rA short summary."""
    found: dict[str, str] = {}
    for line in result.outlines:
        for word in ("PASSED", "FAILED", "ERROR"):
            if line.startswith(word + " "):
                found[line.split()[1]] = word
    return found


def eval_project(pytester: pytest.Pytester, pyproject: str, name: str,
                 evals: str) -> pytest.Pytester:
    """A pytester project: ``pyproject.toml`` and one eval file ``evals/<name>``."""
    pytester.makefile(".toml", pyproject=pyproject)
    (pytester.path / "evals").mkdir()
    (pytester.path / "evals" / name).write_text(evals)
    return pytester


def cassettes(root: Path) -> list[Path]:
    return sorted((root / "cassettes").rglob("*.yaml"))


def test_record_then_replay_offline_gives_same_verdicts(project, stub, monkeypatch):
    rec = record(project, stub, monkeypatch, "-rA")
    rec.assert_outcomes(passed=3, failed=3)
    recorded = outcomes(rec)
    assert recorded["evals/demo.eval.yaml::primes[sim-oracle]"] == "PASSED"
    assert recorded["evals/demo.eval.yaml::primes[sim-wrong]"] == "FAILED"
    paths = cassettes(project.path)
    assert [p.relative_to(project.path).as_posix() for p in paths] == [
        f"cassettes/gemini/demo/{case}/{model}/1.yaml"
        for case in ("palindrome-interactions", "primes", "primes-stream")
        for model in ("sim-oracle", "sim-wrong")]
    hits = stub.hits
    assert hits == 6

    replay = project.runpytest_subprocess("evals", "-rA")  # no key, no server traffic
    assert outcomes(replay) == recorded
    assert stub.hits == hits

    # nothing written anywhere holds the key
    for path in project.path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_key_echoed_by_the_server_is_written_nowhere(project, stub, monkeypatch):
    # A gateway URL with the key in its path: the 404 echoes the path in its message, which
    # becomes the item's ERROR (printed, in results.jsonl, in the reports).
    monkeypatch.setattr(stub, "url", f"{stub.url.rstrip('/')}/{SECRET}/")
    result = record(project, stub, monkeypatch, "-k", "primes and sim-oracle and not stream")
    result.assert_outcomes(errors=1)
    assert SECRET not in result.stdout.str() + result.stderr.str()
    assert "REDACTED" in result.stdout.str()
    for path in project.path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_replay_needs_no_server(project, stub, monkeypatch):
    record(project, stub, monkeypatch).assert_outcomes(passed=3, failed=3)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9")  # nothing listens
    project.runpytest_subprocess("evals").assert_outcomes(passed=3, failed=3)


def test_cassette_is_scrubbed(project, stub, monkeypatch):
    # What a `kill -9` mid-recording leaves behind; the next recording run removes it.
    stale = project.path / "cassettes/gemini/demo/primes/sim-oracle/.1.recording-999999999.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("interactions: []\n")
    record(project, stub, monkeypatch, "-k", "primes and sim-oracle and not stream")
    assert not stale.exists()
    assert ".*.recording-*.yaml" in (project.path / "cassettes/.gitignore").read_text()
    text = (project.path / "cassettes/gemini/demo/primes/sim-oracle/1.yaml").read_text()
    assert "x-goog-api-key" not in text.lower()
    assert "127.0.0.1" not in text  # hosts are a fixed placeholder: re-records diff cleanly
    assert "set-cookie" not in text.lower()
    assert "uri: https://gemini.api.invalid/v1beta/models/sim-oracle:generateContent" in text
    assert "latency_s" in text  # record-time timing is kept with the recording


def test_failing_item_reads_like_a_spec(project, stub, monkeypatch):
    result = record(project, stub, monkeypatch, "-k", "primes and sim-wrong and not stream")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "checks failed for case 'primes' with model 'sim-wrong'" in out
    assert "FAIL  answer_number" in out and "expected:" in out and "actual:" in out
    assert "demo.eval.yaml:" in out and "cassettes/gemini/demo/primes/sim-wrong/1.yaml" in out
    assert "Traceback" not in out and "def runtest" not in out


def test_missing_cassette_is_an_error_with_the_record_command(project):
    result = project.runpytest_subprocess("evals", "-k", "primes and sim-oracle and not stream")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "not a model failure" in out
    assert "does not exist" in out
    assert ("pytest 'evals/demo.eval.yaml::primes[sim-oracle]' --record-mode=rewrite "
            "(needs GEMINI_API_KEY)") in out


def test_a_missing_sim_cassette_asks_for_no_key(project):
    project.makefile(".toml", pyproject=PYPROJECT + 'target = "sim"\n')
    result = project.runpytest_subprocess("evals", "-k", "primes and sim-oracle and not stream")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "(records the bundled simulator: no key needed)" in out
    assert "GEMINI_API_KEY" not in out


def test_edited_prompt_is_an_error_that_names_the_difference(project, stub, monkeypatch):
    record(project, stub, monkeypatch, "-k", "primes and not stream")
    evals = project.path / "evals" / "demo.eval.yaml"
    evals.write_text(evals.read_text().replace("first 50 primes? Run code.",
                                               "first 60 primes? Run code."))
    result = project.runpytest_subprocess("evals", "-k", "primes and not stream")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "contents[0].parts[0].text" in out
    assert "first 50 primes" in out and "first 60 primes" in out
    assert "--record-mode=rewrite" in out
    assert "Traceback" not in out


def test_429_is_retried_and_never_stored(project, stub, monkeypatch):
    stub.fail("429@2")  # the first two attempts get a 429
    result = record(project, stub, monkeypatch, "-k", "primes and sim-oracle and not stream")
    result.assert_outcomes(passed=1)
    assert stub.hits == 3
    text = (project.path / "cassettes/gemini/demo/primes/sim-oracle/1.yaml").read_text()
    assert text.count("- request:") == 1
    assert "RESOURCE_EXHAUSTED" not in text


def test_failed_rerecord_keeps_the_good_cassette(project, stub, monkeypatch):
    sel = ("-k", "primes and sim-oracle and not stream")
    record(project, stub, monkeypatch, *sel).assert_outcomes(passed=1)
    path = project.path / "cassettes/gemini/demo/primes/sim-oracle/1.yaml"
    good = path.read_bytes()
    stub.fail("503")  # every attempt: more than the 3 attempts allowed
    result = record(project, stub, monkeypatch, *sel)
    result.assert_outcomes(errors=1)
    assert "API error 503" in result.stdout.str()
    assert path.read_bytes() == good
    assert not list(path.parent.glob(".*recording*"))


def test_unknown_model_is_an_api_error_not_a_failure(project, stub, monkeypatch):
    result = record(project, stub, monkeypatch, "--model", "missing-model", "-k", "primes")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "API error 404" in out and "Check --model" in out


def test_recording_without_a_key_says_how_to_set_one(project):
    result = project.runpytest_subprocess("evals", "--record-mode=rewrite",
                                          "-k", "primes and sim-oracle")
    result.assert_outcomes(errors=2)
    assert "export GEMINI_API_KEY" in result.stdout.str()


def test_result_records(project, stub, monkeypatch):
    record(project, stub, monkeypatch)
    run_dirs = [p for p in (project.path / "reports").iterdir()
                if p.is_dir() and not p.is_symlink()]
    assert len(run_dirs) == 1
    latest = project.path / "reports" / "latest"
    assert latest.resolve() == run_dirs[0].resolve()
    records = [json.loads(line) for line in (latest / "results.jsonl").read_text().splitlines()]
    assert len(records) == 6
    by_id = {(r["case"], r["model"]): r for r in records}
    ok = by_id[("primes", "sim-oracle")]
    assert ok["verdict"] == "pass" and ok["attempts"] == 1 and ok["outcomes"] == ["OUTCOME_OK"]
    assert ok["usage"]["tool_use_prompt_tokens"] > 0
    assert ok["cassette"] == "cassettes/gemini/demo/primes/sim-oracle/1.yaml"
    assert ok["transcript"]["code_runs"][0]["output"] == "5117\n"
    assert ok["latency_s"] is not None
    bad = by_id[("primes", "sim-wrong")]
    assert bad["verdict"] == "fail"
    assert [c["name"] for c in bad["checks"] if not c["passed"]] == ["answer_number"]
    assert bad["error"] is None


def test_samples_and_selection(project, stub, monkeypatch):
    result = project.runpytest_subprocess("evals", "--collect-only", "-q", "--samples", "2",
                               "-k", "primes-stream and sim-wrong")
    lines = [line for line in result.outlines if "::" in line]
    assert lines == ["evals/demo.eval.yaml::primes-stream[sim-wrong#1]",
                     "evals/demo.eval.yaml::primes-stream[sim-wrong#2]"]


def test_bad_eval_file_is_one_collection_error_and_others_run(project, stub, monkeypatch):
    (project.path / "evals" / "broken.eval.yaml").write_text(
        "suite: broken\ncases:\n  - id: x\n    promt: hi\n")
    result = record(project, stub, monkeypatch, "-rA",
                    "-k", "primes and sim-oracle and not stream or invalid")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "ERROR evals/broken.eval.yaml::invalid-eval-file" in out
    assert "broken.eval.yaml:4: cases[0].promt" in out and "Did you mean 'prompt'" in out
    assert "harness validate evals/broken.eval.yaml" in out
    assert "Traceback" not in out


def test_works_under_xdist(project, stub, monkeypatch):
    pytest.importorskip("xdist")
    record(project, stub, monkeypatch)
    result = project.runpytest_subprocess("evals", "-n", "2")
    result.assert_outcomes(passed=3, failed=3)
    latest = project.path / "reports" / "latest" / "results.jsonl"
    assert len(latest.read_text().splitlines()) == 6


def test_cassettes_can_be_moved_elsewhere(project, stub, monkeypatch, tmp_path):
    target = tmp_path / "elsewhere"
    record(project, stub, monkeypatch, "--harness-cassette-dir", str(target),
           "-k", "primes and sim-oracle and not stream").assert_outcomes(passed=1)
    assert (target / "gemini/demo/primes/sim-oracle/1.yaml").exists()
    shutil.rmtree(target)


FAULTS = ["429", "500", "503", "reset", "truncate", "nofinish", "malformed", "unreadable"]


@pytest.mark.parametrize("kind", FAULTS)
def test_a_fault_on_the_first_attempt_is_retried_and_not_stored(project, stub, monkeypatch, kind):
    stub.fail(f"{kind}@1")
    result = record(project, stub, monkeypatch, "-k", "sim-oracle and primes", "-v")
    result.assert_outcomes(passed=2)
    for case in ("primes", "primes-stream"):
        text = (project.path / f"cassettes/gemini/demo/{case}/sim-oracle/1.yaml").read_text()
        assert text.count("- request:") == 1, (kind, case)
        assert "5117" in text
    # each retry is visible at -v, and counted in the records and the summary
    shown = re.findall(r"^harness: retry: demo/primes(?:-stream)? \[sim-oracle#1\]: status \d+ "
                       r"on attempt 1 of 3; retrying in [0-9.]+ s$", result.stdout.str(), re.M)
    assert shown, result.stdout.str()
    run = project.path / "reports" / "latest"
    records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert sum(r["retries"] for r in records) == len(shown)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["models"]["sim-oracle"]["retries"] == len(shown)


@pytest.mark.parametrize("kind", FAULTS)
def test_a_lasting_fault_is_an_error_never_a_failure(project, stub, monkeypatch, kind):
    stub.fail(kind)
    result = record(project, stub, monkeypatch, "-k", "sim-oracle and primes-stream")
    result.assert_outcomes(errors=1)  # every surface is affected on streams
    assert "not a model failure" in result.stdout.str()
    if kind == "unreadable":  # one line naming the field, not the SDK's traceback
        out = result.stdout.str()
        assert ("the response to stream for case 'primes-stream' with model 'sim-oracle' could "
                "not be read (after 3 attempts): chunk ") in out
        assert "could not be read: candidates[0].finishReason: 5 is not a string" in out
        assert "Traceback" not in result.stdout.str()
    assert not list((project.path / "cassettes").rglob("*.yaml")) if (
        project.path / "cassettes").exists() else True


def test_target_sim_records_without_a_key_and_replays(project, monkeypatch):
    result = project.runpytest_subprocess("evals", "--target", "sim", "--record-mode=rewrite",
                                          "-k", "primes and not stream", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    cassette = project.path / "cassettes/sim/demo/primes/sim-oracle/1.yaml"
    text = cassette.read_text()
    assert "x-harness" not in text  # the case/sample headers are never stored
    assert "sim-oracle-001" in text
    replay = project.runpytest_subprocess("evals", "--target", "sim", "-k",
                                          "primes and not stream", "-rA")
    assert outcomes(replay) == outcomes(result)


def test_rerecording_unchanged_cases_is_byte_identical(project, monkeypatch):
    args = ("evals", "--target", "sim", "--record-mode=rewrite")
    project.runpytest_subprocess(*args).assert_outcomes(passed=3, failed=3)
    first = {p: p.read_bytes() for p in cassettes(project.path)}
    project.runpytest_subprocess(*args).assert_outcomes(passed=3, failed=3)
    assert {p: p.read_bytes() for p in cassettes(project.path)} == first


def test_pytest_recording_configure_hook_shapes_the_vcr(project, stub, monkeypatch):
    record(project, stub, monkeypatch, "-k", "primes and sim-oracle and not stream")
    evals = project.path / "evals" / "demo.eval.yaml"
    evals.write_text(evals.read_text().replace("first 50 primes? Run code.",
                                               "first 60 primes? Run code."))
    # A conftest that stops matching on the body makes the edited prompt replay anyway.
    (project.path / "conftest.py").write_text(
        "def pytest_recording_configure(config, vcr):\n"
        "    vcr.match_on = ('method', 'path')\n")
    result = project.runpytest_subprocess("evals", "-k", "primes and sim-oracle and not stream")
    result.assert_outcomes(passed=1)
    (project.path / "conftest.py").unlink()
    result = project.runpytest_subprocess("evals", "-k", "primes and sim-oracle and not stream")
    result.assert_outcomes(errors=1)


def test_tags_become_registered_marks(project):
    evals = project.path / "evals" / "demo.eval.yaml"
    evals.write_text(evals.read_text().replace(
        "  - id: primes-stream\n", "  - id: primes-stream\n    tags: [slow, streaming]\n"))
    result = project.runpytest_subprocess("evals", "--collect-only", "-q", "--strict-markers",
                                          "-m", "streaming", "-W", "error")
    assert [line for line in result.outlines if "::" in line] == [
        "evals/demo.eval.yaml::primes-stream[sim-oracle]",
        "evals/demo.eval.yaml::primes-stream[sim-wrong]"]


def test_two_files_with_one_suite_name_is_an_error_not_a_collision(project):
    (project.path / "evals" / "copy.eval.yaml").write_text(EVALS)
    result = project.runpytest_subprocess("evals", "--collect-only", "-q")
    out = result.stdout.str()
    # the first file collected keeps the suite; the second is one ERROR item
    assert "evals/copy.eval.yaml::primes[sim-oracle]" in out
    assert "evals/demo.eval.yaml::invalid-eval-file" in out
    assert "evals/demo.eval.yaml::primes" not in out
    result = project.runpytest_subprocess("evals", "-k", "invalid")
    result.assert_outcomes(errors=1)
    assert "suite 'demo' is also the suite of evals/copy.eval.yaml" in result.stdout.str()


def test_an_unreadable_cassette_is_an_error_that_says_so(project, stub, monkeypatch):
    record(project, stub, monkeypatch, "-k", "primes and sim-oracle and not stream")
    (project.path / "cassettes/gemini/demo/primes/sim-oracle/1.yaml").write_text("{{{ not yaml")
    result = project.runpytest_subprocess("evals", "-k", "primes and sim-oracle and not stream")
    result.assert_outcomes(errors=1)
    assert "not a readable cassette" in result.stdout.str()
