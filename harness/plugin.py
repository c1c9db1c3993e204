"""pytest entry point: options, collection of ``*.eval.yaml``, result records, summary.

Wiring only: the logic lives in plain modules (collect, recording, client, results).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness import redact
from harness.config import (
    GATE_MODES,
    REPLAY_MODES,
    TARGETS,
    UNDERPOWERED_MODES,
    ConfigError,
    load_settings,
)
from harness.paths import display_path


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the harness options (all in one group)."""
    group = parser.getgroup("harness", "harness: Gemini code-execution evals")
    group.addoption("--model", action="append", default=None, metavar="NAME",
                    help="model to evaluate (repeatable); default: models in [tool.harness]")
    group.addoption("--baseline", default=None, metavar="NAME",
                    help="model the others are compared with")
    group.addoption("--target", default=None, choices=TARGETS,
                    help="backend: gemini (Gemini API), vertex (Vertex AI) or sim (the bundled "
                         "simulator)")
    group.addoption("--samples", type=int, default=None, metavar="N",
                    help="samples per case and model (overrides the eval files)")
    group.addoption("--harness-cassette-dir", default=None, metavar="DIR",
                    help="root of the cassettes (default: cassette_dir in [tool.harness])")
    group.addoption("--harness-report-dir", default=None, metavar="DIR",
                    help="where run reports go (default: report_dir in [tool.harness])")
    group.addoption("--harness-base-url", default=None, metavar="URL",
                    help="send recording calls to URL instead of the target's host (a "
                         "gateway, or the simulator); default: base_url in [tool.harness]")
    group.addoption("--harness-retries", type=int, default=None, metavar="N",
                    help="attempts per API call while recording (default: retry.attempts)")
    group.addoption("--harness-gate", default=None, choices=GATE_MODES,
                    help="regression gate: off (pytest's exit code), on (a failing gate also "
                         "fails the run), only (eval FAILs are shown, but only the gate and "
                         "ERRORs decide the exit code); default: gate in [tool.harness]")
    group.addoption("--harness-replay", default=None, choices=REPLAY_MODES,
                    help="fast (default): read a recording without the SDK when its stored "
                         "request fingerprint matches the case; full: always replay through "
                         "the SDK and request matching (e.g. after a dependency upgrade)")
    group.addoption("--harness-batch", action="store_true", default=False,
                    help="record generate_content items through the Gemini Batch API (half "
                         "price, results within 24 h); other items record normally. Jobs "
                         "still running are saved in <report_dir>/batch-jobs.json and "
                         "collected by the next run with --harness-batch")
    group.addoption("--harness-batch-wait", type=float, default=1800.0, metavar="SECONDS",
                    help="how long --harness-batch waits for its jobs (default 1800); items "
                         "of jobs still running then are ERRORs that say how to collect them")
    group.addoption("--harness-batch-poll", type=float, default=30.0, metavar="SECONDS",
                    help="seconds between polls of running batch jobs (default 30)")
    group.addoption("--harness-gate-underpowered", default=None, choices=UNDERPOWERED_MODES,
                    help="a comparison too small to ever be significant: warn, or fail the "
                         "gate; default: gate_underpowered in [tool.harness] (warn)")
    group.addoption("--harness-shard", default=None, metavar="I/N",
                    help="run shard I of N: a deterministic split that keeps each case's "
                         "models and samples together; combine the runs with `harness merge`")
    group.addoption("--harness-concurrency", type=int, default=None, metavar="N",
                    help="when recording, run N items' model calls at once in this process "
                         "(default: concurrency in [tool.harness], 1)")
    group.addoption("--harness-budget-usd", type=float, default=None, metavar="X",
                    help="when recording, start no more calls once the estimated cost (usage "
                         "x [tool.harness.prices]) would pass X USD; the rest are ERRORs")


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
            retries=config.getoption("--harness-retries"),
            gate=config.getoption("--harness-gate"),
            gate_underpowered=config.getoption("--harness-gate-underpowered"),
            base_url=config.getoption("--harness-base-url"),
            replay=config.getoption("--harness-replay"),
            concurrency=config.getoption("--harness-concurrency"),
            budget_usd=config.getoption("--harness-budget-usd"))
    except ConfigError as exc:
        raise pytest.UsageError(f"harness: {exc}") from None
    if config.getoption("--harness-shard"):
        from harness.shard import ShardError, parse_shard

        try:
            config.stash[shard_key] = parse_shard(config.getoption("--harness-shard"))
        except ShardError as exc:
            raise pytest.UsageError(f"harness: {exc}") from None
    redact.configure(settings.secret_env)
    redact.install_log_redaction()
    record_mode = config.getoption("--record-mode", default=None) or "none"
    config.stash[runtime_key] = Runtime(settings=settings, record_mode=record_mode,
                                        pytestconfig=config)
    worker = getattr(config, "workerinput", None)
    runtime = config.stash[runtime_key]
    if worker is None:
        sink = RecordSink(config)
        config.pluginmanager.register(sink, "harness-records")
        runtime.run_id, runtime.controller = sink.run_id, True
    elif worker.get(RUN_ID_KEY):  # an xdist worker writes its own records into the run
        config.stash[worker_writer_key] = worker_writer(config, worker)
        runtime.run_id = worker[RUN_ID_KEY]
    if config.getoption("markers", default=False):
        register_tag_markers(config)


