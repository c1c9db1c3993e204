"""Calls: talking to Gemini through the real google-genai SDK.

What it does: makes the SDK client for a target (``targets``), drives a case's API surface
(``surfaces/``, one module per ``api:`` name, picked from ``surfaces.registry``), and applies
the harness's own retry policy (``retry``) around it (``run``).

May import: ``spec`` (the Case), ``cassettes`` (the open Recording and the replay transport),
``transcript`` (SDK responses become a Transcript), ``config``, ``errors``. google.genai and
httpx2 are imported here (lazily, inside functions) and under ``transcript/`` only.

Hands on: a :class:`~harness.transcript.values.Transcript` with record-time timing.
"""
