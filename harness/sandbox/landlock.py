"""Landlock through raw syscalls: writes only beneath chosen paths, no TCP, scoped signals.

Reads stay allowed everywhere the uid and the mount namespace allow (the interpreter and the
libraries must load lazily). What is handled depends on the kernel's ABI, detected at run time:
ABI 1-3 filesystem writes (2 adds REFER, 3 TRUNCATE), ABI 4 TCP bind/connect (UDP is not
covered: seccomp handles sockets), ABI 6 scoping of abstract unix sockets and signals (the code
cannot signal the zygote or connect to another run's abstract socket). A process in a Landlock
domain also cannot ptrace, hence cannot read ``/proc/<pid>/environ`` of, processes outside it.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from collections.abc import Iterable

_SYS_CREATE_RULESET = 444  # the same number on every architecture (added after the unification)
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_CHAR = 1 << 6
_MAKE_DIR = 1 << 7
_MAKE_REG = 1 << 8
_MAKE_SOCK = 1 << 9
_MAKE_FIFO = 1 << 10
_MAKE_BLOCK = 1 << 11
_MAKE_SYM = 1 << 12
_REFER = 1 << 13  # ABI 2
_TRUNCATE = 1 << 14  # ABI 3
_NET_BIND_TCP = 1 << 0  # ABI 4
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1

_WRITE_V1 = (_WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_CHAR | _MAKE_DIR | _MAKE_REG
             | _MAKE_SOCK | _MAKE_FIFO | _MAKE_BLOCK | _MAKE_SYM)
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    if platform.system() != "Linux":
        return 0
    v = int(_libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                          ctypes.c_uint32(_CREATE_RULESET_VERSION)))
    return max(v, 0)


def _write_rights(abi: int) -> int:
    rights = _WRITE_V1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def restrict(writable: Iterable[str], *, abi: int | None = None) -> list[str]:
    """Confine the calling process (and its future children) irreversibly.

    Args:
        writable: Paths (directories or files) beneath which writes stay allowed; missing ones
            are skipped.
        abi: The ABI to use (defaults to the kernel's).

    Returns:
        The names of what got enforced (e.g. ``["landlock-fs", "landlock-tcp"]``).

    Raises:
        OSError: Landlock is unavailable or a syscall failed.
    """
    abi = abi_version() if abi is None else abi
    if abi < 1:
        raise OSError("Landlock is not available on this kernel")
    fs = _write_rights(abi)
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0
    # The struct grew with the ABI; pass only the size this kernel knows.
    attr = struct.pack("<QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = int(_libc.syscall(_SYS_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)),
                                ctypes.c_uint32(0)))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path in writable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                rights = fs if os.path.isdir(path) else fs & _FILE_RIGHTS
                rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd), 12)
                if _libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule,
                                 ctypes.c_uint32(0)) != 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule({path}) failed")
            finally:
                os.close(fd)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if _libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    done = ["landlock-fs"]
    if net:
        done.append("landlock-tcp")
    if scoped:
        done.append("landlock-scope")
    return done
