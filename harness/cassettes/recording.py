"""Cassettes: where they live, how they are recorded safely, matched, scrubbed and missed.

Decisions this module implements (DESIGN.md): one cassette per item; match on upper-cased
method, path, query and JSON body (never host/port); secrets, Vertex project/location and
hosts are scrubbed before recording *and* before matching; only 2xx exchanges are stored;
recording goes to a temporary file that replaces the old cassette only when the call
succeeded; replay refuses every socket.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.errors import CassetteError
from harness.paths import display_path

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
SECRET_REQUEST_HEADERS = frozenset({
    "x-goog-api-key", "authorization", "x-goog-user-project", "cookie",
    # Vary by machine and SDK version: stored they only make re-records noisy.
    "user-agent", "x-goog-api-client", "host", "content-length", "accept-encoding", "connection",
})
# Headers the harness itself sends (case id, sample) to backends that want them: never stored.
HARNESS_HEADER_PREFIX = "x-harness-"
KEPT_RESPONSE_HEADERS = frozenset({"content-type", "x-goog-upload-status", "x-goog-upload-url"})
PLACEHOLDER_HOST = "https://gemini.api.invalid"
SECRET_QUERY_PARAMS = frozenset({"key", "upload_id"})
_VERTEX_SCOPE = re.compile(r"/projects/[^/]+/locations/[^/]+/")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
METADATA_KEY = "harness"


def safe_name(name: str) -> str:
    """Make a model (or other) name usable as one path component."""
    cleaned = _SAFE.sub("_", name).strip(".")
    return cleaned or "_"


def cassette_path(root: Path, target: str, suite: str, case_id: str, model: str,
                  sample: int) -> Path:
    """``<root>/<target>/<suite>/<case>/<model>/<k>.yaml`` with k from 1."""
    return root / target / safe_name(suite) / case_id / safe_name(model) / f"{sample}.yaml"


def scrub_uri(uri: str) -> str:
    """Replace the host, drop secret query values and the Vertex project/location."""
    parts = urlsplit(uri)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k not in SECRET_QUERY_PARAMS])
    path = _VERTEX_SCOPE.sub("/projects/PROJECT/locations/LOCATION/", parts.path)
    base = urlsplit(PLACEHOLDER_HOST)
    return urlunsplit((base.scheme, base.netloc, path, query, ""))


def before_record_request(request: Any) -> Any:
    """Normalise a vcrpy request for storing and for matching (vcrpy applies it to both)."""
    request.method = request.method.upper()  # aiohttp records 'post', httpx2 'POST'
    for name in list(request.headers):
        low = name.lower()
        if low in SECRET_REQUEST_HEADERS or low.startswith(HARNESS_HEADER_PREFIX):
            del request.headers[name]
    request.uri = scrub_uri(request.uri)
    return request


def before_record_response(response: dict[str, Any]) -> dict[str, Any] | None:
    """Keep only 2xx exchanges, with a small allow-list of response headers."""
    status = response.get("status", {}).get("code", 0)
    if not 200 <= int(status) < 300:
        return None  # a 429 or 5xx must never become the recording
    headers = {}
    for name, values in response.get("headers", {}).items():
        if name.lower() not in KEPT_RESPONSE_HEADERS:
            continue
        if name.lower() == "x-goog-upload-url":
            values = [scrub_uri(v) for v in values]
        headers[name] = values
    response["headers"] = headers
    return response


def make_vcr(pytestconfig: Any | None = None) -> Any:
    """A vcrpy VCR configured as above; pytest-recording's configure hook may adjust it."""
    import vcr

    from harness import blobs

    my_vcr = vcr.VCR(
        match_on=("method", "path", "query", "body"),
        before_record_request=before_record_request,
        before_record_response=before_record_response,
        decode_compressed_response=True,
        # Figures and other large base64 payloads are stored once, in <target>/_blobs/.
        before_save_interaction=blobs.before_save,
        after_load_interaction=blobs.after_load,
    )
    if pytestconfig is not None and hasattr(pytestconfig.hook, "pytest_recording_configure"):
        pytestconfig.hook.pytest_recording_configure(config=pytestconfig, vcr=my_vcr)
    return my_vcr


@dataclass
class Recording:
    """The cassette of one item while its call runs."""

    cassette: Any
    path: Path
    replaying: bool

    def mark(self) -> int:
        """A point to roll back to if the next attempt fails (see :meth:`rollback`)."""
        return len(self.cassette.data)

    def rollback(self, mark: int) -> None:
        """Forget exchanges recorded since ``mark`` (a 2xx that still failed, e.g. a cut stream)."""
        if not self.replaying:
            del self.cassette.data[mark:]

    def store_timing(self, timing: dict[str, float | None]) -> None:
        """Keep record-time latency in the cassette (replay reports it; replay is instant)."""
        if not self.replaying:
            self.cassette._metadata[METADATA_KEY] = timing  # vcrpy persists `metadata`
            self.cassette.dirty = True

    def stored_timing(self) -> dict[str, float | None]:
        """Timing stored when the cassette was recorded ({} for older cassettes)."""
        value = self.cassette._metadata.get(METADATA_KEY, {})
        return dict(value) if isinstance(value, dict) else {}


