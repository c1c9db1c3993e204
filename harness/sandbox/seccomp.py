"""A small seccomp-BPF filter, assembled in Python and installed with ``prctl`` (no libseccomp).

The filter is built once in the zygote (``build_filter``) and installed in each child just
before the untrusted code runs (``install``). What it denies and why:

* ``socket`` for every family but ``AF_UNIX``: no TCP, UDP, raw, netlink, vsock (a VM's vsock
  reaches the host), whatever namespaces exist. ``AF_UNIX`` stays: multiprocessing and asyncio
  need socketpairs.
* kernel attack surface an unprivileged process can still reach: user namespaces (``unshare``,
  ``clone`` with namespace flags), ``io_uring`` (its ops bypass this filter), ``bpf``,
  ``userfaultfd``, ``perf_event_open``, ``ptrace``, ``process_vm_*``, ``keyctl`` and mounts.
* ``clone3`` answers ENOSYS because its flags sit in memory a filter cannot read; glibc then
  falls back to ``clone``, whose flags the filter checks.
* with ``no_fork``: ``fork``, ``vfork`` and ``clone`` without ``CLONE_THREAD`` (threads still work).

A syscall of another architecture (``int 0x80`` on x86_64, the x32 ABI) kills the process.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
from dataclasses import dataclass

# BPF opcodes (linux/filter.h) and seccomp constants (linux/seccomp.h).
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0_LO = 16  # little-endian low half of args[0]

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_AF_UNIX = 1
_CLONE_THREAD = 0x00010000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
_CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 \
    | 0x40000000 | 0x00000080


@dataclass(frozen=True)
class _Arch:
    audit: int
    nr: dict[str, int]
    x32_guard: bool = False


_DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
           "chroot", "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "userfaultfd",
           "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register",
           "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
           "open_by_handle_at", "name_to_handle_at", "reboot", "swapon", "swapoff", "syslog",
           "acct", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
           "mount_setattr")

_ARCHES = {
    "x86_64": _Arch(0xC000003E, dict(
        socket=41, clone=56, fork=57, vfork=58, clone3=435, ptrace=101, process_vm_readv=310,
        process_vm_writev=311, mount=165, umount2=166, pivot_root=155, chroot=161, unshare=272,
        setns=308, keyctl=250, add_key=248, request_key=249, bpf=321, userfaultfd=323,
        perf_event_open=298, io_uring_setup=425, io_uring_enter=426, io_uring_register=427,
        kexec_load=246, kexec_file_load=320, init_module=175, finit_module=313,
        delete_module=176, open_by_handle_at=304, name_to_handle_at=303, reboot=169, swapon=167,
        swapoff=168, syslog=103, acct=163, open_tree=428, move_mount=429, fsopen=430,
        fsconfig=431, fsmount=432, fspick=433, mount_setattr=442), x32_guard=True),
    "aarch64": _Arch(0xC00000B7, dict(
        socket=198, clone=220, clone3=435, ptrace=117, process_vm_readv=270,
        process_vm_writev=271, mount=40, umount2=39, pivot_root=41, chroot=51, unshare=97,
        setns=268, keyctl=219, add_key=217, request_key=218, bpf=280, userfaultfd=282,
        perf_event_open=241, io_uring_setup=425, io_uring_enter=426, io_uring_register=427,
        kexec_load=104, kexec_file_load=294, init_module=105, finit_module=273,
        delete_module=106, open_by_handle_at=265, name_to_handle_at=264, reboot=142,
        swapon=224, swapoff=225, syslog=116, acct=89, open_tree=428, move_mount=429,
        fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442)),
}


def supported() -> bool:
    """Whether this machine's architecture has a syscall table here (Linux only)."""
    return platform.system() == "Linux" and platform.machine() in _ARCHES


class _Asm:
    """Straight-line BPF with forward jumps to named labels (resolved in ``assemble``)."""

    def __init__(self) -> None:
        self.ops: list[tuple[int, str | int, str | int, int]] = []
        self.labels: dict[str, int] = {}

    def emit(self, code: int, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        self.ops.append((code, jt, jf, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.ops)

    def assemble(self) -> bytes:
        out = bytearray()
        for i, (code, jt, jf, k) in enumerate(self.ops):
            offsets = [self.labels[j] - i - 1 if isinstance(j, str) else j for j in (jt, jf)]
            if not all(0 <= o <= 255 for o in offsets):
                raise ValueError("seccomp filter too long for a BPF jump")
            out += struct.pack("<HBBI", code, offsets[0], offsets[1], k & 0xFFFFFFFF)
        return bytes(out)


def build_filter(*, no_fork: bool = False, machine: str | None = None) -> bytes:
    """Assemble the filter for this (or the named) architecture.

    Args:
        no_fork: Also deny process creation (threads stay allowed).
        machine: ``platform.machine()`` value; defaults to this machine.

    Returns:
        The BPF program, ready for ``install``.
    """
    arch = _ARCHES[machine or platform.machine()]
    nr = arch.nr
    a = _Asm()
    a.emit(_LD_W_ABS, _OFF_ARCH)
    a.emit(_JEQ_K, arch.audit, 0, "kill")
    a.emit(_LD_W_ABS, _OFF_NR)
    if arch.x32_guard:
        a.emit(_JGE_K, 0x40000000, "kill", 0)
    a.emit(_JEQ_K, nr["socket"], "socket", 0)
    a.emit(_JEQ_K, nr["clone"], "clone", 0)
    a.emit(_JEQ_K, nr["clone3"], "enosys", 0)
    for name in ("fork", "vfork"):
        if no_fork and name in nr:
            a.emit(_JEQ_K, nr[name], "eperm", 0)
    for name in _DENIED:
        a.emit(_JEQ_K, nr[name], "eperm", 0)
    a.emit(_RET_K, _RET_ALLOW)
    a.label("socket")
    a.emit(_LD_W_ABS, _OFF_ARG0_LO)
    a.emit(_JEQ_K, _AF_UNIX, "allow", 0)
    a.emit(_RET_K, _RET_ERRNO | errno.EAFNOSUPPORT)
    a.label("clone")
    a.emit(_LD_W_ABS, _OFF_ARG0_LO)
    a.emit(_JSET_K, _CLONE_NS_FLAGS, "eperm", 0)
    if no_fork:
        a.emit(_JSET_K, _CLONE_THREAD, "allow", "eperm")
    a.label("allow")
    a.emit(_RET_K, _RET_ALLOW)
    a.label("eperm")
    a.emit(_RET_K, _RET_ERRNO | errno.EPERM)
    a.label("enosys")
    a.emit(_RET_K, _RET_ERRNO | errno.ENOSYS)
    a.label("kill")
    a.emit(_RET_K, _RET_KILL_PROCESS)
    return a.assemble()


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def install(program: bytes) -> None:
    """Set no_new_privs and install ``program`` on the calling thread (irreversible).

    Raises:
        OSError: The kernel refused (no seccomp, or a bad program).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
