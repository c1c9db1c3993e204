r"""User regular expressions, run on RE2: linear time in the text, so a check never hangs.

Python's ``re`` backtracks: ``^(a+)+$`` against forty ``a`` and a ``!`` takes longer than any
CI job. RE2 (google-re2) guarantees time linear in the input and refuses the features that
need backtracking: backreferences (``\1``) and look-around (``(?=``, ``(?<=``, ...). Patterns
are searched with ``^`` and ``$`` matching at line breaks (RE2's ``(?m)``), as before.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

_UNSUPPORTED = {
    "invalid perl operator": "look-around such as (?=...), (?!...), (?<=...) is not supported",
    "invalid escape sequence": "backreferences such as \\1 (and some escapes) are not supported",
    "invalid named capture group": "named groups are written (?P<name>...)",
}


class RegexError(ValueError):
    """A pattern RE2 does not accept; ``str()`` says why and what to write instead."""


def _options() -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would also print every refused pattern to stderr
    return options


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern (searching, multi-line).

    Raises:
        RegexError: RE2 refuses it; the message names the unsupported feature.
    """
    import re2

    try:
        return re2.compile("(?m)" + pattern, _options())
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        detail = detail.replace("(?m)", "", 1)  # the flag is ours, not the user's
        hint = next((h for key, h in _UNSUPPORTED.items() if detail.startswith(key)), None)
        why = f"{detail}: {hint}" if hint else detail
        raise RegexError(f"invalid regular expression {pattern!r} ({why}). Patterns run on "
                         "RE2, which never backtracks, so a check cannot hang") from None


def searcher(pattern: str) -> Callable[[str], bool]:
    """A function telling whether ``text`` has a match for ``pattern``."""
    compiled = compile_pattern(pattern)
    return lambda text: compiled.search(text) is not None
