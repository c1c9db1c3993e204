"""Direct replay: a recording is read without the SDK only when its requests are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.calls import fingerprint
from harness.calls.targets import Endpoint
from harness.spec.load import load_eval_file
from tests.test_plugin_e2e import outcomes

pytest_plugins = ["pytester"]

EVAL = """
suite: fast
cases:
  - id: best-month
    inputs: [{file: data/sales.csv}]
    prompt: Which month had the most revenue in the attached CSV?
    config: {temperature: 0}
    reference: |
      import csv
      rows = list(csv.DictReader(open("sales.csv")))
      print(max(rows, key=lambda r: int(r["revenue"]))["month"])
    expect: [{answer_contains: Mar}]
"""
CSV = "month,revenue\nJan,100\nMar,180\n"


def _case(tmp_path: Path, text: str = EVAL, csv: str = CSV):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "sales.csv").write_text(csv)
    path = tmp_path / "fast.eval.yaml"
    path.write_text(text)
    return load_eval_file(path, root=tmp_path).cases[0]


def _fp(case, target: str = "sim") -> str:
    return fingerprint.request_fingerprint(case, "sim-oracle", Endpoint(target, recording=False))


def test_the_fingerprint_follows_what_reaches_the_request(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    base = _fp(_case(tmp_path))
    assert _fp(_case(tmp_path)) == base  # stable
    changed = {
        "prompt": _fp(_case(tmp_path, EVAL.replace("most revenue", "most sales"))),
        "config": _fp(_case(tmp_path, EVAL.replace("temperature: 0", "temperature: 1"))),
        "input file": _fp(_case(tmp_path, csv=CSV + "Apr,90\n")),
        "target": _fp(_case(tmp_path), target="gemini"),
    }
    assert all(v != base for v in changed.values()), changed
    _case(tmp_path)  # the original input again
    monkeypatch.setattr(fingerprint, "sdk_version", lambda: "9.9.9")
    assert _fp(_case(tmp_path)) != base
    monkeypatch.undo()
    # What never reaches the request does not matter: checks, reference, sim hints.
    same = EVAL.replace("Mar}]", "Jan}]").replace('["month"])', '["month"], end="")')
    assert _fp(_case(tmp_path, same + "    sim: {calls: [{name: f}]}\n")) == base


PROJECT_EVAL = EVAL + """
  - id: streamed
    api: stream
    prompt: What is 6 times 7? Run code.
    config: {temperature: 0}
    reference: print(6 * 7)
    expect: [{answer_number: 42}]
  - id: chat
    api: chat
    turns: [I have a question., What is 5 times 5? Run code.]
    reference: print(5 * 5)
    expect: [{answer_number: 25}]
