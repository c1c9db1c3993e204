"""The attack table shared by tests/test_sandbox.py and benchmarks/sandbox_bench.py.

Each attack is code for the sandbox plus a judge that says whether the sandbox contained it.
Host-side evidence (a listener that must receive nothing, a file that must not exist, a process
name that must not be alive) is checked by the judge, never taken from the attack's own output.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

OUTPUT_CAP = 1024 * 1024


@dataclass
class Attack:
    """One row: ``setup`` yields the code (and a judge) around host-side evidence."""

    name: str
    timeout: float
    setup: Callable[[], contextlib.AbstractContextManager[tuple[str, Callable[[Any], str]]]]


def _alive_with_comm(comm: str) -> list[int]:
    """Live processes named ``comm`` (zombies are dead, merely not reaped yet)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
                name, _, rest = fh.read().partition(" (")[2].rpartition(") ")
                if name == comm and not rest.startswith(("Z", "X")):
                    found.append(int(pid))
    return found


@contextlib.contextmanager
def tcp() -> Iterator[tuple[str, Callable[[Any], str]]]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.3)
    port = srv.getsockname()[1]
    code = (f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
            "s.sendall(b'pwned')\nprint('sent')\n")

    def judge(_: Any) -> str:
        try:
            conn, _addr = srv.accept()
        except OSError:
            return ""
        conn.settimeout(0.3)
        with contextlib.suppress(OSError):
            if conn.recv(100):
                return "listener received data"
        return "listener accepted a connection"

    try:
        yield code, judge
    finally:
        srv.close()


@contextlib.contextmanager
def udp() -> Iterator[tuple[str, Callable[[Any], str]]]:
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.3)
    port = srv.getsockname()[1]
    code = (f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"s.sendto(b'pwned', ('127.0.0.1', {port}))\nprint('sent')\n")

    def judge(_: Any) -> str:
        try:
            srv.recv(100)
        except OSError:
            return ""
        return "listener received a datagram"

    try:
        yield code, judge
    finally:
        srv.close()


@contextlib.contextmanager
def write_outside() -> Iterator[tuple[str, Callable[[Any], str]]]:
    targets = [f"/tmp/pwned-{uuid.uuid4().hex}", f"/var/tmp/pwned-{uuid.uuid4().hex}"]
    code = (f"for t in {targets!r}:\n    try:\n        open(t, 'w').write('x')\n"
            "        print('wrote', t)\n    except OSError as e:\n        print(t, e)\n")

    def judge(_: Any) -> str:
        hit = [t for t in targets if os.path.exists(t)]
        return f"created {hit}" if hit else ""

    try:
        yield code, judge
    finally:
        for t in targets:
            with contextlib.suppress(OSError):
                os.unlink(t)


def _procs() -> int:
    return sum(1 for p in os.listdir("/proc") if p.isdigit())


@contextlib.contextmanager
def fork_bomb() -> Iterator[tuple[str, Callable[[Any], str]]]:
    comm = f"bomb-{uuid.uuid4().hex[:8]}"
    code = (
        "import ctypes, os, time\n"
        f"ctypes.CDLL(None).prctl(15, {comm.encode()!r}, 0, 0, 0)\n"
        "n = 0\ntry:\n    for i in range(3000):\n        if os.fork() == 0:\n"
        "            time.sleep(30)\n            os._exit(0)\n        n += 1\n"
        "except OSError as e:\n    print('fork stopped after', n, e)\nprint('forked', n)\n")

    def judge(result: Any) -> str:
        left = _alive_with_comm(comm)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if left:
            return f"{len(left)} bomb processes survived the run"
        if "fork stopped" not in result.stdout:
            return "nothing stopped the forks (only the deadline did)"
        return ""

    yield code, judge


@contextlib.contextmanager
def setsid_escape() -> Iterator[tuple[str, Callable[[Any], str]]]:
    comm = f"esc-{uuid.uuid4().hex[:8]}"
    marker = f"/tmp/escaped-{uuid.uuid4().hex}"
    code = (
        "import ctypes, os, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        f"        ctypes.CDLL(None).prctl(15, {comm.encode()!r}, 0, 0, 0)\n"
        f"        time.sleep(2)\n        open({marker!r}, 'w').write('escaped')\n"
        "        time.sleep(30)\n    os._exit(0)\n"
        "print('spawned', flush=True)\ntime.sleep(60)\n")

    def judge(_: Any) -> str:
        time.sleep(0.1)
        left = _alive_with_comm(comm)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return f"grandchild {left} outlived the run" if left else ""

    try:
        yield code, judge
    finally:
        with contextlib.suppress(OSError):
            os.unlink(marker)


