"""A model call as the simulator prepares it: case and sample, fault, script, ids.

Shared by the routes that answer model calls: generateContent, interactions, and each item
of a batch job (:mod:`harness.sim.batches`), which has no headers and passes its metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from harness.sim import det, grounding, parse, wire
from harness.sim.deliver import early_fault
from harness.sim.errors import api_error
from harness.sim.faults import ATTEMPT_HEADER, FAULT_HEADER, FaultSpecError
from harness.sim.models import SIM_MODELS, Ask, Code, Script
from harness.sim.state import SimState

CASE_HEADER = "x-harness-case"
SAMPLE_HEADER = "x-harness-sample"
API_VERSIONS = frozenset({"v1", "v1beta", "v1alpha", "v1beta1"})


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _bad_version(request: Request) -> Response | None:
    ver = request.path_params.get("ver")
    if ver in API_VERSIONS:
        return None
    return api_error(404, "NOT_FOUND", f"API version {ver!r} not found; the simulator serves "
                     + ", ".join(sorted(API_VERSIONS)))


def _unknown_model(request: Request, model: str, method: str) -> Response:
    p = request.path_params
    served = f" The harness simulator serves: {', '.join(SIM_MODELS)}."
    if "project" in p:
        return api_error(404, "NOT_FOUND", f"Publisher Model `projects/{p['project']}/locations/"
                         f"{p['location']}/publishers/google/models/{model}` was not found or "
                         "your project does not have access to it." + served)
    return api_error(404, "NOT_FOUND", f"models/{model} is not found for API version "
                     f"{p.get('ver')}, or is not supported for {method}. Call ListModels to see "
                     "the list of available models and their supported methods." + served)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise parse.BadRequest(f"Invalid JSON payload received. {exc}.") from None


@dataclass(frozen=True)
class Call:
    """One model call: which surface, model and body."""

    surface: str  # "generate" | "stream" | "interactions" | "interactions-stream"
    model: str
    parsed: parse.Parsed
    body: Any
    vertex: bool


@dataclass(frozen=True)
class Prepared:
    """A model call with its script written and its fault decided."""

    script: Script
    meta: wire.Meta
    usage: wire.Usage
    fault: str | None
    headers: dict[str, str]
    grounding: grounding.Plan | None = None  # simulated search / URL context, if asked for


async def _prepare(request: Request, call: Call) -> Prepared | Response:
    """Identify case and sample, decide the fault, write the script."""
    return await prepare(_state(request), request.headers, call)


async def prepare(state: SimState, headers: Mapping[str, str], call: Call, *,
                  inject: bool = True) -> Prepared | Response:
    """:func:`_prepare` given the request's headers (a batch passes each item's metadata).

    Args:
        state: The simulator's state.
        headers: The request's headers (``x-harness-*`` are read).
        call: The model call.
        inject: Decide a fault (a batch item has no transport to fault).
    """
    try:
        sample = int(headers.get(SAMPLE_HEADER, "1"))
        if sample < 1:
            raise ValueError
    except ValueError:
        return api_error(400, "INVALID_ARGUMENT", f"{SAMPLE_HEADER} must be a positive integer")
    case = state.catalog.by_key(headers.get(CASE_HEADER))
    for text in call.parsed.texts:
        case = case or state.catalog.by_prompt(text)
    case_key = case.key if case else "prompt:" + det.token(call.parsed.text)
    # Canonical JSON, so ids do not depend on how a client formats the same body.
    body_id = det.token(json.dumps(call.body, sort_keys=True, ensure_ascii=False))
    ident = (case_key, call.model, sample, call.surface, body_id)
    attempt_header = headers.get(ATTEMPT_HEADER)
    attempt = (int(attempt_header) if attempt_header and attempt_header.isdigit()
               else state.next_attempt(ident))
    try:
        fault = None if not inject else state.faults.decide(
            ident, attempt, stream=call.surface.endswith("stream"),
            generate=call.surface in ("generate", "stream"), forced=headers.get(FAULT_HEADER))
    except FaultSpecError as exc:
        return api_error(400, "INVALID_ARGUMENT", f"{FAULT_HEADER}: {exc}")
    if (early := early_fault(fault, state.faults.retry_after_s)) is not None:
        return early  # before writing the script: a failed attempt costs no code run
    if fault == "latency":
        await anyio.sleep(state.faults.latency_s)
    script = await state.writer.script(Ask(call.model, case, sample, call.parsed.text,
                                           call.parsed.files, call.parsed.functions,
                                           call.parsed.function_results))
    runs = sum(1 for s in script.steps if isinstance(s, Code))
    meta = wire.Meta(
        model=call.model, vertex=call.vertex,
        response_id=(("v1_" if call.surface.startswith("interactions") else "")
                     + det.token(case_key, call.model, sample, call.surface, body_id)),
        created=det.timestamp(case_key, call.model, sample, body_id),
        updated=det.timestamp(case_key, call.model, sample, body_id, offset_s=2 + 3 * runs))
    reply = {"x-harness-sim-case": case_key, "x-harness-sim-behaviour": script.behaviour}
    found = grounding.plan(grounding.request_tools(call.body), case.hint if case else None,
                           call.parsed.text, case_key, call.model, sample)
    return Prepared(script, meta, wire.usage(script, call.parsed.prompt_tokens,
                                             thinking=call.parsed.thinking), fault, reply,
                    found)
