"""harness: tools around eval files, recordings, the local sandbox and the simulator.

Subcommands: ``validate`` (check eval files without running them), ``schema`` (print or write
the eval-file JSON Schema), ``transcript`` (show what a recording contains, normalised),
``exec`` (run Python as the sandbox would) and ``sim`` (serve the bundled simulator).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _cmd_validate(args: argparse.Namespace) -> int:
    from harness.spec import load_eval_file, validate_paths

    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("harness validate: no such file or directory: "
              + ", ".join(map(str, missing)), file=sys.stderr)
        return 2
    errors = validate_paths(paths)
    for err in errors:
        print(err, file=sys.stderr)
        print(file=sys.stderr)
    files = [p for p in paths if p.is_file()] + [f for p in paths if p.is_dir()
                                                  for f in sorted(p.rglob("*.eval.yaml"))]
    if not files:
        print("harness validate: no *.eval.yaml files found in " + ", ".join(args.paths),
              file=sys.stderr)
        return 2
    bad = {str(i.path) for e in errors for i in e.issues if i.path.is_file()}
    cases = sum(len(load_eval_file(f).cases) for f in files if str(f) not in bad)
    print(f"{len(files) - len(bad)} of {len(files)} eval files valid ({cases} cases)")
    return 1 if errors else 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from harness.spec import eval_schema

    text = json.dumps(eval_schema(), indent=2, sort_keys=True) + "\n"
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_transcript(args: argparse.Namespace) -> int:
    from harness.transcript import TranscriptError, transcript_from_path

    try:
        transcript = transcript_from_path(Path(args.path), interaction=args.interaction)
    except (OSError, TranscriptError) as exc:
        print(f"harness transcript: {exc}", file=sys.stderr)
        return 1
    data = transcript.to_json()
    if not args.with_image_data:
        for step in data["steps"]:
            if step["type"] == "image":
                step["data"] = f"<{len(step['data']) * 3 // 4} bytes>"
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check eval files without running anything")
    p.add_argument("paths", nargs="+", help="eval files or directories (searched recursively)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("schema", help="print (or --write) the eval-file JSON Schema")
    p.add_argument("--write", metavar="PATH", help="write the schema to PATH")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("transcript", help="print a recording's transcript as JSON")
    p.add_argument("path", help="a vcrpy cassette, a raw JSON response body or an SSE body")
    p.add_argument("--interaction", type=int, default=None, metavar="N",
                   help="which exchange of a cassette (0-based; default: the last model call)")
    p.add_argument("--with-image-data", action="store_true",
                   help="include images as base64 instead of their size")
    p.set_defaults(func=_cmd_transcript)

    from harness.sandbox.cli import add_parser as add_exec_parser
    from harness.sim.cli import add_parser as add_sim_parser

    add_exec_parser(sub)
    add_sim_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harness`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
