"""The warm worker: imports the preload set once, then forks one child per request.

It is started by a fresh exec with an allow-listed environment, and sets up once what the
machine allows (cgroup base, namespaces, seccomp programs) before serving requests.

Run as ``python -m harness.sandbox.zygote FD`` by ``harness.sandbox.pool``; FD is its end of a
socketpair speaking ``harness.sandbox.protocol``. The first message is the configuration, the
answer is the isolation report; then each request gets exactly one response. EOF (the pool's
process is gone) ends the zygote, killing a run in progress.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import os
import shutil
import signal
import socket
import sys
import tempfile
import warnings
from typing import Any

from harness.sandbox import cgroups, child, isolate, landlock, levels, protocol, seccomp
from harness.sandbox.outcome import to_response

_UNSET_SEED_BITS = 63


def _preload(names: list[str]) -> dict[str, str]:
    """Import the preload set; name -> "ok" or the import error."""
    done: dict[str, str] = {}
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importlib.import_module(name)
            done[name] = "ok"
        except Exception as exc:
            done[name] = f"{type(exc).__name__}: {exc}"
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        # Draw once so fonts and caches are loaded before the first fork, not in every run.
        with contextlib.suppress(Exception):
            fig = plt.figure(figsize=(1, 1))
            plt.plot([0, 1])
            fig.savefig(io.BytesIO(), format="png")
            plt.close("all")
    return done


class Zygote:
    """Holds what every run reuses: limits, layers available, cgroup base, seccomp programs."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.preloaded = _preload(list(config.get("preload", [])))
        self.errors: dict[str, str] = {}
        self.tmp = tempfile.mkdtemp(prefix="harness-sandbox-")
        self.newroot = os.path.join(self.tmp, "root")
        os.mkdir(self.newroot, 0o700)
        self.cg = cgroups.setup(f"harness-sandbox-{os.getpid()}")
        self.ns = isolate.zygote_namespaces()
        self.binds = tuple(isolate.python_paths(config.get("exclude", [])))
        self.programs: dict[bool, bytes] = {}
        available = {"rlimits"}
        if seccomp.supported():
            try:
                self.programs = {nf: seccomp.build_filter(no_fork=nf) for nf in (False, True)}
                available |= {"seccomp", "no-fork"}
            except (KeyError, ValueError) as exc:
                self.errors["seccomp"] = str(exc)
        self.landlock_abi = landlock.abi_version()
        if self.landlock_abi >= 1:
            available.add("landlock")
        if self.cg.limits and self.cg.can_kill:
            available.add("cgroup")
        available |= set(self.ns.layers)
        if isolate.namespaces_supported() and "pidns" in self.ns.layers:
            available |= {"mntns", "uid"}
        self.available = available
        self.missing = self._why_missing()
        self._probe()
        gc.collect()
        gc.freeze()  # keeps the collector from touching (and copying) the zygote's objects

    def _why_missing(self) -> dict[str, str]:
        """Layer -> why this machine lacks it (for the isolation report)."""
        why: dict[str, str] = {}
        root = "needs root (CAP_SYS_ADMIN) on Linux"
        if not seccomp.supported():
            why["seccomp"] = why["no-fork"] = "needs Linux on x86_64 or aarch64"
        if self.landlock_abi < 1:
            why["landlock"] = "the kernel has no Landlock (or it is not enabled in lsm=)"
        if not (self.cg.limits and self.cg.can_kill):
            why["cgroup"] = root + " and a writable cgroup hierarchy with pids and memory"
        for layer in ("netns", "pidns", "mntns", "uid"):
            if layer not in self.available:
                why[layer] = root
        return why

    def _probe(self) -> None:
        """Run trivial code at each level from the best down; drop layers that fail here."""
        for level in reversed(levels.LEVELS):
            if levels.resolve(level, self.available) != level:
                continue
            head, _ = self.run({"code": "pass", "timeout": 10, "seed": 0, "level": level}, [])
            if "error" in head:
                self.errors[level] = head["error"]
                self.available -= levels.LEVEL_LAYERS[level] - levels.LEVEL_LAYERS[
                    levels.LEVELS[levels.LEVELS.index(level) - 1]]
        self.best = levels.best_level(self.available)

    def report(self) -> dict[str, Any]:
        """What the machine allows, for ``isolation_report``."""
        return {"level": levels.best_level(self.available), "layers": sorted(self.available),
                "landlock_abi": self.landlock_abi, "cgroup_dirs": self.cg.base_dirs,
                "cgroup_v2_limits": self.cg.v2_limits, "euid": os.geteuid(),
                "preloaded": self.preloaded, "binds": list(self.binds), "errors": self.errors,
                "missing": self.missing,
                "python": sys.executable, "zygote_pid": os.getpid()}

    def _plan(self, level: str, workdir: str) -> child.Plan:
        c = self.config
        layers = levels.LEVEL_LAYERS[level]
        program = self.programs.get("no-fork" in layers) if "seccomp" in layers else None
        env = {k: v for k, v in os.environ.items() if k in c.get("child_env", ())}
        env.update(USER="sandbox", LOGNAME="sandbox")
        return child.Plan(
            layers=layers, workdir=workdir, newroot=self.newroot, binds=self.binds,
            uid=int(c.get("uid", 65534)), gid=int(c.get("gid", 65534)),
            address_space=int(c.get("address_space", 4 << 30)),
            nofile=int(c.get("nofile", 1024)), fsize=int(c.get("fsize", 512 << 20)),
            pids_max=int(c.get("pids_max", 128)), tmp_bytes=int(c.get("tmp_bytes", 512 << 20)),
            seccomp_program=program, env=env, netns_fd=self.ns.empty_net)

    def run(self, header: dict[str, Any], blobs: list[bytes],
            control: socket.socket | None = None) -> tuple[dict[str, Any], list[bytes]]:
        """Serve one request."""
        from harness.sandbox import supervise

        names = header.get("files", [])
        files = dict(zip(names, blobs, strict=True))
        seed = header.get("seed")
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "big") >> (64 - _UNSET_SEED_BITS)
        try:
            level = levels.resolve(header.get("level") or self.config.get("level"),
                                   self.available)
        except ValueError as exc:
            return {"error": str(exc)}, []
        private = "mntns" in levels.LEVEL_LAYERS[level]
        workdir = "/tmp" if private else tempfile.mkdtemp(prefix="run-", dir=self.tmp)
        group = None
        try:
            if not private:
                isolate.write_files(workdir, files)
            if "cgroup" in levels.LEVEL_LAYERS[level]:
                group = self.cg.new_run(int(self.config.get("pids_max", 128)),
                                        int(self.config.get("memory_bytes", 2 << 30)))
            raw = supervise.execute(
                header["code"], files, seed, self._plan(level, workdir), group,
                timeout=float(header["timeout"]),
                output_cap=int(self.config.get("output_cap", 1 << 20)), control=control,
                fork=self.ns.fork_in_sandbox_pidns,
                prelude=[str(c) for c in header.get("prelude") or ()])
        except (OSError, ValueError) as exc:
            return {"error": f"sandbox setup failed: {type(exc).__name__}: {exc}"}, []
        finally:
            if group is not None:
                group.remove()
            if not private:
                shutil.rmtree(workdir, ignore_errors=True)
        return to_response(raw, level=level, seed=seed,
                           memory_bytes=int(self.config.get("memory_bytes", 2 << 30)),
                           output_cap=int(self.config.get("output_cap", 1 << 20)))

    def close(self) -> None:
        """Remove the zygote's cgroups and temp dirs."""
        self.cg.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the zygote process."""
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool decides when we stop
    sock = socket.socket(fileno=int(argv[0]))
    first = protocol.recv(sock)
    if first is None:
        return 0
    zygote = Zygote(first[0])
    try:
        protocol.send(sock, {"ready": True, "report": zygote.report()})
        while True:
            msg = protocol.recv(sock)
            if msg is None:
                return 0
            head, blobs = zygote.run(msg[0], msg[1], control=sock)
            if head.get("parent_gone"):
                return 0
            protocol.send(sock, head, blobs)
    except (ConnectionError, OSError):
        return 0
    finally:
        zygote.close()


if __name__ == "__main__":
    sys.exit(main())
