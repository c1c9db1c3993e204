"""find_numbers: what counts as a number in an answer or an output."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.checks.numbers import find_numbers, format_number

CASES: list[tuple[str, list[float]]] = [
    # plain
    ("5117", [5117]),
    ("The sum is 5117.", [5117]),
    ("-3", [-3]),
    ("3.14", [3.14]),
    (".5", [0.5]),
    ("007", [7]),
    ("0", [0]),
    ("", []),
    ("no numbers here", []),
    # thousands separators
    ("5,117", [5117]),
    ("1,234,567.89", [1234567.89]),
    ("5,117.00", [5117]),
    ("$1,234.50", [1234.5]),
    ("6,776.", [6776]),
    ("The total is 6,776, not less.", [6776]),
    ("1,000,000", [1_000_000]),
    # commas that are not thousands groups: a list
    ("1,2,3", [1, 2, 3]),
    ("12,34", [12, 34]),
    ("1,234,5", [1, 234, 5]),
    ("1,2345", [1, 2345]),
    ("12345,678", [12345, 678]),
    ("3,14", [3, 14]),
    ("1, 234", [1, 234]),
    ("1,2.5", [1, 2.5]),
    # spaces are not separators
    ("1 234", [1, 234]),
    # markdown, LaTeX, decoration
    ("**5117**", [5117]),
    ("The answer is **5,117**.", [5117]),
    ("__5117__", [5117]),
    ("_5117_", [5117]),
    ("`5117`", [5117]),
    ("$5117$", [5117]),
    (r"\boxed{5117}", [5117]),
    (r"$\boxed{5,117}$", [5117]),
    (r"$5{,}117$", [5117]),
    (r"$1\,234\,567$", [1234567]),
    (r"$1\,2$", [1, 2]),
    (r"\frac{1}{2}", [0.5]),
    (r"\dfrac{3}{4}", [0.75]),
    (r"-\frac{1}{4}", [-0.25]),
    (r"\frac{1}{0}", [1, 0]),
    ("(5117)", [5117]),
    ("[5117]", [5117]),
    ("x = 5117;", [5117]),
    ("'5117'", [5117]),
    # scientific notation
    ("5.117e3", [5117]),
    ("5.117E+3", [5117]),
    ("1e-5", [1e-5]),
    ("-2.5e-3", [-0.0025]),
    ("5.117 \u00d7 10^3", [5117]),
    ("5.117 x 10^3", [5117]),
    (r"5.117 \times 10^{3}", [5117]),
    (r"$1.5 \cdot 10^{-2}$", [0.015]),
    ("2*10**3", [2000]),
    ("5 x 10", [5, 10]),
    ("1e400", [math.inf]),
    # signs
    ("\u22127", [-7]),
    ("+5", [5]),
    ("(-3)", [-3]),
    ("x=-3", [-3]),
    ("-$5", [-5]),
    ("$-5", [-5]),
    ("- 5 apples", [5]),
    ("5-3", [5, 3]),
    ("5 - 3 = 2", [5, 3, 2]),
    ("range 1\u20133", [1, 3]),  # en dash
    ("gemini-2.5-flash", [2.5]),
    ("COVID-19", [19]),
    # dates, times, versions
    ("2024-01-02", [2024, 1, 2]),
    ("on 2024-01-02 at 10:30", [2024, 1, 2, 10, 30]),
    ("1/2/2024", [1, 2, 2024]),
    ("version 3.11", [3.11]),
    ("Python 3.11.2", [3, 11, 2]),
    ("192.168.0.1", [192, 168, 0, 1]),
    ("Version 1.2.3.", [1, 2, 3]),
    # percentages, units, ordinals
    ("12.5%", [12.5]),
    ("grew by 12.5% to $1,200", [12.5, 1200]),
    ("5117th", [5117]),
    ("the 3rd and 21st", [3, 21]),
    ("30s", [30]),
    ("5kg", [5]),
    ("3D", [3]),
    # digits glued to a preceding letter are names
    ("x2", []),
    ("sha256", []),
    ("H2O and CO2", []),
    ("var_2", [2]),
    ("0x1F", [0]),
    ("abc123 456", [456]),
    # several numbers, order kept, duplicates kept
    ("50 primes sum to 5117 (5117 exactly)", [50, 5117, 5117]),
    ("The sum is 5000, not 17.", [5000, 17]),
    ("5000\n17\n", [5000, 17]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_find_numbers(text: str, expected: list[float]) -> None:
    assert find_numbers(text) == pytest.approx(expected)


def test_grouped_number_is_not_split() -> None:
    numbers = find_numbers("5,117")
    assert 5117 in numbers
    assert 5 not in numbers and 117 not in numbers


def test_scientific_is_exact() -> None:
    # Parsed in one go, not as 0.57 * 100 (which is 56.99999999999999).
    assert find_numbers("0.57e2") == [57.0]
    assert find_numbers("0.57 \u00d7 10^2") == [57.0]


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integers_round_trip_with_and_without_grouping(n: int) -> None:
    assert find_numbers(str(n)) == [n]
    assert find_numbers(f"{n:,}") == [n]
    assert find_numbers(f"The answer is **{n:,}**.") == [n]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_python_float_repr_round_trips(x: float) -> None:
    assert find_numbers(repr(x)) == [x]
    assert find_numbers(f"value: {x!r}\n") == [x]


@pytest.mark.parametrize(("value", "shown"), [
    (5117.0, "5117"), (-3.0, "-3"), (3.14, "3.14"), (1e-05, "1e-05"), (1e20, "1e+20"),
    (0.0, "0"), (math.inf, "inf"),
])
def test_format_number(value: float, shown: str) -> None:
    assert format_number(value) == shown
