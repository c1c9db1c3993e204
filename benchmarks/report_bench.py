"""Report rendering at scale: 500 cases x 3 models x 3 samples (4,500 items).

Prints the time to summarize (summary_json), to render and write the reports, and the size of
report.html, with and without images in the transcripts. Synthetic records are written with the
real ResultsWriter first (not timed).

    python benchmarks/report_bench.py [--cases 500] [--samples 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.report.history import history_lines
from harness.report.summary import summary_json
from harness.report.synthetic import synthetic_run
from harness.report.write import write_reports

MODELS = (("gemini-2.5-flash", 0.8), ("gemini-2.5-pro", 0.85), ("gemini-3-flash", 0.7))


def bench(root: Path, label: str, cases: int, samples: int, image_every: int) -> None:
    t0 = time.perf_counter()
    records = synthetic_run(root, label, cases=cases, samples=samples, models=MODELS,
                            image_every=image_every, image_noise=4, seed=3)
    t1 = time.perf_counter()
    summary = summary_json(records, baseline=MODELS[0][0])
    t2 = time.perf_counter()
    history = [line | {"run_id": f"r{i}", "time": f"2026-01-{i + 1:02d}T00:00:00"}
               for i in range(30) for line in history_lines(summary, "x", "t")]
    t3 = time.perf_counter()
    paths = write_reports(root / label, records, summary, history=history)
    t4 = time.perf_counter()
    html, md = paths["html"].stat().st_size, paths["markdown"].stat().st_size
    images = sum(p.stat().st_size for p in (root / label / "images").glob("*")) \
        if (root / label / "images").is_dir() else 0
    print(f"{label}: {len(records):,} items ({cases} cases x {len(MODELS)} models x "
          f"{samples} samples), images every {image_every or 'no'} case(s)")
    print(f"  generate records (not part of reporting): {t1 - t0:6.2f} s")
    print(f"  summary_json:                             {t2 - t1:6.2f} s")
    print(f"  write_reports (json + md + html):         {t4 - t3:6.2f} s")
    print(f"  report.html: {html / 1e6:6.2f} MB ({html / len(records) / 1e3:.2f} kB per item); "
          f"report.md: {md / 1e3:.1f} kB; distinct image files: {images / 1e6:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        root = Path(tmp)
        bench(root, "no-images", args.cases, args.samples, image_every=0)
        bench(root, "images", args.cases, args.samples, image_every=10)


if __name__ == "__main__":
    main()
