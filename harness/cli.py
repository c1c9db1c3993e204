"""harness: tools around eval files, recordings, the local sandbox and the simulator.

Subcommands: ``validate`` (check eval files without running them), ``schema`` (print or write
the eval-file JSON Schema), ``transcript`` (show what a recording contains, normalised),
``unused`` (recordings no case uses any more), ``merge`` (shard runs into one run), ``verify``
(re-run recorded code locally), ``diff`` (what changed in how the model worked between two runs
or two recordings), ``exec`` (run Python as the sandbox would) and ``sim`` (serve the bundled
simulator).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _cmd_validate(args: argparse.Namespace) -> int:
    from harness.spec.case import SpecError, SpecWarning
    from harness.spec.load import duplicate_suite, expand_paths, load_eval_file

    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("harness validate: no such file or directory: "
              + ", ".join(map(str, missing)), file=sys.stderr)
        return 2
    files, errors = expand_paths(paths)
    if not files:
        print("harness validate: no *.eval.yaml files found in " + ", ".join(args.paths),
              file=sys.stderr)
        return 2
    valid = cases = 0
    suites: dict[str, Path] = {}
    for f in files:  # each file is loaded once: its errors, or its cases
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SpecWarning)
            try:
                loaded = load_eval_file(f)
            except SpecError as exc:
                errors.append(exc)
                continue
            finally:
                for warning in caught:
                    print(f"warning: {warning.message}", file=sys.stderr)
        first = suites.setdefault(loaded.suite, f)
        if first != f:  # as pytest reports it: the second file is an error
            errors.append(SpecError([duplicate_suite(f, loaded.suite, first)]))
            continue
        cases += len(loaded.cases)
        valid += 1
    for err in errors:
        print(err, file=sys.stderr)
        print(file=sys.stderr)
    print(f"{valid} of {len(files)} eval files valid ({cases} cases)")
    return 1 if errors else 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from harness.spec.schema import eval_schema

    text = json.dumps(eval_schema(), indent=2, sort_keys=True) + "\n"
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_transcript(args: argparse.Namespace) -> int:
    from harness.cassettes.files import transcript_from_path
    from harness.transcript.bodies import TranscriptError

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


def _settings() -> Any:
    """[tool.harness] of the current directory's pyproject.toml (prices, baseline, alpha)."""
    from harness.config import load_settings

    return load_settings(Path.cwd())


