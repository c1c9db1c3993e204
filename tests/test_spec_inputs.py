"""Input files and conversations in eval files: what loads, and what is refused (file:line)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.spec import inputs
from harness.spec.case import SpecError
from harness.spec.load import load_eval_file

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def _project(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "proj"
    (root / "evals" / "data").mkdir(parents=True)
    (root / "evals" / "data" / "pedals.png").write_bytes(PNG)
    (root / "evals" / "data" / "sales.csv").write_text("month,revenue\nJan,1\n")
    path = root / "evals" / "x.eval.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _issues(path: Path) -> list[str]:
    with pytest.raises(SpecError) as err:
        load_eval_file(path, path.parents[1])
    return [str(i) for i in err.value.issues]


def test_inputs_and_turns_load(tmp_path: Path) -> None:
    path = _project(tmp_path, """
        cases:
          - id: pedals
            api: interactions
            inputs: [{file: data/pedals.png}]
            prompt: How many pedals?
            reference: print(3)
            expect: [{answer_number: from_reference}]
          - id: chat
            api: chat
            stream: true
            inputs: [{file: data/sales.csv, upload: true}]
            turns:
              - I have a question.
              - prompt: Sum the first 50 primes.
                inputs: [{file: data/pedals.png}]
                expect: [code_executed]
            reference: print(5117)
            expect: [{answer_number: from_reference}]
        """)
    pedals, chat = load_eval_file(path, path.parents[1]).cases
    (png,) = pedals.inputs
    assert (png.name, png.mime_type, png.upload, png.base_name) == (
        "data/pedals.png", "image/png", False, "pedals.png")
    assert png.read() == PNG and pedals.conversation[0].inputs == (png,)
    assert chat.stream and chat.prompt == "Sum the first 50 primes." and chat.inputs == ()
    first, second = chat.turns
    assert [f.name for f in first.inputs] == ["data/sales.csv"] and first.inputs[0].upload
    assert first.inputs[0].mime_type == "text/csv"
    assert [f.name for f in second.inputs] == ["data/pedals.png"]
    assert [f.name for f in chat.all_inputs()] == ["data/sales.csv", "data/pedals.png"]
    assert [(i, [c.name for c in calls]) for i, calls in chat.judgements()] == [
        (1, ["code_executed"]), (1, ["answer_number"])]
    assert (chat.reference_for(0), chat.reference_for(1)) == (None, "print(5117)")
    assert second.line == 14


def test_bad_inputs_name_their_line(tmp_path: Path) -> None:
    path = _project(tmp_path, """
        cases:
          - id: a
            prompt: p
            inputs:
              - file: data/fake.png
              - file: ../../outside.csv
              - file: data/link.png
              - file: data/big.csv
        """)
    root = path.parents[1]
    (root / "evals/data/fake.png").write_bytes(b"GIF89a")
    (tmp_path / "outside.csv").write_text("a\n")
    (tmp_path / "outside.png").write_bytes(PNG)
    (root / "evals/data/link.png").symlink_to(tmp_path / "outside.png")
    (root / "evals/data/big.csv").write_text("x" * 2048)
    inputs_limit = inputs.INLINE_LIMIT
    try:
        inputs.INLINE_LIMIT = 1024
        issues = _issues(path)
    finally:
        inputs.INLINE_LIMIT = inputs_limit
    assert len(issues) == 4
    assert "x.eval.yaml:5: cases[0].inputs[0].file: 'data/fake.png' is named .png but its " \
           "content is not a PNG image" in issues[0]
    assert ":6: cases[0].inputs[1].file: '../../outside.csv' leads outside the project root" \
        in issues[1]
    assert ":7: cases[0].inputs[2].file: 'data/link.png' leads outside the project root" \
        in issues[2]
    assert ":8: cases[0].inputs[3].file: 'data/big.csv' is 0.0 MiB, over the 0 MiB inline " \
           "limit; send it through the Files API with `upload: true`" in issues[3]
