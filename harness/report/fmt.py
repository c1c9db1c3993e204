"""Number and text formatting shared by the Markdown, HTML and terminal renderers.

Every renderer reads the ``summary.json`` dict, where a missing figure is ``None``; these helpers
turn ``None`` into a visible "n/a" (or "unknown" for cost) rather than a misleading zero.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

NA = "n/a"
TOKEN_LABELS = {
    "prompt_tokens": "prompt",
    "output_tokens": "output",
    "tool_use_prompt_tokens": "tool-use prompt",
    "thought_tokens": "thought",
}


def pct(x: float | None, digits: int = 1) -> str:
    """``0.8333`` -> ``83.3%``; None -> ``n/a``."""
    return NA if x is None else f"{100 * x:.{digits}f}%"


def interval(low: float | None, high: float | None, digits: int = 1) -> str:
    """A rate interval in percent: ``[70.1, 91.2]``; ``n/a`` when either bound is missing."""
    if low is None or high is None:
        return NA
    return f"[{100 * low:.{digits}f}, {100 * high:.{digits}f}]"


def pts(x: float | None, digits: int = 1) -> str:
    """A difference of rates in percentage points, signed: ``-12.5 pts``."""
    return NA if x is None else f"{100 * x:+.{digits}f} pts"


def pts_interval(low: float | None, high: float | None) -> str:
    """A signed interval in percentage points: ``[-20.1, -4.9]``."""
    if low is None or high is None:
        return NA
    return f"[{100 * low:+.1f}, {100 * high:+.1f}]"


def p_value(p: float | None) -> str:
    """Three significant digits; tiny values as ``<0.001`` so no one reads ``0`` as exact."""
    if p is None:
        return NA
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def num(x: float | None, digits: int = 2) -> str:
    """A plain number or ``n/a``."""
    return NA if x is None else f"{x:.{digits}f}"


def count(n: int | float | None) -> str:
    """An integer with thousands separators (``12,345``) or ``n/a``."""
    return NA if n is None else f"{round(n):,}"


def seconds(x: float | None) -> str:
    """Seconds with a unit: ``1.23 s``."""
    return NA if x is None else f"{x:.2f} s"


def cost(c: Mapping[str, Any] | None) -> str:
    """Total cost in USD, ``unknown`` without a price (never an invented zero)."""
    if c is None:
        return "unknown"
    total = float(c.get("total") or 0.0)
    return f"${total:.4f}" if total < 1 else f"${total:,.2f}"


def total_tokens(model: Mapping[str, Any]) -> int | None:
    """Total tokens of a model: ``total_tokens`` when reported, else the sum of the kinds."""
    tokens = model.get("tokens") or {}
    total = (tokens.get("total_tokens") or {}).get("sum")
    if total is not None:
        return int(total)
    parts = [(tokens.get(k) or {}).get("sum") for k in TOKEN_LABELS]
    vals = [int(v) for v in parts if v is not None]
    return sum(vals) if vals else None


def samples_of(summary: Mapping[str, Any]) -> int:
    """The most samples any model had per case (1 for a plain run)."""
    return max((int(m.get("samples") or 0) for m in summary.get("models", {}).values()),
               default=0) or 1


def top_k(model: Mapping[str, Any], key: str) -> tuple[int, float] | None:
    """The largest k of ``pass_at_k`` / ``pass_hat_k`` and its value (None with one sample)."""
    table = model.get(key)
    if not table:
        return None
    k = max(table, key=int)
    return int(k), float(table[k])


def names(items: Sequence[str], limit: int, width: int | None = None) -> str:
    """``a, b, c, +4 more``: at most ``limit`` names (and ``width`` characters), then a count.

    Args:
        items: Names.
        limit: How many to show at most.
        width: Stop adding names once the text would pass this many characters (terminal
            lines); at least one name is always shown, cut with an ellipsis if need be.

    """
    if not items:
        return "none"
    shown: list[str] = []
    used = 0
    for name in items[:limit]:
        if width is not None and shown and used + len(name) + 2 > width:
            break
        shown.append(name)
        used += len(name) + 2
    text = ", ".join(shown)
    if width is not None and len(text) > width:
        text = text[: max(1, width - 1)] + "…"
    rest = len(items) - len(shown)
    return text + (f", +{rest} more" if rest else "")


def truncate(text: str, limit: int) -> tuple[str, int]:
    """Cut ``text`` at ``limit`` characters; return the kept text and how many were cut."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def verifies(summary: Mapping[str, Any]) -> bool:
    """Whether any model has items checked with ``verify_output`` (then reports show it)."""
    return any((m or {}).get("verify_checked") for m in summary.get("models", {}).values())


def verified(m: Mapping[str, Any]) -> str:
    """``83.3% (5/6)``: items whose re-run code reproduced, of those checked; ``n/a``."""
    n = int(m.get("verify_checked") or 0)
    return f"{pct(m.get('verified_rate'))} ({m.get('verified', 0)}/{n})" if n else "n/a"


# Enough to stop emphasis, links/images (no "[" survives), inline HTML and table cells; every
# line we emit starts with our own "- " or "| ", so line-start markers need no escaping.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text: object) -> str:
    """Escape text for a Markdown table cell or line (no HTML, no emphasis, no pipes)."""
    s = str(text).replace("&", "&amp;").replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)
