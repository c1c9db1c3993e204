"""The forked child: apply the run's isolation layers, then execute the code Gemini-style.

Order matters: join the cgroup first (before anything can fork), build the private root while
still root, set rlimits, drop the uid, then Landlock and seccomp last (seccomp forbids the mount
calls above). Everything this module needs is imported by the zygote before any fork, so nothing
is loaded after the filesystem view changed.

Setup problems go to the status pipe, which is closed before the untrusted code starts, so the
code cannot forge a setup report; the outcome itself comes from the exit status, not from
anything the code could write.
"""

from __future__ import annotations

import builtins
import fcntl
import io
import json
import os
import random
import signal
import sys
import traceback
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from harness.sandbox import figures, isolate, landlock, seccomp
from harness.sandbox.cgroups import RunGroup

STDOUT_FD, STDERR_FD, FIGURES_FD, STATUS_FD = 1, 2, 3, 4
_EXIT_SETUP_FAILED = 125


@dataclass(frozen=True)
class Plan:
    """What one run applies; decided by the zygote from the level and the machine."""

    layers: frozenset[str]
    workdir: str  # host temp dir below ``full``; "/tmp" inside the private root
    newroot: str
    binds: tuple[str, ...]
    uid: int
    gid: int
    address_space: int
    nofile: int
    fsize: int
    pids_max: int
    tmp_bytes: int
    seccomp_program: bytes | None
    env: Mapping[str, str]
    netns_fd: int = -1


def _move_fds(pipes: tuple[int, int, int, int]) -> None:
    """Put the run's pipes on fds 1-4, /dev/null on 0, and close everything else."""
    # Copy to high numbers first so a pipe already sitting on 0-4 is not clobbered.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in pipes]
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    for target, fd in zip((STDOUT_FD, STDERR_FD, FIGURES_FD, STATUS_FD), high, strict=True):
        os.dup2(fd, target)
    os.closerange(STATUS_FD + 1, 1 << 20)


def _setup(plan: Plan, files: Mapping[str, bytes], group: RunGroup | None,
           pipes: tuple[int, int, int, int], status_fd: list[int]) -> list[str]:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    os.setsid()  # own process group: the kill of last resort below "full"
    applied = ["fork"]
    if group is not None:
        group.join()
        applied.append("cgroup")
    if "netns" in plan.layers and plan.netns_fd >= 0:
        isolate.setns(plan.netns_fd, isolate.CLONE_NEWNET)
        applied.append("netns")
    if "pidns" in plan.layers:
        applied.append("pidns")
    workdir = plan.workdir
    if "mntns" in plan.layers:
        workdir = isolate.private_root(plan.newroot, plan.binds, files, uid=plan.uid,
                                       gid=plan.gid, tmp_bytes=plan.tmp_bytes)
        applied += ["mntns", "private-root"]
    os.chdir(workdir)
    _move_fds(pipes)
    status_fd[0] = STATUS_FD
    if "rlimits" in plan.layers:
        isolate.set_rlimits(address_space=plan.address_space, nofile=plan.nofile,
                            fsize=plan.fsize, nproc=None)
        applied.append("rlimits")
    if "uid" in plan.layers:
        isolate.drop_privileges(plan.uid, plan.gid)
        applied.append("uid")
    os.environ.clear()
    os.environ.update(plan.env)
    os.environ.update(HOME=workdir, TMPDIR=workdir)
    if "landlock" in plan.layers:
        applied += landlock.restrict([workdir, "/dev/null", "/dev/shm"])
    if plan.seccomp_program is not None:
        seccomp.install(plan.seccomp_program)
        applied.append("seccomp-no-fork" if "no-fork" in plan.layers else "seccomp")
    return applied


def _seed(seed: int) -> None:
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed % 2**32)


def _streams() -> None:
    # Line-buffered so output printed before a deadline kill has reached the pipe.
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(STDOUT_FD, "w", closefd=False)),
                                  encoding="utf-8", line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(STDERR_FD, "w", closefd=False)),
                                  encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                 encoding="utf-8")
    sys.argv = [""]


def _report_failure(exc: BaseException) -> None:
    # Gemini's format: the message, then the traceback without the runner's own frame.
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    sys.stderr.write(f"{exc}\n" + "".join(traceback.format_exception(type(exc), exc, tb)))


def _replay(prelude: Sequence[str], namespace: dict[str, Any],
            collector: figures.Collector) -> None:
    """Run earlier code runs of a session in ``namespace``, their output and errors discarded.

    Gemini's code runs share one interpreter within a response, so a run may use what earlier
    runs defined. Re-running them first, in the same process and under the same isolation,
    rebuilds that state; what they print or raise was already reported with their own runs.
    """
    real = sys.stdout, sys.stderr
    # Writes to the descriptors themselves (os.write, a subprocess) are silenced too.
    saved = os.dup(STDOUT_FD), os.dup(STDERR_FD)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, STDOUT_FD)
    os.dup2(null, STDERR_FD)
    sink = io.StringIO()
    try:
        for source in prelude:
            sys.stdout = sys.stderr = sink
            try:
                exec(compile(source, "<string>", "exec"), namespace)
            except BaseException:  # SystemExit too: the session goes on
                pass
            finally:
                sys.stdout, sys.stderr = real
                sink.seek(0)
                sink.truncate()
    finally:
        os.dup2(saved[0], STDOUT_FD)
        os.dup2(saved[1], STDERR_FD)
        for fd in (*saved, null):
            os.close(fd)
    collector.discard()  # their figures were returned with their own runs


def _execute(code: str, collector: figures.Collector, prelude: Sequence[str] = ()) -> int:
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    collector.patch_show()
    if prelude:
        _replay(prelude, main.__dict__, collector)
    status = 0
    try:
        exec(compile(code, "<string>", "exec"), main.__dict__)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            status = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            status = 1
    except BaseException as exc:
        _report_failure(exc)
        status = 1
    return status


def main(code: str, files: Mapping[str, bytes], seed: int, plan: Plan, group: RunGroup | None,
         pipes: tuple[int, int, int, int], prelude: Sequence[str] = ()) -> NoReturn:
    """Run in the freshly forked child; never returns.

    ``prelude``: earlier runs of the same session, replayed silently before ``code``.
    """
    status_fd = [pipes[3]]
    try:
        try:
            applied = _setup(plan, files, group, pipes, status_fd)
        except BaseException as exc:
            os.write(status_fd[0], json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
            os._exit(_EXIT_SETUP_FAILED)
        os.write(STATUS_FD, json.dumps({"layers": applied}).encode())
        os.close(STATUS_FD)
        _seed(seed)
        _streams()
        collector = figures.Collector()
        status = _execute(code, collector, prelude)
        try:
            collector.capture_open()
            for err in collector.errors:
                sys.stderr.write(err + "\n")
            sys.stdout.flush()
            sys.stderr.flush()
            data = figures.frame(collector.images)
            view = memoryview(data)
            while view:
                view = view[os.write(FIGURES_FD, view):]
        except BaseException:
            pass
        os._exit(status & 0xFF if status >= 0 else 1)
    finally:
        os._exit(_EXIT_SETUP_FAILED)
