"""Miss messages show where a request changed, even late in a long prompt."""

from __future__ import annotations

from harness.cassettes.misses import json_differences


def test_a_late_edit_in_a_long_prompt_is_shown_around_the_difference() -> None:
    prompt = ("What is the sum of the first 50 prime numbers? Generate and run code for the "
              "calculation, and make sure you get all 50 of them.")
    old = {"contents": [{"parts": [{"text": prompt}]}]}
    new = {"contents": [{"parts": [{"text": prompt.replace("all 50 of", "all 60 of")}]}]}
    [line] = json_differences(old, new)
    assert line.startswith("contents[0].parts[0].text: recorded \"...")
    recorded, now = line.split(", now ")
    assert "all 50 of them." in recorded and "all 60 of them." in now


def test_short_values_are_shown_whole() -> None:
    assert json_differences({"a": "x"}, {"a": "y"}) == ['a: recorded "x", now "y"']
    assert json_differences({"n": 1}, {"n": 2, "m": True}) == [
        "m: absent when recorded, now true", "n: recorded 1, now 2"]