@contextmanager
def use_cassette(my_vcr: Any, path: Path, record_mode: str,
                 rerecord_hint: str) -> Iterator[Recording]:
    """Open the item's cassette for replay or for a safe recording.

    Args:
        my_vcr: From :func:`make_vcr`.
        path: The final cassette path.
        record_mode: pytest-recording's ``--record-mode`` value.
        rerecord_hint: The command that records this item (for error messages).

    Raises:
        CassetteError: replaying without a cassette, or a request that matches nothing.

    """
    import vcr.errors

    replaying = record_mode == "none" or (record_mode == "once" and path.exists())
    if replaying:
        if not path.exists():
            raise CassetteError(
                f"no cassette for this item: {display_path(path)} does not exist.\n"
                f"To record it (needs GEMINI_API_KEY): {rerecord_hint}")
        from pytest_recording.network import blocking_context

        from harness import replay

        try:
            cas = replay.load_cassette(my_vcr, path)
        except CassetteError:
            raise
        except Exception as exc:  # YAML errors and the like: the file, not the model
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CassetteError(f"{display_path(path)} is not a readable cassette ({first}).\n"
                                f"To record it again: {rerecord_hint}") from None
        if not cas.data:  # vcrpy treats an unreadable file as empty: say so plainly
            raise CassetteError(f"{display_path(path)} holds no recorded exchanges (it is empty or "
                                f"not a readable cassette).\nTo record it again: {rerecord_hint}")
        replay.TRANSPORT.cassette = cas
        try:
            with blocking_context(allowed_hosts=None):
                yield Recording(cas, path, replaying=True)
        except vcr.errors.CannotOverwriteExistingCassetteException as exc:
            raise CassetteError(describe_miss(exc, path, rerecord_hint)) from None
        finally:
            replay.TRANSPORT.cassette = None
        return

    tmp = path.with_name(f".{path.stem}.recording-{os.getpid()}.yaml")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    if record_mode in ("new_episodes", "all") and path.exists():
        shutil.copyfile(path, tmp)
    vcr_mode = "all" if record_mode == "all" else "new_episodes"
    try:
        with my_vcr.use_cassette(str(tmp), record_mode=vcr_mode) as cas:
            yield Recording(cas, path, replaying=False)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed re-record must not touch the good cassette
        raise
    if tmp.exists():
        os.replace(tmp, path)


def describe_miss(exc: Any, path: Path, rerecord_hint: str) -> str:
    """A vcrpy miss as a message that says which part of the request differs."""
    req = exc.failed_request
    lines = [f"request not in cassette {display_path(path)}:",
             f"  {req.method} {urlsplit(req.uri).path}"]
    if exc.reason == "already_played":
        lines.append("  every matching recorded request was already used: this item now makes "
                     "more requests than when it was recorded")
    elif exc.similar_requests:
        stored, _ok, failed = exc.similar_requests[0]
        for matcher, _message in failed:
            if matcher == "body":
                diffs = json_differences(_body_json(stored.body), _body_json(req.body))
                lines.append("  the request body differs from the recording:")
                lines.extend(f"    {d}" for d in diffs[:8])
                if len(diffs) > 8:
                    lines.append(f"    ... and {len(diffs) - 8} more differences")
            else:
                lines.append(f"  {matcher} differs: recorded {getattr(stored, matcher, '?')!r}, "
                             f"now {getattr(req, matcher, '?')!r}")
    else:
        lines.append("  nothing recorded in this cassette resembles it (other endpoint or API)")
    lines.append(f"The eval changed since it was recorded. To re-record: {rerecord_hint}")
    return "\n".join(lines)


def _body_json(body: Any) -> Any:
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return body


def json_differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Paths where two JSON values differ, each as ``path: recorded X, now Y``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{where}.{key}" if where else str(key)
            if key not in new:
                out.append(f"{sub}: recorded {_show(old[key])}, now absent")
            elif key not in old:
                out.append(f"{sub}: absent when recorded, now {_show(new[key])}")
            else:
                out.extend(json_differences(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            sub = f"{where}[{i}]"
            if i >= len(new):
                out.append(f"{sub}: recorded {_show(old[i])}, now absent")
            elif i >= len(old):
                out.append(f"{sub}: absent when recorded, now {_show(new[i])}")
            else:
                out.extend(json_differences(old[i], new[i], sub))
        return out
    if old != new:
        return [f"{where or '(body)'}: recorded {_show(old)}, now {_show(new)}"]
    return []


def _show(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."
