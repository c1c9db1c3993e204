"""Per-run cgroups: a pids and memory cap, and a kill that leaves nothing behind.

Works with cgroup v1 controllers, a v2 hierarchy, or the hybrid layout (v1 controllers plus a
v2 tree with ``cgroup.kill``). Each zygote owns one base group per hierarchy (created under its
own group, so outer limits still apply) and one child group per run, removed after the run: a
shared group leaked fork-bomb leftovers into the next run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(fstype, mount point, options) of each cgroup mount."""
    out = []
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            for line in fh:
                _, point, fstype, opts, *_ = line.split()
                if fstype in ("cgroup", "cgroup2"):
                    out.append((fstype, point, set(opts.split(","))))
    except OSError:
        pass
    return out


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's group path."""
    paths: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            for line in fh:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    paths[c] = path
    except OSError:
        pass
    return paths


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(value)


@dataclass
class RunGroup:
    """The groups of one run; ``join`` is called by the child, the rest by the zygote."""

    dirs: list[str]
    kill_file: str | None
    oom_files: list[str]

    def join(self, pid: int = 0) -> None:
        """Move ``pid`` (0: the caller) into every group of the run."""
        for d in self.dirs:
            _write(os.path.join(d, "cgroup.procs"), str(pid or os.getpid()))

    def pids(self) -> set[int]:
        """Processes still in the run's groups."""
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError), open(os.path.join(d, "cgroup.procs")) as fh:
                found.update(int(x) for x in fh.read().split())
        return found

    def kill(self) -> None:
        """SIGKILL everything in the run, escapees included."""
        if self.kill_file:
            with contextlib.suppress(OSError):
                _write(self.kill_file, "1")
        # v1 has no cgroup.kill: sweep until empty (the pids cap bounds the race with forks).
        for _ in range(100):
            left = self.pids()
            if not left:
                return
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer fired in this run's memory group."""
        for path in self.oom_files:
            with contextlib.suppress(OSError, ValueError), open(path) as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value) > 0:
                        return True
        return False

    def remove(self) -> None:
        """Kill what is left and remove the groups (waits briefly for exits to settle)."""
        self.kill()
        deadline = time.monotonic() + 2.0
        for d in self.dirs:
            while True:
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.002)


@dataclass
class Cgroups:
    """The zygote's base groups and what they can do."""

    base_dirs: dict[str, str] = field(default_factory=dict)  # "pids"/"memory"/"kill" -> dir
    v2_limits: bool = False
    counter: int = 0

    @property
    def limits(self) -> bool:
        """Whether runs get a pids and a memory cap."""
        return self.v2_limits or ("pids" in self.base_dirs and "memory" in self.base_dirs)

    @property
    def can_kill(self) -> bool:
        """Whether a run can be killed as a whole (cgroup.kill or a v1 sweep)."""
        return bool(self.base_dirs)

    def new_run(self, pids_max: int, memory_bytes: int) -> RunGroup:
        """Create the groups for the next run and set their limits."""
        self.counter += 1
        name = f"run-{self.counter}"
        dirs: list[str] = []
        kill_file = None
        oom: list[str] = []
        for role, base in self.base_dirs.items():
            d = os.path.join(base, name)
            if d in dirs:
                continue
            os.mkdir(d)
            dirs.append(d)
            if role == "pids" or (self.v2_limits and role == "kill"):
                _write(os.path.join(d, "pids.max"), str(pids_max))
            if role == "memory" and not self.v2_limits:
                _write(os.path.join(d, "memory.limit_in_bytes"), str(memory_bytes))
                with contextlib.suppress(OSError):  # no swap accounting: nothing to cap
                    _write(os.path.join(d, "memory.memsw.limit_in_bytes"), str(memory_bytes))
                oom.append(os.path.join(d, "memory.oom_control"))
            if self.v2_limits and role == "kill":
                _write(os.path.join(d, "memory.max"), str(memory_bytes))
                with contextlib.suppress(OSError):
                    _write(os.path.join(d, "memory.swap.max"), "0")
                oom.append(os.path.join(d, "memory.events"))
            if role == "kill":
                kill_file = os.path.join(d, "cgroup.kill")
                if not os.path.exists(kill_file):
                    kill_file = None
        return RunGroup(dirs, kill_file, oom)

    def close(self) -> None:
        """Remove the base groups (runs must be gone)."""
        for d in set(self.base_dirs.values()):
            with contextlib.suppress(OSError):
                os.rmdir(d)
        self.base_dirs.clear()


def setup(tag: str) -> Cgroups:
    """Create this zygote's base groups where the machine allows; empty when it does not.

    Args:
        tag: A unique name for the base groups (e.g. ``harness-sandbox-<pid>``).
    """
    cg = Cgroups()
    if os.geteuid() != 0:
        return cg
    own = _own_paths()
    for fstype, point, opts in _mounts():
        if fstype == "cgroup":
            for role in ("pids", "memory"):
                if role in opts and role not in cg.base_dirs:
                    with contextlib.suppress(OSError):
                        d = os.path.join(point + own.get(role, "/"), tag)
                        os.makedirs(d, exist_ok=True)
                        cg.base_dirs[role] = d
        elif fstype == "cgroup2" and "kill" not in cg.base_dirs:
            _setup_v2(cg, point, own.get("", "/"), tag)
    return cg


def _setup_v2(cg: Cgroups, point: str, own: str, tag: str) -> None:
    # v2 forbids enabling controllers for children of a group that has processes, so try our
    # own group first, then the hierarchy's root (allowed for root, e.g. a systemd scope).
    for parent in dict.fromkeys((point + own, point)):
        d = os.path.join(parent, tag)
        try:
            os.makedirs(d, exist_ok=True)
        except OSError:
            continue
        wanted = {"pids", "memory"} - set(cg.base_dirs)
        try:
            with open(os.path.join(d, "cgroup.controllers")) as fh:
                have = set(fh.read().split())
        except OSError:
            have = set()
        if wanted and wanted <= have:
            try:
                _write(os.path.join(d, "cgroup.subtree_control"), "+pids +memory")
                cg.v2_limits = True
                cg.base_dirs["kill"] = d
                return
            except OSError:
                pass
        if not cg.v2_limits and os.path.exists(os.path.join(d, "cgroup.procs")):
            cg.base_dirs["kill"] = d  # still useful for cgroup.kill
            return
