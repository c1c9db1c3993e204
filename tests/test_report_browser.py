"""report.html in a real browser (Debian's headless Chromium): it renders, and CSP stays quiet."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from harness.report.summary import summary_json
from harness.report.synthetic import synthetic_run
from harness.report.write import write_reports

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="chromium is not installed (apt-get install -y chromium)")


def _look() -> ModuleType:
    path = Path(__file__).parents[1] / "scripts" / "look_at_report.py"
    spec = importlib.util.spec_from_file_location("look_at_report", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    records = synthetic_run(root, "run", cases=8, samples=2, seed=4)
    summary = summary_json(records, baseline="gemini-2.5-flash")
    return write_reports(root / "run", records, summary)["html"]


def test_page_renders_without_csp_violations(report: Path) -> None:
    look = _look()
    proc = look.run_chromium(report.as_uri(), dump_dom=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert 'class="matrix"' in dom and dom.count('<section class="tx"') == 16
    assert "<svg" in dom
    # The payload is text in the live DOM too: no element was created from it.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert not re.search(r"<script\b", dom) and 'src="x"' not in dom
    assert look.csp_complaints(proc.stderr) == []


def test_the_csp_check_detects_violations(tmp_path: Path) -> None:
    # Negative control: the same policy on a page that breaks it must be reported.
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    "content=\"default-src 'none'; img-src data:\"></head><body>"
                    '<img src="x.png"><script>document.title = "ran"</script></body></html>')
    look = _look()
    proc = look.run_chromium(page.as_uri(), dump_dom=True)
    assert len(look.csp_complaints(proc.stderr)) == 2
    assert "<title>ran</title>" not in proc.stdout


def test_cell_link_opens_a_panel_screenshot(report: Path, tmp_path: Path) -> None:
    look = _look()
    png = tmp_path / "panel.png"
    proc = look.run_chromium(report.as_uri() + "#t-1-0", screenshot=png, size="1000,800")
    assert proc.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert look.csp_complaints(proc.stderr) == []
