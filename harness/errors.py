"""Infrastructure errors: problems with the API, cassettes or configuration, not the model.

They surface as pytest ERRORs with their message only (no traceback), and their ``kind``
goes into the result record so reports keep them apart from model failures.
"""

from __future__ import annotations


class HarnessError(Exception):
    """An infrastructure problem; ``str()`` is the whole user-facing message.

    Attributes:
        kind: ``api`` | ``cassette`` | ``config`` | ``spec``.

    """

    kind = "harness"


class CassetteError(HarnessError):
    """A missing cassette, or a request that no recorded one matches."""

    kind = "cassette"


class ApiError(HarnessError):
    """The API (or the network to it) failed, after the harness's retries."""

    kind = "api"


class SetupError(HarnessError):
    """Configuration that prevents calling the model (no key, unsupported target...)."""

    kind = "config"


class BudgetReached(HarnessError):
    """``--harness-budget-usd`` was reached before the item started: nothing was called."""

    kind = "budget"
