"""``--harness-batch``: record generate_content items through the Gemini Batch API.

Before the items run: gather the items that need recording and can go through a batch,
collect the jobs a previous run left in the jobs file (:mod:`~harness.calls.batch_state`),
submit the rest in chunks under the inline limit, poll until every job is done or the wait
runs out, and write one ordinary cassette per answered item. Each item's setup then replays
its cassette exactly as any replay would (:meth:`BatchOutcome.record_mode`).

A cassette is written by sending the item's request through the SDK inside the same
recording vcrpy makes for a normal call, with a transport that answers it with the batch's
response: the stored request is byte for byte the one the normal path stores, scrubbing and
blobs included, and it carries the normal request fingerprint, so fast and full replay
serve it like any other. Its ``harness:`` block adds ``recorded_via: batch`` and the job.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.calls.batch_state import JobsFile, SavedItem, SavedJob, chunk
from harness.calls.fingerprint import request_fingerprint, sdk_version
from harness.errors import ApiError, HarnessError
from harness.results.provenance import recording_values

if TYPE_CHECKING:
    from pathlib import Path

    from harness.calls.batch_jobs import BatchClient, ItemResult, JobStatus
    from harness.calls.targets import Endpoint
    from harness.spec.case import Case

VIA_KEY, JOB_KEY = "recorded_via", "batch_job"
PROGRESS_EVERY_S = 60.0  # a waiting line at least this often, even if nothing changed


@dataclass(frozen=True)
class BatchOptions:
    """How long to wait, how often to poll, how large a job may be."""

    wait_s: float = 1800.0
    poll_s: float = 30.0
    max_items: int | None = None


@dataclass
class BatchOutcome:
    """What the batch did for each item, by node id (items not here record normally)."""

    written: set[str] = field(default_factory=set)
    errors: dict[str, HarnessError] = field(default_factory=dict)

    def record_mode(self, nodeid: str, record_mode: str) -> str:
        """The record mode the item runs with: ``none`` (replay) once its cassette is written.

        Raises:
            HarnessError: the batch failed the item, or its job is still running.
        """
        if nodeid in self.errors:
            raise self.errors[nodeid]
        return "none" if nodeid in self.written else record_mode


def fallback_reason(case: Case, target: str) -> str | None:
    """Why a case records normally under ``--harness-batch`` (None: it can go in a batch)."""
    if target == "vertex":
        return "Vertex AI takes no inlined batch requests"
    if case.api != "generate_content":
        return {"stream": "streaming", "chat": "chat", "interactions": "interactions",
                "live": "Live API"}.get(case.api, case.api)
    if case.functions:
        return "function loop"
    if any(f.upload for t in case.conversation for f in t.inputs):
        return "Files API inputs"
    return None


def needs_recording(record_mode: str, cassette: Path) -> bool:
    """Whether the record mode records this item at all (``once``: only a missing cassette)."""
    if record_mode == "none":
        return False
    return record_mode in ("rewrite", "all") or not cassette.exists()


@dataclass
class _Item:
    node: Any  # the EvalItem (case, model, sample, cassette, nodeid, rerecord_command())
    key: str
    fingerprint: str


def item_key(target: str, case: Case, model: str, sample: int) -> str:
    """An item's key in jobs and in the jobs file."""
    return f"{target}/{case.suite}/{case.id}/{model}/{sample}"


def record_session(runtime: Any, nodes: Sequence[Any], say: Callable[[str], None], *,
                   wait_s: float, poll_s: float) -> BatchOutcome:
    """:func:`record_batch` for a pytest session's runtime (``harness.collect.Runtime``)."""
    settings = runtime.settings
    if runtime.record_mode == "none" or not nodes:
        say("batch: nothing to record (--record-mode=none replays); --harness-batch records "
            "with --record-mode=once or rewrite")
        return BatchOutcome()
    endpoint = runtime.endpoint(False)
    return record_batch(nodes, endpoint=endpoint, record_mode=runtime.record_mode,
                        report_dir=settings.report_dir, vcr=runtime.vcr,
                        cassette_root=settings.cassette_dir,
                        options=BatchOptions(wait_s=wait_s, poll_s=poll_s), say=say)


