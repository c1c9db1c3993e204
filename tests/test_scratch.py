"""Scratch files of killed runs are swept; live ones are left alone; git ignores them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from harness.cassettes import recording
from harness.paths import pid_alive, sweep_stale


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_entries_of_dead_processes(tmp_path: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    assert not pid_alive(dead) and pid_alive(live)
    (tmp_path / f"harness-zygote-{dead}-x").mkdir()
    (tmp_path / f"harness-zygote-{dead}-x" / "zygote.log").write_text("log")
    (tmp_path / f"harness-zygote-{live}-y").mkdir()
    (tmp_path / "harness-zygote-old").mkdir()  # no pid: not ours to judge
    removed = sweep_stale(tmp_path.iterdir(), re.compile(r"^harness-zygote-(?P<pid>[0-9]+)-"))
    assert [p.name for p in removed] == [f"harness-zygote-{dead}-x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"harness-zygote-{live}-y", "harness-zygote-old"])


def test_a_cassette_root_ignores_and_sweeps_recordings_in_progress(tmp_path: Path) -> None:
    root = tmp_path / "cassettes"
    case = root / "sim" / "suite" / "case" / "model"
    case.mkdir(parents=True)
    (root / ".gitignore").write_text("keep-me")  # the user's own rules stay
    stale = case / f".1.recording-{_dead_pid()}.yaml"
    mine = case / f".2.recording-{os.getpid()}.yaml"
    cassette = case / "1.yaml"
    for path in (stale, mine, cassette):
        path.write_text("interactions: []\n")
    assert recording.prepare_root(root) == [stale]
    assert mine.exists() and cassette.exists()
    assert (root / ".gitignore").read_text().splitlines()[0] == "keep-me"
    assert recording.TEMP_GLOB in (root / ".gitignore").read_text().splitlines()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    def ignored(path: Path) -> bool:
        check = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=tmp_path)
        return check.returncode == 0

    assert ignored(mine) and not ignored(cassette)  # `git add cassettes/` skips only the first


def test_old_runs_are_pruned_and_reports_are_readable(tmp_path: Path) -> None:
    from harness.report.synthetic import synthetic_run
    from harness.results.records import prune_runs

    reports = tmp_path / "reports"
    runs = [f"20261201-1200{i:02d}-00a{i}" for i in range(5)]
    for run in runs:
        (reports / run).mkdir(parents=True)
    (reports / "history.jsonl").write_text("")
    (reports / "README.md").write_text("kept")
    (reports / "notes-20261201").mkdir()  # not a run id: never touched
    removed = prune_runs(reports, keep=2, current=runs[0])  # the current run always stays
    assert [p.name for p in removed] == runs[1:3]
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [runs[0], runs[3], runs[4], "history.jsonl", "README.md", "notes-20261201"])
    assert prune_runs(reports, keep=0, current=runs[0]) == []  # 0 keeps every run

    synthetic_run(reports, "20261201-130000-0b00", cases=2)
    from harness.report.write import render_run

    paths = render_run(reports / "20261201-130000-0b00")
    assert paths and all(p.stat().st_mode & 0o777 == 0o644 for p in paths.values())