def register_tag_markers(config: pytest.Config) -> None:
    """For ``pytest --markers``, which collects nothing: the tags of the eval files in scope."""
    from harness.collect import SUFFIX, tag_marker_line
    from harness.spec.case import SpecError
    from harness.spec.load import expand_paths, load_eval_file

    roots = [Path(a.split("::")[0]) for a in config.args] or [Path.cwd()]
    files, _ = expand_paths([p for p in roots if p.exists()])
    seen: set[str] = set()
    for path in files:
        if not path.name.endswith(SUFFIX):
            continue
        try:
            cases = load_eval_file(path, config.rootpath).cases
        except SpecError:
            continue  # the file's problems show when it is collected
        for tag in sorted({t for case in cases for t in case.tags} - seen):
            config.addinivalue_line("markers", tag_marker_line(tag, path))
            seen.add(tag)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the simulator if this process started one."""
    from harness.collect import runtime_key

    if runtime_key in config.stash:
        config.stash[runtime_key].close()
    writer = config.stash.get(worker_writer_key, None)
    if writer is not None:
        writer.close()


@pytest.hookimpl(trylast=True)  # after -k, -m and --lf: the shards split what they left
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--harness-shard I/N``: keep this shard's items, deselect the others."""
    shard = config.stash.get(shard_key, None)
    if shard is None:
        return
    from harness.shard import select

    kept, dropped, selection = select(items, shard)
    items[:] = kept
    config.stash[selection_key] = selection.to_json()
    config.stash[shard_dropped_key] = len(dropped)  # not a -k subset: still a full run
    if hasattr(config, "workeroutput"):  # the controller puts it in the run's run.json
        config.workeroutput[SHARD_KEY] = selection.to_json()
    if dropped:
        config.hook.pytest_deselected(items=dropped)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what collection built out of the garbage collector's way (eval sessions only).

    Cases, items and imported modules live until the session ends; freezing them keeps every
    later collection from walking them again (measured: the collector's passes grew the cost
    per item with the size of the suite).
    """
    from harness.collect import EvalItem

    if any(isinstance(item, EvalItem) for item in session.items):
        import gc

        gc.collect()  # collection's own garbage goes now, not into the frozen generation
        gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """``--harness-batch``: record the eligible items through batch jobs before the loop."""
    config = session.config
    if not config.getoption("--harness-batch") or config.option.collectonly:
        return
    if getattr(config, "workerinput", None) is not None:
        raise pytest.UsageError("--harness-batch submits from one process: drop -n (a batch "
                                "job is one request per chunk; xdist would submit it twice)")
    from harness.calls.batch import record_session
    from harness.collect import EvalItem, runtime_key

    items = [item for item in session.items if isinstance(item, EvalItem)]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    quiet = reporter is None or config.get_verbosity() < 0

    def say(line: str) -> None:
        if not quiet and reporter is not None:
            reporter.write_line(redact.redact(f"harness: {line}"))

    runtime = config.stash[runtime_key]
    runtime.batch = record_session(runtime, items, say,
                                   wait_s=config.getoption("--harness-batch-wait"),
                                   poll_s=config.getoption("--harness-batch-poll"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``*.eval.yaml`` files."""
    from harness.collect import SUFFIX, EvalFile

    if file_path.name.endswith(SUFFIX):
        return EvalFile.from_parent(parent, path=file_path)
    return None


