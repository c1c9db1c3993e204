"""Run one case against one model: the call loop, with the retry policy, inside an open cassette.

The loop is the same for every API surface (:mod:`harness.calls.surfaces`): build the client
for the endpoint, call, classify a failure, roll the cassette back to before the failed
attempt, back off, and try again; in replay the stored record-time timing replaces the
instant replay timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.calls.credentials import auth_failure
from harness.calls.fingerprint import request_fingerprint, sdk_version
from harness.calls.retry import (
    RETRYABLE_STATUS,
    backoff,
    classify,
    describe_api_error,
    unreadable,
)
from harness.calls.surfaces.registry import surface_for
from harness.calls.targets import Endpoint, make_client
from harness.errors import ApiError
from harness.results.provenance import recording_values

if TYPE_CHECKING:
    from pathlib import Path

    from harness.cassettes.live_item import LiveCassette
    from harness.cassettes.recording import Recording
    from harness.config import RetrySettings
    from harness.spec.case import Case
    from harness.transcript.values import Transcript


# The HTTP surfaces, whose vcrpy cassettes the direct reader understands (not Live frames).
DIRECT_APIS = ("generate_content", "stream", "chat", "interactions")


def replay_recorded(case: Case, model: str, endpoint: Endpoint,
                    path: Path) -> tuple[Transcript, dict[str, Any]] | None:
    """The item's transcript read straight from its cassette, when that is exact.

    That is when the cassette's stored request fingerprint equals the case's now
    (:mod:`harness.calls.fingerprint`): the SDK would send the recorded requests and get the
    recorded responses. Function-calling cases take the full path: their transcript holds
    the harness's judgement of each call, which only the loop makes.

    Returns:
        The transcript with its record-time timing and the cassette's ``harness:`` mapping
        (its provenance), or None: replay through the SDK.
    """
    if case.functions or case.api not in DIRECT_APIS:
        return None
    from harness.cassettes.fast import recorded_transcript

    found = recorded_transcript(path, request_fingerprint(case, model, endpoint))
    return None if found is None else (_replayed_turns(found[0]), found[1])


def why_not_direct(cassette: Path) -> str:
    """Why a replay took the SDK path although its case could have been read directly."""
    from harness.cassettes.recording import FINGERPRINT_KEY, SDK_KEY, stored_meta

    meta = stored_meta(cassette)
    if FINGERPRINT_KEY not in meta:
        return "recorded before request fingerprints"
    recorded, installed = meta.get(SDK_KEY), sdk_version()
    if recorded != installed:
        return f"recorded with google-genai {recorded}, {installed} installed"
    return "the case or the harness's request code changed since recording"


def _replayed_turns(transcript: Transcript) -> Transcript:
    """Turns carry no timing in replay: only the item's record-time total is stored."""
    if not transcript.turns:
        return transcript
    return replace(transcript, turns=tuple(replace(t, latency_s=None, ttft_s=None)
                                           for t in transcript.turns))


def run_case(case: Case, model: str, *, endpoint: Endpoint, recording: Recording | LiveCassette,
             retry: RetrySettings, sample: int = 1,
             sleep: Callable[[float], None] = time.sleep,
             on_retry: Callable[[str], None] | None = None) -> Transcript:
    """Drive the case's API surface through the SDK inside an open cassette.

    In replay the stored record-time timing replaces the (instant) replay timing.

    Args:
        case: The case to run.
        model: The model name.
        endpoint: Where calls go.
        recording: The item's open cassette (HTTP exchanges, or Live frames).
        retry: The retry policy (recording only; replay makes one attempt).
        sample: The sample number (the simulator's case headers carry it).
        sleep: Waits between attempts (tests pass a fake).
        on_retry: Called with one line per retried call (what failed, the wait, the attempt).

    Raises:
        ApiError: the call failed after the retry policy gave up (or at once when replaying).
        SetupError: the target or the case cannot be called as configured.
    """
    client = make_client(endpoint)
    surface = surface_for(case)
    attempts = 1 if recording.replaying else retry.attempts
    for attempt in range(1, attempts + 1):
        mark = recording.mark()
        headers = None
        if endpoint.sends_case_headers:
            headers = {"x-harness-case": f"{case.suite}/{case.id}",
                       "x-harness-sample": str(sample), "x-harness-attempt": str(attempt)}
        try:
            result, timing = surface.call(client, case, model, headers)
        except Exception as exc:
            expired_login = auth_failure(exc)
            if expired_login is not None:
                raise expired_login from None  # the user's setup, not the API: no retries
            failure: BaseException = unreadable(exc, recording.last_response(mark)) or exc
            status, retry_after = classify(failure)
            if status is None:
                raise  # not an API/transport failure: cassette misses and bugs pass through
            if status not in RETRYABLE_STATUS or attempt == attempts:
                raise ApiError(describe_api_error(failure, status, case, model, attempt,
                                                  endpoint)) from None
            recording.rollback(mark)  # nothing of a failed attempt may end up in the cassette
            wait = backoff(retry, attempt, retry_after)
            if on_retry is not None:
                on_retry(f"{case.suite}/{case.id} [{model}#{sample}]: status {status} on attempt "
                         f"{attempt} of {attempts}; retrying in {wait:.1f} s")
            sleep(wait)
            continue
        if recording.replaying:
            stored = recording.stored_timing()
            return _replayed_turns(replace(result, latency_s=stored.get("latency_s"),
                                           ttft_s=stored.get("ttft_s")))
        recording.store_fingerprint(request_fingerprint(case, model, endpoint), sdk_version())
        recording.store_provenance(recording_values(endpoint.target, result.model_version))
        if endpoint.target == "sim":
            # A local simulator's timing says nothing about a model, and storing it would
            # make re-records of unchanged cases differ: simulated runs carry no latency.
            return replace(result, latency_s=None, ttft_s=None)
        # vcrpy reads a streamed body to its end before the SDK sees the first chunk, so a
        # time to first chunk measured here would only repeat the latency: store none.
        recording.store_timing({"latency_s": round(timing.latency_s, 3), "ttft_s": None})
        return replace(result, latency_s=timing.latency_s, ttft_s=None)
    raise AssertionError("unreachable")  # pragma: no cover
