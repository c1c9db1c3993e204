"""The committed JSON Schema, its agreement with the loader, and loader robustness (hypothesis)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from harness.checks.registry import all_checks
from harness.spec.case import EvalFile, SpecError
from harness.spec.load import load_eval_file
from harness.spec.models import CaseSpec, DefaultsSpec, FileSpec, GenerationSettings
from harness.spec.schema import SCHEMA_PATH, eval_schema
from harness.spec.yamlload import core_schema, load_yaml
from tests.profiles import budget

VALIDATOR = Draft202012Validator(eval_schema())

GOOD = [
    """
    cases:
      - id: a
        prompt: p
    """,
    """
    # yaml-language-server: $schema=../harness/schema/eval.schema.json
    suite: gemini-docs
    description: d
    defaults: {api: generate_content, config: {temperature: 0}, samples: 3, tags: [t],
               expect: [code_executed]}
    cases:
      - id: sum-first-50-primes
        prompt: What is the sum of the first 50 primes?
        config: {seed: 1, thinking: {budget: -1, include_thoughts: true}, top_p: 1}
        expect:
          - code_executed
          - final_outcome: OUTCOME_OK
          - output_contains: "5117"
          - answer_number: 5117
          - answer_number: {value: 5117, tolerance: 0.5}
          - max_attempts: 5
        skip: not yet
        tags: [math]
        reference: |
          print(sum(p for p in range(2, 230) if all(p % d for d in range(2, p))))
      - {id: b, prompt: p, skip: true, api: interactions, description: null}
    """,
    # YAML 1.2 numbers, as editors read them.
    """
    defaults: {config: {temperature: .5, top_p: 1E-1, max_output_tokens: 1e3, seed: +1}}
    cases:
      - id: a
        prompt: p
        samples: 2.0
        expect:
          - answer_number: {value: 0.1, tolerance: 1e-9}
          - answer_number: 1267650600228229401496703205376
          - output_number: {value: -0.0, tolerance: .5}
    """,
    # Conversations and input files.
    """
    cases:
      - id: chat-primes
        api: chat
        turns: ["I have a math question.", "Sum the first 50 primes."]
      - id: pedals
        api: interactions
        inputs: [{file: data/organ-pedals.png}]
        reference: print(3)
        prompt: How many pedals?
    """,
]

BAD = [
    "cases: []",
    "suite: docs",
    "cases: [{id: a}]",
    "cases: [{id: a, prompt: p, promt: p}]",
    "cases: [{id: a, prompt: 12}]",
    "cases: [{id: a, prompt: '  '}]",
    "cases: [{id: sum primes!, prompt: p}]",
    "cases: [{id: ../x, prompt: p}]",
    "cases: [{id: a, prompt: p, samples: 0}]",
    "cases: [{id: a, prompt: p, samples: two}]",
    "cases: [{id: a, prompt: p, api: streem}]",
    "cases: [{id: a, prompt: p, config: {temperature: hot}}]",
    "cases: [{id: a, prompt: p, config: {temperature: 3}}]",
    "cases: [{id: a, prompt: p, config: {max_output_tokens: 1_000}}]",
    "cases: [{id: a, prompt: p, config: {max_output_tokens: 1.5}}]",
    "cases: [{id: a, prompt: p, expect: [{answer_number: {value: 1, tolerance: -1e-9}}]}]",
    "cases: [{id: a, prompt: p, expect: [{answer_number: '1e3'}]}]",
    "cases: [{id: a, prompt: p, config: {thinking: {budget: -2}}}]",
    "cases: [{id: a, prompt: p, tags: [slow test]}]",
    "cases: [{id: a, prompt: p, tags: [skip]}]",
    "cases: [{id: a, prompt: p, skip: 5}]",
    "cases: [{id: a, prompt: p, expect: [answr_number: 1]}]",
    "cases: [{id: a, prompt: p, expect: [answer_number]}]",
    "cases: [{id: a, prompt: p, expect: [{answer_number: {value: 1, tolerence: 1}}]}]",
    "cases: [{id: a, prompt: p, expect: [{answer_number: 1, code_executed: true}]}]",
    "defaults: {temperature: 0}\ncases: [{id: a, prompt: p}]",
    "descripton: x\ncases: [{id: a, prompt: p}]",
    "cases: [{id: a, prompt: p, reference: '  '}]",
    "cases: [{id: a, prompt: p, reference: 3}]",
    "defaults: {reference: print(1)}\ncases: [{id: a, prompt: p}]",
    "reference: print(1)\ncases: [{id: a, prompt: p}]",
]


def _doc(text: str) -> Any:
    # As editors read it: YAML 1.2 (PyYAML's safe_load reads `1e-9` as text).
    return load_yaml(textwrap.dedent(text)).data


# Writes documents the way YAML 1.2 reads them back: the strings "1e3" and "0E0" are quoted.
DUMPER = core_schema(yaml.SafeDumper)


def _dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=DUMPER, allow_unicode=True)


def test_committed_schema_is_current() -> None:
    committed = json.loads(SCHEMA_PATH.read_text()) if SCHEMA_PATH.exists() else None
    assert committed == eval_schema(), (
        f"{SCHEMA_PATH} is stale: regenerate it with "
        "`harness schema --write harness/schema/eval.schema.json`")
    text = SCHEMA_PATH.read_text()
    assert text == json.dumps(eval_schema(), indent=2, sort_keys=True) + "\n"


def test_schema_is_valid_draft_2020_12() -> None:
    schema = eval_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_lists_every_check() -> None:
    check = eval_schema()["$defs"]["Check"]
    named = {name for alt in check["anyOf"] for name in alt.get("properties", {})}
    assert named == set(all_checks())


@pytest.mark.parametrize("text", GOOD)
def test_good_documents_validate(text: str) -> None:
    errors = list(VALIDATOR.iter_errors(_doc(text)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("text", BAD)
def test_bad_documents_do_not_validate(text: str) -> None:
    assert not VALIDATOR.is_valid(_doc(text))


@pytest.mark.parametrize("text", [*GOOD[:3], *BAD])
def test_loader_agrees_with_the_schema(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.eval.yaml"
    path.write_text(textwrap.dedent(text))
    try:
        load_eval_file(path)
        loaded = True
    except SpecError:
        loaded = False
    assert loaded == VALIDATOR.is_valid(_doc(text))


# -- hypothesis: whatever the file holds, loading gives an EvalFile or a SpecError -------------

KEYS = sorted({*FileSpec.model_fields, *CaseSpec.model_fields, *DefaultsSpec.model_fields,
               *GenerationSettings.model_fields, "budget", "include_thoughts", "file",
               *all_checks(), "value", "tolerance", "text", "run"})
scalars = (st.none() | st.booleans() | st.integers(-3, 3) | st.integers()
           | st.floats(allow_nan=True) | st.sampled_from(["", " ", "a", "chat", "stream",
                                                          "OUTCOME_OK", "../x", "a b", "5117"])
           | st.text(max_size=8))
keys = st.sampled_from(KEYS) | st.text(max_size=6)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=12)


def documents(wild: bool) -> st.SearchStrategy[Any]:
    """Eval documents: valid ones, or (``wild``) ones where any value may be anything."""

    def often(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(good, good, good, values) if wild else good

    good_checks = st.sampled_from(["code_executed", {"answer_number": 5117},
                                   {"output_contains": "5117"}, {"max_attempts": 3},
                                   {"answer_number": {"value": 1, "tolerance": 0.5}}])
    checks = often(good_checks)
    if wild:
        checks |= st.dictionaries(st.sampled_from(sorted(all_checks())), values,
                                  min_size=1, max_size=1)
    thinking = st.fixed_dictionaries({}, optional={
        "budget": often(st.integers(-1, 10**5)), "include_thoughts": often(st.booleans())})
    config = st.fixed_dictionaries({}, optional={
        "temperature": often(st.floats(0, 2)), "seed": often(st.integers()),
        "top_p": often(st.floats(0, 1)), "max_output_tokens": often(st.integers(1, 10**6)),
        "system_instruction": often(st.text(max_size=5)), "thinking": often(thinking)})
    extra = {"promt": values, "turns": values} if wild else {}
    case = st.fixed_dictionaries(
        {"id": often(st.sampled_from(["a", "b", "A", "x.1", "2024-01-01", "c_2"])),
         "prompt": often(st.just("What is 2 + 2?"))},
        optional={"expect": often(st.lists(checks, max_size=3)), "config": often(config),
                  "api": often(st.sampled_from(["generate_content", "stream", "interactions"])),
                  "tags": often(st.lists(often(st.sampled_from(["math", "docs"])), max_size=2)),
                  "skip": often(st.booleans() | st.text(max_size=5)),
                  "samples": often(st.integers(1, 5)), "description": often(st.text(max_size=5)),
                  "reference": often(st.sampled_from(["print(5117)", "x = 1\nprint(x)\n"])),
                  **extra})
    cases = st.lists(often(case), min_size=1, max_size=4,
                     unique_by=None if wild else (lambda c: c["id"].casefold()))
    defaults = st.fixed_dictionaries({}, optional={
        "api": often(st.sampled_from(["generate_content", "stream"])), "config": often(config),
        "samples": often(st.integers(1, 5)), "tags": often(st.lists(st.just("docs"), max_size=1)),
        "expect": often(st.lists(checks, max_size=2))})
    return often(st.fixed_dictionaries(
        {"cases": often(cases)},
        optional={"suite": often(st.sampled_from(["docs", "x.1"])),
                  "description": often(st.text(max_size=5)), "defaults": often(defaults)}))


document = documents(wild=False) | documents(wild=True)


def _load(path: Path) -> EvalFile | None:
    try:
        result = load_eval_file(path)
    except SpecError as exc:
        assert exc.issues and "Traceback" not in str(exc)
        return None
    assert isinstance(result, EvalFile)
    return result


@pytest.mark.filterwarnings("ignore::harness.spec.case.SpecWarning")  # expect: []
@budget(300)
@given(doc=document)
def test_random_documents_load_or_raise_spec_error(tmp_path: Path, doc: Any) -> None:
    path = tmp_path / "fuzz.eval.yaml"
    path.write_text(_dump(doc))
    if _load(path) is not None:  # whatever the loader accepts, the schema accepts too
        assert VALIDATOR.is_valid(json.loads(json.dumps(doc))), doc


@pytest.mark.filterwarnings("ignore::harness.spec.case.SpecWarning")  # expect: []
@budget(300)
@given(text=st.text(alphabet=st.sampled_from(list("cases:- id{}[]&*!<>|'\"#\t\n ?,.%@`~0\\")),
                    max_size=60) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_random_text_loads_or_raises_spec_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.eval.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load(path)


@pytest.mark.filterwarnings("ignore::harness.spec.case.SpecWarning")  # expect: []
@budget(150)
@given(doc=documents(wild=False))
def test_valid_documents_load_and_validate(tmp_path: Path, doc: Any) -> None:
    path = tmp_path / "fuzz.eval.yaml"
    path.write_text(_dump(doc))
    loaded = load_eval_file(path)
    assert [c.id for c in loaded.cases] == [c["id"] for c in doc["cases"]]
    assert VALIDATOR.is_valid(doc)
