"""Namespaces, the private root filesystem, rlimits and the uid drop (Linux, mostly as root).

Split between the two sides of a fork:

* the zygote, once: ``zygote_namespaces`` prepares an empty network namespace and a pid
  namespace whose init is a tiny reaper forked here; a run at ``full`` is forked straight into
  that pid namespace and joins that network namespace. Runs then cost one fork each (an init
  per run would need two), run one at a time per zygote, and are killed as a whole through
  their cgroup.
* the child, per run: ``private_root`` gives it new mount/ipc/uts namespaces and pivots into a
  tmpfs root holding read-only binds of the system directories and of the Python installation
  at their usual paths. Paths under a 0700 home (pyenv under /root) become visible there without
  loosening the host, and everything else (the project checkout, other homes, /tmp) is absent.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
import signal
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_MNT_DETACH = 2
_PR_SET_PDEATHSIG = 1
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
_DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    """Enter new namespaces (the libc call: ``os.unshare`` only exists from Python 3.12)."""
    _check(_libc.unshare(flags), "unshare")


def _mount(src: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(src and src.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _bind(src: str, target: str, *, readonly: bool) -> None:
    _mount(src, target, None, _MS_BIND | _MS_REC)
    if readonly:
        _mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)


def namespaces_supported() -> bool:
    """Whether this process may create namespaces and mount (root on Linux)."""
    return platform.system() == "Linux" and os.geteuid() == 0 \
        and platform.machine() in _SYS_PIVOT_ROOT


def _reaper(lifeline: int) -> None:
    """Init of the zygote's pid namespace: reap orphans; die with the zygote."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.closerange(0, lifeline)
    os.closerange(lifeline + 1, 65536)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    # pdeathsig set above covers the zygote dying later; the lifeline covers "already dead".
    os.set_blocking(lifeline, False)
    with contextlib.suppress(BlockingIOError):
        if os.read(lifeline, 1) == b"":
            os._exit(0)
    while True:
        signal.sigwait({signal.SIGCHLD})
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass


@dataclass
class ZygoteNamespaces:
    """Namespaces prepared once by the zygote, entered per run by runs at ``full``."""

    layers: list[str] = field(default_factory=list)
    empty_net: int = -1  # fd of an empty network namespace (only loopback, down)
    host_pid: int = -1  # fd of the zygote's own pid namespace
    sandbox_pid: int = -1  # fd of the pid namespace whose init is the reaper

    def fork_in_sandbox_pidns(self, sandboxed: bool) -> int:
        """fork(), the child landing in the sandbox pid namespace when ``sandboxed``."""
        if not sandboxed or self.sandbox_pid < 0:
            return os.fork()
        setns(self.sandbox_pid, CLONE_NEWPID)
        try:
            pid = os.fork()
        except BaseException:
            setns(self.host_pid, CLONE_NEWPID)
            raise
        if pid:  # the parent: its later forks go back to the host namespace
            setns(self.host_pid, CLONE_NEWPID)
        return pid


def setns(fd: int, nstype: int) -> None:
    """Join the namespace ``fd`` refers to (libc: ``os.setns`` only exists from 3.12)."""
    _check(_libc.setns(fd, nstype), "setns")


def zygote_namespaces() -> ZygoteNamespaces:
    """Prepare an empty network namespace and a pid namespace with a reaper as init.

    The zygote itself stays in the host namespaces so that runs at lower levels get exactly
    what their level promises (no more), which keeps the attack table per level honest.

    Returns:
        The namespaces (no layers when not permitted).
    """
    ns = ZygoteNamespaces()
    if not namespaces_supported():
        return ns
    try:
        host_net = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        unshare(CLONE_NEWNET)
        ns.empty_net = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        setns(host_net, CLONE_NEWNET)
        os.close(host_net)
        ns.layers.append("netns")
    except OSError:
        pass
    try:
        ns.host_pid = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        unshare(CLONE_NEWPID)
    except OSError:
        return ns
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the reaper
        try:
            os.close(w)
            _reaper(r)
        finally:
            os._exit(0)
    os.close(r)
    os.set_inheritable(w, False)  # held open by the zygote alone: EOF tells the reaper
    ns.sandbox_pid = os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    setns(ns.host_pid, CLONE_NEWPID)
    ns.layers.append("pidns")
    return ns


