"""The Live surface, its transcript and the item cassette lifecycle, in process against the
simulator's wss endpoint (no pytest run inside): what each failure becomes, and what a
recording keeps."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.calls.retry import SessionDropped, TransportFailure, classify
from harness.calls.surfaces.live import Live
from harness.cassettes import live_item
from harness.errors import ApiError, CassetteError
from harness.sim.server import SimServer
from harness.spec.case import Case
from harness.spec.load import load_eval_file
from harness.transcript.live import from_live_frames
from tests.livesim import SUM, live_client, start_tls_sim

EVAL = f"""
suite: demo
defaults: {{api: live, config: {{temperature: 0, system_instruction: Be brief.}}}}
cases:
  - id: sum
    prompt: "{SUM}"
  - id: two
    turns: ["{SUM}", "What is 6*7? Run code."]
"""


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, ssl.SSLContext]]:
    server, ctx = start_tls_sim(Path(tmp_path_factory.mktemp("tls")))
    with server:
        yield server, ctx


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    path = Path(tmp_path_factory.mktemp("evals")) / "demo.eval.yaml"
    path.write_text(EVAL)
    return {c.id: c for c in load_eval_file(path, path.parent).cases}


def test_a_session_of_two_turns_is_one_transcript(sim: tuple[SimServer, ssl.SSLContext],
                                                  cases: dict[str, Case], tmp_path: Path) -> None:
    server, ctx = sim
    client = live_client(server.base_url, ctx)
    with live_item.use_live_cassette(tmp_path / "1.live.yaml", "rewrite", "HINT") as rec:
        transcript, timing = Live().call(client, cases["two"], "sim-oracle",
                                         {"x-harness-case": "demo/two"})
    assert [r.output for r in transcript.code_runs] == ["45\n", "42\n"]
    assert transcript.final_text == "The result is **42**."
    assert [t.finish_reason for t in transcript.turns] == ["TURN_COMPLETE"] * 2
    assert transcript.usage.output_tokens and transcript.usage.total_tokens
    assert timing.latency_s > 0 and timing.ttft_s is None
    setup = rec.recording.frames[0]["json"]["setup"] if rec.recording else {}
    assert setup["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert setup["generationConfig"]["temperature"] == 0.0


def test_an_unknown_model_is_an_api_error_with_a_hint(sim: tuple[SimServer, ssl.SSLContext],
                                                      cases: dict[str, Case]) -> None:
    server, ctx = sim
    with pytest.raises(ApiError) as info:
        Live().call(live_client(server.base_url, ctx), cases["sum"], "gemini-nope", None)
    message = str(info.value)
    assert "closed the websocket while connecting with code 1008 (policy violation)" in message
    assert "models/gemini-nope is not found" in message
    assert "Is 'gemini-nope' a model the Live API serves?" in message


def test_a_session_dropped_mid_turn_is_retryable(sim: tuple[SimServer, ssl.SSLContext],
                                                 cases: dict[str, Case]) -> None:
    server, ctx = sim
    client = live_client(server.base_url, ctx, headers={"x-harness-fault": "truncate"})
    with pytest.raises(SessionDropped, match=r"in turn 1 of 2 \(close code 1011: Internal"):
        Live().call(client, cases["two"], "sim-oracle", None)
    assert classify(SessionDropped("x")) == (502, None)


def test_nothing_listening_is_a_transport_failure(cases: dict[str, Case]) -> None:
    with pytest.raises(TransportFailure, match="cannot open the Live API websocket"):
        Live().call(live_client("https://127.0.0.1:9", None), cases["sum"], "sim-oracle", None)
    assert classify(TransportFailure("x")) == (503, None)


def test_a_failed_recording_keeps_the_old_cassette(tmp_path: Path) -> None:
    path = tmp_path / "1.live.yaml"
    path.write_text("old")
    with pytest.raises(RuntimeError), live_item.use_live_cassette(path, "rewrite", "HINT") as rec:
        assert rec.recording is not None
        rec.recording.frames.append({"direction": "send", "json": {}})
        raise RuntimeError("the call failed")
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_rollback_drops_a_failed_attempt(sim: tuple[SimServer, ssl.SSLContext],
                                         cases: dict[str, Case], tmp_path: Path) -> None:
    server, ctx = sim
    path = tmp_path / "1.live.yaml"
    with live_item.use_live_cassette(path, "once", "HINT") as rec:
        mark = rec.mark()
        dropped = live_client(server.base_url, ctx, headers={"x-harness-fault": "truncate"})
        with pytest.raises(SessionDropped):
            Live().call(dropped, cases["sum"], "sim-oracle", None)
        rec.rollback(mark)
        Live().call(live_client(server.base_url, ctx), cases["sum"], "sim-oracle", None)
        rec.store_timing({"latency_s": 1.5, "ttft_s": None})
    doc = yaml.safe_load(path.read_text())
    assert [f["direction"] for f in doc["frames"]].count("send") == 2
    assert not any(f["direction"] == "close" for f in doc["frames"])
    assert doc["harness"] == {"latency_s": 1.5, "ttft_s": None}
    with live_item.use_live_cassette(path, "once", "HINT") as replay:  # exists: replays
        transcript, _ = Live().call(live_client("https://127.0.0.1:9", None), cases["sum"],
                                    "sim-oracle", None)
    assert replay.replaying and replay.stored_timing()["latency_s"] == 1.5
    assert transcript.code_runs[0].output == "45\n"


def test_replay_guard_refuses_sockets_and_leftover_frames_are_an_error(
        sim: tuple[SimServer, ssl.SSLContext], cases: dict[str, Case], tmp_path: Path) -> None:
    server, ctx = sim
    path = tmp_path / "1.live.yaml"
    with live_item.use_live_cassette(path, "rewrite", "HINT"):
        Live().call(live_client(server.base_url, ctx), cases["two"], "sim-oracle", None)

    async def connect() -> None:
        from websockets.asyncio.client import connect as ws_connect

        async with ws_connect(server.base_url.replace("https", "wss") + "/x", ssl=ctx):
            pass

    never_played = r"(?s)frame\(s\) were never played.*To re-record: HINT"
    with pytest.raises(CassetteError, match=never_played), \
            live_item.use_live_cassette(path, "none", "HINT"):
        # the SDK's connect is served from the file; anything else meets the guard
        with pytest.raises(RuntimeError, match="Network is disabled"):
            asyncio.run(connect())
        Live().call(live_client("https://127.0.0.1:9", None), cases["sum"], "sim-oracle",
                    None)  # one turn of the two recorded


def test_record_modes_for_live(tmp_path: Path) -> None:
    path = tmp_path / "1.live.yaml"
    assert live_item.live_path(tmp_path / "3.yaml") == tmp_path / "3.live.yaml"
    assert [live_item.is_live_replay(m, path) for m in ("none", "once", "new_episodes", "all",
                                                         "rewrite")] == [True] + [False] * 4
    path.write_text("x")
    assert [live_item.is_live_replay(m, path) for m in ("once", "new_episodes", "all",
                                                         "rewrite")] == [True, True, False, False]
    with pytest.raises(CassetteError, match=r"does not exist\.\nTo record it: HINT"), \
            live_item.use_live_cassette(tmp_path / "2.live.yaml", "none", "HINT"):
        pass


def test_live_frames_transcript_edge_cases() -> None:
    part = {"serverContent": {"modelTurn": {"parts": [{"text": "Half"}]}}}
    unfinished = from_live_frames([{"setupComplete": {}}, part], "x")
    assert unfinished.error == "the turn ended without turnComplete"
    assert unfinished.finish_reason is None
    interrupted = from_live_frames([part, {"serverContent": {"interrupted": True}},
                                    {"serverContent": {"turnComplete": True},
                                     "usageMetadata": {"promptTokenCount": 4,
                                                       "responseTokenCount": 2,
                                                       "thoughtsTokenCount": 1}}], "x")
    assert interrupted.finish_reason == "INTERRUPTED" and interrupted.error is None
    assert (interrupted.usage.prompt_tokens, interrupted.usage.output_tokens,
            interrupted.usage.thought_tokens) == (4, 2, 1)
    assert from_live_frames([], "x").error == "the turn ended without turnComplete"


def test_harness_unused_counts_live_cassettes_as_used(cases: dict[str, Case],
                                                      tmp_path: Path) -> None:
    from harness.cassettes.unused import find_unused

    folder = tmp_path / "sim/demo/sum/sim-oracle"
    folder.mkdir(parents=True)
    (folder / "1.live.yaml").write_text("frames: []\n")
    (folder / "1.yaml").write_text("interactions: []\n")  # what an HTTP case would use
    found = find_unused(tmp_path, "sim", [cases["sum"]], ["sim-oracle"])
    assert found.stale == [folder / "1.yaml"]
