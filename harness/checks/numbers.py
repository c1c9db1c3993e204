r"""Exact numbers: those written in a model's answer or output, and those the eval file expects.

:func:`find_numbers` is what ``answer_number`` and ``output_number`` compare against. It is
deliberately literal: it reads numbers the way a person would read them in prose, Markdown or
LaTeX, and never evaluates arithmetic (``2+3`` is 2 and 3, not 5).

Numbers are never floats here, so nothing is rounded: an integer is an ``int`` (exact at any
size, ``2**100 + 1`` differs from ``2**100``), a decimal or scientific number is a
:class:`~decimal.Decimal` built from its text (``0.1`` is one tenth, ``2.50`` equals ``2.5``), and
a LaTeX fraction is a :class:`~fractions.Fraction` (``\frac{1}{3}`` has no exact decimal).
Decimals remember how they were written (:class:`WrittenDecimal`), so messages show ``1e-9`` as
``1e-9``. :func:`number_matcher` compares with a tolerance in exact rational arithmetic.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, TypeAlias

__all__ = ["Exact", "WrittenDecimal", "exact_number", "find_numbers", "format_number",
           "integral", "number_matcher"]

Exact: TypeAlias = int | Decimal | Fraction
"""An exact number: what :func:`find_numbers` finds and what number checks expect."""

# Python refuses to turn longer digit strings into ints (and back); read those as Decimals.
_MAX_INT_DIGITS = min(4000, sys.get_int_max_str_digits() or 4000)
# 10**10000 is cheap to compute with; 10**(10**9) (from `1e1000000000`) is not.
_MAX_EXPONENT = 10_000


class WrittenDecimal(Decimal):
    """A Decimal that remembers the text it was written as (``1e-9``, not ``1E-9``).

    Arithmetic on it gives plain Decimals; only :func:`format_number` reads :attr:`text`.

    Attributes:
        text: The number as written (a finding's text has no thousands separators).

    """

    text: str

    def __new__(cls, text: str) -> WrittenDecimal:
        """Read ``text`` (Python's Decimal syntax: ``3.14``, ``.5``, ``-1.5e3``) exactly."""
        self = super().__new__(cls, text)
        self.text = text
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (WrittenDecimal, (self.text,))

    def __copy__(self) -> WrittenDecimal:
        return self

    def __deepcopy__(self, memo: Any) -> WrittenDecimal:
        return self

# LaTeX writes thousands groups as ``5{,}117`` or ``5\,117``; turning those separators into plain
# commas (only in front of exactly three digits) lets the comma rules below judge them.
_LATEX_GROUP = re.compile(r"(?<=[0-9])(?:\{,\}|\\,)(?=[0-9]{3}(?![0-9]))")

_SIGNED_INT = r"[-+\u2212]?[0-9]+"

_NUMBER = re.compile(
    r"""
    # A sign only where a term starts, so 2024-01-02, x-1 and 5-3 have no negatives in them.
    (?:(?<![\w.)\]}])(?P<sign>[-+\u2212]))?
    (?P<currency>[$€£¥₹])?
    # Digits glued to a letter or digit before them are part of a name: x2, sha256, H2O, T10.
    (?<![^\W_])
    (?:
        \\[dt]?frac\{\s*(?P<num>[-\u2212]?[0-9]+(?:\.[0-9]+)?)\s*\}
                   \{\s*(?P<den>[-\u2212]?[0-9]+(?:\.[0-9]+)?)\s*\}
      | (?P<body>[0-9]+(?:,[0-9]+)*(?:\.[0-9]+)*|\.[0-9]+)
        (?P<exp>[eE][-+\u2212]?[0-9]+)?
        (?:\s*(?:[x\u00d7*\u00b7]|\\times|\\cdot)\s*10\s*(?:\^|\*\*)\s*
           (?:\{\s*(?P<pow1>"""
    + _SIGNED_INT
    + r""")\s*\}|(?P<pow2>"""
    + _SIGNED_INT
    + r""")))?
    )
    """,
    re.VERBOSE,
)


def find_numbers(text: str) -> list[Exact]:
    r"""Find every number written in ``text``, in order of appearance (duplicates kept).

    Recognised:

    * integers and decimals: ``5117``, ``-3``, ``3.14``, ``.5``, ``007`` (= 7);
    * thousands separators, only in valid groups (1-3 digits, then groups of exactly 3):
      ``5,117`` and ``1,234,567.89`` are one number each; LaTeX ``5{,}117`` and ``5\,117``
      count as the same separator;
    * a comma run that is not valid grouping is a list: ``1,2,3`` is 1, 2, 3 and ``12,34``
      is 12, 34 (so a decimal comma, ``3,14``, reads as 3 and 14);
    * scientific notation: ``5.117e3``, ``1E-5``, ``5.117 x 10^3`` (the ``x`` may also be
      U+00D7, U+00B7, ``*``, ``\times`` or ``\cdot``; ``10^{3}`` and ``10**3`` too): one
      number, the value, not its parts (a Decimal, however large or small);
    * LaTeX fractions ``\frac{1}{2}`` (also ``\dfrac``, ``\tfrac``) as their exact value, a
      Fraction (an int when whole: ``\frac{10}{2}`` is 5);
    * signs ``-``, ``+`` and the Unicode minus sign U+2212, but only where a term starts (after a
      space, bracket, ``=``, ``$`` ...): ``2024-01-02`` is 2024, 1, 2 and ``5-3`` is 5, 3;
      a sign followed by a space (a Markdown bullet ``- 5``) is not a sign;
    * surrounding decoration is ignored: Markdown ``**5117**``, ``_5117_``, ``$5117$``,
      ``\boxed{5117}``, a currency symbol (``$ € £ ¥ ₹``: ``$1,234.50`` is 1234.5, ``-$5`` is
      -5), a percent sign (``12.5%`` is 12.5, not 0.125), a sentence's full stop (``6,776.`` is
      6776), units and ordinal suffixes (``5117th``, ``30s``, ``5kg``);
    * a digit run with two or more dots (a version or address, ``3.11.2``) is its integers,
      3, 11, 2; one dot is a decimal (``3.11`` is 3.11).

    Not recognised: digits glued to a preceding letter or digit (``x2``, ``sha256``, ``CO2``
    give nothing), spaces or apostrophes as thousands separators (``1 234`` is 1 and 234),
    Indian grouping (``1,00,000``), words (``five``), Unicode superscripts, ``inf``/``nan``,
    and plain slashes (``1/2`` is 1 and 2).

    Args:
        text: Any text: a final answer, a code run's stdout.

    Returns:
        The numbers, exact: ``int`` for integers, :class:`WrittenDecimal` for decimals and
        scientific notation (its text is the number as written, without thousands separators:
        ``1234.50`` for ``$1,234.50``, ``5.117e3`` for ``5.117 x 10^3``), ``Fraction`` for LaTeX
        fractions. A number whose exponent does not fit a Decimal (beyond 10**±10**18) is
        left out.

    """
    text = _LATEX_GROUP.sub(",", text)
    found: list[Exact] = []
    for m in _NUMBER.finditer(text):
        sign = "-" if m["sign"] in ("-", "\u2212") else ""
        if m["num"] is not None:
            num, den = _read(m["num"]), _read(m["den"])
            assert num is not None and den is not None  # no exponents in \frac
            if den == 0:
                found.extend([_negate(num) if sign else num, den])
            else:
                ratio = Fraction(num) / Fraction(den)
                ratio = -ratio if sign else ratio
                found.append(ratio.numerator if ratio.denominator == 1 else ratio)
            continue
        pieces = _split_body(m["body"])
        power = m["pow1"] or m["pow2"]
        if len(pieces) == 1:
            exponent = m["exp"] or ""
            if power:  # one exponent for `5.117e3 x 10^2` and `5.117 x 10^3` alike
                exponent = _exponent(m["exp"], power)
            values = [_read(sign + pieces[0] + exponent)]
        else:
            values = [_read(sign + pieces[0]), *(_read(p) for p in pieces[1:])]
        found.extend(v for v in values if v is not None)
    return found


def _split_body(body: str) -> list[str]:
    """Split a digit run into one number string, or several for a list or dotted sequence."""
    if body.count(".") >= 2:
        return [p for p in re.split(r"[.,]", body) if p]
    whole, dot, fraction = body.partition(".")
    if "," not in whole:
        return [body]
    groups = whole.split(",")
    if 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]):
        return ["".join(groups) + dot + fraction]
    groups[-1] += dot + fraction
    return groups


