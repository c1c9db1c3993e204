"""pytest entry point: options, collection of ``*.eval.yaml``, result records, summary.

Wiring only: the logic lives in plain modules (collect, recording, client, results).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness.config import TARGETS, ConfigError, load_settings


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the harness options (all in one group)."""
    group = parser.getgroup("harness", "harness: Gemini code-execution evals")
    group.addoption("--model", action="append", default=None, metavar="NAME",
                    help="model to evaluate (repeatable); default: models in [tool.harness]")
    group.addoption("--baseline", default=None, metavar="NAME",
                    help="model the others are compared with")
    group.addoption("--target", default=None, choices=TARGETS,
                    help="backend: gemini (Gemini API), vertex, sim (later versions)")
    group.addoption("--samples", type=int, default=None, metavar="N",
                    help="samples per case and model (overrides the eval files)")
    group.addoption("--harness-cassette-dir", default=None, metavar="DIR",
                    help="root of the cassettes (default: cassette_dir in [tool.harness])")
    group.addoption("--harness-report-dir", default=None, metavar="DIR",
                    help="where run reports go (default: report_dir in [tool.harness])")
    group.addoption("--harness-retries", type=int, default=None, metavar="N",
                    help="attempts per API call while recording (default: retry.attempts)")


def pytest_configure(config: pytest.Config) -> None:
    """Resolve settings once per process."""
    from harness.collect import Runtime, runtime_key

    root = Path(config.rootpath)
    pyproject = config.inipath if config.inipath and config.inipath.name == "pyproject.toml" \
        else None
    try:
        settings = load_settings(root, pyproject).with_overrides(
            models=config.getoption("--model"), baseline=config.getoption("--baseline"),
            target=config.getoption("--target"), samples=config.getoption("--samples"),
            cassette_dir=config.getoption("--harness-cassette-dir"),
            report_dir=config.getoption("--harness-report-dir"),
            retries=config.getoption("--harness-retries"))
    except ConfigError as exc:
        raise pytest.UsageError(f"harness: {exc}") from None
    record_mode = config.getoption("--record-mode", default=None) or "none"
    config.stash[runtime_key] = Runtime(settings=settings, record_mode=record_mode,
                                        pytestconfig=config)
    if not hasattr(config, "workerinput"):  # xdist workers forward reports instead
        config.pluginmanager.register(RecordSink(config), "harness-records")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the simulator if this process started one."""
    from harness.collect import runtime_key

    if runtime_key in config.stash:
        config.stash[runtime_key].close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``*.eval.yaml`` files."""
    from harness.collect import SUFFIX, EvalFile

    if file_path.name.endswith(SUFFIX):
        return EvalFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Attach the item's result record to its final report (xdist forwards it)."""
    from harness.collect import EvalItem

    report = yield
    if not isinstance(item, EvalItem):
        return report
    verdict = None
    if report.when == "setup" and report.skipped:
        verdict = "skipped"
    elif report.when == "setup" and report.failed:
        err = item.infra_error
        verdict = "error"
        error = {"kind": err.kind if err else "internal",
                 "message": str(err) if err else str(call.excinfo.value if call.excinfo else "")}
        report.harness_record = item.record(verdict, error)
        return report
    elif report.when == "call":
        verdict = "pass" if report.passed else "fail"
    if verdict is not None:
        report.harness_record = item.record(verdict)
    return report


class RecordSink:
    """Writes result records in the controlling process (xdist workers forward reports)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.writer: Any = None
        self.counts: dict[str, Counter[str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Store the record a report carries."""
        record = getattr(report, "harness_record", None)
        if record is None:
            return
        from harness.collect import runtime_key
        from harness.results import ResultsWriter

        if self.writer is None:
            self.writer = ResultsWriter(self.config.stash[runtime_key].settings.report_dir)
        self.writer.write(record)
        self.counts.setdefault(record["model"], Counter())[record["verdict"]] += 1

    def pytest_sessionfinish(self) -> None:
        """Close the results file."""
        if self.writer is not None:
            self.writer.close()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """A short per-model table and where the records went."""
        if self.writer is None:
            return
        tr = terminalreporter
        tr.section("harness")
        for model, counts in sorted(self.counts.items()):
            judged = counts["pass"] + counts["fail"]
            rate = f"{counts['pass'] / judged:.0%}" if judged else "n/a"
            tr.write_line(f"{model}: {counts['pass']} passed, {counts['fail']} failed, "
                          f"{counts['error']} errors, {counts['skipped']} skipped "
                          f"(pass rate {rate} of judged items)")
        tr.write_line(f"results: {self.writer.results_path}")
