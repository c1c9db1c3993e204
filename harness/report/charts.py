"""Inline SVG charts: pass rate with intervals, outcome mix, tokens, comparisons, history.

Plain SVG strings (no JavaScript, nothing fetched) so the report stays one file that works under
a ``default-src 'none'`` policy. Every label is escaped; exact figures go in ``<title>``
elements, which browsers show as tooltips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from harness.report import fmt

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933",
           "#000000")
OUTCOME_COLOURS = {"OK": "#2da44e", "FAILED": "#cf222e", "DEADLINE": "#bc4c00",
                   "OTHER": "#8c959f"}
TOKEN_COLOURS = {"prompt_tokens": "#0072B2", "output_tokens": "#E69F00",
                 "tool_use_prompt_tokens": "#56B4E9", "thought_tokens": "#CC79A7"}
VERDICT_COLOURS = {"REGRESSED": "#cf222e", "IMPROVED": "#1a7f37",
                   "NO_SIGNIFICANT_CHANGE": "#57606a"}
ROW = 30
WIDTH = 760


def e(x: object) -> str:
    """Escape for SVG text and attributes."""
    return escape(str(x), quote=True)


def _label_width(labels: Sequence[str]) -> int:
    return min(240, max(80, 7 * max((len(s) for s in labels), default=0) + 16))


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{e(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{e(title)}</title>'
            + "".join(body) + "</svg>")


def _x_axis(x0: float, x1: float, y0: float, y1: float, ticks: Sequence[tuple[float, str]],
            lo: float, hi: float) -> list[str]:
    out = []
    for value, text in ticks:
        x = x0 + (value - lo) / (hi - lo) * (x1 - x0)
        out.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}" class="grid"/>'
                   f'<text x="{x:.1f}" y="{y1 + 14}" text-anchor="middle" class="tick">'
                   f"{e(text)}</text>")
    return out


def _row_label(y: float, width: int, label: str) -> str:
    return (f'<text x="{width - 8}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'class="label"><title>{e(label)}</title>{e(_short(label))}</text>')


def pass_rate_chart(models: Mapping[str, Mapping[str, Any]], confidence: float = 0.95) -> str:
    """Pass rate per model as a dot with its interval as a whisker, on a 0-100 % axis."""
    names = list(models)
    lw = _label_width(names)
    x0, x1, top = lw, WIDTH - 150, 10
    height = top + ROW * len(names) + 30
    body = _x_axis(x0, x1, top, top + ROW * len(names),
                   [(v / 100, f"{v}%") for v in range(0, 101, 25)], 0.0, 1.0)
    conf = round(100 * confidence)
    for i, name in enumerate(names):
        m = models[name]
        y = top + ROW * i + ROW / 2
        body.append(_row_label(y, lw, name))
        rate = m.get("pass_rate")
        if rate is None:
            body.append(f'<text x="{x0 + 4}" y="{y:.1f}" dominant-baseline="middle" '
                        'class="muted">nothing judged</text>')
            continue
        lo, hi = m.get("ci_low") or rate, m.get("ci_high") or rate
        xl, xh, xr = (x0 + v * (x1 - x0) for v in (lo, hi, rate))
        tip = (f"{name}: {fmt.pct(rate)} passed ({m.get('passed')}/"
               f"{int(m.get('passed') or 0) + int(m.get('failed') or 0)} judged), "
               f"{conf}% CI {fmt.interval(lo, hi)}")
        body.append(
            f'<g><title>{e(tip)}</title>'
            f'<rect x="{x0}" y="{y - 7:.1f}" width="{xr - x0:.1f}" height="14" class="bar"/>'
            f'<line x1="{xl:.1f}" y1="{y:.1f}" x2="{xh:.1f}" y2="{y:.1f}" class="whisker"/>'
            f'<line x1="{xl:.1f}" y1="{y - 6:.1f}" x2="{xl:.1f}" y2="{y + 6:.1f}" '
            f'class="whisker"/><line x1="{xh:.1f}" y1="{y - 6:.1f}" x2="{xh:.1f}" '
            f'y2="{y + 6:.1f}" class="whisker"/>'
            f'<circle cx="{xr:.1f}" cy="{y:.1f}" r="4.5" class="dot"/></g>'
            f'<text x="{x1 + 10}" y="{y:.1f}" dominant-baseline="middle" class="value">'
            f"{e(fmt.pct(rate))} {e(fmt.interval(lo, hi))}</text>")
    return _svg(WIDTH, height, body, f"Pass rate per model with {conf}% intervals")


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for label, colour in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 9}" width="11" height="11" rx="2" '
                   f'fill="{colour}"/><text x="{x + 16:.1f}" y="{y}" class="tick">'
                   f"{e(label)}</text>")
        x += 28 + 7 * len(label)
    return out


def _stacked_rows(rows: Sequence[tuple[str, Sequence[tuple[str, float, str]], str]],
                  scale: float, title: str, legend: Sequence[tuple[str, str]]) -> str:
    """Horizontal stacked bars: ``(label, [(part name, value, colour)], right text)``."""
    lw = _label_width([r[0] for r in rows])
    x0, x1, top = lw, WIDTH - 150, 30
    height = top + ROW * len(rows) + 12
    body = _legend(x0, 16, legend)
    for i, (label, parts, right) in enumerate(rows):
        y = top + ROW * i + ROW / 2
        body.append(_row_label(y, lw, label))
        x = float(x0)
        for part, value, colour in parts:
            w = 0.0 if scale <= 0 else value / scale * (x1 - x0)
            if w <= 0:
                continue
            body.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="{w:.1f}" height="18" '
                        f'fill="{colour}"><title>{e(f"{label}: {part}")}</title></rect>')
            x += w
        body.append(f'<text x="{x1 + 10}" y="{y:.1f}" dominant-baseline="middle" '
                    f'class="value">{e(right)}</text>')
    return _svg(WIDTH, height, body, title)


def outcome_chart(mix: Mapping[str, Mapping[str, int]]) -> str:
    """Share of code runs per outcome (OK / FAILED / DEADLINE / other) per model."""
    rows = []
    for model, counts in mix.items():
        total = sum(counts.values())
        parts = [(f"{kind} {n} of {total} runs ({fmt.pct(n / total if total else None)})",
                  n / total if total else 0.0, OUTCOME_COLOURS[kind])
                 for kind, n in counts.items()]
        rows.append((model, parts, f"{total:,} code runs"))
    legend = [(k, c) for k, c in OUTCOME_COLOURS.items()
              if any(m.get(k) for m in mix.values()) or k != "OTHER"]
    return _stacked_rows(rows, 1.0, "Outcome mix of code runs per model", legend)


def token_chart(models: Mapping[str, Mapping[str, Any]]) -> str:
    """Mean tokens per item by kind (prompt, output, tool-use prompt, thought) per model."""
    rows = []
    for model, m in models.items():
        tokens = m.get("tokens") or {}
        parts = []
        for kind, label in fmt.TOKEN_LABELS.items():
            mean = (tokens.get(kind) or {}).get("mean")
            if mean:
                parts.append((f"{label}: {mean:,.0f} per item", float(mean),
                              TOKEN_COLOURS[kind]))
        total = sum(p[1] for p in parts)
        rows.append((model, parts, f"{total:,.0f} per item" if parts else "not reported"))
    scale = max((sum(p[1] for p in r[1]) for r in rows), default=0.0)
    legend = [(label, TOKEN_COLOURS[k]) for k, label in fmt.TOKEN_LABELS.items()]
    return _stacked_rows(rows, scale, "Mean tokens per item by kind", legend)


def difference_chart(comparisons: Sequence[Mapping[str, Any]]) -> str:
    """Forest plot: each candidate's pass-rate difference from the baseline with its interval."""
    labels = [f"{c.get('candidate')} vs {c.get('baseline')}" for c in comparisons]
    bounds = [abs(float(v)) for c in comparisons for v in (c.get("ci_low"), c.get("ci_high"))
              if v is not None]
    span = max(0.1, min(1.0, (int(max(bounds, default=0.0) * 10) + 1) / 10))
    lw = _label_width(labels)
    x0, x1, top = lw, WIDTH - 190, 10
    height = top + ROW * len(labels) + 30
    step = span / 2
    ticks = [(v * step, f"{100 * v * step:+.0f}") for v in range(-2, 3)]
    body = _x_axis(x0, x1, top, top + ROW * len(labels), ticks, -span, span)
    xz = (x0 + x1) / 2
    body.append(f'<line x1="{xz}" y1="{top}" x2="{xz}" y2="{top + ROW * len(labels)}" '
                'class="zero"/>')
    for i, (c, label) in enumerate(zip(comparisons, labels, strict=True)):
        y = top + ROW * i + ROW / 2
        body.append(_row_label(y, lw, label))
        diff = c.get("difference")
        colour = VERDICT_COLOURS.get(str(c.get("verdict")), "#57606a")
        if diff is None:
            body.append(f'<text x="{x0 + 4}" y="{y:.1f}" dominant-baseline="middle" '
                        'class="muted">no paired cases</text>')
            continue
        lo, hi = c.get("ci_low", diff), c.get("ci_high", diff)
        xs = [xz + float(v) / span * (x1 - xz) for v in (lo, hi, diff)]
        tip = (f"{label}: {c.get('verdict')}, {fmt.pts(diff)} "
               f"CI {fmt.pts_interval(lo, hi)}, p={fmt.p_value(c.get('p_value'))}")
        body.append(f'<g><title>{e(tip)}</title><line x1="{xs[0]:.1f}" y1="{y:.1f}" '
                    f'x2="{xs[1]:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2.5"/>'
                    f'<rect x="{xs[2] - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
                    f'fill="{colour}"/></g>'
                    f'<text x="{x1 + 10}" y="{y:.1f}" dominant-baseline="middle" '
                    f'class="value">{e(fmt.pts(diff))} {e(fmt.pts_interval(lo, hi))}</text>')
    body.append(f'<text x="{xz}" y="{height - 2}" text-anchor="middle" class="muted">'
                "candidate &#8722; baseline, percentage points</text>")
    return _svg(WIDTH, height, body, "Difference in pass rate, candidate minus baseline")