def _cmd_compare(args: argparse.Namespace) -> int:
    from harness.config import ConfigError
    from harness.report.summary import compare_runs
    from harness.stats.gate import describe

    try:
        settings = _settings()
        run = compare_runs(Path(args.a), Path(args.b), baseline=args.baseline,
                           alpha=args.alpha or settings.alpha, prices=settings.prices)
    except (FileNotFoundError, ValueError, ConfigError) as exc:
        print(f"harness compare: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(run.to_json(), indent=2, ensure_ascii=False))
    else:
        for comparison in run.comparisons:
            print(describe(comparison))
            for label, cases in (("regressed", comparison.regressed),
                                 ("improved", comparison.improved),
                                 ("now failing", comparison.now_failing),
                                 ("now passing", comparison.now_passing)):
                print(f"  {label} ({len(cases)}): " + (", ".join(cases) or "none"))
        for label, items in (("only in A", run.only_in_a), ("only in B", run.only_in_b)):
            if items:
                print(f"{label} ({len(items)}): " + ", ".join(map(str, items[:20]))
                      + (" ..." if len(items) > 20 else ""))
    ok, reasons, warnings = run.gate(settings.gate_underpowered)
    # With --json, stdout is the JSON document alone: the gate's words go to stderr.
    out = sys.stderr if args.json else sys.stdout
    print("gate: " + ("passed" if ok else "FAILED"), file=out)
    for reason in reasons:
        print(f"  - {reason}", file=out)
    for warning in warnings:
        print(f"  warning: {warning}", file=out)
    return 1 if args.gate and not ok else 0


def _diff_side(path: Path) -> Any:
    """A run directory (or results.jsonl), or one recording read as ``harness transcript`` does."""
    from harness.report.behaviour import behaviour_of
    from harness.report.diff import Item, Side, side_from_run

    if path.is_dir() or path.suffix == ".jsonl":
        return side_from_run(path)
    from harness.cassettes.files import transcript_from_path

    transcript = transcript_from_path(path)
    return Side(str(path), {str(path): Item(behaviour_of(transcript.to_json(),
                                                         latency_s=transcript.latency_s),
                                            path.as_posix())})


def _cmd_diff(args: argparse.Namespace) -> int:
    from harness.report.diff import diff_markdown, diff_sides
    from harness.transcript.bodies import TranscriptError

    try:
        a, b = _diff_side(Path(args.a)), _diff_side(Path(args.b))
    except (OSError, ValueError, TranscriptError) as exc:
        print(f"harness diff: {exc}", file=sys.stderr)
        return 2
    if not a.items or not b.items:
        empty = args.a if not a.items else args.b
        print(f"harness diff: {empty} holds no items to compare", file=sys.stderr)
        return 2
    diff = diff_sides(a, b, latency_tolerance=args.latency_tolerance)
    if args.json:
        print(json.dumps(diff.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(diff_markdown(diff, limit=args.limit)))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.config import ConfigError
    from harness.report.write import render_run

    try:
        settings = _settings()
        paths = render_run(Path(args.run), baseline=args.baseline, alpha=args.alpha,
                           prices=settings.prices, step_summary=args.step_summary)
    except (FileNotFoundError, ValueError, ConfigError) as exc:
        print(f"harness report: {exc}", file=sys.stderr)
        return 2
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    from harness.config import ConfigError
    from harness.merge import MergeError, merge_runs
    from harness.paths import display_path
    from harness.report.terminal import render_terminal
    from harness.session import gate_exit_status

    try:
        settings = _settings()
        merged = merge_runs([Path(p) for p in args.runs], settings.report_dir,
                            out=Path(args.out) if args.out else None, prices=settings.prices,
                            allow_missing=args.allow_missing)
    except (MergeError, ConfigError, OSError) as exc:
        print(f"harness merge: {exc}", file=sys.stderr)
        return 2
    for warning in merged.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"merged {len(merged.meta['merged_from'])} shard runs, {merged.meta['items']} items")
    for line in render_terminal(merged.summary):
        print(line)
    for name, path in merged.paths.items():
        print(f"{name}: {display_path(path)}")
    if merged.history_appended:
        print("history: a line per model added to "
              + display_path(merged.run_dir.parent / "history.jsonl"))
    mode = args.gate or str(merged.meta["settings"].get("gate") or "off")
    return gate_exit_status(mode, int(merged.meta["exitstatus"]),
                            bool(merged.summary["gate"]["ok"]),
                            only_eval_failures=merged.meta["other_failures"] == 0)


def _cmd_unused(args: argparse.Namespace) -> int:
    from harness.cassettes.unused import find_unused
    from harness.config import ConfigError
    from harness.paths import display_path
    from harness.spec.case import SpecError
    from harness.spec.load import expand_paths, load_eval_file

    try:
        settings = _settings().with_overrides(models=args.model, target=args.target)
    except ConfigError as exc:
        print(f"harness unused: {exc}", file=sys.stderr)
        return 2
    files, errors = expand_paths([Path(p) for p in args.paths])
    cases: list[Any] = []
    for f in files:
        try:
            cases.extend(load_eval_file(f).cases)
        except SpecError as exc:
            errors.append(exc)
    if errors:  # a file that does not load would make its cassettes look unused
        for err in errors:
            print(err, file=sys.stderr)
        print("harness unused: fix the eval files first (their cassettes would all be listed)",
              file=sys.stderr)
        return 2
    found = find_unused(settings.cassette_dir, settings.target, cases, settings.models,
                        settings.samples)
    for title, paths in (("cassettes no item uses", found.stale),
                         ("temporary recordings left by killed runs", found.temporary),
                         ("blobs no used cassette refers to", found.blobs)):
        if paths:
            print(f"{title} ({len(paths)}):")
            for path in paths:
                print(f"  {display_path(path)}")
    if not found:
        print(f"nothing unused under {display_path(settings.cassette_dir / settings.target)}")
    return 1 if found and args.strict else 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from harness.cassettes.verify_cli import run_command
    from harness.config import ConfigError

    try:
        settings = _settings().with_overrides(target=args.target)
    except ConfigError as exc:
        print(f"harness verify: {exc}", file=sys.stderr)
        return 2
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print("harness verify: no such file or directory: " + ", ".join(missing),
              file=sys.stderr)
        return 2
    return run_command(args.paths, settings.cassette_dir / settings.target,
                       write_cache=args.write_cache, show_diff=not args.no_diff)


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

    p = sub.add_parser("compare", help="compare two earlier runs offline (B is the candidate)")
    p.add_argument("a", help="baseline run: reports/<run-id>, reports/latest or results.jsonl")
    p.add_argument("b", help="candidate run (same forms)")
    p.add_argument("--baseline", metavar="MODEL",
                   help="compare this model of A with every model of B")
    p.add_argument("--alpha", type=float, default=None, help="significance level (0.05)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--gate", action="store_true",
                   help="exit 1 when the regression gate fails")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("unused", help="list cassettes, temporary recordings and blobs that no "
                                      "item of the eval files uses")
    p.add_argument("paths", nargs="*", default=["evals"],
                   help="eval files or directories (default: evals)")
    p.add_argument("--model", action="append", default=None, metavar="NAME",
                   help="the models (default: models in [tool.harness])")
    p.add_argument("--target", default=None, help="whose cassettes (default: target)")
    p.add_argument("--strict", action="store_true", help="exit 1 when anything is unused")
    p.set_defaults(func=_cmd_unused)

    p = sub.add_parser("diff", help="what changed in how the model worked: two runs, or two "
                                    "recordings of one case (Markdown, or --json)")
    p.add_argument("a", help="earlier side: reports/<run-id>, results.jsonl, or a recording")
    p.add_argument("b", help="later side (same forms)")
    p.add_argument("--json", action="store_true", help="print the diff as JSON")
    p.add_argument("--limit", type=int, default=50, metavar="N",
                   help="items listed per kind of change in Markdown (default 50)")
    p.add_argument("--latency-tolerance", type=float, default=0.25, metavar="F",
                   help="latency counts as changed beyond this fraction (default 0.25)")
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("report", help="re-render a run's reports without calling anything")
    p.add_argument("run", help="reports/<run-id>, reports/latest or a results.jsonl")
    p.add_argument("--baseline", metavar="MODEL", help="baseline (default: the run's)")
    p.add_argument("--alpha", type=float, default=None, help="significance level")
    p.add_argument("--step-summary", action="store_true",
                   help="also append report.md to $GITHUB_STEP_SUMMARY")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("merge", help="combine the runs of --harness-shard 1/N ... N/N into one "
                                     "run (results, summary, reports, gate, history)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="each shard's reports/<run-id>")
    p.add_argument("--out", metavar="DIR",
                   help="the merged run's directory (default: reports/<new-run-id>, and "
                        "reports/latest points at it)")
    from harness.config import GATE_MODES

    p.add_argument("--gate", choices=GATE_MODES, default=None,
                   help="exit status as the plugin's gate mode (default: the shards' gate)")
    p.add_argument("--allow-missing", action="store_true",
                   help="merge even when shards are missing or incomplete (warned; no "
                        "history line)")
    p.set_defaults(func=_cmd_merge)

    p = sub.add_parser("verify", help="re-run recorded code runs in the local sandbox and say "
                                      "which reproduce their recorded output")
    p.add_argument("paths", nargs="+", metavar="PATHS|RUN",
                   help="eval files or directories, a run directory or results.jsonl, "
                        "cassettes or response bodies, or directories of recordings")
    p.add_argument("--target", default=None, help="whose cassettes (default: target)")
    p.add_argument("--write-cache", action="store_true",
                   help="store the results in <k>.verify.json beside each harness cassette")
    p.add_argument("--no-diff", action="store_true", help="leave out the diffs of diverged runs")
    p.set_defaults(func=_cmd_verify)

    from harness.sandbox.cli import add_parser as add_exec_parser
    from harness.sim.cli import add_parser as add_sim_parser

    add_exec_parser(sub)
    add_sim_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harness`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # inside the try: a closed pipe often shows only at the flush
    except BrokenPipeError:
        # The reader went away (`harness schema | head`): not an error worth a traceback.
        # Point stdout at /dev/null so the interpreter's own flush at exit stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a killed pipeline member
    return code


if __name__ == "__main__":
    sys.exit(main())
