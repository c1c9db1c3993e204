"""The recording progress line: done/total, in flight, retries, waits, tokens, cost, ETA."""

from __future__ import annotations


def eta_s(done: int, total: int, elapsed_s: float) -> float | None:
    """Seconds left at the pace so far (None before the first item finished)."""
    if done <= 0 or total <= done:
        return None if done <= 0 else 0.0
    return elapsed_s / done * (total - done)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_line(*, done: int, total: int, in_flight: int, retries: int, waits: int,
                  waited_s: float, paused_429: int, tokens: int, cost_usd: float | None,
                  elapsed_s: float, budget_usd: float | None = None) -> str:
    """One line, e.g. ``recording 12/200 | 16 in flight | 3 retries | ... | ETA 2m10s``."""
    parts = [f"recording {done}/{total}", f"{in_flight} in flight"]
    if retries:
        parts.append(f"{retries} retr{'y' if retries == 1 else 'ies'}")
    if waits or paused_429:
        parts.append(f"rate-limit waits {waits} ({waited_s:.0f}s)"
                     + (f", {paused_429}x 429" if paused_429 else ""))
    parts.append(f"{tokens:,} tokens")
    if cost_usd is not None:
        parts.append(f"~${cost_usd:.4f}" + (f" of ${budget_usd:g}" if budget_usd else ""))
    left = eta_s(done, total, elapsed_s)
    parts.append(f"ETA {_duration(left)}" if left is not None else "ETA --")
    return "harness: " + " | ".join(parts)
