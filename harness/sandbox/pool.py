"""The supervisor side: a pool of zygote processes, one run at a time each, thread-safe.

A zygote is started by a fresh exec of the interpreter with an allow-listed environment (so
it never holds the parent's keys, e.g. GEMINI_API_KEY), and started lazily: the second one
only when two runs are wanted at once. A zygote that dies or stops answering is replaced on
the next run; its failure surfaces as ``SandboxError``, never as an outcome of the code.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.paths import sweep_stale
from harness.sandbox import protocol
from harness.sandbox.api import DEFAULT_TIMEOUT_S, OUTPUT_CAP_BYTES, ExecResult, SandboxError
from harness.sandbox.figures import validate_png
from harness.sandbox.levels import LEVELS

DEFAULT_PRELOAD: tuple[str, ...] = ("numpy", "sympy", "matplotlib", "matplotlib.pyplot",
                                    "pandas")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")
# What the zygote passes on to the code; everything else in its (already clean) env stays.
_CHILD_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "MPLBACKEND", "PYTHONHASHSEED",
              "PYTHONDONTWRITEBYTECODE", *_THREAD_VARS)
_ANSWER_MARGIN_S = 30.0  # kill + cleanup + figure transfer after the deadline
# A zygote's home is harness-zygote-<supervisor pid>-*: one left by a killed run is removed
# when the next pool starts (a live supervisor's is never touched).
_HOME_PREFIX = "harness-zygote-"
_STALE_HOME = re.compile(rf"^{_HOME_PREFIX}(?P<pid>[0-9]+)-")
_swept_homes = False


def sweep_stale_homes() -> list[Path]:
    """Remove zygote homes of supervisors that died (once per process)."""
    global _swept_homes
    if _swept_homes:
        return []
    _swept_homes = True
    return sweep_stale(Path(tempfile.gettempdir()).iterdir(), _STALE_HOME)


def _harness_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def _zygote_env(home: str) -> dict[str, str]:
    """The allow-listed environment: nothing of the parent's but locale-free basics."""
    cache = Path.home() / ".cache" / "harness" / "matplotlib"
    with contextlib.suppress(OSError):
        cache.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin",
                                 "/bin"]),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "HOME": home,
        "TMPDIR": tempfile.gettempdir(), "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(cache),
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": _harness_root(),
    }
    env.update(dict.fromkeys(_THREAD_VARS, "1"))
    return env


class _Worker:
    """One zygote process and its socket."""

    def __init__(self, python: str, config: dict[str, Any], start_timeout: float) -> None:
        sweep_stale_homes()
        self.home = tempfile.mkdtemp(prefix=f"{_HOME_PREFIX}{os.getpid()}-")
        self.log_path = os.path.join(self.home, "zygote.log")
        ours, theirs = socket.socketpair()
        config = {**config, "exclude": [*config.get("exclude", []), self.home]}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [python, "-m", "harness.sandbox.zygote", str(theirs.fileno())],
                env=_zygote_env(self.home), pass_fds=[theirs.fileno()], cwd=self.home,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        theirs.close()
        self.sock = ours
        try:
            ours.settimeout(start_timeout)
            protocol.send(ours, config)
            msg = protocol.recv(ours)
            if msg is None or not msg[0].get("ready"):
                raise protocol.ProtocolError("the zygote exited during start-up")
        except (OSError, protocol.ProtocolError) as exc:
            self.close()
            raise SandboxError(f"sandbox zygote failed to start: {exc}\n{self.log_tail()}") \
                from exc
        self.report: dict[str, Any] = msg[0]["report"]

    def log_tail(self, limit: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - limit))
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    def request(self, header: dict[str, Any], blobs: list[bytes],
                timeout: float) -> tuple[dict[str, Any], list[bytes]]:
        self.sock.settimeout(timeout)
        protocol.send(self.sock, header, blobs)
        msg = protocol.recv(self.sock)
        if msg is None:
            raise protocol.ProtocolError("the zygote closed the connection")
        return msg

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)


