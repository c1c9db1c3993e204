"""The layout's rules hold: import contracts (import-linter) and a light collection."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
needs_linter = pytest.mark.skipif(LINT_IMPORTS is None,
                                  reason="import-linter is not installed (pip install -e '.[dev]')")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS is not None
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@needs_linter
def test_the_contracts_hold_and_a_violation_breaks_them(tmp_path: Path) -> None:
    # A copy of the package with two deliberate violations: a check that imports the SDK,
    # and the spec stage reaching up into the front door (which also makes a cycle).
    shutil.copytree(ROOT / "harness", tmp_path / "harness",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    clean = _lint_imports(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 broken" in clean.stdout

    with (tmp_path / "harness" / "checks" / "numbers.py").open("a") as fh:
        fh.write("\nimport google.genai  # deliberate violation\n")
    with (tmp_path / "harness" / "spec" / "messages.py").open("a") as fh:
        fh.write("\nfrom harness.collect import SUFFIX  # deliberate violation\n")
    broken = _lint_imports(tmp_path)
    out = " ".join(broken.stdout.split())  # the report wraps long contract names
    assert broken.returncode != 0
    assert "Stages are layered along the data flow BROKEN" in out
    assert "harness.spec is not allowed to import harness.collect" in out
    assert "harness.spec.messages -> harness.collect" in out
    assert "harness.checks is not allowed to import google" in out
    assert "No import cycles between sibling modules or packages BROKEN" in out


def test_collect_only_imports_neither_the_sdk_nor_vcr() -> None:
    # Collection must stay fast: google.genai (~0.65 s) and vcr (~0.4 s) load only for calls.
    code = ("import sys, pytest\n"
            "code = pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', 'evals'])\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('vcr', 'httpx2')\n"
            "               or m.startswith('google.genai'))\n"
            "print('HEAVY', heavy, int(code))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    last = out.stdout.strip().splitlines()[-1]
    assert last == "HEAVY [] 0", out.stdout[-2000:] + out.stderr[-2000:]
    assert "evals/gemini-docs.eval.yaml::" in out.stdout  # it did collect the eval items


AUTH_MODULES = ("google.auth", "google.oauth2")  # import-linter cannot forbid subpackages of
# an external package ("google" is one package to it): these rules are checked here instead.


def _auth_importers(package: Path) -> list[str]:
    """Modules of ``package`` outside calls/ that import google-auth, as ``path:line``."""
    import ast

    found = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] == "calls":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if isinstance(node, ast.ImportFrom) and node.module == "google":
                names = [f"google.{a.name}" for a in node.names]
            if any(n == m or n.startswith(m + ".") for n in names for m in AUTH_MODULES):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    return found


def test_google_auth_is_imported_only_under_calls(tmp_path: Path) -> None:
    assert _auth_importers(ROOT / "harness") == []
    assert _auth_importers(ROOT / "harness" / "calls")  # it is used there: the scan sees it
    (tmp_path / "transcript").mkdir()
    (tmp_path / "transcript" / "x.py").write_text(
        "import json\nfrom google import auth\nfrom google.oauth2.credentials import C\n")
    assert _auth_importers(tmp_path) == ["transcript/x.py:2", "transcript/x.py:3"]
