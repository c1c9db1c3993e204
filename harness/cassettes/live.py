"""Frame-level cassettes for the Live API's websocket (``<k>.live.yaml``).

vcrpy cannot see websockets, so the SDK's ``connect`` (``google.genai.live.ws_connect``, named
by a string: this package never imports the SDK) is patched. :func:`recording` wraps the real
connection and stores every frame both ways, in order, as ``{direction, json}`` (``text`` when a
frame is not JSON; ``close`` when the server closed), known secrets scrubbed, written atomically
when the block ends. :func:`replaying` serves the recorded server frames from a fake connection
(no network) and checks each outbound frame against the recorded one: a difference raises
:class:`LiveMismatch` naming the frame index and the JSON path of the first difference.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from harness.cassettes.misses import json_differences
from harness.cassettes.scrub import remember_credential, scrub_uri
from harness.errors import CassetteError
from harness.redact import redact

SDK_CONNECT = "google.genai.live.ws_connect"
FORMAT_VERSION = 1
Frame = dict[str, Any]


class LiveCassetteError(CassetteError):
    """A live cassette cannot serve what the SDK asks (missing, damaged, or ended early)."""


class LiveMismatch(LiveCassetteError):
    """An outbound frame differs from the recorded one.

    Attributes:
        index: The frame's index in the cassette.
        path: The JSON path of the first difference (``$.setup.model``), keys in camelCase.
        differences: Every difference, one ``path: recorded X, now Y`` line each.

    """

    def __init__(self, message: str, index: int, path: str,
                 differences: list[str] | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.path = path
        self.differences = differences or []


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def canonical(value: Any) -> Any:
    """JSON with every object key in camelCase, for comparing frames.

    The SDK writes some keys either way (``client_content`` beside ``turnComplete``,
    snake_case inside ``thinkingConfig``) and the API reads both, so a change of spelling
    between SDK releases is no difference.
    """
    if isinstance(value, dict):
        return {_camel(k) if isinstance(k, str) else k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


# Vertex AI's setup frame names the model as projects/<p>/locations/<l>/publishers/...: the
# project and location are scrubbed from frames as they are from HTTP paths (before storing
# and before comparing).
_VERTEX_SCOPE = re.compile(r"(?<![\w-])projects/[^/\"\s]+/locations/[^/\"\s]+/")


def _frame(direction: str, message: str | bytes) -> Frame:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    text = _VERTEX_SCOPE.sub("projects/PROJECT/locations/LOCATION/", redact(text))
    try:
        return {"direction": direction, "json": json.loads(text)}
    except ValueError:
        return {"direction": direction, "text": text}


def first_difference(want: Any, got: Any, path: str = "$") -> str | None:
    """The JSON path of the first place ``got`` differs from ``want`` (None: equal)."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key in list(want) + [k for k in got if k not in want]:
            if key not in want or key not in got:
                return f"{path}.{key}"
            if (found := first_difference(want[key], got[key], f"{path}.{key}")) is not None:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        for i, (w, g) in enumerate(zip(want, got, strict=False)):
            if (found := first_difference(w, g, f"{path}[{i}]")) is not None:
                return found
        return None if len(want) == len(got) else f"{path}[{min(len(want), len(got))}]"
    return None if type(want) is type(got) and want == got else path


def _payload(frame: Frame) -> Any:
    return frame["json"] if "json" in frame else frame.get("text")


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (code, outputs) as ``|`` blocks: re-records diff line by line."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # PyYAML refuses block style for strings with trailing spaces or tabs: keep those quoted.
    block = "\n" in value and not any(line != line.rstrip() for line in value.splitlines())
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if block else None)


_Dumper.add_representer(str, _str)


def _write(path: Path, uri: str | None, frames: list[Frame],
           metadata: dict[str, Any] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    doc: dict[str, Any] = {"version": FORMAT_VERSION, "uri": uri}
    if metadata:
        doc["harness"] = metadata
    doc["frames"] = frames
    tmp.write_text(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                             width=100), encoding="utf-8")
    os.replace(tmp, path)


def read_frames(path: Path) -> list[Frame]:
    """The frames of a live cassette.

    Raises:
        LiveCassetteError: the file is missing or is not a live cassette.

    """
    return read_cassette(path)[1]


def read_cassette(path: Path) -> tuple[dict[str, Any], list[Frame]]:
    """A live cassette's metadata (``harness``: record-time timing) and its frames.

    Raises:
        LiveCassetteError: the file is missing or is not a live cassette.

    """
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LiveCassetteError(f"cannot read live cassette {path}: {first}") from None
    frames = doc.get("frames") if isinstance(doc, dict) else None
    if not isinstance(frames, list) or not all(
            isinstance(f, dict) and f.get("direction") in ("send", "recv", "close")
            for f in frames):
        raise LiveCassetteError(f"{path} is not a live cassette (version {FORMAT_VERSION}: "
                                "a `frames` list of send/recv/close frames)")
    assert isinstance(doc, dict)
    metadata = doc.get("harness")
    return (dict(metadata) if isinstance(metadata, dict) else {}), frames


def _resolve(target: str) -> tuple[Any, str]:
    module_name, _, attr = target.rpartition(".")
    return importlib.import_module(module_name), attr


