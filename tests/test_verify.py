"""verify_output's re-runs and judgements: a tampered output diverges, unseeded randomness is
not reproducible here, later runs see earlier runs' variables through the shared session, and a
run the sandbox blocks is unsafe without anything escaping."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.cassettes.verify_runs import Cache, cache_path, rerun_response
from harness.checks.api import CheckContext
from harness.checks.codefacts import run_facts
from harness.checks.reexec import LocalRun, same_output, verify_run
from harness.checks.registry import CheckParseError, parse_check
from harness.sandbox.levels import LEVELS
from harness.transcript.values import CodeRun, Transcript


def judge(*runs: CodeRun, expect: object = "verify_output",
          files: dict[str, bytes] | None = None):
    t = Transcript(code_runs=runs)
    local = rerun_response(t, files or {}, Cache())
    verdicts = [verify_run(i, runs, lr) for i, lr in enumerate(local) if lr is not None]
    return verdicts, parse_check(expect).run(CheckContext(t, local_runs=local))


def test_a_tampered_recorded_output_diverges_with_a_diff_and_reads_like_a_failure():
    verdicts, result = judge(CodeRun("print(sum(range(10)))", "OUTCOME_OK", "46\n"))
    assert [v.outcome for v in verdicts] == ["diverged"]
    assert "-46\n+45" in verdicts[0].diff
    assert not result.passed
    assert "'46'" in result.expected  # expected = the recorded output
    assert "local output: '45'" in result.actual and "print(sum(range(10)))" in result.actual


def test_an_untampered_run_reproduces_and_whitespace_and_tolerance_are_normalised():
    verdicts, result = judge(CodeRun("print('a  ')\nprint(1/3)", "OUTCOME_OK",
                                     "a\r\n0.3333333333333333\n\n"))
    assert [v.outcome for v in verdicts] == ["reproduced"] and result.passed
    assert same_output("x 0.3334", "x 0.3333333", tolerance=__import__("decimal").Decimal("0.001"))
    assert not same_output("x 0.3334", "y 0.3333333", tolerance=1)


def test_failed_runs_compare_their_error_line_not_the_traceback_paths():
    recorded = ('Traceback (most recent call last):\n  File "/srv/gemini/x.py", line 1\n'
                "ZeroDivisionError: division by zero\n")
    verdicts, _ = judge(CodeRun("print(1/0)", "OUTCOME_FAILED", recorded))
    assert verdicts[0].outcome == "reproduced"


def test_unseeded_randomness_is_not_reproducible_here_and_can_be_allowed():
    run = CodeRun("import random\nprint(random.random())", "OUTCOME_OK", "0.123\n")
    verdicts, result = judge(run)
    assert verdicts[0].outcome == "not_reproducible"
    assert "without a seed (random.random)" in verdicts[0].reason
    assert not result.passed and "not reproducible here" in result.actual
    _, allowed = judge(run, expect={"verify_output": {"allow": ["not_reproducible"]}})
    assert allowed.passed
    # a seed anywhere earlier in the response makes the draw explainable: no excuse left
    assert run_facts(["import random\nrandom.seed(1)", run.code]).unseeded_random == ()


def test_runs_using_earlier_runs_variables_reproduce_through_the_shared_session():
    runs = (CodeRun("data = [3, 1, 2]\nprint(len(data))", "OUTCOME_OK", "3\n"),
            CodeRun("data.sort()\ntotal = sum(data)\nprint(data)", "OUTCOME_OK", "[1, 2, 3]\n"),
            CodeRun("print(total * 2, data[0])", "OUTCOME_OK", "12 1\n"))
    verdicts, result = judge(*runs)
    assert [v.outcome for v in verdicts] == ["reproduced"] * 3, [v.reason for v in verdicts]
    assert "after replaying 2 earlier run(s)" in verdicts[2].reason
    assert result.passed
    # alone, the last run has nothing to work with: the session is what makes it reproduce
    alone, _ = judge(runs[2])
    assert alone[0].outcome == "diverged"


def test_a_tampered_later_run_still_diverges_when_an_earlier_run_draws_randomly():
    runs = (CodeRun("import random\nr = random.random()", "OUTCOME_OK", ""),
            CodeRun("x = 21", "OUTCOME_OK", ""),
            CodeRun("print(x * 2)", "OUTCOME_OK", "43\n"),
            CodeRun("print(r > 2)", "OUTCOME_OK", "True\n"))
    verdicts, _ = judge(*runs)
    assert verdicts[2].outcome == "diverged"  # nothing it reads came from the random run
    assert verdicts[3].outcome == "not_reproducible"  # r did


def test_a_run_the_sandbox_blocks_is_unsafe_and_nothing_escapes():
    from harness.sandbox.execute import isolation_report

    if LEVELS.index(isolation_report()["level"]) < LEVELS.index("restricted"):
        pytest.skip("this machine's sandbox does not contain writes outside the workdir")
    target = Path.home() / f"harness-verify-escape-{uuid.uuid4().hex}"
    code = f"open({str(target)!r}, 'w').write('escaped')\nprint('done')"
    verdicts, result = judge(CodeRun(code, "OUTCOME_OK", "done\n"))
    assert verdicts[0].outcome == "unsafe", verdicts[0].reason
    assert "blocked by the local sandbox" in verdicts[0].reason
    assert "only inside the working directory" in verdicts[0].reason, verdicts[0].reason
    assert not target.exists()
    assert not result.passed
    # unsafe can never be allowed away
    _, still = judge(CodeRun(code, "OUTCOME_OK", "done\n"),
                     expect={"verify_output": {"allow": ["not_reproducible"]}})
    assert not still.passed and not target.exists()


@pytest.mark.parametrize("outcome", ["unsafe", "diverged"])
def test_allowing_unsafe_or_diverged_is_a_spec_error(outcome: str):
    with pytest.raises(CheckParseError, match=f"'{outcome}' runs can never be allowed"):
        parse_check({"verify_output": {"allow": [outcome]}})


def test_missing_inputs_network_and_clock_give_their_reasons():
    verdicts, _ = judge(
        CodeRun("import pandas as pd\nprint(pd.read_csv('other.csv').shape)", "OUTCOME_OK",
                "(3, 2)\n"),
        CodeRun("import urllib.request\nprint(urllib.request.urlopen('http://x.test').read())",
                "OUTCOME_OK", "b'hi'\n"),
        CodeRun("import datetime\nprint(datetime.datetime.now().year)", "OUTCOME_OK", "1999\n"),
        files={"sales.csv": b"a\n1\n"})
    assert [v.outcome for v in verdicts] == ["not_reproducible"] * 3
    assert "'other.csv', which is not among the case's inputs (sales.csv)" in verdicts[0].reason
    assert "uses the network (urllib)" in verdicts[1].reason
    assert "reads the clock or the date (datetime.datetime.now)" in verdicts[2].reason


def test_recorded_deadline_runs_are_not_rerun_and_later_runs_say_the_state_is_unknown():
    runs = (CodeRun("while True: pass", "OUTCOME_DEADLINE_EXCEEDED", ""),
            CodeRun("print(2)", "OUTCOME_OK", "3\n"))
    verdicts, _ = judge(*runs)
    assert verdicts[0].outcome == "not_reproducible" and "deadline" in verdicts[0].reason
    assert verdicts[1].outcome == "not_reproducible" and "state it left" in verdicts[1].reason


def test_results_are_cached_by_code_inputs_and_sandbox_version(tmp_path: Path):
    t = Transcript(code_runs=(CodeRun("x = 2\nprint(x)", "OUTCOME_OK", "2\n"),
                              CodeRun("print(x + 1)", "OUTCOME_OK", "3\n")))
    path = cache_path(tmp_path / "1.yaml")
    assert path.name == "1.verify.json"
    first = Cache()
    rerun_response(t, {}, first)
    assert first.computed == 2
    first.store(path)
    again = Cache.load(path)
    local = rerun_response(t, {}, again)
    assert again.computed == 0 and all(lr is not None and lr.cached for lr in local)
    other_inputs = Cache.load(path)
    rerun_response(t, {"a.txt": b"x"}, other_inputs)
    assert other_inputs.computed == 2  # the inputs are part of the key
    path.write_text(path.read_text().replace('"sandbox_version": "1"', '"sandbox_version": "0"'))
    assert Cache.load(path).entries == {}


def test_verify_output_without_re_runs_fails_with_its_reason():
    result = parse_check("verify_output").run(CheckContext(Transcript(code_runs=(
        CodeRun("print(1)", "OUTCOME_OK", "1\n"),))))
    assert not result.passed and "needs the re-run results" in (result.error or "")


def test_runs_last_checks_only_the_last_run():
    runs = (CodeRun("print(1)", "OUTCOME_OK", "2\n"), CodeRun("print(3)", "OUTCOME_OK", "3\n"))
    _, result = judge(*runs, expect={"verify_output": {"runs": "last"}})
    assert result.passed
    assert LocalRun(None, "").skipped is None