# Below this many replayed items the terminal advises against -n N (measured slower at 1,000).
RUN_ID_KEY = "harness_run_id"  # in xdist's workerinput: the run the workers write into
worker_writer_key = pytest.StashKey[Any]()
SHARD_KEY = "harness_shard"  # in xdist's workeroutput: what the worker's shard selected
shard_key = pytest.StashKey[Any]()
selection_key = pytest.StashKey[dict[str, Any]]()
shard_dropped_key = pytest.StashKey[int]()


def worker_writer(config: pytest.Config, worker: dict[str, Any]) -> Any:
    """An xdist worker's writer of ``results.<worker>.jsonl`` in the controller's run."""
    from harness.collect import runtime_key
    from harness.results.records import ResultsWriter

    report_dir = config.stash[runtime_key].settings.report_dir
    return ResultsWriter(report_dir, worker[RUN_ID_KEY], part=str(worker.get("workerid", "gw")))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Give the item's final report its result record (or, on an xdist worker, write it)."""
    from harness.collect import EvalItem

    report = yield
    if not isinstance(item, EvalItem):
        return report
    verdict, error = None, None
    if report.when == "setup" and report.skipped:
        verdict = "skipped"
    elif report.when == "setup" and report.failed:
        err = item.infra_error
        verdict = "error"
        error = {"kind": err.kind if err else "internal",
                 "message": str(err) if err else str(call.excinfo.value if call.excinfo else "")}
    elif report.when == "call":
        verdict = "pass" if report.passed else "fail"
    if verdict is None:
        return report
    record = item.record(verdict, error)
    item.release()  # the record has it all: a long run must not hold every transcript
    writer = item.config.stash.get(worker_writer_key, None)
    if writer is None:
        report.harness_record = record
    else:
        # Written here: a whole transcript through xdist's pipe would block the worker.
        writer.write(record)
        report.harness_written = {"verdict": verdict, "replayed": record.get("replayed")}
    return report


def replay_line(served: Counter[str]) -> str:
    """How the replayed items were served: read from their recordings, or through the SDK."""
    from harness.collect import REPLAYED_DIRECTLY

    total, direct = sum(served.values()), served.get(REPLAYED_DIRECTLY, 0)
    line = f"replay: {direct} of {total} items read straight from their recordings"
    others = [(why, n) for why, n in served.most_common() if why != REPLAYED_DIRECTLY]
    if others:
        line += "; through the SDK: " + ", ".join(f"{n} ({why})" for why, n in others)
    if any(why.startswith(("recorded", "the case")) for why, _ in others):
        line += " (re-recording those lets replay read them directly, which is faster)"
    return line


