"""Find the numbers written in a model's answer or a code run's output.

:func:`find_numbers` is what ``answer_number`` and ``output_number`` compare against. It is
deliberately literal: it reads numbers the way a person would read them in prose, Markdown or
LaTeX, and never evaluates arithmetic (``2+3`` is 2 and 3, not 5).
"""

from __future__ import annotations

import re

__all__ = ["find_numbers", "format_number"]

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


def find_numbers(text: str) -> list[float]:
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
      number, the value, not its parts; too large for a float is ``inf``;
    * LaTeX fractions ``\frac{1}{2}`` (also ``\dfrac``, ``\tfrac``) as their value, 0.5;
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
        The numbers as floats.

    """
    text = _LATEX_GROUP.sub(",", text)
    found: list[float] = []
    for m in _NUMBER.finditer(text):
        negative = m["sign"] in ("-", "\u2212")
        if m["num"] is not None:
            num, den = _to_float(m["num"]), _to_float(m["den"])
            if den == 0:
                found.extend([-num if negative else num, den])
            else:
                found.append(-num / den if negative else num / den)
            continue
        pieces = _split_body(m["body"])
        if len(pieces) == 1:
            exponent = _exponent(m["exp"], m["pow1"] or m["pow2"])
            # Parse mantissa and exponent together so 5.117e3 is exactly 5117.0.
            values = [float(f"{pieces[0]}e{exponent}")]
        else:
            values = [float(p) for p in pieces]
        if negative:
            values[0] = -values[0]
        found.extend(values)
    return found


def _split_body(body: str) -> list[str]:
    """Split a digit run into one number string, or several for a list or dotted sequence."""
    if body.count(".") >= 2:
        return [p for p in re.split(r"[.,]", body) if p]
    whole, dot, fraction = body.partition(".")
    if "," not in whole:
        return [body if whole else "0" + body]
    groups = whole.split(",")
    if 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]):
        return ["".join(groups) + dot + fraction]
    groups[-1] += dot + fraction
    return groups


def _exponent(e_part: str | None, power: str | None) -> int:
    total = 0
    if e_part:
        total += int(e_part[1:].replace("\u2212", "-"))
    if power:
        total += int(power.replace("\u2212", "-"))
    return total


def _to_float(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def format_number(value: float) -> str:
    """Show a number the way a person would write it: ``5117``, ``3.14``, ``1e-05``.

    Args:
        value: The number.

    Returns:
        Integral values without a decimal point (below 10**15), others as Python's shortest repr.

    """
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
