"""Parsed eval files kept in __pycache__: used only while nothing they came from changed."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from harness.checks import api
from harness.spec import cache
from harness.spec.case import SpecError
from harness.spec.load import load_eval_file

CASES = """
    cases:
      - id: sum
        prompt: What is 2 + 2?
        inputs: [{file: data.csv}]
        reference: print(4)
        expect: [code_executed, {answer_number: 4}, {output_contains: '4'}]
"""


@pytest.fixture(autouse=True)
def _writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # this machine sets it


def _file(tmp_path: Path, text: str = CASES) -> Path:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    path = tmp_path / "x.eval.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _load(path: Path) -> object:
    return load_eval_file(path, path.parent)


def test_a_second_load_is_served_from_the_cache_and_equals_a_fresh_parse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path)
    fresh = _load(path)
    assert cache.cache_file(path).is_file()
    monkeypatch.setattr("harness.spec.load.load_yaml", lambda text: pytest.fail("parsed again"))
    cached = _load(path)
    assert cached == fresh
    call = cached.cases[0].expect[1]  # type: ignore[attr-defined]
    assert call.spec is api.registered()["answer_number"]  # the registered check runs


@pytest.mark.parametrize("change", ["edit the file", "delete the input", "resize the input"])
def test_a_change_to_what_the_parse_came_from_parses_again(tmp_path: Path, change: str) -> None:
    path = _file(tmp_path)
    _load(path)
    if change == "edit the file":
        path.write_text(path.read_text().replace("2 + 2", "3 + 1"))
        assert _load(path).cases[0].prompt == "What is 3 + 1?"  # type: ignore[attr-defined]
    elif change == "delete the input":
        (tmp_path / "data.csv").unlink()
        with pytest.raises(SpecError, match=r"data\.csv"):
            _load(path)
    else:
        (tmp_path / "data.csv").write_text("a,b\n1,2\n3,4\n")
        inputs = _load(path).cases[0].all_inputs()  # type: ignore[attr-defined]
        assert inputs[0].size == len("a,b\n1,2\n3,4\n")


def test_a_file_with_errors_is_never_stored(tmp_path: Path) -> None:
    path = _file(tmp_path, CASES.replace("code_executed", "code_execute"))
    for _ in range(2):  # reported afresh each time
        with pytest.raises(SpecError, match="Did you mean 'code_executed'"):
            _load(path)
    assert not cache.cache_file(path).exists()


def test_no_writes_under_pythondontwritebytecode_and_a_broken_entry_is_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    _load(path)
    assert not cache.cache_file(path).exists()
    cache.cache_file(path).parent.mkdir()
    cache.cache_file(path).write_bytes(b"not a pickle")
    assert _load(path).cases[0].id == "sum"  # type: ignore[attr-defined]
