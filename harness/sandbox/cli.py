"""``harness exec FILE.py|-``: run code the way the sandbox would, for authors of ``reference:``.

Prints the outcome, the isolation level reached, the output, and where figures were written.
Exit status: 0 for OUTCOME_OK, 1 for OUTCOME_FAILED or OUTCOME_DEADLINE_EXCEEDED, 2 when the
command itself could not run (bad arguments, unreadable files, a sandbox failure).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.sandbox.api import DEFAULT_TIMEOUT_S, ExecResult, SandboxError
from harness.sandbox.levels import LEVELS


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``exec`` subcommand to ``subparsers`` (from ``add_subparsers()``)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "exec", help="run a Python file (or - for stdin) in the local sandbox",
        description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("path", metavar="FILE.py|-", help="the code to run; - reads stdin")
    p.add_argument("--file", action="append", default=[], metavar="NAME=PATH",
                   help="input file placed in the working directory as NAME (repeatable)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                   help=f"wall-clock limit in seconds (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--seed", type=int, default=None, help="seed for random and numpy")
    p.add_argument("--level", choices=LEVELS, default=None,
                   help="isolation level (default: the best this machine allows)")
    p.add_argument("--images-dir", metavar="DIR", default=None,
                   help="where figures are written (default: a new temporary directory)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_exec)
    return p


def _inputs(specs: list[str]) -> dict[str, bytes]:
    files = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--file wants NAME=PATH, got {spec!r}")
        files[name] = Path(path).read_bytes()
    return files


def _write_images(result: ExecResult, images_dir: str | None) -> list[str]:
    if not result.images:
        return []
    out = Path(images_dir) if images_dir else Path(tempfile.mkdtemp(prefix="harness-exec-"))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(result.images, 1):
        path = out / f"figure-{i}.png"
        path.write_bytes(image.data)
        paths.append(str(path))
    return paths


def cmd_exec(args: argparse.Namespace) -> int:
    """Handle ``harness exec``."""
    from harness.sandbox.pool import Pool

    try:
        code = sys.stdin.read() if args.path == "-" else Path(args.path).read_text("utf-8")
        files = _inputs(args.file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"harness exec: {exc}", file=sys.stderr)
        return 2
    try:
        with Pool(workers=1) as pool:
            result = pool.run(code, files, args.timeout, args.seed, level=args.level)
    except (SandboxError, ValueError) as exc:
        print(f"harness exec: {exc}", file=sys.stderr)
        return 2
    paths = _write_images(result, args.images_dir)
    if args.json:
        print(json.dumps({
            "outcome": result.outcome, "output": result.output, "stdout": result.stdout,
            "stderr": result.stderr, "images": paths, "duration_s": result.duration_s,
            "isolation": result.isolation, "layers": list(result.layers),
            "seed": result.seed, "truncated": result.truncated}, indent=2))
    else:
        print(f"outcome: {result.outcome}  ({result.duration_s * 1000:.0f} ms, "
              f"seed {result.seed})")
        print(f"isolation: {result.isolation}  ({', '.join(result.layers)})")
        print("output:" + (" (truncated)" if result.truncated else ""))
        sys.stdout.write(result.output if result.output.endswith("\n") or not result.output
                         else result.output + "\n")
        for path, image in zip(paths, result.images, strict=True):
            print(f"image: {path} ({image.width}x{image.height})")
    return 0 if result.outcome == "OUTCOME_OK" else 1
