"""Hypothesis budgets for the property tests of the transcript reader and the eval loader.

``HYPOTHESIS_PROFILE=ci`` (the default) keeps the suite fast; ``HYPOTHESIS_PROFILE=deep``
tries twenty times as many examples per property, for a long run before a release::

    HYPOTHESIS_PROFILE=deep pytest tests/test_transcript_hypothesis.py tests/test_schema.py
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = {"ci": 1, "deep": 20}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in SCALE:
    raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE!r} is not a profile; use one of {sorted(SCALE)}")
for _name, _scale in SCALE.items():
    settings.register_profile(_name, deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(PROFILE)


def budget(examples: int) -> settings:
    """Settings for a property test: ``examples`` under ``ci``, scaled up under ``deep``."""
    return settings(max_examples=examples * SCALE[PROFILE])
