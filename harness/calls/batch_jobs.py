"""The Batch API through the SDK: inlined requests, ``batches.create``, ``batches.get``.

Each item's inlined request is built from the very objects the ``generate_content`` surface
passes to ``client.models.generate_content`` (:func:`~harness.calls.surfaces.contents.user_parts`
and :func:`~harness.calls.surfaces.generate.generate_config`), so the SDK serialises it to
the same body, plus the ``model`` key a batch request carries. The responses are read from
the raw JSON of the job (``metadata.output.inlinedResponses``), not from the SDK's parsed
objects, so a cassette stores exactly what the API sent for the item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.calls.targets import API_VERSION, SIM_KEY, Endpoint, api_key_from_env
from harness.errors import ApiError, SetupError

if TYPE_CHECKING:
    from harness.spec.case import Case

CASE_KEY = "x-harness-case"  # the simulator reads these from an item's metadata
SAMPLE_KEY = "x-harness-sample"
ITEM_KEY = "harness-item"
# The job is over in these; only the first two carry results.
WITH_RESULTS = ("JOB_STATE_SUCCEEDED", "JOB_STATE_PARTIALLY_SUCCEEDED")
FINAL = (*WITH_RESULTS, "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED")


@dataclass(frozen=True)
class ItemResult:
    """One item's answer in a finished job: the response JSON, or the error the batch gave."""

    response: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class JobStatus:
    """A job as last polled."""

    name: str
    state: str
    results: dict[str, ItemResult]  # by item key; only once the job has results
    error: str | None = None  # why the job as a whole ended without results

    @property
    def done(self) -> bool:
        """The job will not change any more."""
        return self.state in FINAL


class JobGone(ApiError):
    """The API does not know the job (404): it expired, was deleted, or lived on another server."""


class BatchClient:
    """An SDK client for batch jobs that also keeps the raw JSON of every job it reads."""

    def __init__(self, endpoint: Endpoint) -> None:
        """Make the client.

        Raises:
            SetupError: recording the Gemini API without a key.
        """
        import httpx2
        from google import genai
        from google.genai import types

        key = SIM_KEY if endpoint.target == "sim" else api_key_from_env()
        if key is None:
            raise SetupError("--harness-batch records the Gemini API and needs an API key: "
                             "set GEMINI_API_KEY (or GOOGLE_API_KEY)")
        self._raw: dict[str, Any] = {}

        def keep(response: Any) -> None:
            if response.request.method == "GET":
                response.read()
                self._raw[response.request.url.path] = response.content

        options = types.HttpOptions(
            api_version=API_VERSION, base_url=endpoint.base_url,
            # polls and submissions may retry: they are idempotent or (create) refused whole
            retry_options=types.HttpRetryOptions(attempts=4, initial_delay=1.0, max_delay=20),
            httpx_client=httpx2.Client(event_hooks={"response": [keep]}, timeout=120))
        self.client = genai.Client(vertexai=False, api_key=key, http_options=options)
        self.sim = endpoint.target == "sim"

    def inlined_request(self, case: Case, model: str, sample: int, key: str) -> Any:
        """The item's ``InlinedRequest``: its generate_content request, tagged with its key."""
        from google.genai import types

        from harness.calls.surfaces.contents import user_parts
        from harness.calls.surfaces.generate import generate_config

        metadata = {ITEM_KEY: key}
        if self.sim:
            metadata.update({CASE_KEY: f"{case.suite}/{case.id}", SAMPLE_KEY: str(sample)})
        return types.InlinedRequest(model=model, contents=user_parts(self.client, case,
                                                                     case.conversation[0]),
                                    config=generate_config(case), metadata=metadata)

    @staticmethod
    def request_size(request: Any) -> int:
        """About how many bytes the request adds to the job (the SDK's own serialisation)."""
        return len(request.model_dump_json(exclude_none=True).encode("utf-8"))

    def submit(self, model: str, requests: list[Any], display_name: str) -> str:
        """Create a job; returns its name.

        Raises:
            ApiError: the API refused the job (its message says why).
        """
        from google.genai import errors

        try:
            job = self.client.batches.create(model=model, src=requests,
                                             config={"display_name": display_name})
        except errors.APIError as exc:
            raise ApiError(f"the Batch API refused a job of {len(requests)} requests for "
                           f"{model}: {exc}") from None
        return str(job.name)

    def poll(self, name: str) -> JobStatus:
        """The job's state, and its results once it has them.

        Raises:
            JobGone: the API does not know the job.
            ApiError: the job cannot be read.
        """
        from google.genai import errors

        try:
            job = self.client.batches.get(name=name)
        except errors.APIError as exc:
            if exc.code == 404:
                raise JobGone(f"batch job {name} is not known to the API: {exc}") from None
            raise ApiError(f"cannot read batch job {name}: {exc}") from None
        state = job.state.value if job.state is not None else "JOB_STATE_UNSPECIFIED"
        if state not in FINAL:
            return JobStatus(name, state, {})
        raw = json.loads(self._raw.pop(f"/{API_VERSION}/{name}", b"{}") or b"{}")
        meta = raw.get("metadata") or {}
        inlined = ((meta.get("output") or {}).get("inlinedResponses") or {}).get(
            "inlinedResponses") or []
        results: dict[str, ItemResult] = {}
        for entry in inlined if state in WITH_RESULTS else ():
            key = (entry.get("metadata") or {}).get(ITEM_KEY)
            if key is None:
                continue
            error = entry.get("error")
            response = entry.get("response")
            results[str(key)] = ItemResult(
                response if isinstance(response, dict) and error is None else None,
                None if error is None and isinstance(response, dict)
                else _error_text(error))
        job_error = raw.get("error") or (job.error.model_dump(exclude_none=True)
                                         if job.error is not None else None)
        return JobStatus(name, state, results,
                         None if job_error is None else _error_text(job_error))


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return "no response and no error"
    code, message = error.get("code"), error.get("message") or ""
    status = error.get("status")
    return " ".join(str(p) for p in (code, status) if p) + (f": {message}" if message else "")