class Pool:
    """Warm sandbox workers with an explicit lifetime (``start``/``close``, or ``with``).

    Args:
        workers: Runs at once (one zygote each, started on demand); default: the CPU count,
            at most 4 (``HARNESS_SANDBOX_WORKERS`` overrides).
        preload: Modules every zygote imports up front (missing ones are skipped).
        level: Default isolation level (None: the best this machine allows).
        python: Interpreter for the zygotes (default: this one).
        memory_bytes: Per-run memory cap (cgroup levels).
        pids_max: Per-run process cap (cgroup levels).
        output_cap: Bytes kept from stdout and from stderr each.
        start_timeout: Seconds a zygote may take to import the preload set.
        uid: The unprivileged uid (and gid) runs use at ``full``.
    """

    def __init__(self, workers: int | None = None, *, preload: Sequence[str] = DEFAULT_PRELOAD,
                 level: str | None = None, python: str | None = None,
                 memory_bytes: int = 2 << 30, pids_max: int = 128,
                 output_cap: int = OUTPUT_CAP_BYTES, start_timeout: float = 120.0,
                 uid: int = 65534) -> None:
        if level is not None and level not in LEVELS:
            raise ValueError(f"unknown isolation level {level!r}; choose one of {LEVELS}")
        env_workers = os.environ.get("HARNESS_SANDBOX_WORKERS")
        default = int(env_workers) if env_workers else min(os.cpu_count() or 1, 4)
        self.workers = max(1, workers or default)
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self.config: dict[str, Any] = {
            "preload": list(preload), "level": level, "memory_bytes": memory_bytes,
            "pids_max": pids_max, "output_cap": output_cap, "uid": uid, "gid": uid,
            "child_env": list(_CHILD_ENV), "exclude": [_harness_root()]}
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0
        self._closed = False
        self._report: dict[str, Any] | None = None

    def __enter__(self) -> Pool:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self, *, all_workers: bool = False) -> Pool:
        """Start one zygote now (or all of them, in parallel); the rest start on demand.

        Returns:
            The pool itself.
        """
        n = self.workers if all_workers else 1
        got: list[_Worker] = []
        errors: list[BaseException] = []

        def one() -> None:
            try:
                worker = self._acquire()
            except BaseException as exc:
                errors.append(exc)
                return
            got.append(worker)

        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for worker in got:
            self._release(worker, healthy=True)
        if errors:
            raise errors[0]
        return self

    def _acquire(self) -> _Worker:
        if not hasattr(os, "fork"):
            raise SandboxError(f"the sandbox needs a POSIX system with fork(); this is "
                               f"{sys.platform}")
        with self._cond:
            while True:
                if self._closed:
                    raise SandboxError("the sandbox pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.workers:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            worker = _Worker(self.python, self.config, self.start_timeout)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        self._report = self._report or worker.report
        return worker

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed and worker.proc.poll() is None:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._count -= 1
            self._cond.notify()
        worker.close()

    def report(self) -> dict[str, Any]:
        """The isolation report of this pool's zygotes (starts one if needed)."""
        if self._report is None:
            self.start()
        assert self._report is not None
        return dict(self._report)

    def run(self, code: str, files: Mapping[str, bytes] | None = None,
            timeout: float = DEFAULT_TIMEOUT_S, seed: int | None = None, *,
            level: str | None = None, prelude: Sequence[str] = ()) -> ExecResult:
        """Run ``code`` in a fresh child of a warm zygote; see ``harness.sandbox.execute.run``."""
        if level is not None and level not in LEVELS:
            raise ValueError(f"unknown isolation level {level!r}; choose one of {LEVELS}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        files = dict(files or {})
        for name in files:
            norm = os.path.normpath(name)
            if os.path.isabs(name) or norm == "." or norm.split(os.sep)[0] == "..":
                raise ValueError(f"input file name must be relative, inside the working "
                                 f"directory: {name!r}")
        header = {"code": code, "timeout": float(timeout), "seed": seed, "level": level,
                  "files": list(files), "prelude": list(prelude)}
        worker = self._acquire()
        healthy = False
        try:
            head, blobs = worker.request(header, [bytes(v) for v in files.values()],
                                         timeout + _ANSWER_MARGIN_S)
            healthy = True
        except (OSError, protocol.ProtocolError) as exc:
            raise SandboxError(f"sandbox worker failed: {exc}\n{worker.log_tail()}") from exc
        finally:
            self._release(worker, healthy=healthy)
        if "error" in head:
            raise SandboxError(head["error"])
        return _result(head, blobs)

    def close(self) -> None:
        """Stop every idle zygote; busy ones stop when their run returns."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.close()


Sandbox = Pool


def _result(head: dict[str, Any], blobs: list[bytes]) -> ExecResult:
    images = [img for img in map(validate_png, blobs) if img is not None]
    stderr = head["stderr"]
    if len(images) < len(blobs):
        stderr += f"[sandbox: {len(blobs) - len(images)} figure(s) rejected: not a valid PNG]\n"
    return ExecResult(
        outcome=head["outcome"], output=head["output"], images=tuple(images),
        duration_s=float(head["duration_s"]), isolation=head["isolation"],
        truncated=bool(head["truncated"]), stdout=head["stdout"], stderr=stderr,
        seed=head["seed"], layers=tuple(head["layers"]))

