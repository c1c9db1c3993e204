"""A table of bad eval files and the messages they must produce (file:line, field, choices)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.spec.case import SpecError
from harness.spec.load import load_eval_file

OK_CASE = "  - id: ok\n    prompt: What is 2 + 2?\n"

# (name, YAML, expected line, expected field, fragments the message must contain)
BAD: list[tuple[str, str, int | None, str, list[str]]] = [
    ("unknown-top-key", """
        suite: docs
        descripton: typo
        cases:
          - {id: a, prompt: p}
        """, 2, "descripton",
     ["unknown key 'descripton'", "Did you mean 'description'?",
      "Allowed keys here: suite, description, defaults, cases"]),
    ("case-key-at-top-level", """
        prompt: hello
        cases:
          - {id: a, prompt: p}
        """, 1, "prompt", ["unknown key 'prompt'", "put it inside a case under `cases:`"]),
    ("unknown-case-key", """
        cases:
          - id: a
            promt: What?
        """, 3, "cases[0].promt",
     ["unknown key 'promt'", "Did you mean 'prompt'?", "Allowed keys here: id, prompt,",
      "expect", "tags", "skip", "samples"]),
    ("missing-prompt-after-typo", """
        cases:
          - id: a
            promt: What?
        """, 2, "cases[0].prompt", ["missing required key 'prompt'"]),
    ("setting-outside-config", """
        cases:
          - id: a
            prompt: p
            temperature: 0
        """, 4, "cases[0].temperature",
     ["unknown key 'temperature'", "generation setting: put it under `config:`"]),
    ("unknown-config-key", """
        cases:
          - id: a
            prompt: p
            config:
              temprature: 0
        """, 5, "cases[0].config.temprature",
     ["Did you mean 'temperature'?", "Allowed keys here: temperature, top_p, seed, "
      "system_instruction, max_output_tokens, thinking"]),
    ("unknown-defaults-key", """
        defaults:
          temperature: 0
        cases:
          - {id: a, prompt: p}
        """, 2, "defaults.temperature",
     ["unknown key 'temperature'", "put it under `config:`", "api, config, samples, tags, expect"]),
    ("prompt-number", """
        cases:
          - id: a
            prompt: 12
        """, 3, "cases[0].prompt", ["expected text, got 12 (a number)", "quotes"]),
    ("prompt-blank", """
        cases:
          - id: a
            prompt: "   "
        """, 3, "cases[0].prompt", ["the prompt is blank"]),
    ("samples-text", """
        cases:
          - id: a
            prompt: p
            samples: two
        """, 4, "cases[0].samples", ["expected a whole number, got 'two' (text)"]),
    ("samples-zero", """
        cases:
          - id: a
            prompt: p
            samples: 0
        """, 4, "cases[0].samples", ["must be >= 1, got 0"]),
    ("temperature-text", """
        cases:
          - id: a
            prompt: p
            config:
              temperature: hot
        """, 5, "cases[0].config.temperature", ["expected a number, got 'hot' (text)"]),
    ("temperature-quoted", """
        cases:
          - id: a
            prompt: p
            config: {temperature: "0.5"}
        """, 4, "cases[0].config.temperature", ["remove the quotes"]),
    ("temperature-range", """
        cases:
          - id: a
            prompt: p
            config: {temperature: 3}
        """, 4, "cases[0].config.temperature", ["must be <= 2, got 3"]),
    ("thinking-budget-text", """
        cases:
          - id: a
            prompt: p
            config:
              thinking:
                budget: lots
        """, 6, "cases[0].config.thinking.budget", ["expected a whole number"]),
    ("config-not-mapping", """
        cases:
          - id: a
            prompt: p
            config: fast
        """, 4, "cases[0].config", ["expected a mapping"]),
    ("bad-api", """
        cases:
          - id: a
            prompt: p
            api: streem
        """, 4, "cases[0].api",
     ["unknown API 'streem'", "Did you mean 'stream'?",
      "Valid APIs: generate_content, stream, interactions, chat"]),
    ("skip-number", """
        cases:
          - id: a
            prompt: p
            skip: 5
        """, 4, "cases[0].skip", ["`skip:` takes true, false or a reason (text), got 5"]),
    ("tag-with-space", """
        cases:
          - id: a
            prompt: p
            tags: [ok, slow test]
        """, 4, "cases[0].tags[1]", ["tag 'slow test' is not a valid tag", "slow_test"]),
    ("tag-pytest-mark", """
        cases:
          - id: a
            prompt: p
            tags:
              - skip
        """, 5, "cases[0].tags", ["'skip' is a pytest mark", "skip: true"]),
    ("duplicate-case-id", """
        cases:
          - id: same
            prompt: p
          - id: other
            prompt: p
          - id: same
            prompt: q
        """, 6, "cases[2].id",
     ["duplicate case id 'same'", "first used at line 2", "again at line 6", "unique"]),
    ("duplicate-case-id-by-case", """
        cases:
          - id: Sum
            prompt: p
          - id: sum
            prompt: p
        """, 4, "cases[1].id", ["first used at line 2 as 'Sum'", "letter case"]),
    ("unsafe-id-space", """
        cases:
          - id: sum primes!
            prompt: p
        """, 2, "cases[0].id",
     ["case id 'sum primes!' is not filename-safe", "letters, digits, '.', '_' or '-'",
      "For example: sum-primes"]),
    ("windows-reserved-id", """
        cases:
          - id: con
            prompt: p
        """, 2, "cases[0].id", ["case id 'con' is not filename-safe", "Windows reserves",
                                "For example: con-1"]),
    ("trailing-dots-id", """
        cases:
          - id: a.....
            prompt: p
        """, 2, "cases[0].id", ["case id 'a.....' is not filename-safe", "not ending in '.'",
                                "For example: a"]),
    ("unsafe-id-traversal", """
        cases:
          - prompt: p
            id: ../x
        """, 3, "cases[0].id", ["case id '../x' is not filename-safe", "For example: x"]),
    ("id-number", """
        cases:
          - id: 123
            prompt: p
        """, 2, "cases[0].id", ["expected text, got 123", "quotes"]),
    ("missing-id", """
        cases:
          - prompt: p
        """, 2, "cases[0].id", ["missing required key 'id'", "every case needs an `id`"]),
    ("case-not-mapping", """
        cases:
          - just some text
        """, 2, "cases[0]", ["each case is a mapping", "'just some text'"]),
    ("bad-suite", """
        suite: my suite
        cases:
          - {id: a, prompt: p}
        """, 1, "suite", ["suite 'my suite' is not filename-safe", "my-suite"]),
    ("unknown-check", """
        cases:
          - id: a
            prompt: p
            expect:
              - code_executed
              - answr_number: 5117
        """, 6, "cases[0].expect[1]",
     ["unknown check 'answr_number'", "Did you mean 'answer_number'?", "Valid checks:",
      "output_contains"]),
    ("unknown-check-in-defaults", """
        defaults:
          expect: [code_exec]
        cases:
          - {id: a, prompt: p}
        """, 2, "defaults.expect[0]", ["unknown check 'code_exec'", "code_executed"]),
    ("bad-check-argument", """
        cases:
          - id: a
            prompt: p
            expect:
              - answer_number:
                  value: 3
                  tolerence: 0.1
        """, 7, "cases[0].expect[0].answer_number.tolerence",
     ["bad argument for check 'answer_number'", "tolerance"]),
    ("bad-check-value", """
        cases:
          - id: a
            prompt: p
            expect:
              - answer_number: many
        """, 5, "cases[0].expect[0].answer_number", ["answer_number", "many"]),
    ("check-entry-two-keys", """
        cases:
          - id: a
            prompt: p
            expect:
              - {answer_number: 1, code_executed: true}
        """, 5, "cases[0].expect[0]", ["one-key mapping"]),
    ("invalid-yaml-unclosed-bracket", """
        cases:
          - id: a
            prompt: p
            expect: [code_executed
          - id: b
            prompt: q
        """, 5, "", ["invalid YAML", "flow sequence", "started at line 4"]),
    ("invalid-yaml-indentation", """
        cases:
          - id: a
            prompt: p
           expect: []
        """, 4, "", ["invalid YAML", "indentation"]),
    ("invalid-yaml-tab", "cases:\n\t- id: a\n", 2, "", ["invalid YAML", "indent with spaces"]),
    ("two-documents", "cases: []\n---\ncases: []\n", 2, "", ["invalid YAML", "single document"]),
    ("duplicate-mapping-key", """
        cases:
          - id: a
            prompt: first
            tags: [x]
            prompt: second
        """, 5, "cases[0].prompt",
     ["duplicate key 'prompt' in cases[0]", "first at line 3, again at line 5"]),
    ("duplicate-top-key", """
        cases:
          - {id: a, prompt: p}
        cases:
          - {id: b, prompt: p}
        """, 3, "cases", ["duplicate key 'cases' in the top level", "line 1", "line 3"]),
    ("python-object-tag", """
        cases:
          - id: a
            prompt: !!python/object/apply:os.system ["echo hi"]
        """, 3, "cases[0].prompt",
     ["YAML tags are not allowed", "!!python/object/apply:os.system"]),
    ("custom-tag", """
        cases:
          - id: a
            prompt: !include other.txt
        """, 3, "cases[0].prompt", ["YAML tags are not allowed", "!include"]),
    ("recursive-alias", """
        cases: &c
          - *c
        """, 1, "cases[0]", ["recursive", "anchor"]),
    ("empty-file", "", None, "", ["the file is empty", "cases:"]),
    ("comments-only", "# yaml-language-server: $schema=x\n\n", None, "", ["the file is empty"]),
    ("top-level-list", """
        - id: a
          prompt: p
        """, 1, "", ["top level must be a mapping", "got a list",
                     "Put the list under a `cases:` key"]),
    ("top-level-text", "hello\n", 1, "", ["top level must be a mapping", "'hello'"]),
    ("no-cases", """
        suite: docs
        description: nothing here
        """, 1, "cases", ["missing required key 'cases'"]),
    ("cases-empty", """
        suite: docs
        cases: []
        """, 2, "cases", ["`cases:` is empty", "- id: my-case"]),
    ("cases-not-list", """
        cases:
          id: a
          prompt: p
        """, 2, "cases", ["expected a list, got a mapping"]),
    ("reference-syntax-error", """
        cases:
          - id: a
            prompt: p
            reference: |
              total = 0
              for p in primes(50)
                  total += p
              print(total)
        """, 6, "cases[0].reference",
     ["the reference is not valid Python: SyntaxError:", "expected ':'",
      "(line 2, column 20 of the reference: `for p in primes(50)`)", "ground truth"]),
    ("reference-syntax-error-after-blank-lines", """
        cases:
          - id: a
            prompt: p
            reference: |-  # the solution

              x = (1,
                   2
              print(x)
        """, 6, "cases[0].reference",
     ["not valid Python", "was never closed (line 2, column 5 of the reference"]),
    ("reference-indentation-error", """
        cases:
          - id: a
            prompt: p
            reference: |
              def f():
              return 1
        """, 6, "cases[0].reference",
     ["IndentationError", "(line 2, column 1 of the reference: `return 1`)"]),
    ("reference-folded-block", """
        cases:
          - id: a
            prompt: p
            reference: >
              x = 6 * 7
              print(x)
        """, 5, "cases[0].reference",
     ["not valid Python", "Write the code as a literal block (`reference: |`"]),
    ("reference-one-line", """
        cases:
          - id: a
            prompt: p
            reference: print(1
        """, 4, "cases[0].reference", ["not valid Python", "(line 1, column 6 of the reference"]),
    ("reference-nul-character", """
        cases:
          - id: a
            prompt: p
            reference: "print(1)\\0"
        """, 4, "cases[0].reference", ["the reference cannot be compiled", "null bytes"]),
    ("reference-blank", """
        cases:
          - id: a
            prompt: p
            reference: "  "
        """, 4, "cases[0].reference",
     ["the reference is blank", "Python code that solves the case", "remove `reference:`"]),
    ("reference-not-text", """
        cases:
          - id: a
            prompt: p
            reference: 42
        """, 4, "cases[0].reference", ["expected text, got 42 (a number)"]),
    ("reference-in-defaults", """
        defaults:
          reference: |
            print(1)
        cases:
          - {id: a, prompt: p}
        """, 2, "defaults.reference",
     ["unknown key 'reference'", "set per case, not in `defaults:`",
      "a reference solves one case", "put it inside the case under `cases:`"]),
    ("prompt-in-defaults", """
        defaults:
          prompt: p
        cases:
          - {id: a, prompt: p}
        """, 2, "defaults.prompt",
     ["unknown key 'prompt'", "set per case, not in `defaults:`",
      "Allowed keys here: api, config, samples, tags, expect"]),
    ("reference-at-top-level", """
        reference: print(1)
        cases:
          - {id: a, prompt: p}
        """, 1, "reference", ["unknown key 'reference'", "put it inside a case under `cases:`"]),
    ("input-missing-file", """
        cases:
          - id: a
            prompt: p
            inputs: [{file: data/x.png}]
        """, 4, "cases[0].inputs[0].file", ["'data/x.png': no such file"]),
    ("input-type", """
        cases:
          - id: a
            prompt: p
            inputs:
              - file: notes.docx
        """, 5, "cases[0].inputs[0].file",
     [".docx is not a type the API takes", ".png, .jpeg, .jpg, .csv", ".json"]),
    ("input-absolute", """
        cases:
          - id: a
            prompt: p
            inputs: [{file: /etc/shadow.txt}]
        """, 4, "cases[0].inputs[0].file", ["is an absolute path", "relative to the eval file"]),
    ("input-outside-root", """
        cases:
          - id: a
            prompt: p
            inputs: [{file: ../../../../../../../../etc/hostname.txt}]
        """, 4, "cases[0].inputs[0].file", ["no such file"]),
    ("turns-and-prompt", """
        cases:
          - id: a
            api: chat
            prompt: p
            turns: [hi, sum the first 50 primes]
        """, 5, "cases[0].turns", ["either `prompt:`", "or `turns:`", "not both"]),
    ("turns-on-generate", """
        cases:
          - id: a
            turns: [hi, sum the first 50 primes]
        """, 3, "cases[0].turns", ["set `api: chat`, `api: interactions` or `api: live`",
                                   "api 'generate_content' sends one prompt"]),
    ("turn-reference-missing", """
        cases:
          - id: a
            api: chat
            turns:
              - prompt: hi
                expect: [{answer_number: from_reference}]
              - sum the first 50 primes
        """, 6, "cases[0].turns[0].expect[0]",
     ["compares with the turn 1's reference output", "has no `reference:`"]),
    ("turn-typo", """
        cases:
          - id: a
            api: chat
            turns:
              - promt: hi
        """, 5, "cases[0].turns[0].promt", ["Did you mean 'prompt'?",
                                             "Allowed keys here: prompt, inputs, expect"]),
    ("stream-not-chat", """
        cases:
          - id: a
            prompt: p
            stream: true
        """, 4, "cases[0].stream", ["applies to `api: chat` only", "use `api: stream`"]),
    ("live-upload", """
        cases:
          - id: a
            api: live
            prompt: p
            inputs: [{file: data/x.png, upload: true}]
        """, 5, "cases[0].inputs[0].upload",
     ["Files API", "`api: live`", "remove `upload: true`"]),
    ("live-turn-upload", """
        cases:
          - id: a
            api: live
            turns:
              - prompt: p
                inputs:
                  - file: data/x.png
                    upload: true
        """, 8, "cases[0].turns[0].inputs[0].upload", ["Live turns carry their files inline"]),
    ("live-tools", """
        cases:
          - id: a
            api: live
            prompt: p
            config: {tools: [google_search]}
        """, 5, "cases[0].config.tools",
     ["not supported with `api: live` yet", "remove it, or use another api"]),
    ("live-default-tools", """
        defaults: {config: {tools: [google_search]}}
        cases:
          - id: a
            api: live
            prompt: p
        """, 3, "cases[0]", ["`defaults.config.tools` applies to this case",
                             "config: {tools: null}"]),
    ("function-name", """
        cases:
          - id: a
            prompt: p
            functions:
              get rate: {returns: 1}
        """, 5, "cases[0].functions.get rate.[key]",
     ["function name 'get rate' is not one the API accepts", "e.g. get_rate"]),
    ("function-key-typo", """
        cases:
          - id: a
            prompt: p
            functions:
              get_rate: {return: 1}
        """, 5, "cases[0].functions.get_rate.return",
     ["unknown key 'return'", "Did you mean 'returns'?"]),
    ("function-bad-schema", """
        cases:
          - id: a
            prompt: p
            functions:
              get_rate:
                returns: 1
                parameters: {type: object, required: base}
        """, 7, "cases[0].functions.get_rate.parameters",
     ["not a valid JSON Schema", "required", "type: object"]),
    ("live-functions", """
        cases:
          - id: a
            api: live
            prompt: p
            functions: {f: {returns: 1}}
        """, 5, "cases[0].functions", ["not supported with `api: live`", "use `api: chat`"]),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.eval.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.mark.parametrize(("text", "line", "field", "fragments"),
                         [pytest.param(*row[1:], id=row[0]) for row in BAD])
def test_bad_file_message(tmp_path: Path, text: str, line: int | None, field: str,
                          fragments: list[str]) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_eval_file(path)
    issues = [i for i in info.value.issues if i.field == field]
    assert issues, f"no issue at {field!r}; got:\n{info.value}"
    issue = issues[0]
    assert issue.line == line, str(info.value)
    for fragment in fragments:
        assert fragment in issue.message, f"{fragment!r} not in:\n{issue.message}"
    rendered = str(info.value)
    where = f"{path.as_posix()}:{line}: " if line else f"{path.as_posix()}: "
    assert where + (f"{field}: " if field else "") in rendered, rendered
    assert "Traceback" not in rendered
    assert rendered.rstrip().splitlines()[-1] == f"Check the file with: harness validate {path}"


def test_every_case_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        descripton: x
        cases:
          - id: a b
            prompt: p
          - id: b
            prompt: 5
            expect: [nope]
          - id: c
            prompt: p
            samples: 0
        """)
    with pytest.raises(SpecError) as info:
        load_eval_file(path)
    got = [(i.line, i.field) for i in info.value.issues]
    assert got == [(1, "descripton"), (3, "cases[0].id"), (6, "cases[1].prompt"),
                   (7, "cases[1].expect[0]"), (10, "cases[2].samples")]
    assert len(str(info.value).splitlines()) == 6


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the file"):
        load_eval_file(tmp_path / "missing.eval.yaml")
    path = tmp_path / "latin1.eval.yaml"
    path.write_bytes("cases: [{id: a, prompt: \xe9}]\n".encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8"):
        load_eval_file(path)


def test_suite_from_unsafe_file_name(tmp_path: Path) -> None:
    path = tmp_path / "my docs.eval.yaml"
    path.write_text("cases:\n" + OK_CASE)
    with pytest.raises(SpecError) as info:
        load_eval_file(path)
    assert "suite: my-docs" in str(info.value)


def test_bad_scalar_for_explicit_tag(tmp_path: Path) -> None:
    path = _write(tmp_path, "cases:\n  - id: a\n    prompt: p\n    samples: !!int many\n")
    with pytest.raises(SpecError) as info:
        load_eval_file(path)
    assert info.value.issues[0].line == 4
    assert "cannot read 'many' as `!!int`" in str(info.value)


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 8)]
    path = _write(tmp_path, "\n".join(lines) + "\ncases: []\n")
    with pytest.raises(SpecError, match="expands to more than"):
        load_eval_file(path)


def test_cases_key_without_value(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_eval_file(_write(tmp_path, "suite: docs\ncases:\n"))
    assert (info.value.issues[0].line, info.value.issues[0].field) == (2, "cases")
    assert "`cases:` is empty" in str(info.value)


def test_spec_error_pickles(tmp_path: Path) -> None:
    import pickle

    with pytest.raises(SpecError) as info:
        load_eval_file(_write(tmp_path, "cases: []\n"))
    again = pickle.loads(pickle.dumps(info.value))
    assert again.issues == info.value.issues and str(again) == str(info.value)


def test_reference_error_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        cases:
          - id: a
            prompt: p
            samples: 0
            reference: |
              import math

              print(math.prod(range(1, 6))
          - id: b
            prompt: q
            reference: "return 5"
        """)
    with pytest.raises(SpecError) as info:
        load_eval_file(path)
    got = [(i.line, i.field) for i in info.value.issues]
    assert got == [(4, "cases[0].samples"), (8, "cases[0].reference"),
                   (11, "cases[1].reference")]
    assert "'return' outside function" in info.value.issues[2].message


def test_reference_line_with_the_pure_python_loader(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from harness.spec import yamlload

    monkeypatch.setattr(yamlload, "_Loader", yaml.SafeLoader)
    path = _write(tmp_path, "cases:\n  - id: a\n    prompt: p\n    reference: |\n"
                            "      x = 1\n      x +\n")
    with pytest.raises(SpecError) as info:
        load_eval_file(path)
    assert info.value.issues[0].line == 6
