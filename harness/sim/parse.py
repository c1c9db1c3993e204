"""Request bodies -> what the sim models need: the user's text, input files, prompt size.

Reads the bodies the SDK sends (SDK-FACTS.md section 2 and 4): generateContent ``contents``
with ``text`` / ``inlineData`` / ``fileData`` parts (camelCase or snake_case keys, URL-safe or
standard base64), and interactions ``input`` as a string, one content block, a list of content
blocks, or a list of steps (``user_input`` ones carry the user's content).
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.sim.state import StoredFile
from harness.sim.wire import IMAGE_TOKENS, tokens


class BadRequest(ValueError):
    """A body the API would reject with 400 INVALID_ARGUMENT (the message says why)."""


@dataclass
class Parsed:
    """The parts of a request body the simulator uses.

    Attributes:
        texts: Candidate prompt texts of the latest user message: all its text parts
            joined, then each part alone (the first one matching a case wins).
        files: Input files by name (inline data and uploaded files).
        prompt_tokens: Estimated prompt tokens of the whole request.
        thinking: The request turned thinking on (a non-zero budget, or thought summaries).
        functions: Names of the functions the request declares.
        function_results: Function results sent since the latest user text (the hops of
            this turn's function-calling loop so far).

    """

    texts: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    prompt_tokens: int = 0
    thinking: bool = False
    functions: frozenset[str] = frozenset()
    function_results: int = 0

    @property
    def text(self) -> str:
        """The latest user message's text (all its text parts joined)."""
        return self.texts[0] if self.texts else ""


_CONTENT_TYPES = frozenset({"text", "image", "audio", "document", "video"})
FileLookup = Callable[[str], StoredFile | None]


def _decode(data: Any) -> bytes:
    if not isinstance(data, str):
        raise BadRequest("inline data must be base64 text")
    try:  # the SDK sends URL-safe base64; other clients send the standard alphabet
        return base64.b64decode(data.replace("-", "+").replace("_", "/") + "==")
    except (binascii.Error, ValueError):
        raise BadRequest("Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), "
                         "Base64 decoding failed") from None


def _file_name(mime: str | None, index: int, display_name: str | None = None) -> str:
    """A file's name in the code's working directory.

    Its display name, else ``input_file_<i><ext>`` by its position among the request's files.
    """
    if display_name:
        return display_name
    ext = mimetypes.guess_extension(mime or "") or ".bin"
    return f"input_file_{index}{ext}"


def _get(obj: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in obj:
            return obj[name]
    return None


def _add_text(parsed: Parsed, texts: list[str]) -> None:
    joined = "\n".join(texts)
    parsed.texts = [t for t in dict.fromkeys([joined, *texts]) if t.strip()]


def generate_request(body: Any, files: FileLookup) -> Parsed:
    """Parse a generateContent body.

    Raises:
        BadRequest: no ``contents`` list, or a part that cannot be read.

    """
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON payload received. Expected an object.")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
    parsed = Parsed()
    config = _get(body, "generationConfig", "generation_config") or {}
    thinking = _get(config, "thinkingConfig", "thinking_config") if isinstance(config,
                                                                                 dict) else None
    if isinstance(thinking, dict):
        budget = _get(thinking, "thinkingBudget", "thinking_budget")
        parsed.thinking = bool(_get(thinking, "includeThoughts", "include_thoughts")) or (
            isinstance(budget, int) and budget != 0)
    parsed.functions = frozenset(
        str(d.get("name")) for tool in body.get("tools") or [] if isinstance(tool, dict)
        for d in _get(tool, "functionDeclarations", "function_declarations") or []
        if isinstance(d, dict))
    system = body.get("systemInstruction") or body.get("system_instruction")
    all_contents = [*contents, system] if isinstance(system, dict) else contents
    latest: list[str] = []
    for content in all_contents:
        if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
            raise BadRequest("* GenerateContentRequest.contents[].parts: parts must be a list")
        is_user = content is not system and content.get("role", "user") == "user"
        texts: list[str] = []
        for part in content["parts"]:
            if not isinstance(part, dict):
                raise BadRequest("* GenerateContentRequest.contents[].parts[]: not an object")
            if isinstance(part.get("text"), str):
                parsed.prompt_tokens += tokens(part["text"])
                if not part.get("thought"):
                    texts.append(part["text"])
            if is_user and _get(part, "functionResponse", "function_response") is not None:
                parsed.function_results += 1
            inline = _get(part, "inlineData", "inline_data")
            uri = _get(_get(part, "fileData", "file_data") or {}, "fileUri", "file_uri")
            if isinstance(inline, dict):
                parsed.prompt_tokens += IMAGE_TOKENS
                mime = _get(inline, "mimeType", "mime_type")
                name = _file_name(mime, len(parsed.files), inline.get("displayName"))
                parsed.files[name] = _decode(inline.get("data"))
            elif isinstance(uri, str):
                parsed.prompt_tokens += IMAGE_TOKENS
                found = files(uri)
                if found is None:
                    raise BadRequest(f"File {uri} does not exist or you do not have "
                                     "permission to access it.")
                name = _file_name(found.mime_type, len(parsed.files), found.display_name)
                parsed.files[name] = found.data
        if is_user and texts:  # a turn of function results only answers the model's calls
            latest = texts
            parsed.function_results = 0
    _add_text(parsed, latest)
    return parsed


def _content_blocks(value: Any) -> list[dict[str, Any]]:
    """The user's content blocks in an interactions ``input`` (latest user turn last)."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise BadRequest("`input` must be a string, a content object or a list")
    turns: list[list[dict[str, Any]]] = []
    loose: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise BadRequest("`input` items must be objects")
        if item.get("type") == "user_input" or item.get("role") == "user":
            content = item.get("content")
            turns.append(_content_blocks(content) if content is not None else [])
        elif item.get("type") in _CONTENT_TYPES and "role" not in item:
            loose.append(item)
        # anything else (model turns, tool steps given by hand) is history, not the question
    return loose if loose else (turns[-1] if turns else [])


def interaction_request(body: Any, files: FileLookup) -> Parsed:
    """Parse an interactions create body (its ``input`` and ``system_instruction``).

    Raises:
        BadRequest: ``input`` missing or of the wrong shape.

    """
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON payload received. Expected an object.")
    if body.get("input") is None:
        raise BadRequest("`input` is required")
    parsed = Parsed()
    generation = body.get("generation_config")
    if isinstance(generation, dict):
        parsed.thinking = bool(generation.get("thinking_summaries")
                               or generation.get("thinking_level"))
    parsed.functions = frozenset(str(t.get("name")) for t in body.get("tools") or []
                                 if isinstance(t, dict) and t.get("type") == "function")
    items = body["input"] if isinstance(body["input"], list) else [body["input"]]
    parsed.function_results = sum(1 for i in items
                                  if isinstance(i, dict) and i.get("type") == "function_result")
    system = body.get("system_instruction")
    if isinstance(system, str):
        parsed.prompt_tokens += tokens(system)
    texts: list[str] = []
    for block in _content_blocks(body["input"]):
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
            parsed.prompt_tokens += tokens(block["text"])
        elif kind in ("image", "document", "audio", "video"):
            parsed.prompt_tokens += IMAGE_TOKENS
            if isinstance(block.get("uri"), str):
                found = files(block["uri"])
                if found is not None:
                    name = _file_name(found.mime_type, len(parsed.files), found.display_name)
                    parsed.files[name] = found.data
            elif block.get("data") is not None:
                name = _file_name(block.get("mime_type"), len(parsed.files))
                parsed.files[name] = _decode(block.get("data"))
    _add_text(parsed, texts)
    return parsed
