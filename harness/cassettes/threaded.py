"""Recording several items at once in one process: a cassette per thread, no vcrpy patching.

vcrpy's ``use_cassette`` patches ``httpx2.HTTPTransport.handle_request`` for the whole
process, so two items recorded at the same time would write into whichever cassette was
opened last. Concurrent recording instead patches that method once (:func:`install`) with a
dispatcher that sends each request to the cassette bound to the calling thread
(:func:`record_cassette`), through vcrpy's own httpx stub: the exchanges are serialized and
filtered exactly as a patched recording would store them. The SDK's sync client makes each
request in the thread that called it, so a thread's binding covers every request of its item
(turns, hops, uploads). A thread with no binding falls through to the real transport.

Before sending, the binding's ``gate`` is called (the shared rate limit), and after the
response ``settle`` sees its status, headers and body (429 pauses, token counts).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cassettes.recording import (
    Recording,
    append_meta,
    keep_unchanged_date,
    temp_cassette,
)

_local = threading.local()
_installed: list[Any] = []  # the method the dispatcher replaced (empty: not installed)
_lock = threading.Lock()


@dataclass
class Binding:
    """What a recording thread's requests go through.

    Attributes:
        cassette: The item's vcrpy Cassette (a temporary file until the item succeeds).
        gate: Called with the request (method, path, body) before it is sent; may wait.
        settle: Called with (status, headers, body) of each response the network gave.
        stopped: Set when the session ends: requests not yet sent raise instead.
    """

    cassette: Any
    gate: Callable[[str, str, bytes], None] | None = None
    settle: Callable[[int, Any, bytes], None] | None = None
    stopped: threading.Event | None = None


class RecordingStopped(Exception):
    """The session is ending: a concurrent recording's next request is not sent."""


def install() -> None:
    """Patch ``httpx2.HTTPTransport.handle_request`` with the per-thread dispatcher (once)."""
    import httpx2
    from vcr.patch import _Httpx2HttpTransport_handle_request as original
    from vcr.stubs.httpx_stubs import _vcr_handle_request

    with _lock:
        if _installed:
            return
        previous = httpx2.HTTPTransport.handle_request

        def gated(binding: Binding) -> Callable[[Any, Any], Any]:
            def send(transport: Any, request: Any) -> Any:
                if binding.stopped is not None and binding.stopped.is_set():
                    raise RecordingStopped("the session is ending")
                if binding.gate is not None:
                    body = b"".join(request.stream)  # vcrpy made it a re-readable ByteStream
                    binding.gate(request.method, request.url.path, body)
                response = original(transport, request)
                if binding.settle is not None:
                    stream = response.stream
                    try:
                        content = b"".join(stream)
                    finally:
                        # Back to the pool: once the stream is swapped below, vcrpy closes
                        # the copy, and a shared client ran out of connections (a hang).
                        stream.close()
                    response.stream = httpx2.ByteStream(content)
                    binding.settle(response.status_code, response.headers, content)
                return response
            return send

        def dispatch(transport: Any, request: Any) -> Any:
            binding: Binding | None = getattr(_local, "binding", None)
            if binding is None:
                return previous(transport, request)
            return _vcr_handle_request(binding.cassette, gated(binding), transport, request,
                                       httpx2)

        httpx2.HTTPTransport.handle_request = dispatch  # type: ignore[method-assign,assignment]
        _installed.append(previous)


def uninstall() -> None:
    """Put the real method back (the session's end)."""
    import httpx2

    with _lock:
        if _installed:
            httpx2.HTTPTransport.handle_request = _installed.pop()  # type: ignore[method-assign]


def _load(my_vcr: Any, tmp: Path, vcr_mode: str) -> Any:
    from vcr.cassette import Cassette

    from harness.cassettes.replay import _NON_CASSETTE_ARGS

    config = my_vcr.get_merged_config(path=str(tmp), record_mode=vcr_mode)
    transform = config.get("path_transformer")
    kwargs = {k: v for k, v in config.items() if k not in _NON_CASSETTE_ARGS}
    if transform is not None:
        kwargs["path"] = transform(kwargs["path"])
    return Cassette.load(**kwargs)


@contextmanager
def record_cassette(my_vcr: Any, path: Path, record_mode: str, *, root: Path | None = None,
                    gate: Callable[[str, str, bytes], None] | None = None,
                    settle: Callable[[int, Any, bytes], None] | None = None,
                    stopped: threading.Event | None = None) -> Iterator[Recording]:
    """Record the calling thread's requests into the item's cassette (see the module docstring).

    The same lifecycle as :func:`harness.cassettes.recording.use_cassette` when recording:
    a temporary file beside the cassette, only 2xx exchanges kept, and the old cassette
    replaced (``os.replace``, atomic) only when the block ends without an exception.
    """
    install()
    tmp = temp_cassette(path, record_mode, root)
    cas = _load(my_vcr, tmp, "all" if record_mode == "all" else "new_episodes")
    rec = Recording(cas, path, replaying=False)
    _local.binding = Binding(cas, gate, settle, stopped)
    try:
        yield rec
        cas._save()
        if tmp.exists() and rec.meta:
            keep_unchanged_date(tmp, path, rec.meta)
            append_meta(tmp, rec.meta)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed re-record must not touch the good cassette
        raise
    finally:
        _local.binding = None
    if tmp.exists():
        os.replace(tmp, path)
