"""Where a run's recordings came from: the provenance table per model, and what it warns of.

Each result record carries its cassette's provenance (:mod:`harness.results.provenance`).
Per model, the table counts the harness versions, google-genai versions, reported model
versions, ``recorded_via`` values and targets, and gives the record date range. Two things
make a run's figures harder to read, and are said out loud:

* cassettes recorded with different google-genai **major** versions (the SDK shapes the
  requests, and a major version may change them or how responses are read);
* one model whose items report different model versions: its figures mix model releases.

``unknown`` (cassettes from before provenance) is counted, never taken as a version; nor is
the model's own name: the Interactions API echoes the model asked for, where
generateContent reports a version, so a suite with both APIs would otherwise always warn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from harness.results.provenance import (
    HARNESS_VERSION,
    MODEL_VERSION,
    RECORD_DATE,
    SDK,
    TARGET,
    UNKNOWN,
    VIA,
)

COUNTED = (HARNESS_VERSION, SDK, MODEL_VERSION, VIA, TARGET)
HEAD = ("Model", "Items", "Harness", "google-genai", "Reported model version", "Recorded",
        "Via")


def _counts(values: Iterable[str]) -> dict[str, int]:
    """Value -> items, most frequent first (then by name), ``unknown`` last."""
    c = Counter(values)
    return dict(sorted(c.items(), key=lambda kv: (kv[0] == UNKNOWN, -kv[1], kv[0])))


def provenance_table(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model: item count, a count per value of each field, and the record date range.

    Records without provenance (skipped items, calls that never reached a cassette) are left
    out. Returns ``{}`` when no record has any (e.g. a run from before provenance).
    """
    by_model: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        prov = rec.get("provenance")
        if isinstance(prov, Mapping):
            by_model.setdefault(str(rec.get("model", "")), []).append(prov)
    table: dict[str, dict[str, Any]] = {}
    for model, provs in by_model.items():
        dates = sorted(str(p.get(RECORD_DATE)) for p in provs
                       if p.get(RECORD_DATE) not in (None, UNKNOWN))
        row: dict[str, Any] = {"items": len(provs)}
        row.update({k: _counts(str(p.get(k) or UNKNOWN) for p in provs) for k in COUNTED})
        row["record_dates"] = {"first": dates[0] if dates else None,
                               "last": dates[-1] if dates else None,
                               "unknown": len(provs) - len(dates)}
        table[model] = row
    return table


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def provenance_warnings(table: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What the table says that changes how the run reads (see the module docstring)."""
    warnings: list[str] = []
    majors: Counter[str] = Counter()
    for row in table.values():
        for version, n in (row.get(SDK) or {}).items():
            if version != UNKNOWN:
                majors[_major(version)] += n
    if len(majors) > 1:
        listed = ", ".join(f"{m}.x ({n} item{'s' if n != 1 else ''})"
                           for m, n in sorted(majors.items()))
        warnings.append(f"cassettes were recorded with different google-genai major versions: "
                        f"{listed}; re-record the older ones (--record-mode=rewrite) so every "
                        "item was sent and read by one SDK")
    for model, row in table.items():
        versions = {v: n for v, n in (row.get(MODEL_VERSION) or {}).items()
                    if v not in (UNKNOWN, model)}
        if len(versions) > 1:
            listed = ", ".join(f"{v} ({n})" for v, n in versions.items())
            warnings.append(f"{model}: its items report {len(versions)} different model "
                            f"versions ({listed}): its figures mix model releases; re-record "
                            "them together (--record-mode=rewrite) to measure one release")
    return warnings


def _cell(counts: Mapping[str, int], items: int) -> str:
    """``3.6.1`` when every item agrees, else ``3.6.1 (4), 2.0.0 (2)``."""
    if len(counts) == 1 and next(iter(counts.values())) == items:
        return next(iter(counts))
    return ", ".join(f"{v} ({n})" for v, n in counts.items()) or UNKNOWN


def _dates(d: Mapping[str, Any]) -> str:
    """``2026-11-02 to 2026-12-03``, with ``unknown (n)`` for items recorded undated."""
    first, last, unknown = d.get("first"), d.get("last"), int(d.get("unknown") or 0)
    parts = [] if first is None else [str(first) if first == last else f"{first} to {last}"]
    if unknown:
        parts.append(f"{UNKNOWN} ({unknown})" if parts else UNKNOWN)
    return ", ".join(parts) or UNKNOWN


def provenance_rows(table: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Plain-text cells under :data:`HEAD`, one row per model (renderers escape them)."""
    rows: list[tuple[str, ...]] = []
    for model, row in table.items():
        items = int(row.get("items") or 0)
        rows.append((model, str(items), _cell(row.get(HARNESS_VERSION) or {}, items),
                     _cell(row.get(SDK) or {}, items), _cell(row.get(MODEL_VERSION) or {}, items),
                     _dates(row.get("record_dates") or {}),
                     _cell(row.get(VIA) or {}, items)))
    return rows
