"""`--target vertex` end to end through the real SDK, pointed at the simulator with
`--harness-base-url`: Application Default Credentials (a test credential standing in) and
express mode; cassettes under cassettes/vertex/ without token, project or location; replay,
with the simulator stopped, needs no credentials at all and gives the same verdicts."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import pytest

from harness.sim.devexec import run as dev_run
from harness.sim.faults import FaultConfig
from harness.sim.server import SimServer
from harness.sim.server import start as start_sim
from harness.spec.load import load_eval_file

pytest_plugins = ["pytester"]

TOKEN = "ya29.test-token-8d2f"  # what ADC would hand the SDK
KEY = "VERTEX-EXPRESS-KEY-51c9"
EVALS = """
suite: vx
cases:
  - id: primes
    prompt: Vertex, what is the sum of the first 50 primes? Run code.
    reference: |
      from sympy import prime
      print(sum(prime(i) for i in range(1, 51)))
    expect: [code_executed, {answer_number: 5117}]
  - id: wrong-expectation
    prompt: Vertex, what is the sum of the first 50 primes? Run code, please.
    expect: [{answer_number: 5118}]
  - id: primes-stream
    api: stream
    prompt: Vertex, stream the sum of the first 50 primes.
    reference: |
      from sympy import prime
      print(sum(prime(i) for i in range(1, 51)))
    expect: [{answer_number: 5117}]
  - id: interactions
    api: interactions
    prompt: Vertex interactions, the sum of the first 50 primes?
    reference: |
      from sympy import prime
      print(sum(prime(i) for i in range(1, 51)))
    expect: [{answer_number: 5117}]
  - id: chat
    api: chat
    turns:
      - Vertex, I have a math question for you.
      - prompt: Vertex, what is 6 times 7? Run code.
        expect: [{answer_number: 42}]
    reference: print(6 * 7)
"""
# The stand-in for `gcloud auth application-default login`: google.auth.default() returns a
# token credential (no expiry, so nothing is refreshed) in the pytest subprocess.
CONFTEST = f"""
import google.auth
import google.oauth2.credentials

def _adc(scopes=None, **kwargs):
    return google.oauth2.credentials.Credentials(token={TOKEN!r}), "adc-project"

google.auth.default = _adc
"""
# A login gone stale: google-auth's refresh fails when the SDK asks for a token.
EXPIRED_CONFTEST = """
import google.auth
import google.oauth2.credentials
from google.auth.exceptions import RefreshError

class Expired(google.oauth2.credentials.Credentials):
    def refresh(self, request):
        raise RefreshError("Reauthentication is needed. Please run gcloud to reauthenticate.")

google.auth.default = lambda scopes=None, **kwargs: (Expired(token=None), None)
"""


@pytest.fixture
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator that knows the cases (~0.25 s to start); a test may stop it early."""
    path = tmp_path_factory.mktemp("evals") / "vx.eval.yaml"
    path.write_text(EVALS)
    with start_sim(load_eval_file(path).cases, executor=dev_run) as server:
        yield server


def _verdicts(result: pytest.RunResult) -> dict[str, str]:
    """Each item's outcome, from the -rA summary."""
    found = (re.match(r"(PASSED|FAILED|ERROR) (evals/\S+)", line) for line in result.outlines)
    return {m.group(2): m.group(1) for m in found if m}


def _project(pytester: pytest.Pytester, vertex: str) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject=f'[tool.harness]\nmodels = ["sim-oracle"]\n'
                                         f'target = "vertex"\n[tool.harness.vertex]\n{vertex}\n')
    (pytester.path / "evals").mkdir()
    (pytester.path / "evals" / "vx.eval.yaml").write_text(EVALS)
    pytester.makeconftest(CONFTEST)
    return pytester


def _cassettes(pytester: pytest.Pytester) -> str:
    files = sorted((pytester.path / "cassettes").rglob("*.yaml"))
    assert [p.relative_to(pytester.path).parts[:2] for p in files] == [
        ("cassettes", "vertex")] * len(files)
    return "\n".join(p.read_text() for p in files)


