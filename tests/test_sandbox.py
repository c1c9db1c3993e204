"""The sandbox end to end: the attack table, outcome mapping, figures, files, concurrency.

Runs against a real pool at the best level this machine reaches; rows a lower level does not
contain are skipped with the reason (they run as root on Linux with cgroups, i.e. here and in CI).
"""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.sandbox.api import SandboxError
from harness.sandbox.figures import validate_png
from harness.sandbox.levels import LEVEL_CONTAINS
from harness.sandbox.pool import Pool
from tests.sandbox_attacks import ATTACKS, attempt

pytestmark = pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")),
                                reason="the sandbox forks: POSIX only")

FAKE_KEY = f"fake-gemini-key-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    old = os.environ.get("GEMINI_API_KEY")
    os.environ["GEMINI_API_KEY"] = FAKE_KEY  # the zygote must not inherit it
    p = Pool(workers=2).start()
    try:
        yield p
    finally:
        p.close()
        if old is None:
            os.environ.pop("GEMINI_API_KEY", None)
        else:
            os.environ["GEMINI_API_KEY"] = old


@pytest.fixture(scope="module")
def level(pool: Pool) -> str:
    return str(pool.report()["level"])


def _need_module(name: str) -> None:
    """The library set is the optional ``sandbox`` extra: skip when it is not installed."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[sandbox]')")


def _need_full(level: str) -> None:
    if level not in ("full", "strict"):
        pytest.skip(f"needs root, cgroups and namespaces; this machine reaches {level!r}")


@pytest.mark.parametrize("row", list(ATTACKS))
def test_attack_is_contained_and_next_run_works(pool: Pool, level: str, row: str) -> None:
    if row not in LEVEL_CONTAINS[level]:
        pytest.skip(f"level {level!r} does not contain {row!r} (needs root/cgroups/namespaces)")
    result, verdict = attempt(pool.run, row)
    assert verdict == "", f"{row} escaped at level {result.isolation}: {verdict}"
    assert result.isolation == level
    after = pool.run("print(sum(range(10)))", timeout=5)
    assert (after.outcome, after.output) == ("OUTCOME_OK", "45\n")


def test_zygote_environment_is_allow_listed(pool: Pool) -> None:
    zpid = pool.report()["zygote_pid"]
    with open(f"/proc/{zpid}/environ", "rb") as fh:
        env = fh.read()
    assert FAKE_KEY.encode() not in env and b"GEMINI_API_KEY" not in env
    r = pool.run("import os; print(sorted(os.environ))")
    assert "GEMINI_API_KEY" not in r.stdout and "'MPLBACKEND'" in r.stdout


def test_outcome_ok_returns_stdout(pool: Pool) -> None:
    r = pool.run("import sys\nprint('hello')\nprint('warn', file=sys.stderr)")
    assert (r.outcome, r.output, r.stderr) == ("OUTCOME_OK", "hello\n", "warn\n")
    assert r.duration_s > 0 and r.seed is not None


def test_outcome_failed_returns_traceback(pool: Pool) -> None:
    r = pool.run("x = 1\n1 / 0\n")
    assert r.outcome == "OUTCOME_FAILED"
    assert r.output.startswith("division by zero\nTraceback (most recent call last):\n")
    assert 'File "<string>", line 2, in <module>' in r.output
    assert r.output.endswith("ZeroDivisionError: division by zero\n")
    assert "child.py" not in r.output  # the runner's own frames are not shown


def test_failed_with_stdout_uses_geminis_combined_form(pool: Pool) -> None:
    r = pool.run("print('ok')\nraise ValueError('bad')")
    assert r.output.startswith("stdout: ok\n\nstderr: bad\nTraceback")
    assert r.stdout == "ok\n"


@pytest.mark.parametrize(("code", "outcome"), [
    ("import sys; sys.exit(0)", "OUTCOME_OK"),
    ("import sys; sys.exit(3)", "OUTCOME_FAILED"),
    ("import sys; sys.exit('message')", "OUTCOME_FAILED"),
    ("print(", "OUTCOME_FAILED"),
    ("import os; os._exit(0)", "OUTCOME_OK"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "OUTCOME_FAILED"),
])
def test_exit_paths(pool: Pool, code: str, outcome: str) -> None:
    assert pool.run(code, timeout=5).outcome == outcome


def test_syntax_error_output(pool: Pool) -> None:
    r = pool.run("print(")
    assert "SyntaxError" in r.output and '"<string>", line 1' in r.output


def test_deadline_keeps_partial_output(pool: Pool) -> None:
    t0 = time.monotonic()
    r = pool.run("import time\nfor i in range(100):\n    print(i)\n    time.sleep(0.1)\n",
                 timeout=1)
    assert time.monotonic() - t0 < 3
    assert r.outcome == "OUTCOME_DEADLINE_EXCEEDED"
    assert r.output.startswith("0\n1\n2\n") and "99" not in r.output


def test_figures_from_show_and_left_open(pool: Pool) -> None:
    _need_module("matplotlib")
    code = ("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\n"
            "plt.figure(figsize=(3, 2))\nplt.bar(['a', 'b'], [1, 2])\nprint('done')\n")
    r = pool.run(code)
    assert r.outcome == "OUTCOME_OK" and r.output == "done\n"
    assert len(r.images) == 2
    assert all(validate_png(img.data) for img in r.images)
    assert (r.images[1].width, r.images[1].height) == (300, 200)
    assert "plt.show" not in r.stderr and "non-interactive" not in r.stderr


def test_figure_count_and_size_caps(pool: Pool) -> None:
    _need_module("matplotlib")
    code = ("import matplotlib.pyplot as plt\nfor i in range(12):\n    plt.figure()\n"
            "plt.figure(figsize=(200, 100), dpi=100)\n")
    r = pool.run(code, timeout=20)
    assert len(r.images) == 10
    assert all(max(i.width, i.height) <= 4096 for i in r.images)


def test_forged_figure_channel_is_rejected(pool: Pool) -> None:
    code = ("import os, struct\nbad = b'\\x89PNG\\r\\n\\x1a\\n' + b'garbage' * 10\n"
            "os.write(3, struct.pack('!I', len(bad)) + bad)\n")
    r = pool.run(code)
    assert r.images == () and "rejected" in r.stderr


def test_input_files_are_in_cwd(pool: Pool) -> None:
    files = {"data.csv": b"a,b\n1,2\n", "sub/notes.txt": b"hi"}
    code = ("import csv\nprint(sum(int(r['b']) for r in csv.DictReader(open('data.csv'))))\n"
            "print(open('sub/notes.txt').read())\nopen('out.txt', 'w').write('w')\n")
    r = pool.run(code, files=files)
    assert (r.outcome, r.output) == ("OUTCOME_OK", "2\nhi\n")
    with pytest.raises(ValueError, match="inside the working directory"):
        pool.run("pass", files={"../escape": b""})


def test_two_runs_overlap_on_both_cores(pool: Pool) -> None:
    code = ("import time\nt0 = time.time()\nx = 0\nwhile time.time() - t0 < 0.6:\n"
            "    x += 1\nprint(t0, time.time())\n")
    pool.start(all_workers=True)  # the second zygote would otherwise start on demand
    results: list[str] = []

    def go() -> None:
        results.append(pool.run(code, timeout=20).stdout)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a0, a1), (b0, b1) = (map(float, r.split()) for r in results)
    assert a0 < b1 and b0 < a1, "the two runs did not overlap in time"


def test_seeds_are_reproducible_and_never_shared(pool: Pool) -> None:
    _need_module("numpy")
    code = "import random, numpy as np\nprint(random.random(), np.random.rand())"
    a, b = pool.run(code, seed=7), pool.run(code, seed=7)
    assert a.output == b.output and a.seed == 7
    c, d = pool.run(code), pool.run(code)
    assert c.output != d.output and c.seed != d.seed
    assert pool.run(code, seed=c.seed).output == c.output


def test_no_inherited_file_descriptors(pool: Pool) -> None:
    r = pool.run("import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))")
    fds = ast.literal_eval(r.stdout)
    assert set(fds) - {0, 1, 2, 3} <= {max(fds)}  # the listing's own descriptor


def test_strict_level_forbids_processes_not_threads(pool: Pool, level: str) -> None:
    _need_full(level)
    code = ("import os, threading\nt = threading.Thread(target=print, args=('thread',))\n"
            "t.start(); t.join()\nos.fork()\n")
    r = pool.run(code, level="strict")
    assert r.isolation == "strict" and r.stdout == "thread\n"
    assert "PermissionError" in r.output


def test_interpreter_under_a_0700_home_is_visible(pool: Pool, level: str) -> None:
    _need_full(level)
    real = Path(os.path.realpath(sys.executable))
    closed = [p for p in real.parents if stat.S_IMODE(p.stat().st_mode) & 0o005 == 0]
    if not closed:
        pytest.skip("the interpreter does not live under a closed directory here")
    r = pool.run("import wave, xml.dom.minidom\nprint(wave.__file__)")
    assert r.outcome == "OUTCOME_OK", r.output
    assert stat.S_IMODE(closed[0].stat().st_mode) & 0o005 == 0  # the host was not loosened


def test_venv_in_a_0700_checkout(tmp_path: Path, level: str) -> None:
    _need_full(level)
    checkout = tmp_path / "checkout"
    checkout.mkdir(mode=0o700)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(checkout / ".venv")],
                   check=True)
    python = str(checkout / ".venv" / "bin" / "python")
    with Pool(workers=1, preload=(), python=python) as p:
        r = p.run("import sys, json\nprint(sys.prefix)")
        assert (r.outcome, r.isolation) == ("OUTCOME_OK", level)
        assert r.output.strip() == str(checkout / ".venv")
    assert stat.S_IMODE(checkout.stat().st_mode) == 0o700


def test_cgroup_memory_cap_kills_cleanly(level: str) -> None:
    _need_full(level)
    code = "chunks = []\nfor i in range(40):\n    chunks.append(b'x' * (32 << 20))\n"
    with Pool(workers=1, preload=(), memory_bytes=192 << 20) as p:
        r = p.run(code, timeout=20)
        assert r.outcome == "OUTCOME_FAILED" and "MemoryError" in r.output
        assert p.run("print(1)").output == "1\n"


def test_isolation_is_reported(pool: Pool, level: str) -> None:
    report = pool.report()
    assert report["level"] == level and isinstance(report["layers"], list)
    assert pool.run("pass").isolation == level
    assert pool.run("pass", level="none").isolation == "none"
    with pytest.raises(ValueError, match="unknown isolation level"):
        pool.run("pass", level="bogus")


def test_closed_pool_refuses() -> None:
    p = Pool(workers=1, preload=())
    p.close()
    with pytest.raises(SandboxError, match="closed"):
        p.run("pass")


def test_a_prelude_rebuilds_the_session_silently(pool: Pool) -> None:
    # Earlier runs of a response: state kept; their output (even written to the descriptors),
    # errors, exits and figures are not this run's.
    prelude = ["import os\nx = 40\nprint('earlier')\nos.write(1, b'raw')\nos.write(2, b'err')",
               "raise ValueError('earlier failure')",
               "import matplotlib.pyplot as plt\nplt.plot([1, 2])\ny = 2",
               "import sys\nsys.exit(3)"]
    result = pool.run("import matplotlib.pyplot as plt\nprint(x + y, plt.get_fignums())",
                      prelude=prelude)
    assert result.outcome == "OUTCOME_OK"
    assert result.output == "42 []\n" and result.stderr == ""
    assert result.images == ()
    alone = pool.run("print(x)")
    assert alone.outcome == "OUTCOME_FAILED" and "NameError" in alone.output
