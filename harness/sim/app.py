"""The simulator's routes: Gemini API, Vertex AI and interactions paths, on starlette.

Request headers it reads (all optional; the harness's recorder strips ``x-harness-*``):

* ``x-harness-case: <suite>/<case-id>``: the case (else the prompt text picks it).
* ``x-harness-sample: <k>``: the sample number, from 1 (default 1).
* ``x-harness-fault: KIND[@N]``: force a fault on this request's first N attempts.
* ``x-harness-attempt: <n>``: the attempt number (else the simulator counts identical requests).

Responses carry ``x-harness-sim-case`` and ``x-harness-sim-behaviour`` for debugging.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp

from harness.sim import grounding, parse, wire
from harness.sim.batches import create_batch, get_batch
from harness.sim.deliver import BROKEN_CHUNK, BROKEN_EVENT, stream, unary
from harness.sim.errors import api_error, auth_error, json_response
from harness.sim.faults import WithTransport
from harness.sim.files import get_file, upload
from harness.sim.live import LIVE_PATH, bidi_generate_content
from harness.sim.models import SIM_MODELS, is_sim_model
from harness.sim.prepare import (
    CASE_HEADER,
    SAMPLE_HEADER,
    Call,
    _bad_version,
    _json,
    _prepare,
    _state,
    _unknown_model,
)
from harness.sim.state import SimState

__all__ = ["CASE_HEADER", "SAMPLE_HEADER", "build_app"]

_VERTEX_PREFIX = "/{ver}/projects/{project}/locations/{location}"


async def generate(request: Request) -> Response:
    """``models/{model}:generateContent`` and ``:streamGenerateContent`` (Gemini and Vertex)."""
    if (err := _bad_version(request)) is not None:
        return err
    model, _, method = request.path_params["target"].partition(":")
    if method == "batchGenerateContent" and "project" not in request.path_params \
            and "/publishers/" not in request.url.path:
        return await create_batch(request, model)
    if method not in ("generateContent", "streamGenerateContent"):
        return api_error(404, "NOT_FOUND", f"Method {method!r} is not served by the simulator; "
                         "it serves generateContent, streamGenerateContent and (Gemini API) "
                         "batchGenerateContent.")
    vertex = "/publishers/" in request.url.path
    if (err := auth_error(request, vertex=vertex)) is not None:
        return err
    if not is_sim_model(model):
        return _unknown_model(request, model, method)
    state = _state(request)
    try:
        body = _json(await request.body())
        parsed = parse.generate_request(body, state.lookup_file)
    except parse.BadRequest as exc:
        return api_error(400, "INVALID_ARGUMENT", str(exc))
    streaming = method == "streamGenerateContent"
    prep = await _prepare(request, Call("stream" if streaming else "generate", model, parsed,
                                        body, vertex))
    if isinstance(prep, Response):
        return prep
    if not streaming:
        response = wire.generate_response(prep.script, prep.meta, prep.usage)
        grounding.add_to_response(response, prep.grounding, prep.script)
        if prep.fault == "unreadable":
            _unreadable(response)
        return unary(wire.dumps(response, pretty=True), prep.fault, prep.headers)
    chunks = wire.generate_chunks(prep.script, prep.meta, prep.usage)
    grounding.add_to_response(chunks[-1], prep.grounding, prep.script)  # as the API: the last
    if prep.fault == "unreadable":
        _unreadable(chunks[-1])
    if request.query_params.get("alt") != "sse":  # without alt=sse the API sends a JSON array
        return unary(wire.dumps(chunks, pretty=True), prep.fault, prep.headers)
    return stream([wire.sse_data(c) for c in chunks], prep.fault, prep.headers, finishing=1,
                  broken=BROKEN_CHUNK)


def _unreadable(response: dict[str, Any]) -> None:
    """The ``unreadable`` fault: valid JSON the SDK cannot read (an enum sent as a number)."""
    for candidate in response.get("candidates") or []:
        candidate["finishReason"] = 5


async def create_interaction(request: Request) -> Response:
    """``POST interactions`` (plain or ``"stream": true``), with ``previous_interaction_id``."""
    if (err := _bad_version(request)) is not None:
        return err
    vertex = "project" in request.path_params
    if (err := auth_error(request, vertex=vertex)) is not None:
        return err
    state = _state(request)
    try:
        body = _json(await request.body())
        if not isinstance(body, dict):
            raise parse.BadRequest("Invalid JSON payload received. Expected an object.")
        if body.get("agent") and not body.get("model"):
            raise parse.BadRequest("agents are not served by the harness simulator; "
                                   f"use a model ({', '.join(SIM_MODELS)})")
        model = str(body.get("model") or "").removeprefix("models/")
        if not model:
            raise parse.BadRequest("`model` is required")
        parsed = parse.interaction_request(body, state.lookup_file)
    except parse.BadRequest as exc:
        return api_error(400, "INVALID_ARGUMENT", str(exc))
    if not is_sim_model(model):
        return _unknown_model(request, model, "interactions")
    previous_id = body.get("previous_interaction_id")
    if previous_id is not None:
        previous = state.interactions.get(str(previous_id))
        if previous is None:
            return api_error(404, "NOT_FOUND", f"Interaction {previous_id!r} was not found "
                             "(the simulator keeps interactions in memory while it runs).")
        parsed.prompt_tokens += int(previous.get("usage", {}).get("total_tokens", 0))
        asked = state.interaction_asks.get(str(previous_id))
        if asked is not None and not parsed.texts:  # function results continue the turn
            parsed.texts = list(asked[0])
            parsed.function_results += asked[1]
    streaming = body.get("stream") is True
    prep = await _prepare(request, Call("interactions-stream" if streaming else "interactions",
                                        model, parsed, body, vertex))
    if isinstance(prep, Response):
        return prep
    resource = wire.interaction(prep.script, prep.meta, prep.usage,
                                str(previous_id) if previous_id is not None else None)
    resource["steps"] = grounding.interaction_steps(prep.grounding, resource["steps"])
    state.interactions[resource["id"]] = resource
    state.interaction_asks[resource["id"]] = (parsed.texts, parsed.function_results)
    if not streaming:
        return unary(wire.dumps(resource, pretty=True), prep.fault, prep.headers)
    return _event_stream(resource, prep.fault, prep.headers)


def _event_stream(resource: dict[str, Any], fault: str | None,
                  headers: dict[str, str]) -> Response:
    events = [wire.sse_event(e) for e in wire.interaction_events(resource)] + [wire.SSE_DONE]
    return stream(events, fault, headers, finishing=2, broken=BROKEN_EVENT)


async def interaction_by_id(request: Request) -> Response:
    """``GET interactions/{id}`` (``?stream=true`` replays its events) and ``DELETE``."""
    if (err := _bad_version(request)) is not None:
        return err
    if (err := auth_error(request, vertex="project" in request.path_params)) is not None:
        return err
    state = _state(request)
    iid = request.path_params["iid"]
    resource = state.interactions.get(iid)
    if resource is None:
        return api_error(404, "NOT_FOUND", f"Interaction {iid!r} was not found.")
    if request.method == "DELETE":
        del state.interactions[iid]
        return json_response({})
    if request.query_params.get("stream", "").lower() == "true":
        return _event_stream(resource, None, {})
    return json_response(resource)


async def _http_error(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    if code == 404:
        return api_error(404, "NOT_FOUND", f"{request.method} {request.url.path} is not an "
                         "endpoint of the API (or of the harness simulator).")
    if code == 405:
        return api_error(405, "INVALID_ARGUMENT", f"{request.method} is not allowed on "
                         f"{request.url.path}.")
    return api_error(code, "INTERNAL", f"{type(exc).__name__}: {exc}")


async def batch_by_id(request: Request) -> Response:
    """``GET batches/{id}`` (poll, results inline) and ``DELETE``."""
    return await get_batch(request)


def build_app(state: SimState) -> ASGIApp:
    """The ASGI app serving ``state`` (wrapped so faults can reach the transport)."""
    routes = [
        Route("/upload/{ver}/files", upload, methods=["POST"]),
        Route("/{ver}/files/{fid}", get_file, methods=["GET"]),
        Route("/{ver}/models/{target}", generate, methods=["POST"]),
        Route("/{ver}/publishers/google/models/{target}", generate, methods=["POST"]),
        Route(_VERTEX_PREFIX + "/publishers/google/models/{target}", generate, methods=["POST"]),
        Route("/{ver}/batches/{bid}", batch_by_id, methods=["GET", "DELETE"]),
        Route("/{ver}/interactions", create_interaction, methods=["POST"]),
        Route("/{ver}/interactions/{iid}", interaction_by_id, methods=["GET", "DELETE"]),
        Route(_VERTEX_PREFIX + "/interactions", create_interaction, methods=["POST"]),
        Route(_VERTEX_PREFIX + "/interactions/{iid}", interaction_by_id,
              methods=["GET", "DELETE"]),
        WebSocketRoute(LIVE_PATH, bidi_generate_content),
    ]
    app = Starlette(routes=routes, exception_handlers={
        HTTPException: _http_error, Exception: _http_error})
    app.state.sim = state
    return WithTransport(app)
