"""Results: what became of each item, for people and for the record.

What it does: ``records`` turns an item (its transcript and check results) into one JSON
result record and writes the run's ``results.jsonl`` (also under xdist); ``verdict`` words a
FAIL like a spec (expected vs actual per check) and an ERROR by its kind, never a traceback.

May import: ``checks`` (CheckResult) and ``transcript.values``; never google.genai, vcr or
httpx2.

Hands on: result records, read by ``stats`` and ``report``.
"""