"""
EDITED = (PROJECT_EVAL.replace("{temperature: 0}\n    reference: print(6",
                               "{temperature: 0.5}\n    reference: print(6")
          .replace("What is 5 times 5?", "What is 5 times 5, please?"))


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject='[tool.harness]\nmodels = ["sim-oracle"]\n'
                                         'target = "sim"\n')
    (pytester.path / "evals" / "data").mkdir(parents=True)
    (pytester.path / "evals" / "data" / "sales.csv").write_text(CSV)
    (pytester.path / "evals" / "fast.eval.yaml").write_text(PROJECT_EVAL)
    pytester.makeconftest("import sys\n\n\ndef pytest_unconfigure(config):\n"
                          "    print('genai imported:', 'google.genai' in sys.modules)\n")
    return pytester


def node(case: str) -> str:
    return f"evals/fast.eval.yaml::{case}[sim-oracle]"


def test_an_edited_case_is_never_served_a_stale_recording(project: pytest.Pytester) -> None:
    cases = ("best-month", "streamed", "chat")
    rec = project.runpytest_subprocess("evals", "--record-mode=rewrite", "-rA")
    assert outcomes(rec) == {node(c): "PASSED" for c in cases}, rec.stdout.str()
    cassette = project.path / "cassettes/sim/fast/best-month/sim-oracle/1.yaml"
    assert "request_fingerprint" in cassette.read_text()

    direct = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(direct) == outcomes(rec)
    assert "replay: 3 of 3 items read straight from their recordings" in direct.stdout.str()
    assert "genai imported: False" in direct.stdout.str()  # no SDK at all on this path
    full = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider",
                                        "--harness-replay=full")
    assert "through the SDK: 3 (--harness-replay=full)" in full.stdout.str()
    runs = sorted(p for p in (project.path / "reports").iterdir()
                  if (p / "results.jsonl").exists())
    by_path = [{r["case"]: r["transcript"] for r in map(json.loads, (
        run / "results.jsonl").read_text().splitlines())} for run in runs[-2:]]
    assert by_path[0] == by_path[1]  # read directly or through the SDK: the same transcripts

    # An edited input file, config and prompt: each item takes the SDK path, and misses.
    (project.path / "evals/data/sales.csv").write_text(CSV + "May,999\n")
    (project.path / "evals/fast.eval.yaml").write_text(EDITED)
    stale = project.runpytest_subprocess("evals", "-rA", "-p", "no:cacheprovider")
    assert outcomes(stale) == {node(c): "ERROR" for c in cases}, stale.stdout.str()
    out = stale.stdout.str()
    assert out.count("--record-mode=rewrite") >= 3 and "replay: 0 of 3 items read straight" in out
    assert "3 (the case or the harness's request code changed since recording)" in out


def test_committed_cassettes_stay_readable_by_vcrpy_and_pytest_recording() -> None:
    from pytest_recording._vcr import CombinedPersister
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    root = Path(__file__).resolve().parents[1] / "cassettes" / "sim"
    paths = [p for p in sorted(root.rglob("[0-9]*.yaml")) if not p.name.endswith(".live.yaml")]
    assert len(paths) > 100
    for path in paths:
        requests, responses = CombinedPersister([]).load_cassette(str(path), yamlserializer)
        assert requests and len(requests) == len(responses), path
        plain = FilesystemPersister.load_cassette(str(path), yamlserializer)
        assert len(plain) == 2, f"{path}: vcrpy's `metadata` (pytest-recording cannot load it)"
        assert "request_fingerprint" in path.read_text()


def test_committed_cassettes_match_the_cases_so_replay_reads_them_directly() -> None:
    """Editing request-building code or a committed case makes replay slower, not wrong:
    this says when the committed sim cassettes need re-recording to stay fast."""
    from harness.calls.run import DIRECT_APIS
    from harness.cassettes.files import harness_meta
    from harness.cassettes.paths import cassette_path
    from harness.config import load_settings

    repo = Path(__file__).resolve().parents[1]
    settings = load_settings(repo)
    stale, checked = [], 0
    for eval_file in sorted((repo / "evals").glob("*.eval.yaml")):
        for case in load_eval_file(eval_file, root=repo).cases:
            if case.functions or case.api not in DIRECT_APIS:
                continue
            for model in settings.models:
                path = cassette_path(settings.cassette_dir, "sim", case.suite, case.id, model, 1)
                meta = harness_meta(path.read_text())
                if meta.get("google_genai") != fingerprint.sdk_version():
                    pytest.skip(f"{path.name} was recorded with google-genai "
                                f"{meta.get('google_genai')}, {fingerprint.sdk_version()} is "
                                "installed: replay takes the SDK path until re-recorded")
                stored = meta.get("request_fingerprint")
                checked += 1
                if stored != fingerprint.request_fingerprint(case, model,
                                                             Endpoint("sim", recording=False)):
                    stale.append(f"{case.suite}/{case.id}[{model}]")
    assert checked > 20
    assert not stale, ("these committed cassettes no longer match their cases (replay takes "
                       f"the SDK path): {stale}; re-record: pytest evals/ --record-mode=rewrite")