@contextlib.contextmanager
def memory_20g() -> Iterator[tuple[str, Callable[[Any], str]]]:
    # bytearray zero-fills, so without a limit this really takes 20 GiB (the benchmark runs the
    # weaker levels inside a guard cgroup for that reason).
    code = "x = bytearray(20 << 30)\nprint('allocated 20 GiB')\n"

    def judge(result: Any) -> str:
        if result.outcome == "OUTCOME_OK":
            return "allocated 20 GiB"
        if "MemoryError" not in result.output:
            return f"not stopped by a memory limit ({result.outcome})"
        return ""

    yield code, judge


@contextlib.contextmanager
def stdout_flood() -> Iterator[tuple[str, Callable[[Any], str]]]:
    code = "import sys\nchunk = 'x' * 65536\nfor _ in range(16384):\n    sys.stdout.write(chunk)\n"

    def judge(result: Any) -> str:
        if len(result.stdout) > OUTPUT_CAP or not result.truncated:
            return f"stdout not capped ({len(result.stdout)} bytes)"
        if result.duration_s > 2.0:
            return f"the run went on for {result.duration_s:.1f} s after the cap"
        return ""

    yield code, judge


def _deadline_judge(result: Any) -> str:
    if result.outcome != "OUTCOME_DEADLINE_EXCEEDED":
        return f"outcome {result.outcome}"
    if "started" not in result.output:
        return "partial output lost"
    return ""


@contextlib.contextmanager
def busy_loop() -> Iterator[tuple[str, Callable[[Any], str]]]:
    yield "print('started')\nwhile True:\n    pass\n", _deadline_judge


@contextlib.contextmanager
def sleep_loop() -> Iterator[tuple[str, Callable[[Any], str]]]:
    yield "import time\nprint('started')\nwhile True:\n    time.sleep(0.05)\n", _deadline_judge


@contextlib.contextmanager
def env_key() -> Iterator[tuple[str, Callable[[Any], str]]]:
    """A victim process holding the key in its environment, as the harness's own process does."""
    key = f"fake-key-{uuid.uuid4().hex}"
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              env={**os.environ, "GEMINI_API_KEY": key})
    code = (
        "import os\nfound = []\n"
        f"key = {key!r}\n"
        "if any(key in v for v in os.environ.values()):\n    found.append('os.environ')\n"
        f"paths = ['/proc/self/environ', f'/proc/{{os.getppid()}}/environ', "
        f"'/proc/{victim.pid}/environ']\n"
        "paths += [f'/proc/{p}/environ' for p in os.listdir('/proc') if p.isdigit()]\n"
        "for p in paths:\n    try:\n        if key.encode() in open(p, 'rb').read():\n"
        "            found.append(p)\n    except OSError:\n        pass\n"
        "print('FOUND' if found else 'clean', sorted(set(found)))\n")

    def judge(result: Any) -> str:
        return result.output.strip() if "FOUND" in result.stdout or key in result.output else ""

    try:
        yield code, judge
    finally:
        victim.kill()
        victim.wait()


ATTACKS: dict[str, Attack] = {
    "tcp": Attack("tcp", 3, tcp),
    "udp": Attack("udp", 3, udp),
    "write-outside": Attack("write-outside", 3, write_outside),
    "fork-bomb": Attack("fork-bomb", 3, fork_bomb),
    "setsid-escape": Attack("setsid-escape", 1, setsid_escape),
    "memory-20g": Attack("memory-20g", 5, memory_20g),
    "stdout-flood": Attack("stdout-flood", 5, stdout_flood),
    "busy-loop": Attack("busy-loop", 1, busy_loop),
    "sleep-loop": Attack("sleep-loop", 1, sleep_loop),
    "env-key": Attack("env-key", 3, env_key),
}


def attempt(run: Callable[..., Any], name: str, level: str | None = None) -> tuple[Any, str]:
    """Run one attack; returns (result, "" when contained or why it was not)."""
    attack = ATTACKS[name]
    with attack.setup() as (code, judge):
        result = run(code, timeout=attack.timeout, level=level)
        return result, judge(result)
