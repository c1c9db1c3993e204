"""The built-in checks: importing this module registers them (``registry`` does so on first use).

They live in modules by subject:

* ``outcomes``: ``code_executed``, ``final_outcome``, ``allowed_outcomes``, ``max_attempts``,
  ``code_contains``, ``code_not_contains``;
* ``text``: ``output_contains``, ``output_regex``, ``output_number``, ``answer_contains``,
  ``answer_regex``, ``answer_number`` (numbers are read by :mod:`harness.checks.numbers`);
* ``response``: ``finish_reason``, ``max_tokens``, ``min_images``;
* ``functions``: ``called``, ``not_called``, ``max_function_calls``.
* ``grounding``: ``searched``, ``cites`` (what Google Search / URL context reported).
* ``verify``: ``verify_output`` (the recorded code, re-run locally, prints what was recorded).
"""

from __future__ import annotations

from harness.checks import functions, grounding, outcomes, response, text, verify

BUILTIN_MODULES = (outcomes, response, text, functions, grounding, verify)

__all__ = ["BUILTIN_MODULES"]
