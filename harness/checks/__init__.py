"""Checks: named, argument-validated judgements of a transcript (see ``registry``)."""

from __future__ import annotations

from harness.checks.registry import (
    CheckArgs,
    CheckCall,
    CheckContext,
    CheckParseError,
    CheckResult,
    CheckSpec,
    Judgement,
    all_checks,
    check,
    get,
    parse_check,
    register,
)
from harness.checks.schema import check_json_schema

__all__ = [
    "CheckArgs",
    "CheckCall",
    "CheckContext",
    "CheckParseError",
    "CheckResult",
    "CheckSpec",
    "Judgement",
    "all_checks",
    "check",
    "check_json_schema",
    "get",
    "parse_check",
    "register",
]
