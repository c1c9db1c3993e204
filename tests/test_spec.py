"""Good eval files: defaults, tags, skip forms, samples, lines and locations, validate_paths."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from harness.spec import yamlload
from harness.spec.case import EvalFile, SpecError
from harness.spec.load import load_eval_file, validate_paths
from harness.spec.models import APIS, GenerationSettings, ThinkingSettings

DOCS = """\
# yaml-language-server: $schema=../harness/schema/eval.schema.json
suite: gemini-docs
description: Examples from the Gemini docs.
defaults:
  api: stream
  samples: 2
  tags: [docs]
  config:
    temperature: 0
    seed: 7
    thinking: {budget: 1024}
  expect: [code_executed]
cases:
  - id: sum-first-50-primes
    description: The docs example.
    prompt: >-
      What is the sum of the first 50 prime numbers? Generate and run code for the
      calculation, and make sure you get all 50.
    config:
      seed: null
      thinking: {include_thoughts: true}
    expect:
      - final_outcome: OUTCOME_OK
      - output_contains: "5117"
      - answer_number: 5117
      - max_attempts: 5
    tags: [math, docs]
  - {id: flow.style_ok, prompt: "2 + 2?", api: generate_content, samples: 1, skip: true}
  - id: reasoned-skip
    prompt: p
    skip: waiting for the new model
  - id: not-skipped
    prompt: p
    skip: false
    config: {temperature: 1.5, max_output_tokens: 100, top_p: 0.9, system_instruction: Be brief.}
    reference: |
      import sympy

      print(sum(sympy.prime(i) for i in range(1, 51)))