def _exponent(e_part: str | None, power: str) -> str:
    """``e`` and the sum of the two exponents; ``e?`` (unreadable) when one is absurdly long."""
    parts = [p.replace("\u2212", "-") for p in (e_part[1:] if e_part else "0", power)]
    if any(len(p) > 20 for p in parts):
        return "e?"
    return f"e{sum(int(p) for p in parts)}"


def _negate(value: Exact) -> Exact:
    if isinstance(value, WrittenDecimal):
        return WrittenDecimal(value.text[1:] if value.text.startswith("-") else "-" + value.text)
    return -value


def _read(text: str) -> Exact | None:
    """One number's text (``-5117``, ``3.14``, ``.5``, ``1.5E+3``) as an exact value.

    Returns None when its exponent does not fit a Decimal.
    """
    text = text.replace("\u2212", "-")
    if text.lstrip("-+").isdigit() and len(text) <= _MAX_INT_DIGITS:
        return int(text)
    try:
        return WrittenDecimal(text)
    except InvalidOperation:
        return None


def exact_number(value: Any) -> Exact:
    """An eval file's number as an exact value: how ``value:`` and ``tolerance:`` are read.

    A YAML float becomes the Decimal of the text the file has (``0.1`` is one tenth, not the
    float nearest to it; ``1e-9`` keeps that spelling); a Python float, the Decimal of its
    shortest repr (``0.1`` again). Integers stay ``int``.

    Args:
        value: A number from a loaded eval file (int, float,
            :class:`~harness.spec.yamlload.YamlFloat`) or from Python (also Decimal, Fraction).

    Returns:
        An ``int``, :class:`WrittenDecimal` (or the given Decimal) or Fraction.

    Raises:
        TypeError: ``value`` is not a number (booleans are not numbers).
        ValueError: ``value`` is infinite or NaN.

    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int | Fraction):
        return value
    if isinstance(value, Decimal):
        number = value
    else:  # a float: a YAML float's own text (`1e400` is finite here though the float is inf)
        text = getattr(value, "text", None) or repr(value)
        try:
            number = WrittenDecimal(text)
        except InvalidOperation:  # `.inf`, `.nan`
            raise ValueError(f"not a finite number: {text}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {number}")
    return number


def integral(value: Any) -> Any:
    """A float with a whole value (``5.0``, ``1e3``) as an int; anything else unchanged.

    For integer fields: the JSON Schema type "integer" accepts ``5.0``, so the parser must too.
    """
    if isinstance(value, float) and value.is_integer():
        exact = Decimal(getattr(value, "text", None) or repr(value))
        if exact == exact.to_integral_value():  # not `1.0000000000000000001` (float 1.0)
            return int(exact)
    return value


def number_matcher(expected: Exact, tolerance: Exact = 0) -> Callable[[Exact], bool]:
    """A test for "equal to ``expected`` within ``tolerance``", in exact arithmetic.

    Args:
        expected: The expected number.
        tolerance: The largest allowed absolute difference (0: exactly equal).

    Returns:
        ``matches(n)``: whether ``|n - expected| <= tolerance``, computed without rounding
        (``0.1 + 0.2`` is not ``0.3``, ``2**100 + 1`` is not ``2**100``).

    Raises:
        ValueError: with a non-zero tolerance, ``expected`` or ``tolerance`` has an exponent
            beyond ±10000 (the exact bounds would be too large to compute).

    """
    if tolerance == 0:
        return lambda n: n == expected  # exact across int, Decimal and Fraction
    centre, width = _fraction(expected), _fraction(tolerance)
    low, high = centre - width, centre + width
    # Comparing against Fractions is exact and cheap, even for `1e999999999` in the text.
    return lambda n: low <= n <= high


def _fraction(value: Exact) -> Fraction:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > _MAX_EXPONENT:
            raise ValueError(f"{format_number(value)} is too large or too small to compare "
                             f"within a tolerance (exponent beyond ±{_MAX_EXPONENT}); "
                             "compare it exactly (tolerance 0) or scale the value")
    return Fraction(value)


def format_number(value: Exact | float) -> str:
    """Show a number the way it was written: ``5117``, ``3.14``, ``1e-9``, ``2.50``, ``1/3``.

    Args:
        value: The number. A :class:`WrittenDecimal` shows its text; another Decimal its
            ``str`` with a lower-case exponent (``1.5e3``); a Fraction ``p/q``; an int all its
            digits (up to Python's int/str limit, then ``1.234568e+5000``).

    Returns:
        The display string. Floats (from Python callers): integral values without a decimal
        point (below 10**15), others as Python's shortest repr.

    """
    if isinstance(value, WrittenDecimal):
        return value.text
    if isinstance(value, Decimal):
        return str(value).replace("E+", "e").replace("E", "e")
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return _int_text(value.numerator)
        return f"{_int_text(value.numerator)}/{_int_text(value.denominator)}"
    if isinstance(value, int):
        return _int_text(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # beyond Python's int/str limit
        return f"{Decimal(value):.6e}"
