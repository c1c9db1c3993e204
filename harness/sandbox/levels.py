"""Isolation levels, the layers each needs, and the attack-table rows each contains.

=========== ============================================== =========================================
level       layers (cumulative)                            attack rows contained
=========== ============================================== =========================================
none        warm fork, allow-listed env, no inherited fds, busy-loop, sleep-loop, stdout-flood
            wall-clock deadline, 1 MiB output cap,
            process-group kill, per-run seeds
rlimits     + rlimits (AS 4 GiB, NOFILE, FSIZE, CORE 0)    + memory-20g
restricted  + seccomp (only AF_UNIX sockets; no userns,    + tcp, udp, write-outside
            io_uring, bpf, ptrace, mounts) + Landlock
            (writes only to the workdir, no TCP, scoped
            signals and abstract sockets)
full        + per-run cgroup (pids 128, memory 2 GiB,      + fork-bomb, setsid-escape, env-key
            cgroup kill), network/pid/mount/ipc/uts
            namespaces, private read-only root with a
            tmpfs workdir, uid 65534
strict      + no process creation (seccomp: fork, vfork,   all of the above (a fork bomb fails at
            clone without CLONE_THREAD)                    its first fork)
=========== ============================================== =========================================

``none`` is what any POSIX system gets (macOS included); ``rlimits`` adds limits that need no
privilege; ``restricted`` needs Linux with seccomp and Landlock (ABI >= 4 for the TCP rule; UDP is
stopped by seccomp either way) and works unprivileged; ``full`` and ``strict`` need root (or
CAP_SYS_ADMIN) and a writable cgroup hierarchy. Rows a level does not contain are not contained
there: e.g. below ``full`` the code runs as the calling user and can read that user's files and
``/proc/<pid>/environ`` of that user's processes (Landlock does not stop that), a ``setsid``
grandchild survives the run, and a fork bomb is bounded only by the machine.

Known gaps below ``full``, beyond the rows: the code runs as the calling user, so at
``restricted`` it may still connect to that user's named unix sockets (Landlock does not cover
connect on them; e.g. a docker socket) and write to ``/dev/shm`` (multiprocessing needs it).
Forcing a level below ``full`` on a root machine runs the code as root. Run unprivileged,
``restricted`` also keeps ``env-key`` (Landlock denies ptrace-style reads of processes outside
its domain to callers without CAP_SYS_PTRACE); the table keeps the root-forced result.

``benchmarks/sandbox_bench.py`` runs the attack table at every level and prints what it measured;
``LEVEL_CONTAINS`` below is what that run showed on a root Linux 6.18 machine.
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("none", "rlimits", "restricted", "full", "strict")

ATTACK_ROWS: tuple[str, ...] = (
    "tcp", "udp", "write-outside", "fork-bomb", "setsid-escape", "memory-20g", "stdout-flood",
    "busy-loop", "sleep-loop", "env-key",
)

LEVEL_LAYERS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "rlimits": frozenset({"rlimits"}),
    "restricted": frozenset({"rlimits", "seccomp", "landlock"}),
    "full": frozenset({"rlimits", "seccomp", "landlock", "cgroup", "netns", "pidns", "mntns",
                       "uid"}),
    "strict": frozenset({"rlimits", "seccomp", "landlock", "cgroup", "netns", "pidns", "mntns",
                         "uid", "no-fork"}),
}

_BASE = frozenset({"busy-loop", "sleep-loop", "stdout-flood"})
_RLIMITS = _BASE | {"memory-20g"}
_RESTRICTED = _RLIMITS | {"tcp", "udp", "write-outside"}
_FULL = frozenset(ATTACK_ROWS)

LEVEL_CONTAINS: dict[str, frozenset[str]] = {
    "none": _BASE,
    "rlimits": _RLIMITS,
    "restricted": _RESTRICTED,
    "full": _FULL,
    "strict": _FULL,
}


def best_level(available: frozenset[str] | set[str]) -> str:
    """The highest level whose layers are all available, never ``strict`` (opt-in only)."""
    reached = "none"
    for level in LEVELS[:-1]:
        if LEVEL_LAYERS[level] <= available:
            reached = level
    return reached


def resolve(requested: str | None, available: frozenset[str] | set[str]) -> str:
    """The level a run gets: the requested one when reachable, else the best below it.

    Raises:
        ValueError: ``requested`` names no level.
    """
    if requested is None:
        return best_level(available)
    if requested not in LEVELS:
        raise ValueError(f"unknown isolation level {requested!r}; choose one of {LEVELS}")
    for level in reversed(LEVELS[: LEVELS.index(requested) + 1]):
        if LEVEL_LAYERS[level] <= available:
            return level
    return "none"