@pytest.mark.parametrize(("vertex", "paths"), [
    ('project = "my-proj-7731"\nlocation = "europe-west9"',
     "/v1beta1/projects/PROJECT/locations/LOCATION/publishers/google/models/sim-oracle:"),
    ("express = true", "/v1beta1/publishers/google/models/sim-oracle:"),
], ids=["adc", "express"])
def test_vertex_records_and_replays(pytester: pytest.Pytester, sim: SimServer,
                                    monkeypatch: pytest.MonkeyPatch, vertex: str,
                                    paths: str) -> None:
    project = _project(pytester, vertex)
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "false")  # the target wins anyway
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "--harness-base-url",
                                       sim.base_url, "-rA")
    rec.assert_outcomes(passed=4, failed=1)
    text = _cassettes(project)
    assert paths + "generateContent" in text and paths + "streamGenerateContent" in text
    assert paths.split("/publishers/")[0] + "/interactions" in text
    for secret in (TOKEN, KEY, "my-proj-7731", "europe-west9", "127.0.0.1"):
        assert secret not in text, secret
    sim.stop()
    monkeypatch.delenv("GOOGLE_API_KEY")
    (project.path / "conftest.py").unlink()  # replay needs no credentials at all
    replay = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert _verdicts(replay) == _verdicts(rec)
    assert sorted(_verdicts(rec).values()) == ["FAILED"] + ["PASSED"] * 4


def _record_one_error(project: pytest.Pytester) -> str:
    """Record one case, which must be a setup ERROR; its terminal output."""
    result = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-k", "primes and "
                                          "not stream")
    result.assert_outcomes(errors=1)
    return result.stdout.str()


def test_vertex_without_project_or_credentials_says_how(pytester: pytest.Pytester,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(pytester, "")
    (project.path / "conftest.py").unlink()
    for var in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    out = _record_one_error(project)
    assert "--target vertex needs a project and a location" in out
    assert "[tool.harness.vertex]" in out and "Traceback" not in out
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "l")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(project.path / "missing.json"))
    out = _record_one_error(project)
    assert "found no Application Default Credentials" in out
    assert "gcloud auth application-default login" in out and "Traceback" not in out
    project.makeconftest(EXPIRED_CONFTEST)
    out = _record_one_error(project)
    assert "could not get an access token from Application Default Credentials (RefreshError: "\
        "Reauthentication is needed." in out
    assert "gcloud auth application-default login" in out and "Traceback" not in out


def test_the_record_hint_repeats_the_options_that_chose_target_and_place(
        pytester: pytest.Pytester, sim: SimServer) -> None:
    project = _project(pytester, 'project = "p"\nlocation = "l"')
    toml = project.path / "pyproject.toml"
    toml.write_text(toml.read_text().replace('target = "vertex"', 'target = "sim"'))
    (project.path / "conftest.py").rename(project.path / "adc.py")  # not in this process
    options = ("--target", "vertex", "--model", "sim-oracle", "--samples", "2",
               "--harness-cassette-dir", "elsewhere")
    result = pytester.runpytest("evals", *options, "-k", "primes and not stream",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    hint = re.search(r"To record it: (pytest .*) \(needs Application Default Credentials",
                     result.stdout.str())
    assert hint is not None
    assert hint.group(1) == ("pytest 'evals/vx.eval.yaml::primes[sim-oracle#1]' "
                             "--record-mode=rewrite " + " ".join(options))
    # the printed command records that item, on that target, where this run looks for it
    (project.path / "adc.py").rename(project.path / "conftest.py")
    rerun = project.runpytest_subprocess(*shlex.split(hint.group(1))[1:],
                                         "--harness-base-url", sim.base_url)
    rerun.assert_outcomes(passed=1)
    stored = sorted(p.relative_to(project.path).as_posix()
                    for p in project.path.rglob("*.yaml") if "evals" not in p.parts)
    assert stored == ["elsewhere/vertex/vx/primes/sim-oracle/1.yaml"]


def test_a_base_url_on_target_sim_is_a_running_simulator(pytester: pytest.Pytester,
                                                         sim: SimServer) -> None:
    project = _project(pytester, "")
    toml = project.path / "pyproject.toml"
    toml.write_text(toml.read_text().replace('target = "vertex"', 'target = "sim"'))
    sim.state.faults = FaultConfig.parse("429@1,retry_after=0")  # only this simulator's
    result = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-k", "primes and "
                                          "not stream", "--harness-base-url", sim.base_url, "-v")
    result.assert_outcomes(passed=1)
    assert "status 429 on attempt 1" in result.stdout.str()  # it answered, not one of its own
    assert (project.path / "cassettes/sim/vx/primes/sim-oracle/1.yaml").is_file()
