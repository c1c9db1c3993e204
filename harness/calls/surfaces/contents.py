"""A user turn as the SDK takes it: input files first (inline or uploaded), then the text.

generateContent and chats take ``types.Part`` lists; the Interactions API takes content
blocks. Uploads go through ``client.files.upload`` (the Files API: Gemini API only), inside
the item's cassette like every other request.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from harness.errors import SetupError

if TYPE_CHECKING:
    from harness.spec.case import Case, Turn
    from harness.spec.inputs import InputFile

# Interactions content block type by MIME type family (everything else is a document).
_BLOCK_TYPES = {"image": "image", "audio": "audio", "video": "video"}


def user_parts(client: Any, case: Case, turn: Turn) -> Any:
    """A turn for ``generate_content`` / ``send_message``: its text alone, or file parts + text.

    A turn without files is sent as its plain text, exactly as single-prompt cases always
    were (so their recordings still match).
    """
    from google.genai import types

    if not turn.inputs:
        return turn.prompt
    parts = []
    for item in turn.inputs:
        if item.upload:
            uploaded = _upload(client, case, item)
            parts.append(types.Part.from_uri(file_uri=uploaded.uri,
                                             mime_type=uploaded.mime_type or item.mime_type))
        else:
            parts.append(types.Part.from_bytes(data=item.read(), mime_type=item.mime_type))
    return [*parts, types.Part.from_text(text=turn.prompt)]


def interaction_input(client: Any, case: Case, turn: Turn) -> Any:
    """A turn for ``interactions.create``: its text alone, or content blocks + a text block."""
    if not turn.inputs:
        return turn.prompt
    blocks: list[dict[str, Any]] = []
    for item in turn.inputs:
        kind = _BLOCK_TYPES.get(item.mime_type.split("/")[0], "document")
        if item.upload:
            uploaded = _upload(client, case, item)
            blocks.append({"type": kind, "uri": uploaded.uri,
                           "mime_type": uploaded.mime_type or item.mime_type})
        else:
            blocks.append({"type": kind, "mime_type": item.mime_type,
                           "data": base64.b64encode(item.read()).decode("ascii")})
    return [*blocks, {"type": "text", "text": turn.prompt}]


def _upload(client: Any, case: Case, item: InputFile) -> Any:
    """Upload one input through the Files API; its display name is the file's base name.

    Raises:
        SetupError: the client is a Vertex AI client (the Files API is Gemini API only).
    """
    from google.genai import types

    if getattr(client, "vertexai", False):
        raise SetupError(f"{case.location()}: case {case.id!r}: input {item.name!r} has "
                         "`upload: true`, but the Files API exists only on the Gemini API; on "
                         "--target vertex send it inline (remove `upload: true`)")
    return client.files.upload(file=str(item.path), config=types.UploadFileConfig(
        mime_type=item.mime_type, display_name=item.base_name))
