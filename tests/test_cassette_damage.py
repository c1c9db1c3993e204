"""Hand-edited or damaged cassettes are one clear ERROR that names the cassette."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cassettes import blobs
from harness.cassettes.recording import make_vcr, use_cassette
from harness.errors import CassetteError

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