"""


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EvalFile:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evals").mkdir()
    path = Path("evals/docs.eval.yaml")
    path.write_text(DOCS)
    return load_eval_file(path)


def write(tmp_path: Path, text: str, name: str = "x.eval.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_file_fields(docs: EvalFile) -> None:
    assert docs.suite == "gemini-docs"
    assert docs.description == "Examples from the Gemini docs."
    assert [c.id for c in docs.cases] == ["sum-first-50-primes", "flow.style_ok", "reasoned-skip",
                                          "not-skipped"]
    assert all(c.suite == "gemini-docs" and c.path == docs.path for c in docs.cases)


def test_defaults_merge_key_wise_and_the_case_wins(docs: EvalFile) -> None:
    first, flow, reasoned, last = docs.cases
    # seed: null clears the default; thinking merges key by key
    assert first.config == GenerationSettings(
        temperature=0, thinking=ThinkingSettings(budget=1024, include_thoughts=True))
    assert reasoned.config == GenerationSettings(temperature=0, seed=7,
                                                 thinking=ThinkingSettings(budget=1024))
    assert last.config.temperature == 1.5 and last.config.seed == 7
    assert last.config.max_output_tokens == 100 and last.config.top_p == 0.9
    assert last.config.system_instruction == "Be brief."
    assert (first.api, flow.api) == ("stream", "generate_content")
    assert (first.samples, flow.samples) == (2, 1)


def test_expect_defaults_come_first(docs: EvalFile) -> None:
    first, flow, *_ = docs.cases
    assert [c.name for c in first.expect] == ["code_executed", "final_outcome",
                                              "output_contains", "answer_number", "max_attempts"]
    assert [c.name for c in flow.expect] == ["code_executed"]
    assert first.expect[3].args.model_dump()["value"] == 5117


def test_tags_are_merged_without_repeats(docs: EvalFile) -> None:
    assert docs.cases[0].tags == ("docs", "math")
    assert docs.cases[1].tags == ("docs",)


def test_skip_forms(docs: EvalFile) -> None:
    first, flow, reasoned, last = docs.cases
    assert first.skip is None and last.skip is None
    assert flow.skip == "skipped in evals/docs.eval.yaml:28"
    assert reasoned.skip == "waiting for the new model"


def test_lines_and_locations(docs: EvalFile) -> None:
    assert [c.line for c in docs.cases] == [14, 28, 29, 32]
    assert docs.cases[0].location() == "evals/docs.eval.yaml:14"
    assert docs.cases[0].description == "The docs example."
    assert docs.cases[0].prompt.startswith("What is the sum") and "\n" not in docs.cases[0].prompt


def test_reference(docs: EvalFile) -> None:
    first, *_, last = docs.cases
    assert (first.reference, first.reference_line) == (None, None)
    assert last.reference == ("import sympy\n\n"
                              "print(sum(sympy.prime(i) for i in range(1, 51)))\n")
    assert last.reference_line == 37  # the line after `reference: |`


def test_reference_forms_and_lines(tmp_path: Path) -> None:
    f = load_eval_file(write(tmp_path, """
        cases:
          - id: one-line
            prompt: p
            reference: print(5117)
          - id: quoted
            prompt: p
            reference: "x = 1\\nprint(x)"
          - id: literal-keep
            prompt: p
            reference: |+
              def f():
                  return 1


          - id: anchored
            prompt: p
            reference: &ref |-
              print(1)
          - id: aliased
            prompt: p
            reference: *ref
          - id: merged
            <<: {reference: "print(2)"}
            prompt: p
          - id: none
            prompt: p
            reference: null
        """))
    got = {c.id: (c.reference, c.reference_line) for c in f.cases}
    assert got == {
        "one-line": ("print(5117)", 4), "quoted": ("x = 1\nprint(x)", 7),
        "literal-keep": ("def f():\n    return 1\n\n\n", 11),
        "anchored": ("print(1)", 18), "aliased": ("print(1)", 18), "merged": ("print(2)", 23),
        "none": (None, None)}


def test_location_of_absolute_path_is_relative_to_cwd(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "cases:\n  - id: a\n    prompt: p\n")
    monkeypatch.chdir(tmp_path)
    case = load_eval_file(path.resolve()).cases[0]
    assert case.location() == "x.eval.yaml:2"


def test_minimal_file_defaults(tmp_path: Path) -> None:
    f = load_eval_file(write(tmp_path, "cases:\n  - {id: a, prompt: p}\n", "my-suite.eval.yaml"))
    (case,) = f.cases
    assert f.suite == "my-suite" and f.description is None
    assert (case.api, case.samples, case.tags, case.skip, case.expect) == (
        APIS[0], 1, (), None, ())
    assert case.config == GenerationSettings()
    assert case.description is None


def test_empty_skip_reason_uses_the_location(tmp_path: Path) -> None:
    path = write(tmp_path, 'cases:\n  - id: a\n    prompt: p\n    skip: ""\n')
    assert load_eval_file(path).cases[0].skip == f"skipped in {path.as_posix()}:4"


def test_anchors_and_merge_keys(tmp_path: Path) -> None:
    f = load_eval_file(write(tmp_path, """
        cases:
          - &base
            id: a
            prompt: shared prompt
            config: {temperature: 1}
          - <<: *base
            id: b
          - <<: [*base]
            id: c
            config: {temperature: 0}
        """))
    assert [(c.id, c.prompt, c.config.temperature) for c in f.cases] == [
        ("a", "shared prompt", 1), ("b", "shared prompt", 1), ("c", "shared prompt", 0)]
    assert [c.line for c in f.cases] == [2, 6, 8]


def test_yaml_1_1_dates_stay_text(tmp_path: Path) -> None:
    f = load_eval_file(write(tmp_path, "cases:\n  - id: 2024-01-01\n    prompt: p\n"))
    assert f.cases[0].id == "2024-01-01"


NUMBERS = """
    defaults:
      config: {temperature: .5, top_p: 1E-1, seed: +1, max_output_tokens: 1e3}
      samples: 2.0
    cases:
      - id: a
        prompt: p
        config: {thinking: {budget: -1.0}}
        expect:
          - answer_number: 1267650600228229401496703205376
          - answer_number: {value: 0.1, tolerance: 1e-9}
          - answer_number: {value: .5, tolerance: 0.000000001}
          - answer_number: 1E3
          - answer_number: -0.0
          - answer_number: 2.50
          - answer_number: +1
          - answer_number: 017
          - output_number: {value: 10000000000000000000000000000000000000001, tolerance: 0}
