"""Live API frame cassettes: record the SDK's websocket against the simulator, replay with the
simulator stopped, and the errors replay gives (a changed outbound frame, an early end)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from google.genai import errors, types

from harness.cassettes.live import (
    LiveCassetteError,
    LiveMismatch,
    first_difference,
    read_frames,
    recording,
    replaying,
)
from harness.redact import add_secret
from tests.livesim import SUM, ask, live_client, start_tls_sim

SECRET = "live-secret-token-0123456789"


def _texts(turn: list[types.LiveServerMessage]) -> list[str]:
    return [p.text for m in turn if m.server_content and m.server_content.model_turn
            for p in m.server_content.model_turn.parts or [] if p.text]


@pytest.fixture(scope="module")
def cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cassette recorded against the simulator, which is stopped before any test runs."""
    root = Path(tmp_path_factory.mktemp("live"))
    server, ctx = start_tls_sim(root)
    path = root / "sum.live.yaml"
    add_secret(SECRET)
    with server, recording(path) as rec:
        client = live_client(server.base_url, ctx, headers={"x-harness-case": "demo/sum"})
        [turn] = asyncio.run(ask(client, [SUM + " " + SECRET]))
    assert _texts(turn)[-1] == "The result is **45**."
    assert rec.uri and rec.uri.endswith(".GenerativeService.BidiGenerateContent")
    return path


def test_recording_keeps_every_frame_in_order_scrubbed(cassette: Path) -> None:
    frames = read_frames(cassette)
    assert [f["direction"] for f in frames[:3]] == ["send", "recv", "send"]
    assert frames[0]["json"]["setup"]["model"] == "models/sim-oracle"
    assert frames[1]["json"] == {"setupComplete": {}}
    assert frames[-1]["json"]["serverContent"] == {"turnComplete": True}
    codes = [f["json"]["serverContent"]["modelTurn"]["parts"][0].get("executableCode")
             for f in frames if f["direction"] == "recv" and "modelTurn" in
             f["json"].get("serverContent", {})]
    assert [c["code"] for c in codes if c] == ["print(sum(range(10)))"]
    text = cassette.read_text()
    assert SECRET not in text and "REDACTED" in text and "sim-key" not in text


def test_replay_without_network(cassette: Path) -> None:
    # The simulator is stopped and the base URL points nowhere: only the cassette answers.
    with replaying(cassette) as replay:
        [turn] = asyncio.run(ask(live_client("https://127.0.0.1:9", None), [SUM + " " + SECRET]))
    code = [p.executable_code.code for m in turn if m.server_content
            and m.server_content.model_turn for p in m.server_content.model_turn.parts or []
            if p.executable_code]
    assert code == ["print(sum(range(10)))"]
    assert _texts(turn)[-1] == "The result is **45**."
    assert replay.unplayed() == 0


def test_changed_outbound_frame_names_index_and_json_path(cassette: Path) -> None:
    with replaying(cassette), pytest.raises(LiveMismatch) as info:
        asyncio.run(ask(live_client("https://127.0.0.1:9", None), ["What is 6*7? Run code."]))
    assert info.value.index == 2
    assert info.value.path == "$.clientContent.turns[0].parts[0].text"
    assert "frame 2" in str(info.value) and "What is 6*7" in str(info.value)


def test_key_spelling_is_no_difference(cassette: Path, tmp_path: Path) -> None:
    # An SDK release that spells a key the other way (both reach the API alike) still replays.
    doc = yaml.safe_load(cassette.read_text())
    turn = doc["frames"][2]["json"]
    doc["frames"][2]["json"] = {"clientContent": {
        ("turn_complete" if k == "turnComplete" else k): v
        for k, v in turn["client_content"].items()}}
    respelled = tmp_path / "respelled.live.yaml"
    respelled.write_text(yaml.safe_dump(doc))
    with replaying(respelled) as replay:
        asyncio.run(ask(live_client("https://127.0.0.1:9", None), [SUM + " " + SECRET]))
    assert replay.unplayed() == 0
    doc["frames"][2]["json"]["clientContent"]["turn_complete"] = False
    respelled.write_text(yaml.safe_dump(doc))
    with replaying(respelled), pytest.raises(LiveMismatch) as info:
        asyncio.run(ask(live_client("https://127.0.0.1:9", None), [SUM + " " + SECRET]))
    assert info.value.path == "$.clientContent.turnComplete"


def test_cassette_ending_mid_turn_is_an_error_not_a_hang(cassette: Path, tmp_path: Path) -> None:
    doc = yaml.safe_load(cassette.read_text())
    doc["frames"] = doc["frames"][:4]  # setup, setupComplete, the turn, one server part
    short = tmp_path / "short.live.yaml"
    short.write_text(yaml.safe_dump(doc))
    with replaying(short), pytest.raises(LiveCassetteError, match=r"ends after frame 3.*mid-turn"):
        asyncio.run(asyncio.wait_for(
            ask(live_client("https://127.0.0.1:9", None), [SUM + " " + SECRET]), timeout=10))


def test_recorded_close_mid_turn_reaches_the_sdk_as_its_error(cassette: Path,
                                                              tmp_path: Path) -> None:
    doc = yaml.safe_load(cassette.read_text())
    doc["frames"] = [*doc["frames"][:4], {"direction": "close", "code": 1011,
                                          "reason": "Internal error occurred."}]
    closed = tmp_path / "closed.live.yaml"
    closed.write_text(yaml.safe_dump(doc))
    with replaying(closed), pytest.raises(errors.APIError, match="Internal error") as info:
        asyncio.run(asyncio.wait_for(
            ask(live_client("https://127.0.0.1:9", None), [SUM + " " + SECRET]), timeout=10))
    assert info.value.code == 1011


def test_missing_or_damaged_cassette(tmp_path: Path) -> None:
    with pytest.raises(LiveCassetteError, match="cannot read"), replaying(tmp_path / "no.yaml"):
        pass
    bad = tmp_path / "bad.live.yaml"
    bad.write_text("frames: [{direction: sideways}]\n")
    with pytest.raises(LiveCassetteError, match="not a live cassette"), replaying(bad):
        pass


@pytest.mark.parametrize(("want", "got", "path"), [
    ({"a": 1}, {"a": 1}, None),
    ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}}, "$.a.b[1]"),
    ({"a": [1]}, {"a": [1, 2]}, "$.a[1]"),
    ({"a": 1}, {"a": 1, "b": 2}, "$.b"),
    ({"a": 1}, {"a": True}, "$.a"),
    ("x", {"x": 1}, "$"),
])
def test_first_difference(want: object, got: object, path: str | None) -> None:
    assert first_difference(want, got) == path


def test_vertex_project_and_location_are_scrubbed_from_frames() -> None:
    from harness.cassettes.live import _frame

    setup = ('{"setup": {"model": "projects/my-proj/locations/us-central1/publishers/google/'
             'models/m"}}')
    assert _frame("send", setup)["json"]["setup"]["model"] == (
        "projects/PROJECT/locations/LOCATION/publishers/google/models/m")
    assert _frame("recv", '"subprojects/a/locations/b/"')["json"] == "subprojects/a/locations/b/"
