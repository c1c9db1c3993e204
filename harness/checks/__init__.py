"""Checks: named, argument-validated judgements of a Transcript.

What it does: ``api`` has what a check is made of (argument models, context, judgement,
result, ``@check``); ``registry`` finds every check by name (the built-ins in ``outcomes``,
``text`` and ``response``, and those of the ``harness.checks`` entry-point group) and parses
``expect:`` entries; ``schema`` turns the registered argument models into JSON Schema;
``labels`` and ``numbers`` word and read values.

May import: ``transcript.values`` (the Transcript value types) and pydantic; never
google.genai, vcr or httpx2: checks judge Transcript values only.

Hands on: a :class:`~harness.checks.api.CheckResult` per check.
"""
