"""Replay speed and memory of the main job, `pytest evals/`, against what else one could run.

    python benchmarks/replay_bench.py [--sizes 100,1000,10000] [--repeats 3] [--only a,b,...]

For each size N it builds a throw-away project of N one-call generate_content cases, records
them once from the bundled simulator (`sim-oracle`, through the SDK and the plugin), then runs
these variants, each as a fresh process, round-robin within every round (order rotated):

    harness           pytest evals (replay, checks and reports included)
    harness-full      the same with --harness-replay=full (skipped when the option is absent)
    harness-n2        the same under pytest-xdist -n 2
    bare              a standalone loop: vcrpy use_cassette + client.models.generate_content over
                      the same cassettes, checking each answer (DESIGN's yardstick)
    pytest-recording  a hand-written parametrized suite with @pytest.mark.vcr (-p no:harness)
    trivial           N trivial parametrized tests (-p no:harness)
    collect-harness / collect-trivial   --collect-only of the two

It prints per size: median, min-max, ratio of medians to `bare`, the child's peak RSS; then a
cProfile phase breakdown of one serial harness replay (middle size) and issue 13's goals beside
the measured ratios. The machine is shared and noisy: read ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PY = sys.executable
MODEL = "sim-oracle"
PYTEST = (PY, "-m", "pytest")
Q = ("-q", "-p", "no:cacheprovider")
NO_HARNESS = ("-p", "no:harness")  # the entry point in pyproject's [project.entry-points.pytest11]

# The client and config exactly as the harness makes them for replay (harness/calls/targets.py,
# surfaces/generate.py): API version v1beta, the placeholder key and host, no SDK retries.
CLIENT = """client = genai.Client(vertexai=False, api_key="replay-placeholder-key",
                      http_options=types.HttpOptions(
    api_version="v1beta", base_url="https://gemini.api.invalid/",
    retry_options=types.HttpRetryOptions(attempts=1)))
CONFIG = types.GenerateContentConfig(
    tools=[types.Tool(code_execution=types.ToolCodeExecution())])"""

BARE = '''"""Bare replay loop: vcrpy + the SDK over the harness's cassettes (generated)."""
import json, sys
import vcr
from google import genai
from google.genai import types

ROOT = @ROOT@
cases = json.loads(open(@CASES@).read())
@CLIENT@
config = CONFIG
my_vcr = vcr.VCR(match_on=("method", "path", "body"))
right = 0
for case_id, prompt, expected in cases:
    path = f"{ROOT}/{case_id}/@MODEL@/1.yaml"
    with my_vcr.use_cassette(path, record_mode="none") as cassette:
        response = client.models.generate_content(model="@MODEL@", contents=prompt, config=config)
        if cassette.play_count != 1 or not cassette.all_played:
            sys.exit(f"{path}: not served from the cassette (play_count {cassette.play_count})")
    parts = response.candidates[0].content.parts or []
    final = "".join(p.text for p in parts if p.text)
    right += str(expected) in final
print(f"bare: {len(cases)} replayed, {right} right")
sys.exit(0 if right == len(cases) else 3)
'''

HAND = '''"""What a user would write by hand with pytest-recording (generated)."""
import json
import pytest
from google import genai
from google.genai import types

ROOT = @ROOT@
CASES = json.loads(open(@CASES@).read())
@CLIENT@

@pytest.fixture(scope="module")
def vcr_config():
    return {"match_on": ("method", "path", "body")}

@pytest.fixture
def vcr_cassette_dir(request):
    return f"{ROOT}/{request.node.callspec.params['case'][0]}/@MODEL@"

@pytest.fixture
def default_cassette_name():
    return "1"

@pytest.mark.vcr
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_case(case, vcr):
    _, prompt, expected = case
    response = client.models.generate_content(model="@MODEL@", contents=prompt, config=CONFIG)
    assert vcr.play_count == 1
    parts = response.candidates[0].content.parts or []
    assert str(expected) in "".join(p.text for p in parts if p.text)
'''

TRIVIAL = '''import pytest

