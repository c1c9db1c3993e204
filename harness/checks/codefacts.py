"""What recorded model code depends on, read from its AST: why a re-run may not match.

Only names are resolved (``import numpy as np`` makes ``np.random.rand`` ``numpy.random.rand``);
nothing is executed. The facts explain a mismatch; they never decide a match by themselves.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

NETWORK_MODULES = frozenset({"socket", "urllib", "http", "requests", "httpx", "aiohttp",
                             "urllib3", "ftplib", "smtplib", "ssl", "websocket", "websockets"})
_SEEDS = frozenset({"random.seed", "numpy.random.seed", "torch.manual_seed",
                    "tensorflow.random.set_seed"})
_SEEDED_IF_ARG = frozenset({"numpy.random.default_rng", "numpy.random.RandomState",
                            "random.Random", "numpy.random.Generator"})
_RANDOM_CALLS = frozenset({"uuid.uuid1", "uuid.uuid4", "os.urandom", "os.getrandom"})
_TIME_CALLS = frozenset({
    "time.time", "time.time_ns", "time.perf_counter", "time.perf_counter_ns",
    "time.monotonic", "time.process_time", "time.ctime", "time.localtime", "time.gmtime",
    "time.asctime", "datetime.datetime.now", "datetime.datetime.today",
    "datetime.datetime.utcnow", "datetime.date.today", "pandas.Timestamp.now",
    "pandas.Timestamp.today", "numpy.datetime64"})
_READERS = frozenset({"open", "read_csv", "read_excel", "read_json", "read_parquet",
                      "read_table", "read_fwf", "read_pickle", "loadtxt", "genfromtxt",
                      "imread", "read_text", "read_bytes", "load_workbook", "fromfile",
                      "listdir", "scandir", "glob", "walk", "iterdir", "ZipFile", "load"})


@dataclass(frozen=True)
class CodeFacts:
    """Dependencies of a session's code (the run and the runs before it).

    Attributes:
        imports: Top-level modules imported.
        network: Network modules imported.
        unseeded_random: Random draws (qualified names) in code that never seeds.
        time: Clock and date reads (qualified names).
        paths: String paths given to file readers (``open``, ``read_csv`` ...).
        dynamic_reads: File readers called with a path computed at run time.
    """

    imports: frozenset[str] = frozenset()
    network: frozenset[str] = frozenset()
    unseeded_random: tuple[str, ...] = ()
    time: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    dynamic_reads: tuple[str, ...] = ()
    stored: frozenset[str] = frozenset()
    loaded: frozenset[str] = frozenset()
    seeded: bool = False


@dataclass
class _Scan:
    aliases: dict[str, str] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    seeded: bool = False
    random: list[str] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)

    def qualify(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id, node.id)
        return ".".join([head, *reversed(parts)])

    def visit(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.imports.add(a.name.split(".")[0])
                    self.aliases[(a.asname or a.name).split(".")[0]] = \
                        a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self.imports.add(node.module.split(".")[0])
                for a in node.names:
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.call(node)
            elif isinstance(node, ast.Name):
                (self.stored if isinstance(node.ctx, ast.Store) else self.loaded).add(node.id)

    def call(self, node: ast.Call) -> None:
        name = self.qualify(node.func)
        if name is not None:
            if name in _SEEDS and (node.args or node.keywords):
                self.seeded = True
            elif name in _SEEDED_IF_ARG:
                if node.args or node.keywords:
                    self.seeded = True
                else:
                    self.random.append(name)
            elif (name.startswith(("random.", "numpy.random.", "secrets."))
                  or name in _RANDOM_CALLS):
                self.random.append(name)
            if name in _TIME_CALLS:
                self.time.append(name)
        last = node.func.attr if isinstance(node.func, ast.Attribute) else \
            node.func.id if isinstance(node.func, ast.Name) else None
        if last in _READERS and (last != "load" or (name or "").startswith(("numpy.", "json.",
                                                                               "pickle."))):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                self.paths.append(first.value)
            elif last in ("listdir", "scandir", "glob", "iterdir", "walk") and first is None:
                self.paths.append(".")
            elif last not in ("load",):
                self.dynamic.append(name or last)


def scan(sources: Iterable[str]) -> CodeFacts:
    """The facts of code that ran in one session, in order (unparsable code adds nothing)."""
    s = _Scan()
    for source in sources:
        try:
            s.visit(ast.parse(source))
        except (SyntaxError, ValueError):
            continue
    return CodeFacts(
        imports=frozenset(s.imports), network=frozenset(s.imports & NETWORK_MODULES),
        unseeded_random=() if s.seeded else tuple(dict.fromkeys(s.random)),
        time=tuple(dict.fromkeys(s.time)), paths=tuple(dict.fromkeys(s.paths)),
        dynamic_reads=tuple(dict.fromkeys(s.dynamic)), stored=frozenset(s.stored),
        loaded=frozenset(s.loaded), seeded=s.seeded)


def run_facts(sources: Sequence[str]) -> CodeFacts:
    """The facts of the last of ``sources`` (a session's runs, in order) that explain its output.

    Its own code, plus what an earlier run did that the last one uses: a seed anywhere in the
    session counts, and an earlier run's random draws or clock reads count when the last run
    reads a name that run assigned.
    """
    own = scan(sources[-1:])
    earlier = [scan([source]) for source in sources[:-1]]
    seeded = any(e.seeded for e in earlier)
    random = [] if seeded else list(own.unseeded_random)
    time = list(own.time)
    for e in earlier:
        if e.stored & own.loaded:
            random += [] if seeded else list(e.unseeded_random)
            time += e.time
    return replace(own, unseeded_random=tuple(dict.fromkeys(random)),
                   time=tuple(dict.fromkeys(time)))
