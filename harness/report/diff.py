"""Behaviour diff: what changed in how the model worked between two recordings of the same items.

``harness diff A B`` and the reports' "What changed" section pair the items of two sides (two
runs, or two recordings of one case) and compare their :class:`~harness.report.behaviour.Behaviour`:
the final answer, the outcome sequence, attempts, libraries imported, code size, tokens by
kind, images produced and the record-time latency. Data only: the caller reads recordings.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.behaviour import TOKEN_KINDS, Behaviour, behaviour_of_record, outcome_name
from harness.report.matrix import build_grid
from harness.results.records import read_slim, transcript_of
from harness.stats.tally import dedupe_items, item_key

# In the order the sections appear: what the user sees first, then how, then what it cost.
KINDS = {"answer": "Final answer changed", "outcomes": "Outcome sequence changed",
         "attempts": "Attempts up or down", "libraries": "Libraries imported changed",
         "code_size": "Code size changed", "tokens": "Tokens changed",
         "images": "Images produced changed", "latency": "Latency changed"}
LATENCY_TOLERANCE = 0.25


@dataclass(frozen=True)
class Item:
    """One side of a paired item: its behaviour and where its transcript is shown."""

    behaviour: Behaviour
    href: str | None = None


@dataclass(frozen=True)
class Side:
    """One side of a diff: a run, or one recording.

    Attributes:
        label: How the side is named (a run id, a path).
        items: By item name (``suite::case [model#k]``, or the recording's path).
    """

    label: str
    items: dict[str, Item]


@dataclass(frozen=True)
class Change:
    """One kind of change of one item.

    Attributes:
        item: The item's name.
        kind: A key of :data:`KINDS`.
        summary: One line: what it was, what it is.
        size: How large the change is, to order each group largest first (units per kind).
        a_href: Side A's transcript in its HTML report (None: no report).
        b_href: Side B's.
    """

    item: str
    kind: str
    summary: str
    size: float
    a_href: str | None = None
    b_href: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"item": self.item, "kind": self.kind, "summary": self.summary,
                "size": self.size, "a_href": self.a_href, "b_href": self.b_href}


@dataclass(frozen=True)
class Diff:
    """Every change between two sides, grouped by kind, each group largest first."""

    a: str
    b: str
    compared: int
    groups: dict[str, list[Change]]
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)

    @property
    def changed_items(self) -> int:
        """Items with at least one change."""
        return len({c.item for changes in self.groups.values() for c in changes})

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        """JSON form; ``limit`` caps each group's list (its count stays whole)."""
        return {"a": self.a, "b": self.b, "compared": self.compared,
                "changed": self.changed_items, "only_a": self.only_a, "only_b": self.only_b,
                "counts": {k: len(v) for k, v in self.groups.items()},
                "groups": {k: [c.to_json() for c in v[:limit]] for k, v in self.groups.items()}}


def _short(text: str, width: int = 70) -> str:
    one = " ".join(text.split())
    return repr(one if len(one) <= width else one[:width - 1] + "…")


def _tokens_line(a: Mapping[str, int | None], b: Mapping[str, int | None]) -> tuple[str, float]:
    parts: list[str] = []
    size = 0
    for kind in TOKEN_KINDS:
        x, y = a.get(kind), b.get(kind)
        if x != y:
            name = kind.removesuffix("_tokens").replace("_", "-")
            parts.append(f"{name} {'-' if x is None else x} → {'-' if y is None else y}")
            if kind != "total_tokens":
                size += abs((y or 0) - (x or 0))
    return "tokens: " + ", ".join(parts), float(size)


def compare(a: Behaviour, b: Behaviour, *,
            latency_tolerance: float = LATENCY_TOLERANCE) -> list[tuple[str, str, float]]:
    """The changes from ``a`` to ``b``: ``(kind, one-line summary, size)`` per kind changed.

    When either side has no transcript (an ERROR), only the answer is compared: the other
    figures of a call that did not complete say nothing.

    Args:
        a: The earlier behaviour.
        b: The later one.
        latency_tolerance: Latency counts as changed when it moved by more than this
            fraction of the larger of the two (timing noise is not a change).
    """
    out: list[tuple[str, str, float]] = []
    if a.error or b.error:
        x, y = a.error or a.final_text, b.error or b.final_text
        if x != y:
            out.append(("answer", f"{_short(x)} → {_short(y)}", 1.0))
        return out
    if a.final_text != b.final_text:
        ratio = difflib.SequenceMatcher(None, a.final_text[:4000], b.final_text[:4000]).ratio()
        out.append(("answer", f"{_short(a.final_text)} → {_short(b.final_text)}", 1 - ratio))
    if a.outcomes != b.outcomes:
        ops = difflib.SequenceMatcher(None, a.outcomes, b.outcomes).get_opcodes()
        size = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
        out.append(("outcomes", f"{_seq(a.outcomes)} → {_seq(b.outcomes)}", float(size)))
    if a.attempts != b.attempts:
        word = "up" if b.attempts > a.attempts else "down"
        out.append(("attempts", f"attempts {word}: {a.attempts} → {b.attempts}",
                    float(abs(b.attempts - a.attempts))))
    if a.libraries != b.libraries:
        added, gone = sorted(b.libraries - a.libraries), sorted(a.libraries - b.libraries)
        out.append(("libraries", "imports " + ", ".join([*(f"+{n}" for n in added),
                                                          *(f"-{n}" for n in gone)]),
                    float(len(added) + len(gone))))
    if a.code_chars != b.code_chars:
        out.append(("code_size", f"code {a.code_chars} → {b.code_chars} chars "
                                 f"({a.code_lines} → {b.code_lines} lines)",
                    float(abs(b.code_chars - a.code_chars))))
    if a.tokens != b.tokens:
        out.append(("tokens", *_tokens_line(a.tokens, b.tokens)))
    if a.images != b.images:
        na, nb = len(a.images), len(b.images)
        line = (f"images {na} → {nb}" if na != nb else
                f"images: {na}, {sum(x != y for x, y in zip(a.images, b.images, strict=True))} "
                "with other content")
        out.append(("images", line, float(abs(nb - na) or 1)))
    if a.latency_s is not None and b.latency_s is not None:
        delta = b.latency_s - a.latency_s
        if abs(delta) > latency_tolerance * max(a.latency_s, b.latency_s, 1e-9):
            pct = f" ({delta / a.latency_s:+.0%})" if a.latency_s else ""
            out.append(("latency", f"latency {a.latency_s:.2f} s → {b.latency_s:.2f} s{pct}",
                        abs(delta)))
    return out


def _seq(outcomes: Sequence[str | None]) -> str:
    return ", ".join(outcome_name(o) for o in outcomes) or "no code run"


def diff_sides(a: Side, b: Side, *, latency_tolerance: float = LATENCY_TOLERANCE) -> Diff:
    """Pair two sides' items by name and group every change by kind, largest first.

    Two sides of one item each (two recordings of one case) are paired whatever their names.
    """
    pairs: list[tuple[str, Item, Item]]
    if len(a.items) == 1 and len(b.items) == 1:
        (name_a, item_a), (name_b, item_b) = next(iter(a.items.items())), \
            next(iter(b.items.items()))
        pairs = [(_pair_name(name_a, name_b), item_a, item_b)]
        only_a: list[str] = []
        only_b: list[str] = []
    else:
        pairs = [(n, a.items[n], b.items[n]) for n in a.items if n in b.items]
        only_a = [n for n in a.items if n not in b.items]
        only_b = [n for n in b.items if n not in a.items]
    groups: dict[str, list[Change]] = {k: [] for k in KINDS}
    for name, x, y in pairs:
        for kind, summary, size in compare(x.behaviour, y.behaviour,
                                           latency_tolerance=latency_tolerance):
            groups[kind].append(Change(name, kind, summary, size, x.href, y.href))
    for changes in groups.values():
        changes.sort(key=lambda c: (-c.size, c.item))
    return Diff(a.label, b.label, len(pairs), {k: v for k, v in groups.items() if v},
                only_a, only_b)


def _pair_name(a: str, b: str) -> str:
    """Two names of one item, their common directory said once: ``dir/{1.yaml → 3.yaml}``."""
    if a == b:
        return a
    try:
        common = os.path.commonpath([a, b])
    except ValueError:
        common = ""
    if not common or common in (a, b):
        return f"{a} → {b}"
    cut = len(common) + 1
    return f"{common}/{{{a[cut:]} → {b[cut:]}}}"


def item_name(record: Mapping[str, Any]) -> str:
    """``suite::case [model#k]`` (``[model]`` for sample 1 of one)."""
    suite, case, model, sample = item_key(record)
    return f"{suite}::{case} [{model}{f'#{sample}' if sample > 1 else ''}]"


def side_from_records(label: str, records: Iterable[Mapping[str, Any]], *,
                      report: str | None) -> Side:
    """A run's side from its (slim or full) records, linked to its HTML report's panels.

    Args:
        label: The run's name.
        records: Its records (deduplicated here, as its report was).
        report: The href of its ``report.html`` (``""``: this page); None: no links.
    """
    recs = dedupe_items(records)
    grid = build_grid(recs, list(dict.fromkeys(str(r.get("model", "")) for r in recs)))
    rows = {case: r for r, case in enumerate(grid.cases)}
    cols = {m: c for c, m in enumerate(grid.models)}
    items = {}
    for rec in recs:
        key = item_key(rec)
        href = None
        if report is not None:
            href = f"{report}#{grid.panel_id(rows[(key[0], key[1])], cols[key[2]])}"
        items[item_name(rec)] = Item(behaviour_of_record(rec, transcript_of(rec)), href)
    return Side(label, items)


def side_from_run(path: Path, *, report: str | None = None) -> Side:
    """A run directory's (or results.jsonl's) side.

    Args:
        path: ``reports/<run-id>``, ``reports/latest`` or a ``results.jsonl``.
        report: The href of its report (default: ``<run dir>/report.html`` as given).

    Raises:
        FileNotFoundError: no results there.
        ValueError: a line that is not a record.
    """
    results = path / "results.jsonl" if path.is_dir() else path
    if not results.is_file():
        raise FileNotFoundError(f"{path}: no results.jsonl here; give a run directory "
                                "(reports/<run-id>, reports/latest), its results.jsonl, or "
                                "a recording (cassette, JSON or SSE response body)")
    run_dir = results.parent
    label = run_dir.resolve().name
    href = report if report is not None else (run_dir / "report.html").as_posix()
    return side_from_records(label, read_slim(results), report=href)


def _link(label: str, href: str | None) -> str:
    return f"[{label}]({href.replace(' ', '%20').replace(')', '%29')})" if href else label


def diff_markdown(diff: Diff, *, limit: int = 50, heading: str = "#",
                  title: str | None = None) -> list[str]:
    """The diff as Markdown lines: counts per kind, then one section per kind.

    Args:
        diff: From :func:`diff_sides`.
        limit: Items listed per kind before "and N more".
        heading: The title's level (``##`` when the diff is a section of a report).
        title: The title (default: ``Behaviour diff: A → B``).
    """
    from harness.report.fmt import md

    sub = heading + "#"
    lines = [f"{heading} {md(title or f'Behaviour diff: {diff.a} → {diff.b}')}", "",
             f"{diff.compared} item{'s' if diff.compared != 1 else ''} compared, "
             f"{diff.changed_items} changed"
             + (f", {len(diff.only_a)} only in A" if diff.only_a else "")
             + (f", {len(diff.only_b)} only in B" if diff.only_b else "") + "."]
    if not diff.groups:
        return [*lines, "", "No change in answer, outcomes, attempts, libraries, code size, "
                            "tokens, images or latency."]
    lines += ["", "| Change | Items |", "|---|--:|"]
    lines += [f"| {KINDS[k]} | {len(v)} |" for k, v in diff.groups.items()]
    for kind, changes in diff.groups.items():
        lines += ["", f"{sub} {KINDS[kind]} ({len(changes)})", ""]
        for c in changes[:limit]:
            links = f" ({_link('A', c.a_href)} · {_link('B', c.b_href)})" \
                if c.a_href or c.b_href else ""
            lines.append(f"- `{c.item.replace('`', chr(39))}`: {md(c.summary)}{links}")
        if len(changes) > limit:
            lines.append(f"- and {len(changes) - limit} more")
    for label, names in (("Only in A", diff.only_a), ("Only in B", diff.only_b)):
        if names:
            shown = ", ".join(f"`{n}`" for n in names[:limit])
            more = f", and {len(names) - limit} more" if len(names) > limit else ""
            lines += ["", f"{label} ({len(names)}): {shown}{more}"]
    return lines