def record_batch(nodes: Sequence[Any], *, endpoint: Endpoint, record_mode: str,
                 report_dir: Path, vcr: Any, cassette_root: Path, options: BatchOptions,
                 say: Callable[[str], None],
                 sleep: Callable[[float], None] = time.sleep) -> BatchOutcome:
    """Record the eligible items through batch jobs (see the module docstring).

    Args:
        nodes: The session's eval items.
        endpoint: Where recording calls go.
        record_mode: ``--record-mode``.
        report_dir: Where the jobs file lives.
        vcr: The session's VCR (cassettes are written with it).
        cassette_root: ``cassette_dir`` (prepared as a normal recording prepares it).
        options: Wait, poll interval, job size.
        say: Writes one line to the terminal.
        sleep: Waits between polls (tests pass a fake).
    """
    from harness.calls.batch_jobs import BatchClient

    outcome = BatchOutcome()
    fallback: Counter[str] = Counter()
    items: list[_Item] = []
    for node in nodes:
        if not needs_recording(record_mode, node.cassette):
            continue
        reason = fallback_reason(node.case, endpoint.target)
        if reason is not None:
            fallback[reason] += 1
            continue
        items.append(_Item(node, item_key(endpoint.target, node.case, node.model, node.sample),
                           request_fingerprint(node.case, node.model, endpoint)))
    if fallback:
        say("batch: " + ", ".join(f"{n} {why}" for why, n in sorted(fallback.items()))
            + " item(s) record normally (the Batch API takes generate_content requests only)")
    if not items:
        return outcome
    try:
        client = BatchClient(endpoint)
        jobs = JobsFile.load(report_dir)
    except HarnessError as exc:
        outcome.errors.update({i.node.nodeid: exc for i in items})
        return outcome
    by_key = {i.key: i for i in items}
    claimed, stale = jobs.claim({i.key: SavedItem(i.fingerprint, str(i.node.cassette))
                                 for i in items}, endpoint.target)
    for name in stale:
        say(f"batch: saved job {name} answers no item that still needs it: dropped from "
            f"{jobs.path.name}")
        jobs.remove(name)
    if claimed:
        say(f"batch: collecting {sum(map(len, claimed.values()))} item(s) from "
            f"{len(claimed)} job(s) saved in {jobs.path} by an earlier run")
    waiting = {name: [by_key[k] for k in keys] for name, keys in claimed.items()}
    fresh = [i for i in items if not any(i in v for v in waiting.values())]
    try:
        waiting.update(_submit(client, jobs, fresh, endpoint.target, options, say, outcome))
    except HarnessError as exc:
        outcome.errors.update({i.node.nodeid: exc for i in fresh
                               if i.node.nodeid not in outcome.errors})
    def resubmit(part: list[_Item]) -> dict[str, list[_Item]]:
        return _submit(client, jobs, part, endpoint.target, options, say, outcome)

    _wait(client, jobs, waiting, options, say, sleep, outcome,
          _Writer(vcr, endpoint, cassette_root), resubmit)
    return outcome


def _submit(client: BatchClient, jobs: JobsFile, items: list[_Item], target: str,
            options: BatchOptions, say: Callable[[str], None],
            outcome: BatchOutcome) -> dict[str, list[_Item]]:
    """Submit the items, one model's chunks at a time; each job is saved once created."""
    submitted: dict[str, list[_Item]] = {}
    models = sorted({i.node.model for i in items})
    for model in models:
        mine = [i for i in items if i.node.model == model]
        requests = {i.key: client.inlined_request(i.node.case, model, i.node.sample, i.key)
                    for i in mine}
        chunks, too_large = chunk(mine, [client.request_size(requests[i.key]) for i in mine],
                                  max_items=options.max_items)
        for i in too_large:  # over the inline limit alone: the normal path records it
            say(f"batch: {i.node.nodeid} is larger than a batch's inline limit: it records "
                "normally")
        for n, part in enumerate(chunks, 1):
            name = client.submit(model, [requests[i.key] for i in part],
                                 f"harness {model} {n}/{len(chunks)}")
            jobs.add(SavedJob(name=name, model=model, target=target,
                              submitted=datetime.now(UTC).isoformat(timespec="seconds"),
                              items={i.key: SavedItem(i.fingerprint, str(i.node.cassette))
                                     for i in part}))
            submitted[name] = part
            say(f"batch: submitted {name}: {len(part)} {model} request(s) "
                f"(job {n} of {len(chunks)}, saved in {jobs.path})")
    return submitted


