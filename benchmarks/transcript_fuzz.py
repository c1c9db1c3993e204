"""Fuzz the transcript reader: random malformed response bodies, and how many crash.

Every body is a valid generateContent / stream / Interaction / interaction-event body with one
to three random mutations (a field replaced by a value of another type, an enum made a number,
an event made a non-object, nesting thousands deep, a truncated text, ...). `parse_body` (what
`harness transcript` runs) must return a Transcript or raise `TranscriptError`; anything else is
a crash. Prints the crash count and the sites (exception type and the innermost frame).

    python benchmarks/transcript_fuzz.py            # 10,000 bodies, seed 0
    python benchmarks/transcript_fuzz.py -n 2000 --seed 7
"""

from __future__ import annotations

import argparse
import base64
import collections
import copy
import json
import random
import sys
import time
import traceback
import warnings
from typing import Any

from harness.transcript.bodies import TranscriptError
from harness.transcript.parse import parse_body

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
PARTS = [
    {"text": "Plan.", "thought": True, "thoughtSignature": "c2ln"},
    {"executableCode": {"language": "PYTHON", "code": "print(2+2)", "id": "c1"}},
    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "4\n", "id": "c1"}},
    {"inlineData": {"mimeType": "image/png", "data": PNG}},
    {"text": "The answer is 4."},
]
GENERATE = {
    "candidates": [{"content": {"role": "model", "parts": PARTS}, "finishReason": "STOP",
                    "index": 0, "safetyRatings": [{"category": "HARM_CATEGORY_X",
                                                   "probability": "NEGLIGIBLE"}]}],
    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30,
                      "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}]},
    "modelVersion": "gemini-x", "promptFeedback": {"blockReason": "SAFETY"},
}
INTERACTION = {
    "id": "v1_abc", "status": "completed", "model": "gemini-x",
    "steps": [
        {"type": "thought", "signature": "c2ln", "summary": [{"type": "text", "text": "Plan."}]},
        {"type": "code_execution_call", "id": "c1",
         "arguments": {"language": "python", "code": "print(1)"}},
        {"type": "code_execution_result", "call_id": "c1", "result": "1\n", "is_error": False},
        {"type": "model_output", "content": [{"type": "text", "text": "One."},
                                             {"type": "image", "mime_type": "image/png",
                                              "data": PNG}]},
    ],
    "usage": {"total_input_tokens": 5, "total_output_tokens": 7, "total_tokens": 12},
}
EVENTS = [
    {"event_type": "interaction.created",
     "interaction": {"id": "i1", "status": "in_progress", "model": "gemini-x"}},
    {"event_type": "step.start", "index": 0, "step": {"type": "thought", "summary": []}},
    {"event_type": "step.delta", "index": 0,
     "delta": {"type": "thought_summary", "content": {"type": "text", "text": "Plan"}}},
    {"event_type": "step.stop", "index": 0},
    {"event_type": "step.start", "index": 1,
     "step": {"type": "code_execution_call", "id": "c1", "arguments": {}}},
    {"event_type": "step.delta", "index": 1,
     "delta": {"type": "arguments_delta", "arguments": '{"code": "print(1)"}'}},
    {"event_type": "step.start", "index": 2,
     "step": {"type": "code_execution_result", "call_id": "c1", "result": ""}},
    {"event_type": "step.delta", "index": 2,
     "delta": {"type": "code_execution_result", "result": "1\n", "is_error": False}},
    {"event_type": "step.start", "index": 3, "step": {"type": "model_output", "content": []}},
    {"event_type": "step.delta", "index": 3, "delta": {"type": "text", "text": "One."}},
    {"event_type": "step.stop", "index": 3, "usage": {"total_tokens": 10}},
    {"event_type": "interaction.completed",
     "interaction": {"id": "i1", "status": "completed", "usage": {"total_tokens": 12}}},
]
DEEP = "__deep__"
ODD = [None, True, 0, 1, 5, -1, 2**70, 1.5, "", "oops", "STOP", "OUTCOME_OK", "text", [], [1],
       ["x"], {}, {"x": 1}, {"type": 3}, {"text": 7}]


def odd_value(rng: random.Random) -> Any:
    """A value of some type other than the one expected, most of the time."""
    if rng.random() < 0.03:
        return DEEP  # replaced by JSON nested thousands deep once the body is text
    return copy.deepcopy(rng.choice(ODD))


def deep(n: int) -> str:
    """JSON nested ``n`` deep (json.dumps itself cannot write it)."""
    half = n // 2
    return '{"parts": ' * half + "[" * (n - half) + '"x"' + "]" * (n - half) + "}" * half


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a node of a JSON tree (the root included)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def mutate(value: Any, rng: random.Random) -> Any:
    """Replace one node (or delete one key) of a JSON tree."""
    path = rng.choice(paths(value))
    if not path:
        return odd_value(rng)
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and rng.random() < 0.2:
        del parent[path[-1]]
    else:
        parent[path[-1]] = odd_value(rng)
    return value


def body(rng: random.Random) -> str:
    """One mutated body, as text (JSON, or SSE for the streamed shapes)."""
    shape = rng.choice(["generate", "chunks", "generate-sse", "interaction", "events-sse",
                        "events-json"])
    seed: Any = {"generate": GENERATE, "chunks": [GENERATE, GENERATE],
                 "generate-sse": [GENERATE, GENERATE], "interaction": INTERACTION,
                 "events-sse": EVENTS, "events-json": EVENTS}[shape]
    value = copy.deepcopy(seed)
    for _ in range(rng.randint(1, 3)):
        value = mutate(value, rng)
    if shape.endswith("-sse") and isinstance(value, list):
        lines = []
        for item in value:
            name = item.get("event_type") if isinstance(item, dict) else None
            head = f"event: {name}\n" if isinstance(name, str) and rng.random() < 0.5 else ""
            lines.append(f"{head}data: {json.dumps(item)}\n\n")
        text = "".join(lines)
    else:
        text = json.dumps(value)
    text = text.replace(json.dumps(DEEP), deep(rng.choice([500, 5000])))
    if rng.random() < 0.05:
        text = text[: rng.randint(0, len(text))]  # cut short
    return text


def site(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    short = frame.filename.split("site-packages/")[-1].split("/harness/")[-1]
    return f"{type(exc).__name__} at {short}:{frame.lineno} ({frame.name})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="bodies to try (10,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the SDK warns on every odd enum value
    rng = random.Random(args.seed)
    outcomes: collections.Counter[str] = collections.Counter()
    sites: collections.Counter[str] = collections.Counter()
    start = time.perf_counter()
    for _ in range(args.n):
        text = body(rng)
        try:
            parse_body(text)
            outcomes["transcript"] += 1
        except TranscriptError:
            outcomes["TranscriptError"] += 1
        except RecursionError as exc:  # its traceback is thousands of frames: name it only
            outcomes["crash"] += 1
            sites[f"RecursionError ({str(exc)[:40]})"] += 1
        except Exception as exc:  # counting crashes is the point
            outcomes["crash"] += 1
            sites[site(exc)] += 1
    elapsed = time.perf_counter() - start
    crashes = outcomes["crash"]
    print(f"bodies: {args.n} (seed {args.seed}), {elapsed:.1f} s")
    print(f"transcripts: {outcomes['transcript']}, TranscriptError: "
          f"{outcomes['TranscriptError']}, crashes: {crashes} ({100 * crashes / args.n:.2f} %)")
    for where, count in sites.most_common(15):
        print(f"  {count:6d}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