class _RecordingSocket:
    """The real connection, every frame noted."""

    def __init__(self, ws: Any, frames: list[Frame]) -> None:
        self._ws = ws
        self._frames = frames

    async def send(self, message: str | bytes) -> None:
        self._frames.append(_frame("send", message))
        await self._ws.send(message)

    async def recv(self, decode: bool | None = None) -> str | bytes:
        try:
            message: str | bytes = await self._ws.recv(decode=decode)
        except ConnectionClosed as exc:
            close = exc.rcvd
            self._frames.append({"direction": "close", "code": close.code if close else 1006,
                                 "reason": redact(close.reason) if close else ""})
            raise
        self._frames.append(_frame("recv", message))
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


class LiveRecording:
    """What :func:`recording` noted: ``uri`` (scrubbed), ``frames`` in order, ``metadata``."""

    def __init__(self) -> None:
        self.uri: str | None = None
        self.frames: list[Frame] = []
        self.metadata: dict[str, Any] = {}


@contextmanager
def recording(path: Path, *, target: str = SDK_CONNECT) -> Iterator[LiveRecording]:
    """Record every Live connection opened in the block into ``path`` (written at the end)."""
    module, attr = _resolve(target)
    real: Callable[..., Any] = getattr(module, attr)
    rec = LiveRecording()

    @asynccontextmanager
    async def connect(uri: str, *args: Any, additional_headers: Any = None,
                      **kwargs: Any) -> AsyncIterator[_RecordingSocket]:
        for name, value in dict(additional_headers or {}).items():
            if name.lower() in ("x-goog-api-key", "authorization"):
                remember_credential(value)
        scheme, sep, _ = uri.partition("://")
        scrubbed = scrub_uri(uri)  # the placeholder host (https), the path kept
        rec.uri = f"{scheme}{sep}{scrubbed.partition('://')[2]}" if sep else scrubbed
        async with real(uri, *args, additional_headers=additional_headers, **kwargs) as ws:
            yield _RecordingSocket(ws, rec.frames)

    try:
        with mock.patch.object(module, attr, connect):
            yield rec
    finally:
        _write(path, rec.uri, rec.frames, rec.metadata)


class _ReplaySocket:
    """A fake connection serving recorded server frames and checking outbound ones."""

    def __init__(self, frames: list[Frame], where: str) -> None:
        self._frames = frames
        self._where = where
        self.position = 0

    def _next(self, wanted: str) -> tuple[int, Frame]:
        index = self.position
        if index >= len(self._frames):
            what = ("waits for a server frame" if wanted == "recv" else "sends a frame")
            raise LiveCassetteError(
                f"{self._where} ends after frame {index - 1}, but the SDK {what}: the recorded "
                "connection closed mid-turn (or the recording is incomplete); re-record it")
        frame = self._frames[index]
        if frame["direction"] == "send" and wanted == "recv":
            raise LiveCassetteError(
                f"{self._where} frame {index}: the SDK waits for a server frame, but the "
                "recording has the client send one here (the SDK sends fewer frames than "
                "were recorded)")
        if frame["direction"] != "send" and wanted == "send":
            raise LiveCassetteError(
                f"{self._where} frame {index}: the SDK sends a frame, but the recording has a "
                f"server {frame['direction']} frame here (the SDK sends more frames than were "
                "recorded)")
        self.position += 1
        return index, frame

    async def send(self, message: str | bytes) -> None:
        index, recorded = self._next("send")
        sent = _frame("send", message)
        want, got = canonical(_payload(recorded)), canonical(_payload(sent))
        if (path := first_difference(want, got)) is not None:
            differences = json_differences(want, got)
            listing = "".join(f"\n    {d}" for d in differences[:8])
            if len(differences) > 8:
                listing += f"\n    ... and {len(differences) - 8} more differences"
            raise LiveMismatch(
                f"{self._where} frame {index}: the outbound frame differs from the recorded "
                f"one at {path}\n  differences (JSON paths):{listing}", index, path,
                differences)

    async def recv(self, decode: bool | None = None) -> str | bytes:
        _, frame = self._next("recv")
        if frame["direction"] == "close":
            code, reason = int(frame.get("code", 1006)), str(frame.get("reason", ""))
            raise ConnectionClosed(Close(code, reason), None)
        text = json.dumps(frame["json"]) if "json" in frame else str(frame.get("text", ""))
        return text.encode("utf-8") if decode is False else text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Nothing to close."""


class LiveReplay:
    """What :func:`replaying` served: ``sockets`` opened, and ``unplayed()`` frames left."""

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames
        self.sockets: list[_ReplaySocket] = []

    def unplayed(self) -> int:
        """Frames the last connection never reached (0 when none was opened)."""
        return len(self.frames) - self.sockets[-1].position if self.sockets else 0


@contextmanager
def replaying(path: Path, *, target: str = SDK_CONNECT,
              frames: list[Frame] | None = None) -> Iterator[LiveReplay]:
    """Serve Live connections opened in the block from ``path``, without the network.

    Args:
        path: The live cassette (named in error messages).
        target: What to patch (the SDK's ``ws_connect``).
        frames: Its frames when already read (:func:`read_cassette`); else read from ``path``.

    Raises:
        LiveCassetteError: the cassette is missing or damaged (on entry), or cannot serve the
            SDK (when the SDK sends or receives).

    """
    module, attr = _resolve(target)
    replay = LiveReplay(read_frames(path) if frames is None else frames)

    @asynccontextmanager
    async def connect(uri: str, *args: Any, **kwargs: Any) -> AsyncIterator[_ReplaySocket]:
        socket = _ReplaySocket(replay.frames, str(path))
        replay.sockets.append(socket)
        yield socket

    with mock.patch.object(module, attr, connect):
        yield replay
