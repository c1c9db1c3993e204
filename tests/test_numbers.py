"""Exact numbers: what counts as a number in an answer or an output, and how it compares."""

from __future__ import annotations

import math
import time
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.checks.numbers import (
    Exact,
    WrittenDecimal,
    exact_number,
    find_numbers,
    format_number,
    integral,
    number_matcher,
)
from harness.spec.yamlload import YamlFloat

D, F = Decimal, Fraction

CASES: list[tuple[str, list[Exact]]] = [
    # plain
    ("5117", [5117]),
    ("The sum is 5117.", [5117]),
    ("-3", [-3]),
    ("3.14", [D("3.14")]),
    (".5", [D("0.5")]),
    ("007", [7]),
    ("0", [0]),
    ("", []),
    ("no numbers here", []),
    # thousands separators
    ("5,117", [5117]),
    ("1,234,567.89", [D("1234567.89")]),
    ("5,117.00", [5117]),
    ("$1,234.50", [D("1234.5")]),
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
    ("1,2.5", [1, D("2.5")]),
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
    (r"\frac{1}{2}", [F(1, 2)]),
    (r"\dfrac{3}{4}", [F(3, 4)]),
    (r"\frac{1}{3}", [F(1, 3)]),
    (r"\frac{1.5}{2}", [F(3, 4)]),
    (r"-\frac{1}{4}", [F(-1, 4)]),
    (r"-\frac{-1}{0}", [1, 0]),
    (r"\frac{1}{0}", [1, 0]),
    ("(5117)", [5117]),
    ("[5117]", [5117]),
    ("x = 5117;", [5117]),
    ("'5117'", [5117]),
    # scientific notation
    ("5.117e3", [5117]),
    ("5.117E+3", [5117]),
    ("1e-5", [D("0.00001")]),
    ("1E3", [1000]),
    ("-2.5e-3", [D("-0.0025")]),
    ("5.117 \u00d7 10^3", [5117]),
    ("5.117 x 10^3", [5117]),
    (r"5.117 \times 10^{3}", [5117]),
    (r"$1.5 \cdot 10^{-2}$", [D("0.015")]),
    ("1e3 x 10^2", [100_000]),
    ("2*10**3", [2000]),
    ("5 x 10", [5, 10]),
    ("1e400", [10**400]),  # no float overflow to inf
    ("1e99999999999999999999 and 5", [5]),  # exponent beyond a Decimal's: left out
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
    ("gemini-2.5-flash", [D("2.5")]),
    ("COVID-19", [19]),
    # dates, times, versions
    ("2024-01-02", [2024, 1, 2]),
    ("on 2024-01-02 at 10:30", [2024, 1, 2, 10, 30]),
    ("1/2/2024", [1, 2, 2024]),
    ("version 3.11", [D("3.11")]),
    ("Python 3.11.2", [3, 11, 2]),
    ("192.168.0.1", [192, 168, 0, 1]),
    ("Version 1.2.3.", [1, 2, 3]),
    # percentages, units, ordinals
    ("12.5%", [D("12.5")]),
    ("grew by 12.5% to $1,200", [D("12.5"), 1200]),
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
def test_find_numbers(text: str, expected: list[Exact]) -> None:
    found = find_numbers(text)
    assert found == expected
    assert not any(isinstance(n, float) for n in found)


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
    # Read as the exact decimal Python printed: as a float it is x again, shown as printed.
    (found,) = find_numbers(repr(x))
    assert float(found) == x and math.copysign(1, float(found)) == math.copysign(1, x)
    assert format_number(found) == repr(x)
    assert find_numbers(f"value: {x!r}\n") == [found]


def test_kinds() -> None:
    found = find_numbers(r"5117, 3.14 and $\frac{1}{3}$")
    assert [type(n) for n in found] == [int, WrittenDecimal, Fraction]


def test_big_integers_are_exact() -> None:
    assert find_numbers(str(2**100)) == [2**100]
    assert find_numbers(str(2**100 + 1)) != [2**100]
    assert find_numbers(f"{10**40 + 1:,}") == [10**40 + 1]
    assert find_numbers(f"{10**40 + 1:,}") != [10**40]


def test_longer_digit_runs_than_python_ints_allow() -> None:
    digits = "7" * 5000  # int("7" * 5000) raises: Python's int/str limit
    (found,) = find_numbers(digits)
    assert found == Decimal(digits)
    assert format_number(found) == digits


@pytest.mark.parametrize(("text", "shown"), [
    ("1.5e3", "1.5e3"), ("5.117E+3", "5.117E+3"), ("2.50", "2.50"), ("0.000000001", "0.000000001"),
    ("$1,234.50", "1234.50"), ("5.117 \u00d7 10^3", "5.117e3"), ("\u22127.5", "-7.5"),
    ("-0.0", "-0.0"), (".5", ".5"), ("+5", "5"), ("5,117", "5117"), (r"\frac{1}{3}", "1/3"),
    (r"-\frac{3}{6}", "-1/2"), (r"\frac{10}{2}", "5"), ("1267650600228229401496703205376",
                                                        "1267650600228229401496703205376"),
])
def test_findings_show_as_written(text: str, shown: str) -> None:
    (found,) = find_numbers(text)
    assert format_number(found) == shown


@pytest.mark.parametrize(("value", "shown"), [
    (5117.0, "5117"), (-3.0, "-3"), (3.14, "3.14"), (1e-05, "1e-05"), (1e20, "1e+20"),
    (0.0, "0"), (math.inf, "inf"),
    (2**100, "1267650600228229401496703205376"), (D("1E-9"), "1e-9"), (D("1.5E+3"), "1.5e3"),
    (D("2.50"), "2.50"), (F(1, 3), "1/3"), (F(4, 2), "2"), (WrittenDecimal("1e-9"), "1e-9"),
    (WrittenDecimal("0.000000001"), "0.000000001"),
])
def test_format_number(value: Exact | float, shown: str) -> None:
    assert format_number(value) == shown


def test_format_number_beyond_the_int_str_limit() -> None:
    assert format_number(10**5000) == "1.000000e+5000"  # str(10**5000) raises


# --- comparing -------------------------------------------------------------------------------

def one(text: str) -> Exact:
    (n,) = find_numbers(text)
    return n


@pytest.mark.parametrize(("expected", "tolerance", "text", "matches"), [
    (2**100, 0, str(2**100), True),
    (2**100, 0, str(2**100 + 1), False),  # equal as floats
    (10**40 + 1, 0, str(10**40), False),
    (10**40 + 1, 0, "1e40", False),
    (10**40, 0, "1e40", True),
    (2**100, 1, str(2**100 + 1), True),
    (2**100, 1, str(2**100 + 2), False),
    (D("0.3"), 0, "0.30000000000000004", False),  # print(0.1 + 0.2)
    (D("0.3"), D("4e-17"), "0.30000000000000004", True),  # float arithmetic: 5.55e-17 > 4e-17
    (D("0.3"), D("3e-17"), "0.30000000000000004", False),
    (D("1.0"), D("0.1"), "1.1", True),  # float: 1.1 - 1.0 = 0.10000000000000009 > 0.1
    (D("1.0"), D("0.1"), "1.1000000000000000001", False),
    (D("0.1"), 0, "0.1", True),
    (D("2.5"), 0, "2.50", True),  # trailing zeros do not matter
    (0, 0, "-0.0", True),
    (D("-0.0"), 0, "0", True),
    (1000, 0, "1E3", True),
    (D("0.5"), 0, ".5", True),
    (5117, 0, "5,117", True),
    (F(1, 3), 0, r"\frac{1}{3}", True),
    (F(1, 3), 0, "0.3333333333333333", False),
    (F(1, 3), D("1e-9"), "0.333333333", True),
    (D("0.333333333"), D("1e-9"), r"\frac{1}{3}", True),
    (D("0.333333333"), D("1e-10"), r"\frac{1}{3}", False),
])
def test_number_matcher(expected: Exact, tolerance: Exact, text: str, matches: bool) -> None:
    assert number_matcher(expected, tolerance)(one(text)) is matches


def test_a_huge_exponent_in_the_text_is_compared_quickly() -> None:
    start = time.perf_counter()
    found = one("1e999999999")
    assert not number_matcher(5117, 1)(found)
    assert not number_matcher(5117)(found)
    assert number_matcher(D("1e999999999"))(found)
    assert time.perf_counter() - start < 5  # would build a 10**9-digit integer otherwise


def test_a_huge_expected_value_with_a_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="too large or too small to compare within a tolerance"):
        number_matcher(D("1e99999"), 1)


