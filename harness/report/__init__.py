"""Reports of a run: ``summary.json``, ``report.md``, ``report.html`` and the terminal summary.

What it does: ``summary`` turns result records into ``summary.json`` (and compares two runs:
``harness compare``); ``write`` writes every report of a run (the plugin calls
``write_reports`` at session end; ``harness report RUN`` calls ``render_run``, which
re-renders from ``results.jsonl`` without calling anything); ``terminal``, ``markdown``,
``html`` (with ``charts``, ``matrix``, ``panels``, ``style``, ``fmt``) render; ``history``
keeps ``reports/history.jsonl``; ``synthetic`` makes runs for tests and benchmarks.

May import: ``stats``, ``results``, ``checks`` and ``transcript.values`` (records and their
values); never google.genai, vcr or httpx2. Renderers are imported lazily by the front door
(nothing here is needed to collect tests).
"""