class RecordSink:
    """The controlling process's side: records, reports, the gate (xdist workers forward)."""

    def __init__(self, config: pytest.Config) -> None:
        from harness.results.records import new_run_id

        self.config = config
        self.run_id = new_run_id()  # known before xdist starts its workers: they write in it
        self.writer: Any = None
        self.records = 0
        self.run_end: Any = None
        self.other_failures = 0  # failures that are not eval FAILs: ERRORs, broken tests
        self.deselected = 0
        self.replayed: Counter[str] = Counter()  # how replayed items were served, by reason

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Count deselection: a `-k` subset is not a full run for history."""
        self.deselected += len(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A collection error is an infrastructure failure."""
        if report.failed:
            self.other_failures += 1

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist: a worker's shard selection (every worker computes the same one)."""
        selection = getattr(node, "workeroutput", {}).get(SHARD_KEY)
        if selection is not None:
            self.config.stash[selection_key] = selection

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: tell each worker which run to write its records into."""
        node.workerinput[RUN_ID_KEY] = self.run_id

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Store the record a report carries; count what is not an eval FAIL."""
        record = report.__dict__.pop("harness_record", None)  # held no longer than needed
        seen = record if record is not None else getattr(report, "harness_written", None)
        if report.failed and not (seen is not None and seen["verdict"] == "fail"):
            self.other_failures += 1
        if seen is None:
            return
        self.records += 1
        if seen.get("replayed"):
            self.replayed[seen["replayed"]] += 1
        if record is not None:
            self._writer().write(record)

    def _writer(self) -> Any:
        from harness.collect import runtime_key
        from harness.results.records import ResultsWriter

        if self.writer is None:
            self.writer = ResultsWriter(self.config.stash[runtime_key].settings.report_dir,
                                        self.run_id)
        return self.writer

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Summarize, write the reports, and apply the gate to the exit status."""
        shard = self.config.stash.get(selection_key, None)
        if not self.records and shard is None:
            return
        from harness.collect import runtime_key
        from harness.results.records import merge_parts
        from harness.session import finish_run, gate_exit_status, write_meta

        writer = self._writer()
        if writer.count == 0:  # every record came from xdist workers: point `latest` here
            writer.start()
        writer.close()
        merge_parts(writer.run_dir)
        runtime = self.config.stash[runtime_key]
        opt = self.config.option
        if shard is not None and shard["items"] == 0 and session.exitstatus == 5:
            session.exitstatus = 0  # a shard with nothing to do still completes the matrix
        full_run = (self.deselected <= self.config.stash.get(shard_dropped_key, 0)
                    and not getattr(opt, "keyword", "") and not getattr(opt, "markexpr", "")
                    and not getattr(opt, "lf", False))
        # A shard's history line, and its gate, come from `harness merge` over all shards.
        self.run_end = finish_run(self.writer.run_dir, self.writer.run_id, runtime.settings,
                                  append_to_history=(full_run and shard is None
                                                     and runtime.record_mode != "none"),
                                  compare_previous=runtime.record_mode != "none")
        write_meta(self.writer.run_dir, self.writer.run_id, runtime.settings,
                   record_mode=runtime.record_mode, full_run=full_run,
                   exitstatus=int(session.exitstatus), other_failures=self.other_failures,
                   items=self.records, shard=shard)
        session.exitstatus = gate_exit_status(
            runtime.settings.gate, int(session.exitstatus),
            shard is not None or bool(self.run_end.summary["gate"]["ok"]),
            only_eval_failures=self.other_failures == 0)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The per-model table, comparisons, the gate and where the reports went."""
        if self.run_end is None:
            return
        from harness.collect import runtime_key
        from harness.report.terminal import render_terminal

        tr = terminalreporter
        tr.section("harness")
        for line in render_terminal(self.run_end.summary):
            tr.write_line(line)
        mode = self.config.stash[runtime_key].settings.gate
        shard = self.config.stash.get(selection_key, None)
        if shard is not None:
            tr.write_line(f"shard {shard['index']}/{shard['count']}: {shard['items']} of "
                          f"{shard['total_items']} eval items ({shard['groups']} of "
                          f"{shard['total_groups']} cases and files); this part's gate does "
                          "not decide the exit code: `harness merge` gates the whole run")
        elif mode != "off":
            tr.write_line(f"gate mode {mode!r}: "
                          + ("the gate and ERRORs decide the exit code" if mode == "only"
                             else "a failing gate fails the run"))
        if self.replayed:
            tr.write_line(replay_line(self.replayed))
            if self.config.getoption("numprocesses", None):
                tr.write_line(
                    "note: replay under pytest-xdist: every worker imports the SDK and collects "
                    "the suite again, while direct replay takes milliseconds per item; -n 2 took "
                    "1.2-1.5x as long as a serial run at 1,000 and 5,000 items, and 1.1x at "
                    "10,000 (benchmarks/replay_bench.py). Replay serially; xdist pays off when "
                    "recording.")
        for name, path in self.run_end.paths.items():
            tr.write_line(f"{name}: {display_path(path)}")
        if self.run_end.history_appended:
            tr.write_line("history: a line per model added to "
                          + display_path(self.writer.report_dir / "history.jsonl"))
