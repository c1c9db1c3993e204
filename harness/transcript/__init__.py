"""Transcript: what came back from the model, as one SDK-free value.

What it does: ``values`` has the Transcript value types (steps, code runs, usage); one module
per wire shape builds a Transcript from what the SDK returned: ``generate`` (generateContent,
unary or streamed), ``interactions`` (the Interactions API, plain or streamed events, with
``interaction_steps`` assembling streamed steps); ``parse`` recognises raw bodies (JSON, SSE,
gzip: ``bodies``) and dispatches to them. ``sdkparse`` and ``sdkvalues`` parse wire JSON with
the SDK's own types and read the parsed values tolerantly.

May import: google.genai (lazily, inside functions) and pydantic; nothing else of the
harness but ``errors``. SDK objects go in here and a Transcript comes out: nothing
downstream sees SDK types.

Hands on: :class:`~harness.transcript.values.Transcript`.
"""