"""


@pytest.mark.parametrize("python_loader", [False, True])
def test_yaml_1_2_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          python_loader: bool) -> None:
    if python_loader:
        monkeypatch.setattr(yamlload, "_Loader", yaml.SafeLoader)
    (case,) = load_eval_file(write(tmp_path, NUMBERS)).cases
    assert (case.config.temperature, case.config.top_p, case.config.seed,
            case.config.max_output_tokens, case.samples) == (0.5, 0.1, 1, 1000, 2)
    assert case.config.thinking == ThinkingSettings(budget=-1)
    args = [c.args.model_dump() for c in case.expect]
    assert args == [
        {"value": 2**100, "tolerance": 0},
        {"value": Decimal("0.1"), "tolerance": Decimal("1e-9")},
        {"value": Decimal("0.5"), "tolerance": Decimal("1e-9")},
        {"value": 1000, "tolerance": 0},
        {"value": 0, "tolerance": 0},
        {"value": Decimal("2.5"), "tolerance": 0},
        {"value": 1, "tolerance": 0},
        {"value": 17, "tolerance": 0},  # YAML 1.2: not octal 15
        {"value": 10**40 + 1, "tolerance": 0, "run": "any"},
    ]
    assert not any(isinstance(v, float) for a in args for v in a.values())
    assert type(args[0]["value"]) is int and type(args[-1]["value"]) is int
    # Exact: the decimal one tenth, not the float nearest to it.
    assert args[1]["value"] != Decimal.from_float(0.1)
    # Labels show numbers as the file writes them.
    assert [c.label for c in case.expect] == [
        "answer_number: 1267650600228229401496703205376",
        "answer_number: 0.1 (tolerance: 1e-9)",
        "answer_number: .5 (tolerance: 0.000000001)",
        "answer_number: 1E3",
        "answer_number: -0.0",
        "answer_number: 2.50",
        "answer_number: 1",
        "answer_number: 17",
        "output_number: 10000000000000000000000000000000000000001",
    ]


@pytest.mark.parametrize(("text", "field", "fragment"), [
    # YAML 1.2 reads these as text, not YAML 1.1's 1000 and 90.
    ("config: {max_output_tokens: 1_000}", "cases[0].config.max_output_tokens",
     "expected a whole number, got '1_000' (text): write it without `_` (1000)"),
    ("config: {temperature: '0.5'}", "cases[0].config.temperature",
     "expected a number, got '0.5' (text): remove the quotes"),
    ("expect: [{answer_number: '1:30'}]", "cases[0].expect[0].answer_number", "valid number"),
    ("expect: [{answer_number: 1:30}]", "cases[0].expect[0].answer_number", "valid number"),
    ("expect: [{answer_number: .inf}]", "cases[0].expect[0].answer_number", "finite number"),
    ("config: {max_output_tokens: 1.5e0}", "cases[0].config.max_output_tokens",
     "expected a whole number, got 1.5e0 (a number)"),
    ("expect: [{answer_number: {value: 1, tolerance: -1e-9}}]",
     "cases[0].expect[0].answer_number.tolerance", "greater than or equal to 0"),
])
def test_yaml_1_2_numbers_refused(tmp_path: Path, text: str, field: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        load_eval_file(write(tmp_path, f"cases:\n  - id: a\n    prompt: p\n    {text}\n"))
    (issue,) = info.value.issues
    assert issue.field == field and fragment in issue.message, issue


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "x.eval.yaml"
    path.write_bytes(b"\xef\xbb\xbfcases:\r\n  - id: a\r\n    prompt: p\r\n  - id: b\r\n"
                     b"    prompt: q\r\n")
    assert [c.line for c in load_eval_file(path).cases] == [2, 4]


def test_longest_id(tmp_path: Path) -> None:
    ok = "a" * 100
    path = write(tmp_path, f"cases:\n  - {{id: {ok}, prompt: p}}\n")
    assert load_eval_file(path).cases[0].id == ok
    with pytest.raises(SpecError, match="not filename-safe"):
        load_eval_file(write(tmp_path, f"cases:\n  - {{id: {ok}b, prompt: p}}\n"))


def test_pure_python_loader_gives_the_same_lines(docs: EvalFile,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "_Loader", yaml.SafeLoader)
    again = load_eval_file(docs.path)
    assert again == docs
    bad = docs.path.with_name("bad.eval.yaml")
    bad.write_text("cases:\n  - id: a\n    prompt: p\n    prompt: q\n")
    with pytest.raises(SpecError) as info:
        load_eval_file(bad)
    assert info.value.issues[0].line == 4


def test_validate_paths(tmp_path: Path) -> None:
    evals = tmp_path / "evals"
    (evals / "sub").mkdir(parents=True)
    write(evals, "cases:\n  - {id: a, prompt: p}\n", "good.eval.yaml")
    bad = write(evals / "sub", "cases:\n  - {id: a, prompt: p, sampels: 2}\n", "bad.eval.yaml")
    write(evals, "not: [an eval file\n", "notes.yaml")
    errors = validate_paths([evals])
    assert len(errors) == 1
    assert errors[0].issues[0].path == bad and errors[0].issues[0].field == "cases[0].sampels"
    assert validate_paths([evals / "good.eval.yaml"]) == []


def test_validate_paths_reports_missing_and_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    errors = validate_paths([tmp_path / "nope.eval.yaml", tmp_path / "empty"])
    assert [e.issues[0].message for e in errors] == [
        "no such file or directory", "no *.eval.yaml files under this directory"]


def test_spec_import_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, harness.spec.load; "
            "print(sorted(m for m in sys.modules if m.startswith(('google', 'vcr'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
