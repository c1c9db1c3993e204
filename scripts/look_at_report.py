"""Render a report and screenshot it in headless Chromium, to look at it as a person would.

    python scripts/look_at_report.py                      # synthetic run, screenshots in /tmp
    python scripts/look_at_report.py reports/latest --out shots/

Takes a screenshot of the top of the page, of the case matrix, and of one transcript panel
opened through its URL fragment (the way a click on a matrix cell opens it), and prints any
console line that mentions the Content-Security-Policy (there should be none). Needs Debian's
``chromium`` (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def chromium() -> str | None:
    """The Chromium executable, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(url: str, *, screenshot: Path | None = None, dump_dom: bool = False,
                 size: str = "1400,2000", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Open ``url`` headless once; screenshot it or dump its DOM.

    Args:
        url: A ``file://`` URL (a fragment opens a transcript panel).
        screenshot: PNG path to write.
        dump_dom: Print the DOM after load to stdout.
        size: Window size ``W,H``.
        timeout: Seconds before giving up.

    Returns:
        The finished process (stdout: DOM when dumped; stderr: Chromium's log and console).

    """
    exe = chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="look-at-report-") as profile:
        args = [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}"]
        if screenshot is not None:
            args.append(f"--screenshot={screenshot}")
        if dump_dom:
            args.append("--dump-dom")
        return subprocess.run([*args, url], capture_output=True, text=True, timeout=timeout,
                              check=False)


def csp_complaints(log: str) -> list[str]:
    """Console lines about the Content-Security-Policy (blocked loads, inline handlers)."""
    return [line for line in log.splitlines()
            if "Content Security Policy" in line or "Refused to" in line]


def focus(html: Path, section: str, dest: Path) -> Path:
    """A copy of the report showing only one section at the top of the page.

    Headless Chromium paints only the first window-height of the document when a fragment
    scrolls it, so ``report.html#matrix`` screenshots blank; hiding the sections above is the
    reliable way to see one further down.
    """
    text = html.read_text(encoding="utf-8")
    style = f"<style>main>:not(#{section}){{display:none}}</style></head>"
    dest.write_text(text.replace("</head>", style, 1), encoding="utf-8")
    # Copy beside the report so relative links (images/...) still resolve.
    return dest


def sample_report(out: Path) -> Path:
    """A synthetic run with two models, three samples, an ERROR, a skip, images and payloads."""
    from harness.report.summary import summary_json
    from harness.report.synthetic import synthetic_run
    from harness.report.write import write_reports

    records = synthetic_run(out, "sample-run", cases=40, samples=3, seed=11,
                            models=(("gemini-2.5-flash", 0.85), ("gemini-3-flash", 0.6),
                                    ("gemini-3-pro", 0.9)))
    summary = summary_json(records, baseline="gemini-2.5-flash")
    history = [{"run_id": f"r{i}", "time": f"2026-0{1 + i // 3}-{10 + i:02d}T10:00:00",
                "model": m, "model_version": f"{m}-00{1 + i // 4}",
                "pass_rate": min(0.98, base + 0.03 * i), "ci_low": min(0.9, base + 0.03 * i - 0.1),
                "ci_high": min(1.0, base + 0.03 * i + 0.08), "items": 120}
               for i in range(8) for m, base in (("gemini-2.5-flash", 0.6), ("gemini-3-pro", 0.5))]
    return write_reports(out / "sample-run", records, summary, history=history)["html"]


def main(argv: list[str] | None = None) -> int:
    """Render (or take) a report, take the screenshots, print where they are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("run", nargs="?", help="a run directory with report.html (default: a "
                        "synthetic run)")
    parser.add_argument("--out", default=None, help="where screenshots go (default: a new "
                        "temporary directory)")
    parser.add_argument("--panel", default="t-1-1", help="transcript panel to open "
                        "(fragment id, default t-1-1)")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="report-shots-"))
    out.mkdir(parents=True, exist_ok=True)
    html = Path(args.run) / "report.html" if args.run else sample_report(out)
    if not html.is_file():
        print(f"no report at {html}; run `harness report {args.run}` first", file=sys.stderr)
        return 2
    complaints: list[str] = []
    for name, keep, fragment, size in (("top", None, "", "1400,2000"),
                                       ("matrix", "matrix", "", "1400,1400"),
                                       ("history", "history", "", "1400,700"),
                                       ("panel", None, f"#{args.panel}", "1400,1600")):
        png = out / f"report-{name}.png"
        page = html if keep is None else focus(html, keep, out / f"view-{name}.html")
        proc = run_chromium(page.resolve().as_uri() + fragment, screenshot=png, size=size)
        complaints += csp_complaints(proc.stderr)
        print(f"{png} ({'ok' if png.is_file() else 'MISSING: ' + proc.stderr[-500:]})")
    for line in complaints:
        print("CSP:", line)
    return 1 if complaints else 0


if __name__ == "__main__":
    sys.exit(main())
