"""A request that no recording matches, worded: which part differs, how to re-record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.paths import display_path


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
        if isinstance(old, str) and isinstance(new, str):
            shown_old, shown_new = _show_around_difference(old, new)
        else:
            shown_old, shown_new = _show(old), _show(new)
        return [f"{where or '(body)'}: recorded {shown_old}, now {shown_new}"]
    return []


def _show_around_difference(old: str, new: str, context: int = 30) -> tuple[str, str]:
    """Both strings cut to a window around their first difference.

    An edit late in a long prompt stays visible instead of hiding behind a shared prefix.
    """
    if len(json.dumps(old, ensure_ascii=False)) <= 80 and len(
            json.dumps(new, ensure_ascii=False)) <= 80:
        return _show(old), _show(new)
    first = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
                 min(len(old), len(new)))
    start = max(0, first - context)

    def window(text: str) -> str:
        part = text[start:first + context]
        shown = json.dumps(part, ensure_ascii=False)[1:-1]
        return (f'"{"..." if start else ""}{shown}'
                f'{"..." if first + context < len(text) else ""}"')

    return window(old), window(new)


def _show(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."