@pytest.mark.parametrize("i", range(@N@))
def test_trivial(i):
    assert i >= 0
'''


@dataclass
class Variant:
    name: str
    cwd: str  # "proj" | "hand" | "trivial"
    args: tuple[str, ...]
    counts: str  # what the output must count N of: "ran" | "collected" | "bare"
    codes: tuple[int, ...] = (0,)


VARIANTS = [
    Variant("harness", "proj", (*PYTEST, "evals", *Q), "ran", (0, 1)),
    Variant("harness-full", "proj", (*PYTEST, "evals", *Q, "--harness-replay=full"), "ran",
            (0, 1)),
    Variant("harness-n2", "proj", (*PYTEST, "evals", *Q, "-n", "2"), "ran", (0, 1)),
    Variant("bare", "proj", (PY, "bare_loop.py"), "bare"),
    Variant("pytest-recording", "hand", (*PYTEST, "test_recorded.py", *Q, *NO_HARNESS,
                                         "--record-mode=none"), "ran"),
    Variant("trivial", "trivial", (*PYTEST, "test_trivial.py", *Q, *NO_HARNESS), "ran"),
    Variant("collect-harness", "proj", (*PYTEST, "evals", *Q, "--collect-only"), "collected",
            (0, 1)),
    Variant("collect-trivial", "trivial", (*PYTEST, "test_trivial.py", *Q, *NO_HARNESS,
                                           "--collect-only"), "collected"),
]


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)


def clean_env() -> dict[str, str]:
    # This machine sets PYTHONDONTWRITEBYTECODE=1, which makes pytest re-rewrite the asserts of
    # every plugin module on every run (~1 s); users' machines cache them. Measure as users run.
    drop = ("PYTHONDONTWRITEBYTECODE", "GEMINI_API_KEY", "GOOGLE_API_KEY")
    return {k: v for k, v in os.environ.items() if k not in drop}


def write_project(root: Path, n: int) -> dict[str, Path]:
    """The eval project, the bare loop, the pytest-recording suite and the trivial tests."""
    proj, hand, trivial = root / "proj", root / "hand", root / "trivial"
    for d in (proj / "evals", hand, trivial):
        d.mkdir(parents=True)
    (proj / "pyproject.toml").write_text(
        f'[tool.harness]\nmodels = ["{MODEL}"]\ntarget = "sim"\n')
    cases = [(f"case-{i:04d}", f"What is the sum of the integers below {i}?", sum(range(i)))
             for i in range(n)]
    yaml_cases = "\n".join(
        f"  - id: {cid}\n    prompt: {prompt}\n    reference: print(sum(range({i})))\n"
        f"    expect: [code_executed, {{answer_number: {exp}}}]"
        for i, (cid, prompt, exp) in enumerate(cases))
    (proj / "evals" / "bench.eval.yaml").write_text(f"suite: bench\ncases:\n{yaml_cases}\n")
    (root / "cases.json").write_text(json.dumps(cases))
    subs = {"@ROOT@": repr(str(proj / "cassettes" / "sim" / "bench")),
            "@CASES@": repr(str(root / "cases.json")), "@MODEL@": MODEL, "@N@": str(n)}

    def fill(text: str) -> str:
        text = text.replace("@CLIENT@", CLIENT)
        for key, value in subs.items():
            text = text.replace(key, value)
        return text

    (proj / "bare_loop.py").write_text(fill(BARE))
    (hand / "test_recorded.py").write_text(fill(HAND))
    (trivial / "test_trivial.py").write_text(fill(TRIVIAL))
    for d in (hand, trivial):  # their own rootdir: no [tool.harness], no inherited config
        (d / "pytest.ini").write_text("[pytest]\n")
    return {"proj": proj, "hand": hand, "trivial": trivial}


def record(proj: Path, env: dict[str, str]) -> float:
    """Record every case from the simulator, printing progress."""
    start = time.perf_counter()
    proc = subprocess.Popen([*PYTEST, "evals", "--record-mode=rewrite", *Q], cwd=proj, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        tail = [*tail[-40:], line]
        if m := re.search(r"\[\s*(\d+)%\]\s*$", line):
            print(f"\r  recording: {m.group(1):>3}% ({time.perf_counter() - start:.0f} s)",
                  end="", flush=True)
    print()
    if proc.wait() not in (0, 1):
        fail(f"recording failed (exit {proc.returncode})", "".join(tail))
    return time.perf_counter() - start


def fail(what: str, output: str) -> None:
    print(f"\nBENCHMARK FAILED: {what}\n--- output tail ---\n{output[-3000:]}", file=sys.stderr)
    raise SystemExit(2)


def count_ok(kind: str, out: str, n: int) -> bool:
    if kind == "bare":
        return f"bare: {n} replayed, {n} right" in out
    if kind == "collected":
        m = re.search(r"(\d+) tests? collected", out)
        return m is not None and int(m.group(1)) == n
    finals = [ln for ln in out.splitlines() if re.search(r"\b(passed|failed)\b.* in [\d.]+s", ln)]
    ran = sum(int(c) for c in re.findall(r"(\d+) (?:passed|failed)", finals[-1] if finals else ""))
    return ran == n


def run_once(v: Variant, cwd: Path, env: dict[str, str], n: int) -> tuple[float, float]:
    """One fresh process: (wall seconds, peak RSS MiB of the child's own process tree)."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(v.args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if code not in v.codes or not text.strip() or not count_ok(v.counts, text, n):
        fail(f"{v.name} at {n} cases: exit {code}, expected {v.codes} and {n} items", text)
    return elapsed, usage.ru_maxrss / 1024


def supports_full(proj: Path, env: dict[str, str]) -> bool:
    proc = subprocess.run([*PYTEST, "--help"], cwd=proj, env=env, capture_output=True, text=True)
    return "--harness-replay" in proc.stdout


def measure(n: int, variants: list[Variant], repeats: int, warmup: bool, root: Path,
            env: dict[str, str]) -> tuple[dict[str, Result], dict[str, Path]]:
    dirs = write_project(root, n)
    print(f"\n{n} cases: recording from the simulator ...")
    took = record(dirs["proj"], env)
    print(f"  recorded {n} cases in {took:.0f} s")
    results = {v.name: Result() for v in variants}
    if warmup:  # also proves every variant works (a cassette miss fails here, untimed)
        for v in variants:
            run_once(v, dirs[v.cwd], env, n)
    for r in range(repeats):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            t, rss = run_once(v, dirs[v.cwd], env, n)
            results[v.name].times.append(t)
            results[v.name].rss_mib.append(rss)
        print(f"  round {r + 1}/{repeats} done", flush=True)
    return results, dirs


def med(results: dict[str, Result], name: str) -> float | None:
    res = results.get(name)
    return statistics.median(res.times) if res and res.times else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt_ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def print_table(n: int, results: dict[str, Result]) -> None:
    bare = med(results, "bare")
    print(f"\n=== {n} cases, {len(next(iter(results.values())).times)} rounds ===")
    print(f"{'variant':<18}{'median s':>9}{'min-max s':>14}{'vs bare':>9}{'peak RSS':>11}")
    for name, res in results.items():
        m = statistics.median(res.times)
        rss = f"{max(res.rss_mib):.0f} MiB"
        print(f"{name:<18}{m:>9.2f}{min(res.times):>7.2f}-{max(res.times):<6.2f}"
              f"{fmt_ratio(ratio(m, bare)):>9}{rss:>11}")
    h = med(results, "harness")
    print(f"pytest-recording / harness: {fmt_ratio(ratio(med(results, 'pytest-recording'), h))}"
          f" (how many times faster the harness is)")
    print(f"collect-harness / collect-trivial: "
          f"{fmt_ratio(ratio(med(results, 'collect-harness'), med(results, 'collect-trivial')))}")
    print(f"harness-n2 / harness: {fmt_ratio(ratio(med(results, 'harness-n2'), h))}"
          f"   harness-full / harness: {fmt_ratio(ratio(med(results, 'harness-full'), h))}")
    print("(peak RSS of harness-n2 is the max over its process tree, not the sum)")


Key = tuple[str, int, str]
Pred = Callable[[Key], bool]
Stats = dict[Key, tuple[int, int, float, float, dict[Key, tuple[int, int, float, float]]]]


def entry_time(stats: Stats, pred: Pred) -> float:
    """Cumulative time inside functions matching pred, entered from outside them.

    Module bodies (``<module>``) count as imports, not as their package's phase.
    """
    total = 0.0
    for key, (_cc, _nc, _tt, ct, callers) in stats.items():
        if not pred(key) or key[2] == "<module>":
            continue
        if not callers:
            total += ct
        total += sum(edge[3] for caller, edge in callers.items() if not pred(caller))
    return total


def top_ct(stats: Stats, pred: Pred) -> float:
    """The largest cumulative time of a matching function (cProfile counts recursion once)."""
    return max((v[3] for k, v in stats.items() if pred(k)), default=0.0)


def in_files(*parts: str) -> Pred:
    return lambda k: any(p in k[0] for p in parts)


def named(func: str, *parts: str) -> Pred:
    return lambda k: k[2] == func and any(p in k[0] for p in parts)


def package(file: str) -> str:
    if file == "~":
        return "builtins (C)"
    if file.startswith("<frozen"):
        return "importlib"
    if m := re.search(r"site-packages/(google/genai|[^/]+)/", file):
        return m.group(1).replace("/", ".")
    if m := re.search(r"/harness/([^/.]+)", file):
        return f"harness.{m.group(1)}"
    return "stdlib/other"


def phase_breakdown(proj: Path, env: dict[str, str], n: int) -> None:
    prof = proj / "prof.out"
    args = [PY, "-m", "cProfile", "-o", str(prof), "-m", "pytest", "evals", *Q]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=proj, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1) or not prof.exists():
        fail(f"profiled harness replay exit {proc.returncode}", proc.stdout + proc.stderr)
    st = pstats.Stats(str(prof))
    raw: Stats = st.stats  # type: ignore[attr-defined]
    total: float = st.total_tt  # type: ignore[attr-defined]
    handle = named("handle_request", "harness/")
    cassettes = in_files("harness/cassettes/", "/vcr/", "/yaml/")
    phases: list[tuple[str, Callable[[], float]]] = [
        ("SDK generate_content (google.genai), all of it",
         lambda: entry_time(raw, named("generate_content", "google/genai/models.py"))),
        ("  of which the replay transport: matching (handle_request)",
         lambda: entry_time(raw, handle)),
        ("cassette loading (harness.cassettes, vcr, yaml; not matching)",
         lambda: entry_time(raw, cassettes) - entry_time(raw, handle)),
        ("checks (harness.checks)", lambda: entry_time(raw, in_files("harness/checks/"))),
        ("records and writing (harness.results, ResultsWriter)",
         lambda: entry_time(raw, in_files("harness/results/"))),
        ("session end, reports (harness.session, .report, .stats)",
         lambda: entry_time(raw, in_files("harness/session.py", "harness/report/",
                                          "harness/stats/"))),
        ("imports (<frozen importlib._bootstrap> _find_and_load)",
         lambda: top_ct(raw, named("_find_and_load", "<frozen importlib._bootstrap"))),
        ("pytest's own protocol (self time in _pytest, pluggy)",
         lambda: sum(v[2] for k, v in raw.items() if in_files("/_pytest/", "/pluggy/")(k))),
    ]
    print(f"\n=== where the time goes: one serial harness replay of {n} cases under cProfile ===")
    print(f"profiled {total:.2f} s of a {wall:.2f} s process (cProfile inflates Python-level "
          "overheads: read shares, not times; phases overlap, e.g. lazy imports)")
    for label, compute in phases:
        try:
            t = compute()
            share = f"{100 * t / total:5.1f} %" if t > 0 else "  n/a"
        except Exception:  # a renamed function must not crash the benchmark
            share = "  n/a"
        print(f"  {share:>8}  {label}")
    by_pkg: dict[str, float] = {}
    for k, v in raw.items():
        by_pkg[package(k[0])] = by_pkg.get(package(k[0]), 0.0) + v[2]
    top = sorted(by_pkg.items(), key=lambda kv: -kv[1])[:10]
    print("  self time by package: " + ", ".join(f"{p} {100 * t / total:.0f}%" for p, t in top))


def goals(all_results: dict[int, dict[str, Result]]) -> None:
    def at(n: int, name: str) -> float | None:
        return med(all_results[n], name) if n in all_results else None

    def rss(n: int, name: str = "harness") -> float | None:
        res = all_results.get(n, {}).get(name)
        return statistics.median(res.rss_mib) if res else None

    def verdict(x: float | None, ok: Callable[[float], bool]) -> str:
        return "not measured" if x is None else ("met" if ok(x) else "NOT met")

    p1 = ratio(at(1000, "harness"), at(1000, "bare"))
    vs_rec = ratio(at(1000, "pytest-recording"), at(1000, "harness"))
    p2 = ratio(at(1000, "collect-harness"), at(1000, "collect-trivial"))
    mem = ratio(rss(10000), rss(1000))
    rows = [("P1 replay 1,000 <= 0.7x bare", p1, lambda x: x <= 0.7),
            ("P1 stretch <= 0.5x bare", p1, lambda x: x <= 0.5),
            ("P1 >= 2.2x faster than pytest-recording", vs_rec, lambda x: x >= 2.2),
            ("P2 collect-only <= 1.2x trivial (1,000)", p2, lambda x: x <= 1.2),
            ("memory: RSS 10,000 <= 1.3x RSS 1,000", mem, lambda x: x <= 1.3)]
    for n in (1000, 5000):
        rows.append((f"xdist: -n 2 faster than serial at {n:,} (n2/serial)",
                     ratio(at(n, "harness-n2"), at(n, "harness")), lambda x: x < 1.0))
    print("\n=== issue 13 goals ===")
    for label, x, ok in rows:
        print(f"  {label:<52}{fmt_ratio(x):>8}  {verdict(x, ok)}")
    # pytest's own reports and items grow with the suite too: the yardstick for the memory goal
    trivial_mem = ratio(rss(10000, "trivial"), rss(1000, "trivial"))
    if trivial_mem is not None:
        print(f"  (for scale: 10,000 trivial pytest tests take {fmt_ratio(trivial_mem)} the RSS "
              "of 1,000)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000", help="comma-separated case counts")
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds per size")
    ap.add_argument("--only", default="", help="comma-separated variants (default: all)")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed first round")
    ap.add_argument("--profile-size", type=int, default=None,
                    help="size for the phase breakdown (default 1000, or the middle size; 0: none)")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - {v.name for v in VARIANTS}
    if unknown:
        ap.error(f"unknown variants {sorted(unknown)}; known: {[v.name for v in VARIANTS]}")
    env = clean_env()
    profile = args.profile_size if args.profile_size is not None else (
        1000 if 1000 in sizes else sizes[len(sizes) // 2])
    all_results: dict[int, dict[str, Result]] = {}
    variants = [v for v in VARIANTS if not only or v.name in only]
    with tempfile.TemporaryDirectory(prefix="replay-bench-") as tmp:
        if any(v.name == "harness-full" for v in variants):
            (Path(tmp) / "probe").mkdir()
            (Path(tmp) / "probe" / "pyproject.toml").write_text("[tool.harness]\n")
            if not supports_full(Path(tmp) / "probe", env):
                print("note: this checkout has no --harness-replay option: harness-full skipped")
                variants = [v for v in variants if v.name != "harness-full"]
        for n in sizes:
            root = Path(tmp) / str(n)
            results, dirs = measure(n, variants, args.repeats, not args.no_warmup, root, env)
            all_results[n] = results
            print_table(n, results)
            if n == profile:
                phase_breakdown(dirs["proj"], env, n)
    goals(all_results)


if __name__ == "__main__":
    main()
