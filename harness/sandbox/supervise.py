"""One run, seen from the zygote: fork, read within the caps, enforce the deadline, kill.

The zygote forks the child, reads its pipes within the caps, enforces the wall-clock deadline,
kills what is left, and hands the raw facts to ``outcome`` for the Gemini outcome code.

The deadline is wall-clock (a sleeping loop is caught like a busy one); the output cap is
enforced here by reading at most that many bytes and then killing the run (RLIMIT_FSIZE only
covers files). Every run ends with a kill of the whole run (its cgroup, else its process group),
so nothing it started outlives it.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.sandbox import child
from harness.sandbox.cgroups import RunGroup
from harness.sandbox.figures import MAX_FIGURES, MAX_PNG_BYTES

_CHUNK = 65536
_POLL_S = 0.005  # exit polling where there is no pidfd (macOS)


@dataclass
class _Stream:
    cap: int
    data: bytearray = field(default_factory=bytearray)
    open: bool = True
    overflow: bool = False

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.overflow = True
            chunk = chunk[: max(room, 0)]
        self.data += chunk


def _exited(pid: int) -> bool:
    """Whether ``pid`` has exited, without reaping it (its pid and group stay reserved)."""
    if not hasattr(os, "waitid"):  # macOS before Python 3.13: ask kill() about the zombie
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(OSError):
            return _is_zombie(pid)
        return False
    try:
        res = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return res is not None


def _is_zombie(pid: int) -> bool:
    import subprocess

    out = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True,
                         check=False).stdout
    return out.strip().startswith("Z")


def _kill(pid: int, group: RunGroup | None) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    if group is not None:
        group.kill()


def _sweep_process_group(pgid: int) -> None:
    """Without a cgroup the process group is the handle (call after reaping its leader).

    A member mid-fork can add a child after one sweep, so sweep until the group is gone;
    zombies keep it alive until reaped, hence the time bound.
    """
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            return
        time.sleep(0.002)


def _read_available(streams: dict[int, _Stream], *, until_eof_s: float) -> None:
    """Drain what is buffered; wait for EOF at most ``until_eof_s`` (escapees may hold pipes)."""
    end = time.monotonic() + until_eof_s
    for fd, stream in streams.items():
        while stream.open and not stream.overflow:
            try:
                chunk = os.read(fd, _CHUNK)
            except BlockingIOError:
                if time.monotonic() >= end:
                    break
                time.sleep(0.001)
                continue
            if not chunk:
                stream.open = False
                break
            stream.feed(chunk)


def execute(code: str, files: Mapping[str, bytes], seed: int, plan: child.Plan,
            group: RunGroup | None, *, timeout: float, output_cap: int,
            control: socket.socket | None,
            fork: Callable[[bool], int] | None = None,
            prelude: Sequence[str] = ()) -> dict[str, Any]:
    """Run ``code`` once and return the raw facts (bytes, exit status, why it ended).

    ``fork(sandboxed)`` forks, into the sandbox pid namespace when asked (default: os.fork).
    ``prelude``: earlier runs of a session, replayed silently first (see ``child``).
    """
    pairs = [os.pipe() for _ in range(4)]
    t0 = time.monotonic()
    pid = fork("pidns" in plan.layers) if fork is not None else os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        child.main(code, files, seed, plan, group, tuple(w for _, w in pairs),  # type: ignore[arg-type]
                   prelude)
    for _, w in pairs:
        os.close(w)
    caps = (output_cap, output_cap, MAX_FIGURES * (MAX_PNG_BYTES + 4), 65536)
    streams = {r: _Stream(cap) for (r, _), cap in zip(pairs, caps, strict=True)}
    for r in streams:
        os.set_blocking(r, False)
    sel = selectors.DefaultSelector()
    for r in streams:
        sel.register(r, selectors.EVENT_READ)
    pidfd = -1
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(pid)
        sel.register(pidfd, selectors.EVENT_READ)
    if control is not None:
        sel.register(control, selectors.EVENT_READ)
    deadline = t0 + timeout
    reason = ""
    try:
        while not reason:
            left = deadline - time.monotonic()
            if left <= 0:
                reason = "deadline"
                break
            for key, _ in sel.select(left if pidfd >= 0 else min(left, _POLL_S)):
                fd = key.fd
                if fd in streams:
                    try:
                        chunk = os.read(fd, _CHUNK)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        streams[fd].open = False
                        sel.unregister(fd)
                        continue
                    streams[fd].feed(chunk)
                    if streams[fd].overflow:
                        reason = "cap"
                elif fd == pidfd:
                    reason = reason or "exit"
                elif control is not None and fd == control.fileno():
                    reason = "parent-gone"  # the pool never writes during a run: it is gone
            if not reason and pidfd < 0 and _exited(pid):
                reason = "exit"
        end = time.monotonic()
        _kill(pid, group)
        _, status = os.waitpid(pid, 0)
        if group is None:
            _sweep_process_group(pid)
        _read_available(streams, until_eof_s=0.05 if reason == "exit" else 0.2)
    finally:
        sel.close()
        if pidfd >= 0:
            os.close(pidfd)
        for r in streams:
            os.close(r)
    out, err, figs, stat = streams.values()
    try:
        setup = json.loads(bytes(stat.data) or b"{}")
    except ValueError:
        setup = {"error": "unreadable setup status"}
    return {"reason": reason, "status": status, "duration_s": end - t0, "stdout": bytes(out.data),
            "stderr": bytes(err.data), "figures": bytes(figs.data), "setup": setup,
            "truncated": out.overflow or err.overflow,
            "oom": group.oom_killed() if group is not None else False}
