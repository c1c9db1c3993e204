"""``harness sim``: run the simulator in the foreground and say how to point the SDK at it.

The main ``harness`` command registers it with :func:`add_parser`; ``python -m
harness.sim.cli`` runs it on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.sim.executor import DEFAULT_DEADLINE_S
from harness.sim.faults import ENV_VAR, FAULT_KINDS, FaultConfig, FaultSpecError
from harness.sim.server import DEFAULT_HOST

HELP = "run the bundled Gemini-compatible simulator (sim-* models) for recording without Google"


def _fault_spec(value: str) -> str:
    """A ``--fault`` value, checked with the grammar of $HARNESS_SIM_FAULTS."""
    try:
        FaultConfig.parse(value)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``harness sim`` options to ``parser``."""
    parser.add_argument("--evals", metavar="DIR", type=Path, action="append", default=[],
                        help="learn the cases (and their reference: code) from every "
                             "*.eval.yaml under DIR (repeatable)")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port (default: an ephemeral one)")
    parser.add_argument("--fault-rate", type=float, default=None, metavar="R",
                        help="probability that a model call fails, spread evenly over the "
                             f"fault kinds ({', '.join(FAULT_KINDS)})")
    parser.add_argument("--fault", type=_fault_spec, action="append", default=[],
                        metavar="SPEC",
                        help="faults in the grammar of $" + ENV_VAR + " (repeatable), e.g. "
                             "'429=0.1', 'latency=0.2,delay=0.5' or '503@1'")
    parser.add_argument("--seed", type=int, default=None, help="fault seed (default 0)")
    parser.add_argument("--delay", type=float, default=None, metavar="S",
                        help="seconds a `latency` fault adds (default 1.0; `delay=` in SPEC)")
    parser.add_argument("--retry-after", type=int, default=None, metavar="S",
                        help="Retry-After seconds of a 429 (default 1)")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_S, metavar="S",
                        help="the deadline sim-timeout runs into (default %(default)s)")
    parser.add_argument("--log-level", default="warning",
                        choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(func=run)
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``harness sim`` on the main command's subparsers (from ``add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sim", help=HELP, description=HELP + ". Faults can also be set with $" + ENV_VAR
        + ", e.g. 'rate=0.3,seed=7' or '503@1'.")
    return configure(parser)


def fault_config(args: argparse.Namespace) -> FaultConfig | None:
    """The faults the options ask for (None: none given, so $HARNESS_SIM_FAULTS applies)."""
    if args.fault_rate is None and not args.fault:
        return None
    items = ([f"rate={args.fault_rate}"] if args.fault_rate is not None else []) + args.fault
    for key, value in (("seed", args.seed), ("delay", args.delay),
                       ("retry_after", args.retry_after)):
        if value is not None:  # the flags are spellings of the same grammar's settings
            items.append(f"{key}={value}")
    return FaultConfig.parse(",".join(items))


def banner(base_url: str, cases: int, faults: FaultConfig | None) -> str:
    """What ``harness sim`` prints once it listens."""
    from harness.sim.models import SIM_MODELS

    lines = [f"harness sim: serving {cases} case(s) on {base_url}",
             f"  models: {', '.join(SIM_MODELS)}"]
    if faults is not None and (faults.rates or faults.force):
        rates = ", ".join(f"{k}={v:g}" for k, v in faults.rates.items() if v)
        lines.append(f"  faults: {rates or faults.force} (seed {faults.seed})")
    lines += [
        "Point the google-genai SDK at it:",
        f"  export GOOGLE_GEMINI_BASE_URL={base_url}",
        "  or: genai.Client(api_key='any', http_options={'base_url': "
        f"'{base_url}', 'api_version': 'v1beta'}})",
        "Press Ctrl+C to stop."]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the exit status."""
    from harness.sim.catalog import SimCase, load_dir
    from harness.sim.server import serve_forever

    try:
        faults = fault_config(args) or FaultConfig.from_env()
    except FaultSpecError as exc:
        print(f"harness sim: {exc}", file=sys.stderr)
        return 2
    cases: list[SimCase] = []
    for directory in args.evals:
        try:
            cases.extend(load_dir(directory))
        except FileNotFoundError as exc:
            print(f"harness sim: --evals: {exc}", file=sys.stderr)
            return 2

    def ready(base_url: str) -> None:
        print(banner(base_url, len(cases), faults), flush=True)

    try:
        serve_forever(cases, host=args.host, port=args.port, faults=faults,
                      deadline_s=args.deadline, log_level=args.log_level, on_ready=ready)
    except OSError as exc:
        print(f"harness sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``harness sim`` on its own (``python -m harness.sim.cli``)."""
    parser = configure(argparse.ArgumentParser(prog="harness sim", description=HELP))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
