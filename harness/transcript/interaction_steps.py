"""Interactions steps in wire (JSON) shape, built without the SDK.

Two sources need assembling before `harness.transcript` hands the steps to the SDK's types: a
stream's ``step.start`` / ``step.delta`` events (:class:`StreamedSteps`), and the API's older
flat ``outputs`` list (:func:`legacy_outputs_as_steps`).
"""

from __future__ import annotations

from typing import Any

from harness.transcript.bodies import maybe_json

CONTENT_TYPES = frozenset({"text", "image", "audio", "document", "video"})
_TOOL_CALLS = frozenset({"google_search_call", "url_context_call"})
_TOOL_RESULTS = frozenset({"google_search_result", "url_context_result"})


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else ``[]`` (stream payloads are not validated)."""
    return value if isinstance(value, list) else []


def legacy_outputs_as_steps(outputs: list[Any]) -> list[Any]:
    """Read the older flat ``outputs`` list (content blocks and tool items) as wire steps."""
    steps: list[Any] = []
    in_output = False
    for item in outputs:
        is_content = isinstance(item, dict) and item.get("type") in CONTENT_TYPES
        if is_content and in_output:
            steps[-1]["content"].append(item)
        else:
            steps.append({"type": "model_output", "content": [item]} if is_content else item)
        in_output = is_content
    return steps


class StreamedSteps:
    """Wire-shaped interaction steps assembled from ``step.start`` / ``step.delta`` payloads."""

    def __init__(self) -> None:
        self._steps: dict[int, dict[str, Any]] = {}

    def start(self, index: Any, step: dict[str, Any]) -> None:
        """Begin step ``index`` (``step.start``)."""
        if isinstance(index, int):
            self._steps[index] = dict(step)

    def delta(self, index: Any, delta: dict[str, Any]) -> None:
        """Fold one ``step.delta`` payload into step ``index``."""
        if not isinstance(index, int):
            return
        step = self._steps.setdefault(index, {})
        kind = delta.get("type")
        if kind in CONTENT_TYPES:
            step.setdefault("type", "model_output")
            _append_content(_list_field(step, "content"), delta)
        elif kind == "thought_summary" and isinstance(delta.get("content"), dict):
            step.setdefault("type", "thought")
            _append_content(_list_field(step, "summary"), delta["content"])
        elif kind == "code_execution_call":
            step.setdefault("type", "code_execution_call")
            args = step.get("arguments")
            if not isinstance(args, dict):
                args = step["arguments"] = {}
            new = delta.get("arguments")
            new = new if isinstance(new, dict) else {}
            if isinstance(new.get("code"), str):
                args["code"] = (args.get("code") or "") + new["code"]
            if new.get("language"):
                args["language"] = new["language"]
        elif kind in _TOOL_CALLS:  # google_search_call, url_context_call: whole arguments
            step.setdefault("type", kind)
            new = delta.get("arguments")
            if isinstance(new, dict):
                step["arguments"] = {**(step.get("arguments") or {}), **new}
        elif kind in _TOOL_RESULTS:  # google_search_result, url_context_result: result lists
            step.setdefault("type", kind)
            _list_field(step, "result").extend(as_list(delta.get("result")))
            if delta.get("is_error"):
                step["is_error"] = True
        elif kind == "text_annotation_delta":  # citations for the text streamed so far
            step.setdefault("type", "model_output")
            contents = _list_field(step, "content")
            texts = [c for c in contents if isinstance(c, dict) and c.get("type") == "text"]
            if texts:
                notes = texts[-1].get("annotations")
                texts[-1]["annotations"] = (notes if isinstance(notes, list) else []) + as_list(
                    delta.get("annotations"))
        elif kind == "arguments_delta" and isinstance(delta.get("arguments"), str):
            step["_partial"] = step.get("_partial", "") + delta["arguments"]
        elif kind == "code_execution_result":
            step.setdefault("type", "code_execution_result")
            prev = step.get("result")
            more = str(delta.get("result") or "")
            step["result"] = (prev if isinstance(prev, str) else "") + more
            if delta.get("is_error"):
                step["is_error"] = True

    def steps(self) -> list[dict[str, Any]]:
        """Return the assembled steps in index order."""
        out = []
        for index in sorted(self._steps):
            step = dict(self._steps[index])
            partial = step.pop("_partial", None)
            if partial is not None:  # arguments streamed as JSON text fragments
                parsed = maybe_json(partial)
                if isinstance(parsed, dict):
                    step["arguments"] = {**(step.get("arguments") or {}), **parsed}
            out.append(step)
        return out


def _list_field(step: dict[str, Any], key: str) -> list[Any]:
    """``step[key]`` as a list, replacing whatever a malformed ``step.start`` put there."""
    value = step.get(key)
    if not isinstance(value, list):
        value = step[key] = []
    return value


def _append_content(contents: list[Any], new: dict[str, Any]) -> None:
    last = contents[-1] if contents else None
    if (new.get("type") == "text" and isinstance(last, dict) and last.get("type") == "text"
            and isinstance(new.get("text"), str)):
        last["text"] = str(last.get("text") or "") + new["text"]
    else:
        contents.append(dict(new))