# --- numbers from the eval file --------------------------------------------------------------

@pytest.mark.parametrize(("value", "exact", "shown"), [
    (YamlFloat("0.1"), D("0.1"), "0.1"),  # not Decimal(0.1) = 0.1000000000000000055...
    (YamlFloat("1e-9"), D("1e-9"), "1e-9"),
    (YamlFloat("0.000000001"), D("1e-9"), "0.000000001"),
    (YamlFloat(".5"), D("0.5"), ".5"),
    (YamlFloat("1E3"), 1000, "1E3"),
    (YamlFloat("-0.0"), 0, "-0.0"),
    (YamlFloat("1e400"), D("1e400"), "1e400"),  # inf as a float, exact here
    (0.1, D("0.1"), "0.1"),  # a Python float: its shortest repr
    (2**100, 2**100, "1267650600228229401496703205376"),
    (F(1, 3), F(1, 3), "1/3"),
])
def test_exact_number(value: object, exact: Exact, shown: str) -> None:
    got = exact_number(value)
    assert got == exact and not isinstance(got, float)
    assert format_number(got) == shown


def test_exact_number_of_0_1_is_not_the_float() -> None:
    assert exact_number(YamlFloat("0.1")) != Decimal.from_float(0.1)


@pytest.mark.parametrize(("value", "error"), [
    (True, TypeError), ("5117", TypeError), (None, TypeError),
    (YamlFloat(".inf"), ValueError), (YamlFloat("-.inf"), ValueError),
    (YamlFloat(".nan"), ValueError), (math.nan, ValueError), (D("NaN"), ValueError),
])
def test_exact_number_refuses(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        exact_number(value)


@pytest.mark.parametrize(("value", "result"), [
    (YamlFloat("1E3"), 1000), (YamlFloat("5.0"), 5), (YamlFloat("-0.0"), 0), (3.0, 3),
    (YamlFloat("1e20"), 10**20),
])
def test_integral(value: float, result: int) -> None:
    got = integral(value)
    assert got == result and type(got) is int


@pytest.mark.parametrize("value", [
    YamlFloat("2.5"), YamlFloat("1.0000000000000000001"), YamlFloat(".inf"), "5", True, 7,
])
def test_integral_leaves_other_values(value: object) -> None:
    assert integral(value) is value
