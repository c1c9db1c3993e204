"""The README documents what the code offers (so the two do not drift apart)."""

from __future__ import annotations

from pathlib import Path

from harness.checks.registry import all_checks
from harness.cli import build_parser
from harness.config import HarnessTable

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_check_is_documented():
    missing = [name for name in all_checks() if f"| `{name}` |" not in README]
    assert not missing, f"checks missing from the README's check table: {missing}"


def test_every_config_key_is_documented():
    missing = [key for key in HarnessTable.model_fields if f"| `{key}` |" not in README]
    assert not missing, f"[tool.harness] keys missing from the README: {missing}"


def test_every_subcommand_is_documented():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    missing = [name for name in sub.choices if f"`harness {name}" not in README]
    assert not missing, f"subcommands missing from the README: {missing}"


def test_readme_opens_with_the_two_commands():
    head = README.split("## ", 1)[0]
    assert "&& pytest evals/" in head and "&& pytest tests" in head
