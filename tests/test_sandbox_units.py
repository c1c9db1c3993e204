"""Sandbox pieces that need no zygote: wire format, PNG validation, outcome mapping, levels."""

from __future__ import annotations

import argparse
import io
import itertools
import os
import signal
import socket
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.sandbox import figures, levels, outcome, protocol, seccomp
from harness.sandbox.cli import add_parser, cmd_exec
from harness.sandbox.execute import available_libraries
from harness.sandbox.levels import LEVEL_CONTAINS, LEVELS
from harness.sandbox.libraries import GEMINI_LIBRARIES


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack("!I", len(body)) + ctype + body + struct.pack(
        "!I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _png(width: int = 2, height: int = 1) -> bytes:
    ihdr = struct.pack("!IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x7f" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))


def test_protocol_round_trip() -> None:
    a, b = socket.socketpair()
    with a, b:
        protocol.send(a, {"x": [1, "é"]}, [b"\x00" * 70000, b""])
        assert protocol.recv(b) == ({"x": [1, "é"]}, [b"\x00" * 70000, b""])
        a.shutdown(socket.SHUT_WR)
        assert protocol.recv(b) is None


def test_protocol_rejects_truncated_message() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack("!II", 100, 0) + b"{")
        a.shutdown(socket.SHUT_WR)
        with pytest.raises(protocol.ProtocolError):
            protocol.recv(b)


def test_validate_png_accepts_real_png() -> None:
    img = figures.validate_png(_png(3, 2))
    assert img is not None and (img.width, img.height, img.mime_type) == (3, 2, "image/png")


@pytest.mark.parametrize("mutate", [
    lambda d: d[:20],  # truncated
    lambda d: d + b"trailing",  # data after IEND
    lambda d: d[:30] + bytes([d[30] ^ 1]) + d[31:],  # CRC mismatch
    lambda d: b"GIF89a" + d[6:],  # wrong signature
    lambda d: _png(5000, 1),  # wider than the cap
    lambda d: _png(0, 1),  # empty
])
def test_validate_png_rejects(mutate: Callable[[bytes], bytes]) -> None:
    assert figures.validate_png(mutate(_png())) is None


def test_figure_frames_round_trip_and_drop_garbage() -> None:
    blobs = [_png(), _png(4, 4)]
    assert figures.unframe(figures.frame(blobs)) == blobs
    assert figures.unframe(figures.frame(blobs) + b"\xff\xff\xff\xff junk") == blobs


def _raw(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"reason": "exit", "status": 0, "duration_s": 0.01,
                               "stdout": b"", "stderr": b"", "figures": b"",
                               "setup": {"layers": ["fork"]}, "truncated": False, "oom": False}
    return {**base, **kw}


def _map(**kw: object) -> dict[str, object]:
    head, _ = outcome.to_response(_raw(**kw), level="full", seed=1, memory_bytes=1 << 30,
                                  output_cap=1 << 20)
    return head


def test_outcome_mapping() -> None:
    assert _map(stdout=b"hi\n")["outcome"] == "OUTCOME_OK"
    failed = _map(status=1 << 8, stderr=b"boom\n")
    assert (failed["outcome"], failed["output"]) == ("OUTCOME_FAILED", "boom\n")
    both = _map(status=1 << 8, stdout=b"ok\n", stderr=b"boom\n")
    assert both["output"] == "stdout: ok\n\nstderr: boom\n"
    late = _map(reason="deadline", status=signal.SIGKILL, stdout=b"part")
    assert (late["outcome"], late["output"]) == ("OUTCOME_DEADLINE_EXCEEDED", "part")
    oom = _map(status=signal.SIGKILL, oom=True)
    assert oom["outcome"] == "OUTCOME_FAILED" and "MemoryError" in str(oom["output"])
    cap = _map(reason="cap", status=signal.SIGKILL, stdout=b"x" * (1 << 20), truncated=True)
    assert cap["outcome"] == "OUTCOME_FAILED" and cap["truncated"]
    assert "truncated" in str(cap["output"])
    assert "error" in _map(status=125 << 8, setup={"error": "mount failed"})


def test_levels_are_cumulative_and_resolve_downwards() -> None:
    for low, high in itertools.pairwise(LEVELS):
        assert levels.LEVEL_LAYERS[low] <= levels.LEVEL_LAYERS[high]
        assert LEVEL_CONTAINS[low] <= LEVEL_CONTAINS[high]
    assert LEVEL_CONTAINS["full"] == set(levels.ATTACK_ROWS)
    unprivileged = {"rlimits", "seccomp", "landlock", "no-fork"}
    assert levels.best_level(unprivileged) == "restricted"
    assert levels.resolve("strict", unprivileged) == "restricted"
    assert levels.resolve("none", unprivileged) == "none"
    assert levels.best_level(levels.LEVEL_LAYERS["strict"]) == "full"  # strict is opt-in
    with pytest.raises(ValueError, match="unknown isolation level"):
        levels.resolve("max", unprivileged)


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("no_fork", [False, True])
def test_seccomp_filters_assemble(machine: str, no_fork: bool) -> None:
    prog = seccomp.build_filter(no_fork=no_fork, machine=machine)
    assert len(prog) % 8 == 0 and 20 < len(prog) // 8 < 100


@pytest.mark.skipif(not seccomp.supported(), reason="seccomp needs Linux on x86_64/aarch64")
def test_seccomp_denies_inet_but_not_unix_sockets() -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            seccomp.install(seccomp.build_filter())
            socket.socketpair()
            try:
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            except OSError:
                code = 0
        finally:
            os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0


def test_available_libraries_names_geminis_list() -> None:
    libs = available_libraries()
    assert set(libs) == set(GEMINI_LIBRARIES)
    assert all(isinstance(v, bool) for v in libs.values())


def test_cli_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="harness")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["exec", str(tmp_path / "missing.py")])
    assert args.func is cmd_exec and cmd_exec(args) == 2
    assert "missing.py" in capsys.readouterr().err
    (tmp_path / "x.py").write_text("print(1)")
    args = parser.parse_args(["exec", str(tmp_path / "x.py"), "--file", "nonsense"])
    assert cmd_exec(args) == 2 and "NAME=PATH" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="POSIX only")
def test_cli_exec_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "data.txt").write_text("41")
    code = ("import matplotlib.pyplot as plt\nprint(int(open('d.txt').read()) + 1)\n"
            "plt.plot([1, 2])\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(code))
    parser = argparse.ArgumentParser(prog="harness")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["exec", "-", "--file", f"d.txt={tmp_path / 'data.txt'}",
                              "--images-dir", str(tmp_path / "img"), "--seed", "5"])
    assert cmd_exec(args) == 0
    out = capsys.readouterr().out
    assert "outcome: OUTCOME_OK" in out and "\n42\n" in out and "isolation: " in out
    assert f"image: {tmp_path / 'img' / 'figure-1.png'} (640x480)" in out
    assert figures.validate_png((tmp_path / "img" / "figure-1.png").read_bytes())
