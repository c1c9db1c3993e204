"""Eval files that are not what they seem are refused before parsing, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec.case import SpecError, SpecWarning
from harness.spec.load import load_eval_file
from harness.spec.source import MAX_BYTES

GOOD = "suite: s\ncases:\n  - id: a\n    prompt: What is 2+2?\n"


def _error(path: Path, root: Path) -> str:
    with pytest.raises(SpecError) as err:
        load_eval_file(path, root)
    [issue] = err.value.issues
    return issue.message


def test_a_symlink_out_of_the_project_is_refused_without_quoting_it(tmp_path: Path) -> None:
    secret = tmp_path / "home" / ".env"
    secret.parent.mkdir()
    secret.write_text("GEMINI_API_KEY=AIzaSy-not-for-your-eyes\n")
    project = tmp_path / "project"
    (project / "evals").mkdir(parents=True)
    (project / "evals" / "x.eval.yaml").symlink_to(secret)
    message = _error(project / "evals" / "x.eval.yaml", project)
    assert "symlink" in message and "outside the project root" in message
    assert "AIza" not in message
    (project / "real.yaml").write_text(GOOD)  # a link inside the project is fine
    (project / "evals" / "y.eval.yaml").symlink_to(project / "real.yaml")
    assert load_eval_file(project / "evals" / "y.eval.yaml", project).suite == "s"


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "x.eval.yaml"
    os.mkfifo(fifo)
    # In a subprocess: were the FIFO opened, the read would block forever.
    result = subprocess.run([sys.executable, "-m", "harness", "validate", str(fifo)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert "it is a FIFO (named pipe), not a regular file" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_device_and_an_oversized_file_are_refused(tmp_path: Path) -> None:
    assert "it is a device, not a regular file" in _error(Path("/dev/zero"), Path("/"))
    big = tmp_path / "big.eval.yaml"
    big.write_text(GOOD + "# " + "x" * MAX_BYTES + "\n")
    message = _error(big, tmp_path)
    assert "may be at most 2 MiB" in message and "split the suite" in message


def test_small_spec_messages(tmp_path: Path) -> None:
    ctl = tmp_path / "ctl.eval.yaml"
    ctl.write_text('cases:\n  - id: a\n    prompt: "p\x01q"\n')
    with pytest.raises(SpecError) as err:
        load_eval_file(ctl, tmp_path)
    [issue] = err.value.issues
    assert issue.line == 3 and "control character U+0001" in issue.message
    big = tmp_path / "big.eval.yaml"
    big.write_text("cases:\n  - id: a\n    prompt: p\n    samples: " + "9" * 5000 + "\n")
    with pytest.raises(SpecError) as err:
        load_eval_file(big, tmp_path)
    message = str(err.value)
    assert "a whole number with 5000 digits is far larger than any field allows" in message
    assert len(message) < 400


def test_an_empty_expect_warns(tmp_path: Path) -> None:
    path = tmp_path / "e.eval.yaml"
    path.write_text("cases:\n  - id: a\n    prompt: p\n    expect: []\n")
    with pytest.warns(SpecWarning, match=r"e.eval.yaml:4: case 'a' has `expect: \[\]`"):
        load_eval_file(path, tmp_path)


def test_validate_refuses_two_files_with_one_suite(tmp_path: Path, capsys) -> None:
    from harness.cli import main

    for name in ("a", "b"):
        (tmp_path / f"{name}.eval.yaml").write_text("suite: same\n" + GOOD.split("\n", 1)[1])
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "b.eval.yaml:1: suite: suite 'same' is also the suite of" in err
