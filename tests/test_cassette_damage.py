"""Hand-edited or damaged cassettes are one clear ERROR that names the cassette."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.calls.run import run_case
from harness.calls.targets import Endpoint
from harness.cassettes import blobs
from harness.cassettes.recording import make_vcr, use_cassette
from harness.config import RetrySettings
from harness.errors import ApiError, CassetteError
from harness.spec.load import load_eval_file
from harness.transcript import bodies

HINT = "pytest 'x' --record-mode=rewrite"
EXCHANGE = """interactions:
- request:
    body: '{}'
    headers: {}
    method: POST
    uri: https://gemini.api.invalid/v1beta/models/m:generateContent
  response:
    body: {string: '{"error": {"code": 500}}'}
    headers: {}
    status: {code: %d, message: x}
version: 1
"""


def _replay_error(path: Path) -> str:
    with pytest.raises(CassetteError) as err, use_cassette(make_vcr(), path, "none", HINT):
        pass
    return str(err.value)


def test_a_recorded_500_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "1.yaml"
    path.write_text(EXCHANGE % 500)
    message = _replay_error(path)
    assert message.startswith(f"{path.as_posix()} holds only non-2xx exchanges (status 500)")
    assert "empty" not in message and HINT in message


def test_a_directory_or_junk_in_place_of_a_cassette(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    assert "is not a readable cassette" in _replay_error(tmp_path / "dir.yaml")
    (tmp_path / "junk.yaml").write_text("- [unbalanced\n")
    assert "is not a readable cassette" in _replay_error(tmp_path / "junk.yaml")
    (tmp_path / "empty.yaml").write_text("interactions: []\nversion: 1\n")
    assert "holds no recorded exchanges" in _replay_error(tmp_path / "empty.yaml")


def test_a_blob_reference_cannot_leave_the_blob_directory(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("root:x:0:0")
    body = b'{"data": "harness-blob:../../secret.txt:std"}'
    assert blobs.restore_text(body, tmp_path / "_blobs") == body  # not a reference: untouched


ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "cassettes/sim/gemini-docs/sum-first-50-primes/sim-oracle/1.yaml"


def _replay_edited(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a committed demo cassette with its one response edited by hand."""
    data = yaml.safe_load(DEMO.read_text())
    edit(data["interactions"][0]["response"])
    path = tmp_path / "1.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(path: Path) -> None:
    case = next(c for c in load_eval_file(ROOT / "evals/gemini-docs.eval.yaml").cases
                if c.id == "sum-first-50-primes")
    with use_cassette(make_vcr(), path, "none", HINT) as rec:
        run_case(case, "sim-oracle", endpoint=Endpoint("sim", recording=False), recording=rec,
                 retry=RetrySettings())


def test_a_2xx_the_sdk_cannot_read_is_a_short_api_error(tmp_path: Path) -> None:
    def enum_as_number(response: dict[str, Any]) -> None:
        body = json.loads(response["body"]["string"])
        body["candidates"][0]["finishReason"] = 5
        response["body"]["string"] = json.dumps(body)

    with pytest.raises(ApiError) as err:
        _run(_replay_edited(tmp_path, enum_as_number))
    assert str(err.value) == (
        "API error: the response to generate_content for case 'sum-first-50-primes' with model "
        "'sim-oracle' could not be read (after 1 attempt): the response could not be read: "
        "candidates[0].finishReason: 5 is not a string (FinishReason)")


def test_a_gzip_bomb_is_refused_not_inflated(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "MAX_INFLATED", 2**20)  # the same check, at a small size

    def bomb(response: dict[str, Any]) -> None:
        response["body"]["string"] = gzip.compress(b"\0" * (2**20 + 1))
        response["headers"]["Content-Encoding"] = ["gzip"]

    path = _replay_edited(tmp_path, bomb)
    with pytest.raises(CassetteError) as err:
        _run(path)
    assert str(err.value).startswith(f"{path.as_posix()} is not a readable cassette (a response "
                                     "body: the compressed body inflates beyond 1 MiB")
