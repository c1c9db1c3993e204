"""Large base64 payloads leave the cassettes for <target>/_blobs/ and come back exactly."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from harness.cassettes import blobs
from harness.errors import CassetteError

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # ~10 kB, starts like a PNG


def body(data: bytes, encode=base64.b64encode) -> bytes:
    return json.dumps({"parts": [{"inlineData": {"mimeType": "image/png",
                                                  "data": encode(data).decode()}},
                                 {"text": "short"}]}).encode()


def test_round_trip_is_exact_and_stores_the_decoded_file(tmp_path: Path) -> None:
    original = body(PNG)
    out = blobs.externalize_text(original, tmp_path)
    assert len(out) < 300 and b"harness-blob:" in out and b'"short"' in out
    [stored] = list(tmp_path.iterdir())
    assert stored.suffix == ".png" and stored.read_bytes() == PNG
    assert blobs.restore_text(out, tmp_path) == original


def test_url_safe_base64_comes_back_url_safe(tmp_path: Path) -> None:
    original = body(PNG, base64.urlsafe_b64encode)
    assert b"_" in original or b"-" in original
    out = blobs.externalize_text(original, tmp_path)
    assert blobs.restore_text(out, tmp_path) == original


def test_same_bytes_are_stored_once(tmp_path: Path) -> None:
    blobs.externalize_text(body(PNG), tmp_path)
    blobs.externalize_text(body(PNG), tmp_path)
    assert len(list(tmp_path.iterdir())) == 1


def test_short_or_non_canonical_strings_stay_inline(tmp_path: Path) -> None:
    short = body(b"x" * 100)
    assert blobs.externalize_text(short, tmp_path) == short
    odd = b'"' + b"A" * (blobs.MIN_CHARS + 1) + b'"'  # length not a multiple of 4: not base64
    assert blobs.externalize_text(odd, tmp_path) == odd
    assert not list(tmp_path.iterdir())


def test_a_missing_or_altered_blob_is_a_cassette_error(tmp_path: Path) -> None:
    out = blobs.externalize_text(body(PNG), tmp_path)
    [stored] = list(tmp_path.iterdir())
    stored.write_bytes(b"tampered")
    with pytest.raises(CassetteError, match="does not match its name"):
        blobs.restore_text(out, tmp_path)
    stored.unlink()
    with pytest.raises(CassetteError, match="missing: restore it from version control"):
        blobs.restore_text(out, tmp_path)


def test_blob_dir_is_per_target() -> None:
    path = Path("cassettes/sim/suite/case/model/1.yaml")
    assert blobs.blob_dir(path) == Path("cassettes/sim/_blobs")


def test_the_committed_chart_cassettes_share_one_blob() -> None:
    root = Path(__file__).resolve().parents[1] / "cassettes" / "sim"
    charts = sorted((root / "data-questions" / "squares-chart").rglob("*.yaml"))
    assert len(charts) == 9
    refs = {line for p in charts for line in p.read_text().split()
            if "harness-blob:" in line}
    assert len(refs) == 1
    assert all(b"iVBORw0KGgo" not in p.read_bytes() for p in charts)  # no inline PNG left


def test_an_upload_body_is_one_blob(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    ref = blobs.externalize_raw(png, tmp_path)
    assert re.fullmatch(rb"harness-blob:[0-9a-f]{64}\.png:raw", ref), ref
    assert blobs.restore_raw(ref, tmp_path) == png
    json_body = b'{"file": {"display_name": "x.png"}}'
    assert blobs.externalize_raw(json_body, tmp_path) == json_body  # JSON is read as before
    assert blobs.restore_raw(b"short raw bytes", tmp_path) == b"short raw bytes"