def _wait(client: BatchClient, jobs: JobsFile, waiting: dict[str, list[_Item]],
          options: BatchOptions, say: Callable[[str], None], sleep: Callable[[float], None],
          outcome: BatchOutcome, writer: _Writer,
          resubmit: Callable[[list[_Item]], dict[str, list[_Item]]]) -> None:
    """Poll until every job is done or the wait is over; write what finished."""
    from harness.calls.batch_jobs import JobGone

    start = time.monotonic()
    last: dict[str, str] = {}
    shown, shown_at = "", 0.0
    while waiting:
        for name in list(waiting):
            try:
                status = client.poll(name)
            except JobGone:
                part = waiting.pop(name)
                jobs.remove(name)
                say(f"batch: job {name} is not known to the API (expired, deleted, or "
                    f"submitted to another server): its {len(part)} item(s) are submitted "
                    "again")
                try:
                    waiting.update(resubmit(part))
                except HarnessError as exc:
                    outcome.errors.update({i.node.nodeid: exc for i in part})
                continue
            except ApiError as exc:
                for i in waiting.pop(name):
                    outcome.errors[i.node.nodeid] = ApiError(
                        f"{exc}\nThe job stays in {jobs.path} for the next run with "
                        "--harness-batch; delete its entry there to submit its items again.")
                continue
            last[name] = status.state
            if status.done:
                _collect(status, waiting.pop(name), outcome, writer)
                jobs.remove(name)
        elapsed = time.monotonic() - start
        total = sum(map(len, waiting.values()))
        if not waiting:
            break
        if elapsed >= options.wait_s:
            for name, part in waiting.items():
                for i in part:
                    outcome.errors[i.node.nodeid] = ApiError(
                        f"batch job {name} is still {last.get(name, 'pending')} after "
                        f"{elapsed:.0f} s (--harness-batch-wait {options.wait_s:g}); the job "
                        f"is saved in {jobs.path}, and the next run collects it instead of "
                        f"submitting again: {i.node.rerecord_command().split(' (')[0]}"
                        " --harness-batch (or the same command with --record-mode=once)")
            say(f"batch: stopped waiting after {elapsed:.0f} s with {total} item(s) in "
                f"{len(waiting)} job(s) still running; run again with --harness-batch to "
                "collect them")
            break
        states = Counter(last.get(n, "JOB_STATE_PENDING") for n in waiting)
        line = (f"batch: {len(waiting)} job(s), {total} item(s) waiting ("
                + ", ".join(f"{n} {s.removeprefix('JOB_STATE_').lower()}"
                            for s, n in sorted(states.items())) + ")")
        if line != shown or elapsed - shown_at >= PROGRESS_EVERY_S:  # news, or a heartbeat
            say(f"{line}; {elapsed:.0f} s of up to {options.wait_s:g} s")
            shown, shown_at = line, elapsed
        sleep(min(options.poll_s, max(options.wait_s - elapsed, 0.0)))


def _collect(status: JobStatus, part: list[_Item], outcome: BatchOutcome,
             writer: _Writer) -> None:
    """Write the cassettes of a finished job's answered items; the rest are ERRORs."""
    state = status.state.removeprefix("JOB_STATE_")
    for i in part:
        result = status.results.get(i.key)
        if result is not None and result.response is not None:
            try:
                writer.write(i, result, status.name)
            except HarnessError as exc:
                outcome.errors[i.node.nodeid] = exc
                continue
            outcome.written.add(i.node.nodeid)
            continue
        why = (result.error if result is not None and result.error
               else status.error or "no result for this item")
        outcome.errors[i.node.nodeid] = ApiError(
            f"batch job {status.name} ended {state} without a response for this item "
            f"({why}). To record it again: {i.node.rerecord_command()} (add --harness-batch "
            "to send it in a new batch)")


class _Writer:
    """Writes an item's cassette: its request through the SDK, answered with the batch's JSON."""

    def __init__(self, vcr: Any, endpoint: Endpoint, root: Path) -> None:
        self.vcr, self.endpoint, self.root = vcr, endpoint, root
        self.response: bytes = b""
        self.client: Any = None

    def _client(self) -> Any:
        if self.client is None:
            import httpx2
            from google import genai
            from google.genai import types

            from harness.calls.targets import API_VERSION, REPLAY_BASE_URL

            def answer(request: Any) -> Any:
                return httpx2.Response(200, content=self.response,
                                       headers={"content-type": "application/json; "
                                                                "charset=UTF-8"})

            self.client = genai.Client(vertexai=False, api_key="batch", http_options=(
                types.HttpOptions(api_version=API_VERSION, base_url=REPLAY_BASE_URL,
                                  retry_options=types.HttpRetryOptions(attempts=1),
                                  httpx_client=httpx2.Client(
                                      transport=httpx2.MockTransport(answer)))))
        return self.client

    def write(self, item: _Item, result: ItemResult, job: str) -> None:
        """Record the item's exchange into its cassette (replaced only if all went well)."""
        from harness.calls.surfaces.registry import surface_for
        from harness.cassettes.recording import use_cassette

        node = item.node
        self.response = json.dumps(result.response, indent=2, ensure_ascii=False).encode()
        try:
            with use_cassette(self.vcr, node.cassette, "rewrite", node.rerecord_command(),
                              root=self.root) as rec:
                transcript, _ = surface_for(node.case).call(self._client(), node.case,
                                                            node.model, None)
                rec.store_fingerprint(item.fingerprint, sdk_version())
                rec.meta.update({VIA_KEY: "batch", JOB_KEY: job})
                rec.store_provenance(recording_values(self.endpoint.target,
                                                      transcript.model_version))
        except HarnessError:
            raise
        except Exception as exc:  # the SDK cannot read what the batch sent: nothing is kept
            raise ApiError(f"batch job {job} answered this item with a response the SDK "
                           f"cannot read ({type(exc).__name__}: {exc}). To record it again: "
                           f"{node.rerecord_command()}") from None
