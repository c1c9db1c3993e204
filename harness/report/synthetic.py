"""Synthetic runs for the report's tests, benchmark and screenshot script.

Records are built with the real :func:`harness.results.records.make_record` and written with
the real :class:`harness.results.records.ResultsWriter`, so images land in ``images/`` exactly
as in a run. Some model text carries HTML/script payloads on purpose: the report must show
them inert.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.checks.api import CheckResult
from harness.results.records import ResultsWriter, make_record, read_results
from harness.transcript.values import Step, Usage, build_transcript

PAYLOAD = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'


def png(width: int, height: int, bars: Sequence[float], noise: int = 0, seed: int = 0) -> bytes:
    """A valid RGB PNG of a bar chart (``bars`` in 0..1); ``noise`` adds incompressible dots."""
    rng = random.Random(seed)
    bar_w = max(1, width // (2 * len(bars) + 1))
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type 0 per scanline
        for x in range(width):
            slot = x // bar_w
            i = (slot - 1) // 2
            filled = (slot % 2 == 1 and 0 <= i < len(bars)
                      and height - y <= bars[i] * (height - 10))
            rgb = (31, 119, 180) if filled else (255, 255, 255)
            if noise and rng.random() < noise / 100:
                rgb = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            row += bytes(rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))


def _item(rng: random.Random, case: str, model: str, sample: int, passed: bool,
          payload: bool, image: bytes | None) -> tuple[list[Step], list[CheckResult], Usage]:
    expected = str(100 + (hash(case) % 9000))
    fail_first = rng.random() < 0.25
    deadline = not passed and rng.random() < 0.3
    steps = [Step("thought", text="Plan: load the data, compute, print the result.",
                  thought=True),
             Step("text", text="I'll compute this with Python." + (f" {PAYLOAD}" if payload
                                                                   else ""))]
    code = f"import math\nvalues = [i * i for i in range({rng.randint(5, 60)})]\n" \
           f"print(sum(values))  # {case}" + (f"\n# {PAYLOAD}" if payload else "")
    if fail_first:
        steps += [Step("code", code="print(undefined_name)", language="PYTHON"),
                  Step("result", outcome="OUTCOME_FAILED",
                       output="Traceback (most recent call last):\nNameError: name "
                              "'undefined_name' is not defined" + (PAYLOAD if payload else ""))]
    answer = expected if passed else str(int(expected) + rng.randint(1, 50))
    steps += [Step("code", code=code, language="PYTHON"),
              Step("result", outcome="OUTCOME_DEADLINE_EXCEEDED" if deadline else "OUTCOME_OK",
                   output=f"{answer}\n" + (f"{PAYLOAD}\n" if payload else ""))]
    if image is not None:
        steps.append(Step("image", mime_type="image/png", data=image))
    steps.append(Step("text", text=f"The answer is **{answer}**."
                      + (f" {PAYLOAD}" if payload else "")))
    checks = [CheckResult("code_executed", True, "code ran", "2 runs"),
              CheckResult("final_outcome", not deadline, "OUTCOME_OK",
                          "OUTCOME_DEADLINE_EXCEEDED" if deadline else "OUTCOME_OK"),
              CheckResult("answer_number", passed, expected,
                          f"numbers in the answer: {answer}" + (PAYLOAD if payload else ""))]
    usage = Usage(prompt_tokens=rng.randint(300, 900), output_tokens=rng.randint(80, 400),
                  tool_use_prompt_tokens=rng.randint(200, 1500),
                  thought_tokens=rng.randint(0, 600) if "flash" not in model else None)
    usage = Usage(usage.prompt_tokens, usage.output_tokens, usage.tool_use_prompt_tokens,
                  usage.thought_tokens, sum(v or 0 for v in (
                      usage.prompt_tokens, usage.output_tokens, usage.tool_use_prompt_tokens,
                      usage.thought_tokens)))
    return steps, checks, usage


def synthetic_run(report_dir: Path, run_id: str, *, cases: int = 12,
                  models: Sequence[tuple[str, float]] = (("gemini-2.5-flash", 0.8),
                                                         ("gemini-3-flash", 0.65)),
                  samples: int = 1, seed: int = 7, image_every: int = 5,
                  image_noise: int = 0, errors: bool = True, payload_case: int | None = 1,
                  suites: Sequence[str] = ("gemini-docs",)) -> list[dict[str, Any]]:
    """Write a run of synthetic records and return them as read back.

    Args:
        report_dir: Where the run directory goes (``report_dir/run_id``).
        run_id: The run's id.
        cases: Cases per suite.
        models: ``(model, pass probability)``; case difficulty shifts it per case.
        samples: Samples per case and model.
        seed: Random seed (the same seed gives the same run).
        image_every: Every n-th case's items produce an image (0: none).
        image_noise: Percent of random pixels (bigger, realistic-size images).
        errors: Make one case an ERROR and one skipped for the last model.
        payload_case: Index of the case whose model text carries script payloads.
        suites: Suite names.

    Returns:
        The records, as :func:`harness.results.records.read_results` returns them.

    """
    rng = random.Random(seed)
    writer = ResultsWriter(report_dir, run_id)
    images: dict[int, bytes] = {}
    for suite in suites:
        for c in range(cases):
            case = f"case-{c:03d}-{['sum-primes', 'csv-mean', 'plot-bars', 'zoom'][c % 4]}"
            difficulty = rng.uniform(-0.35, 0.35)
            for mi, (model, p) in enumerate(models):
                for k in range(1, samples + 1):
                    item = {"suite": suite, "case": case, "model": model, "sample": k,
                            "nodeid": f"evals/{suite}.eval.yaml::{case}[{model}"
                                      + (f"#{k}]" if samples > 1 else "]"),
                            "location": f"evals/{suite}.eval.yaml:{10 + 12 * c}",
                            "api": ["generate_content", "stream", "chat", "interactions"][c % 4],
                            "target": "sim", "cassette": f"cassettes/sim/{suite}/{case}/{model}/"
                                                         f"{k}.yaml", "tags": []}
                    last = mi == len(models) - 1
                    if errors and last and c == 2:
                        writer.write(make_record(
                            item=item, verdict="error", transcript=None, checks=[],
                            error={"kind": "cassette", "message": "no recording matches the "
                                   "request: prompt text differs " + PAYLOAD}))
                        continue
                    if errors and last and c == 3:
                        writer.write(make_record(item=item, verdict="skipped", transcript=None,
                                                 checks=[], error=None))
                        continue
                    passed = rng.random() < p + difficulty
                    image = None
                    if image_every and c % image_every == 0:
                        # One image per case (pure-Python PNG encoding is slow); every
                        # item of the case embeds it, as distinct real images would be.
                        if c not in images:
                            images[c] = png(320, 200, [rng.random() for _ in range(6)],
                                            noise=image_noise, seed=rng.randrange(1 << 30))
                        image = images[c]
                    steps, checks, usage = _item(rng, case, model, k, passed,
                                                 payload_case == c, image)
                    transcript = build_transcript(
                        steps, usage=usage, model_version=f"{model}-001",
                        finish_reason="STOP", latency_s=round(rng.uniform(1, 20), 2))
                    writer.write(make_record(item=item, verdict="pass" if passed else "fail",
                                             transcript=transcript, checks=checks, error=None))
    writer.close()
    return list(read_results(writer.run_dir))
