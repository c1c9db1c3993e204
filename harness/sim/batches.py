"""The Batch API with inlined requests: ``models/{m}:batchGenerateContent``, ``batches/{id}``.

A job is created with its requests inline; the simulator answers each request exactly as
``generateContent`` would answer it (the same script, ids and usage: a request's ``model`` key
is the only thing a batch request adds to the generateContent body, and it is left out of
the body that the ids are drawn from). The job stays ``BATCH_STATE_PENDING`` then
``BATCH_STATE_RUNNING`` for :attr:`BatchConfig.delay_s` seconds (so clients poll and can be
stopped and resumed), then ends ``BATCH_STATE_SUCCEEDED`` with ``output.inlinedResponses``.

:class:`BatchConfig` (``$HARNESS_SIM_BATCH``) makes items fail or the job end in another
state. An item's ``metadata`` may carry ``x-harness-case`` and ``x-harness-sample`` (a batch
request has no headers of its own); jobs live in memory while the simulator runs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from harness.sim import grounding, parse, wire
from harness.sim.batch_config import ENV_VAR, WITH_OUTPUT, BatchConfig, SimBatch
from harness.sim.errors import api_error, auth_error, json_response
from harness.sim.prepare import (
    CASE_HEADER,
    SAMPLE_HEADER,
    Call,
    _bad_version,
    _json,
    _unknown_model,
    prepare,
)

__all__ = ["BatchConfig", "create_batch", "get_batch"]
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"


def _state(request: Request) -> Any:
    return request.app.state.sim


async def create_batch(request: Request, model: str) -> Response:
    """``POST models/{model}:batchGenerateContent``: a job over inlined requests."""
    from harness.sim.models import is_sim_model

    if (err := _bad_version(request)) is not None:
        return err
    if (err := auth_error(request, vertex=False)) is not None:
        return err
    if not is_sim_model(model):
        return _unknown_model(request, model, "batchGenerateContent")
    try:
        body = _json(await request.body())
        batch = body.get("batch") if isinstance(body, dict) else None
        config = (batch or {}).get("inputConfig") or {}
        if "fileName" in config:
            raise parse.BadRequest("the simulator serves inlined requests only, not fileName")
        requests = (config.get("requests") or {}).get("requests")
        if not isinstance(requests, list) or not requests or not all(
                isinstance(r, dict) and isinstance(r.get("request"), dict) for r in requests):
            raise parse.BadRequest("batch.inputConfig.requests.requests must be a non-empty "
                                   "list of {request, metadata}")
    except parse.BadRequest as exc:
        return api_error(400, "INVALID_ARGUMENT", str(exc))
    state = _state(request)
    job = SimBatch(name="batches/" + uuid.uuid4().hex[:16], model=model,
                   display_name=(batch or {}).get("displayName"), created=time.monotonic(),
                   created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   requests=requests)
    state.batches[job.name] = job
    job.task = asyncio.ensure_future(_run(state, job))
    return json_response(_resource(state, job))


async def get_batch(request: Request) -> Response:
    """``GET batches/{id}`` (the job, with its results once done) and ``DELETE``."""
    if (err := _bad_version(request)) is not None:
        return err
    if (err := auth_error(request, vertex=False)) is not None:
        return err
    state = _state(request)
    name = "batches/" + request.path_params["bid"]
    job = state.batches.get(name)
    if job is None:
        return api_error(404, "NOT_FOUND", f"Batch {name!r} was not found (the simulator "
                         "keeps batch jobs in memory while it runs).")
    if request.method == "DELETE":
        del state.batches[name]
        return json_response({})
    return json_response(_resource(state, job))


def _final_state(state: Any, job: SimBatch) -> str | None:
    """The job's final state, or None while it is pending or running."""
    config: BatchConfig = state.batch_config
    if job.responses is None or time.monotonic() - job.created < config.delay_s:
        return None
    return config.state


def _resource(state: Any, job: SimBatch) -> dict[str, Any]:
    final = _final_state(state, job)
    elapsed = time.monotonic() - job.created
    if final is None:
        wire_state = ("BATCH_STATE_PENDING" if elapsed < state.batch_config.delay_s / 2
                      else "BATCH_STATE_RUNNING")
    else:
        wire_state = ("JOB_STATE_" if final == "PARTIALLY_SUCCEEDED" else "BATCH_STATE_") + final
    done = job.responses if final in WITH_OUTPUT else None
    failed = sum(1 for r in done or () if "error" in r)
    stats = {"requestCount": str(len(job.requests)),
             "successfulRequestCount": str(len(done) - failed if done else 0),
             "failedRequestCount": str(failed),
             "pendingRequestCount": str(0 if final else len(job.requests))}
    meta: dict[str, Any] = {"@type": BATCH_TYPE, "model": f"models/{job.model}",
                            "displayName": job.display_name, "createTime": job.created_at,
                            "updateTime": job.created_at, "batchStats": stats,
                            "state": wire_state, "name": job.name}
    resource: dict[str, Any] = {"name": job.name, "metadata": meta}
    if final is not None:
        resource["done"] = True
        meta["endTime"] = job.created_at
    if done is not None:
        meta["output"] = {"inlinedResponses": {"inlinedResponses": done}}
        resource["response"] = {"@type": BATCH_TYPE.replace("Batch", "BatchOutput"),
                                "inlinedResponses": {"inlinedResponses": done}}
    elif final is not None:
        resource["error"] = {"code": 4 if final == "EXPIRED" else 13,
                             "message": f"The batch job ended {final} (simulated)."}
    return resource


async def _run(state: Any, job: SimBatch) -> None:
    """Answer every request of the job, one after another (as a batch backend would)."""
    job.responses = [await _answer(state, job.model, item) for item in job.requests]


async def _answer(state: Any, model: str, item: dict[str, Any]) -> dict[str, Any]:
    metadata = item.get("metadata")
    out: dict[str, Any] = {"metadata": metadata} if metadata is not None else {}
    headers = {k: str(v) for k, v in (metadata or {}).items()
               if k in (CASE_HEADER, SAMPLE_HEADER)}
    body = {k: v for k, v in item["request"].items() if k != "model"}
    try:
        parsed = parse.generate_request(body, state.lookup_file)
    except parse.BadRequest as exc:
        out["error"] = {"code": 400, "message": str(exc), "status": "INVALID_ARGUMENT"}
        return out
    prep = await prepare(state, headers, Call("generate", model, parsed, body, False),
                         inject=False)
    if isinstance(prep, Response):
        out["error"] = {"code": prep.status_code, "message": bytes(prep.body).decode()}
        return out
    sample = int(headers.get(SAMPLE_HEADER, "1"))
    if state.batch_config.fails(prep.headers["x-harness-sim-case"], sample):
        out["error"] = {"code": 500, "status": "INTERNAL",
                        "message": f"The simulator failed this batch item ({ENV_VAR})."}
        return out
    response = wire.generate_response(prep.script, prep.meta, prep.usage)
    grounding.add_to_response(response, prep.grounding, prep.script)
    out["response"] = response
    return out