def python_paths(exclude: Iterable[str] = ()) -> list[str]:
    """Directories the interpreter and its libraries live in (to bind into the private root).

    Args:
        exclude: Directories never to expose (e.g. the project checkout holding harness).
    """
    skip = {os.path.realpath(p) for p in exclude}
    found: list[str] = []
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix,
                  os.path.dirname(os.path.realpath(sys.executable)),
                  os.path.dirname(sys.executable), *sys.path]
    for p in candidates:
        if not p or not os.path.isdir(p):
            continue
        for q in {os.path.abspath(p), os.path.realpath(p)}:
            if q not in skip and q != "/" and q not in found:
                found.append(q)
    found.sort(key=len)
    # Keep only the outermost of nested paths, and none under the system dirs bound anyway.
    kept: list[str] = []
    for p in found:
        if any(p == k or p.startswith(k.rstrip("/") + "/") for k in (*kept, *_SYSTEM_DIRS)):
            continue
        kept.append(p)
    return kept


def private_root(newroot: str, binds: Iterable[str], files: Mapping[str, bytes], *,
                 uid: int, gid: int, tmp_bytes: int) -> str:
    """Build the run's filesystem and pivot into it; returns the workdir (the run's cwd).

    Args:
        newroot: An empty host directory to mount the new root on (only in this namespace).
        binds: Directories bound read-only at the same path (see ``python_paths``).
        files: Input files, written into the workdir.
        uid: Owner of the workdir.
        gid: Group of the workdir.
        tmp_bytes: Size of the workdir tmpfs (its pages count against the memory cgroup).
    """
    unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)
    _libc.sethostname(b"sandbox", 7)  # os has no sethostname; failure is harmless
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing propagates back to the host
    _mount("tmpfs", newroot, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=4m")
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            os.symlink(os.readlink(d), newroot + d)
        elif os.path.isdir(d):
            os.mkdir(newroot + d, 0o755)
            _bind(d, newroot + d, readonly=True)
    # The workdir first: a venv living under /tmp is then bound inside it instead of hidden.
    work = "/tmp"
    os.mkdir(newroot + work)
    _mount("tmpfs", newroot + work, "tmpfs", _MS_NOSUID | _MS_NODEV,
           f"mode=0700,uid={uid},gid={gid},size={tmp_bytes}")
    for p in binds:
        os.makedirs(newroot + p, 0o755, exist_ok=True)
        _bind(p, newroot + p, readonly=True)
    dev = newroot + "/dev"
    os.mkdir(dev, 0o755)
    for name in _DEVICES:
        if os.path.exists("/dev/" + name):
            open(f"{dev}/{name}", "wb").close()
            _bind("/dev/" + name, f"{dev}/{name}", readonly=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(dev + "/shm")
    _mount("tmpfs", dev + "/shm", "tmpfs", _MS_NOSUID | _MS_NODEV,
           f"mode=1777,size={tmp_bytes}")
    os.mkdir(newroot + "/proc")
    _mount("proc", newroot + "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    write_files(newroot + work, files, uid=uid, gid=gid)
    os.chdir(newroot)
    # pivot_root(".", ".") stacks the old root under the new one; detaching it drops the host.
    _check(_libc.syscall(_SYS_PIVOT_ROOT[platform.machine()], b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", _MNT_DETACH), "umount old root")
    os.chdir("/")
    _mount(None, "/", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    os.chdir(work)
    return work


def write_files(workdir: str, files: Mapping[str, bytes], *, uid: int = -1,
                gid: int = -1) -> None:
    """Write input files under ``workdir`` (names may hold sub-directories, never ``..``)."""
    for name, data in files.items():
        rel = os.path.normpath(name)
        if rel.startswith(("/", "..")) or rel == ".":
            raise ValueError(f"input file name must be relative and inside the workdir: {name!r}")
        path = os.path.join(workdir, rel)
        parent = os.path.dirname(path)
        if parent != workdir:
            os.makedirs(parent, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if uid >= 0:
            os.chown(path, uid, gid)
            if parent != workdir:
                os.chown(parent, uid, gid)


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` with no supplementary groups (all capabilities go with root)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def set_rlimits(*, address_space: int, nofile: int, fsize: int, nproc: int | None) -> None:
    """Backstop limits; the cgroup is the real memory and process cap where there is one."""
    limits = [(resource.RLIMIT_AS, address_space), (resource.RLIMIT_NOFILE, nofile),
              (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)]
    if nproc is not None:
        limits.append((resource.RLIMIT_NPROC, nproc))
    for which, value in limits:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            if which != resource.RLIMIT_AS:  # macOS refuses AS limits: the others still hold
                raise
