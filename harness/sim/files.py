"""The Files API: the resumable upload pair and ``GET files/<id>`` (SDK-FACTS.md section 7).

1. ``POST /upload/{ver}/files`` with ``X-Goog-Upload-Command: start`` and the file's metadata
   -> ``X-Goog-Upload-URL`` (where to send the bytes) and ``X-Goog-Upload-Status: active``.
2. ``POST`` to that URL with ``X-Goog-Upload-Command: upload, finalize`` and the bytes
   -> ``X-Goog-Upload-Status: final`` and ``{"file": {...}}``. This request carries no API key:
   the upload id is the credential. Chunks without ``finalize`` are appended.

Upload ids, file ids and times derive from the metadata and content, so a re-upload of the
same file gets the same answers (recordings stay byte-identical).
"""

from __future__ import annotations

import base64
import hashlib
import json

from starlette.requests import Request
from starlette.responses import Response

from harness.sim import det
from harness.sim.errors import api_error, auth_error, json_response
from harness.sim.state import FILE_URI_BASE, PendingUpload, SimState, StoredFile


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


async def upload(request: Request) -> Response:
    """Both requests of the upload pair (told apart by the ``upload_id`` query parameter)."""
    state = _state(request)
    ver = request.path_params["ver"]
    upload_id = request.query_params.get("upload_id")
    command = request.headers.get("x-goog-upload-command", "").lower()
    raw = await request.body()
    if upload_id is None:
        if (err := auth_error(request, vertex=False)) is not None:
            return err
        if "start" not in command:
            return api_error(400, "INVALID_ARGUMENT", "Resumable uploads need "
                             "X-Goog-Upload-Command: start first.")
        try:
            meta = (json.loads(raw) if raw.strip() else {}).get("file") or {}
        except (ValueError, AttributeError):
            return api_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        mime = (meta.get("mime_type") or meta.get("mimeType")
                or request.headers.get("x-goog-upload-header-content-type")
                or "application/octet-stream")
        name = meta.get("display_name") or meta.get("displayName")
        new_id = "sim-" + det.token("upload", raw, mime, length=32)
        state.uploads[new_id] = PendingUpload(name, mime)
        url = f"{str(request.base_url).rstrip('/')}/upload/{ver}/files?upload_id={new_id}" \
              "&upload_protocol=resumable"
        return Response(b"", headers={"X-Goog-Upload-URL": url,
                                      "X-Goog-Upload-Status": "active",
                                      "X-Goog-Upload-Chunk-Granularity": "8388608"})
    pending = state.uploads.get(upload_id)
    if pending is None:
        return api_error(404, "NOT_FOUND", f"Upload session {upload_id!r} not found "
                         "(uploads live as long as the simulator that started them).")
    if "upload" in command:
        pending.data.extend(raw)
    if "finalize" not in command:
        return Response(b"", headers={"X-Goog-Upload-Status": "active"})
    del state.uploads[upload_id]
    data = bytes(pending.data)
    stored = _store(state, ver, pending, data)
    return json_response({"file": stored.resource},
                         headers={"X-Goog-Upload-Status": "final"})


def _store(state: SimState, ver: str, pending: PendingUpload, data: bytes) -> StoredFile:
    sha = hashlib.sha256(data).hexdigest()
    file_id = det.short_id("file", sha, pending.mime_type, pending.display_name, length=12)
    created = det.timestamp("file", sha)
    resource = {
        "name": f"files/{file_id}", "mimeType": pending.mime_type, "sizeBytes": str(len(data)),
        "createTime": created, "updateTime": created,
        "expirationTime": det.timestamp("file", sha, offset_s=48 * 3600),
        "sha256Hash": base64.b64encode(sha.encode()).decode(),
        "uri": f"{FILE_URI_BASE}/{ver}/files/{file_id}", "state": "ACTIVE",
        "source": "UPLOADED"}
    if pending.display_name:
        resource = {"name": resource.pop("name"), "displayName": pending.display_name,
                    **resource}
    stored = StoredFile(pending.display_name, pending.mime_type, data, resource)
    state.files[file_id] = stored
    return stored


async def get_file(request: Request) -> Response:
    """``GET /{ver}/files/{id}``: the file's resource."""
    if (err := auth_error(request, vertex=False)) is not None:
        return err
    stored = _state(request).files.get(request.path_params["fid"])
    if stored is None:
        return api_error(403, "PERMISSION_DENIED", "You do not have permission to access the "
                         f"File {request.path_params['fid']} or it may not exist.")
    return json_response(stored.resource)
