"""A local Gemini-compatible server whose ``sim-*`` models really run code (``harness sim``).

The unmodified google-genai SDK talks to it as to Google: generateContent, streaming (SSE),
interactions (plain, streamed, get, ``previous_interaction_id``), the Files upload pair,
Vertex AI paths and the API's error format. Point a client at :attr:`SimServer.base_url`::

    from harness.sim.server import start
    with start(cases) as server:
        client = genai.Client(api_key="any", http_options={
            "base_url": server.base_url, "api_version": "v1beta"})

Everything it invents is deterministic for a (case, model, sample), so re-recording an
unchanged case changes nothing. Modules: ``app`` (routes), ``models`` (behaviours -> scripts),
``wire`` (scripts -> JSON/SSE), ``faults``, ``deliver``, ``parse``, ``files``, ``catalog``,
``server`` (uvicorn), ``cli`` (``harness sim``), ``devexec`` (a plain-subprocess executor
for tests: not a sandbox).

May import: ``spec`` (the cases it serves), ``sandbox`` (where its models run code), and
starlette/uvicorn; never google.genai or vcr (it is the other side of the wire).
"""