def history_chart(history: Sequence[Mapping[str, Any]], *, max_runs: int = 60) -> str:
    """Pass rate per model over runs (time order), with interval whiskers and version labels.

    Runs are spaced evenly rather than by wall-clock time: releases come in bursts, and an even
    spacing keeps every run readable. The last ``max_runs`` runs are shown.
    """
    runs = sorted({(str(h.get("time", "")), str(h.get("run_id", ""))) for h in history})
    runs = runs[-max_runs:]
    index = {r: i for i, r in enumerate(runs)}
    models = list(dict.fromkeys(str(h.get("model")) for h in history))
    width, x0, x1, top, bottom = 900, 50, 880, 34, 250
    height = bottom + 26
    body = _legend(x0, 16, [(_short(m, 24), PALETTE[i % len(PALETTE)])
                            for i, m in enumerate(models)])
    for v in range(0, 101, 25):
        y = bottom - v / 100 * (bottom - top)
        body.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" class="grid"/>'
                    f'<text x="{x0 - 6}" y="{y:.1f}" text-anchor="end" '
                    f'dominant-baseline="middle" class="tick">{v}%</text>')

    def xpos(i: int) -> float:
        return (x0 + x1) / 2 if len(runs) == 1 else x0 + 10 + i * (x1 - x0 - 20) / (len(runs) - 1)

    every = max(1, len(runs) // 8)
    for i, (time, run_id) in enumerate(runs):
        if i % every == 0 or i == len(runs) - 1:
            anchor = "end" if i == len(runs) - 1 and len(runs) > 1 else "middle"
            body.append(f'<text x="{xpos(i):.1f}" y="{bottom + 16}" text-anchor="{anchor}" '
                        f'class="tick"><title>{e(run_id)}</title>{e(time[:10])}</text>')
    for mi, model in enumerate(models):
        colour = PALETTE[mi % len(PALETTE)]
        points = sorted((index[(str(h.get("time", "")), str(h.get("run_id", "")))], h)
                        for h in history if str(h.get("model")) == model
                        and (str(h.get("time", "")), str(h.get("run_id", ""))) in index
                        and h.get("pass_rate") is not None)
        # Dodge models sideways a little so same-run whiskers do not hide each other.
        dodge = (mi - (len(models) - 1) / 2) * 5
        coords = [(xpos(i) + dodge, bottom - float(h["pass_rate"]) * (bottom - top), h)
                  for i, h in points]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        'stroke-width="2"/>')
        last_version = None
        for x, y, h in coords:
            lo, hi = h.get("ci_low"), h.get("ci_high")
            if lo is not None and hi is not None:
                ylo, yhi = (bottom - float(v) * (bottom - top) for v in (lo, hi))
                body.append(f'<line x1="{x:.1f}" y1="{ylo:.1f}" x2="{x:.1f}" y2="{yhi:.1f}" '
                            f'stroke="{colour}" stroke-opacity="0.45" stroke-width="5"/>')
            version = h.get("model_version")
            tip = (f"{model} ({version or 'version not reported'}) run {h.get('run_id')} "
                   f"{h.get('time')}: {fmt.pct(h.get('pass_rate'))} {fmt.interval(lo, hi)}, "
                   f"{h.get('items')} items")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                        f"<title>{e(tip)}</title></circle>")
            if version and version != last_version:  # mark where a new release appears
                body.append(f'<text x="{x + 5:.1f}" y="{y - 8:.1f}" class="version" '
                            f'fill="{colour}">{e(_short(str(version), 28))}</text>')
            last_version = version
    return _svg(width, height, body, "Pass rate per model over runs")
