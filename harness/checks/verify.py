"""``verify_output``: the model's recorded code, re-run locally, printed what the API said.

The re-runs happen before the checks (see :mod:`harness.cassettes.verify_runs`: the local
sandbox, the case's inputs in the working directory, earlier runs of the response replayed in
the same interpreter, results cached beside the cassette); this check judges them with
:mod:`harness.checks.reexec`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from harness.checks._common import Tolerance, plural, quote
from harness.checks.api import CheckArgs, CheckContext, Judgement, check
from harness.checks.reexec import Verification, verify_run

NEVER_ALLOWED = ("diverged", "unsafe")


class VerifyOutputArgs(CheckArgs):
    """Arguments of the verify_output check."""

    runs: Literal["all", "last"] = Field(
        "all", description="`all` (default): every code run of the response; `last`: the "
                           "last one.")
    tolerance: Tolerance | None = Field(
        None, description="Numbers in the outputs may differ by at most this much "
                          "(default: exact text).")
    allow: tuple[Literal["not_reproducible"], ...] = Field(
        (), description="Outcomes accepted besides `reproduced`: only `not_reproducible` "
                        "(`diverged` and `unsafe` can never be allowed).")

    @field_validator("allow", mode="before")
    @classmethod
    def _allowable(cls, value: object) -> object:
        items = list(value) if isinstance(value, list | tuple) else value
        if isinstance(items, list):
            bad = [v for v in items if v in NEVER_ALLOWED]
            if bad:
                raise ValueError(f"{bad[0]!r} runs can never be allowed: a diverged run "
                                 "printed something else than the API reported, and an "
                                 "unsafe one was blocked by the sandbox; only "
                                 "'not_reproducible' may be allowed")
            return tuple(items)
        return value


def _describe(v: Verification) -> str:
    code = v.code.rstrip()
    lines = [f"run {v.index + 1}: {v.words}: {v.reason}", "code:", *("  " + ln for ln in
                                                                   code.split("\n")[:12])]
    if code.count("\n") >= 12:
        lines.append("  …")
    if v.diff:
        lines += ["diff:", *("  " + ln for ln in v.diff.split("\n")[:30])]
    return "\n".join(lines)


@check("verify_output", VerifyOutputArgs,
       summary="Every checked code run, re-run in the local sandbox, prints its recorded "
               "output (`runs: last|all`, `tolerance`, `allow: [not_reproducible]`).")
def verify_output(ctx: CheckContext, args: VerifyOutputArgs) -> Judgement:
    """Every checked code run, re-run locally, prints what the recording says."""
    runs = ctx.transcript.code_runs
    local = ctx.local_runs
    if local is None:
        raise RuntimeError("verify_output needs the re-run results, which only the harness's "
                           "items provide (run it through pytest or `harness verify`)")
    indices = [i for i, r in enumerate(runs) if not r.thought and local[i] is not None]
    if args.runs == "last":
        indices = indices[-1:]
    if not indices:
        # Nothing to verify is not a failed verification (`code_executed` asks for code).
        return Judgement(True, "every code run reproduces here", "no code ran")
    tol = args.tolerance
    results = []
    for i in indices:
        lr = local[i]
        assert lr is not None
        results.append(verify_run(i, runs, lr, tol))
    accepted = {"reproduced", *args.allow}
    bad = [v for v in results if v.outcome not in accepted]
    counts = {w: sum(1 for v in results if v.words == w) for w in
              dict.fromkeys(v.words for v in results)}
    tally = ", ".join(f"{n} {w}" for w, n in counts.items())
    extra = f" ({', '.join(args.allow)} allowed)" if args.allow else ""
    if not bad:
        return Judgement(True, f"{plural(len(results), 'run')} reproduced{extra}", tally)
    expected = "\n".join(f"run {v.index + 1} printed (recorded): {quote(v.recorded.rstrip(), 300)}"
                         for v in bad)
    actual = "\n".join(f"{_describe(v)}\nlocal output: {quote(v.local.rstrip(), 300)}"
                       for v in bad)
    return Judgement(False, f"{plural(len(results), 'run')} reproduced{extra}\n{expected}",
                     f"{tally}\n{actual}")
