"""pytest collection: one EvalFile per ``*.eval.yaml``, one EvalItem per case x model x sample.

The model call happens in ``setup()`` (API, cassette and config problems become ERRORs); the
checks run in ``runtest()`` (a wrong answer is a FAIL).
"""

from __future__ import annotations

import contextlib
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.calls.targets import Endpoint
from harness.cassettes import recording
from harness.cassettes.paths import cassette_path, is_replay
from harness.checks.api import CheckContext, CheckResult
from harness.config import Settings
from harness.errors import HarnessError, SetupError
from harness.paths import display_path
from harness.redact import redact
from harness.results import provenance
from harness.results.records import make_record
from harness.results.verdict import ItemInfo, render_error, render_failure
from harness.spec.case import Case, SpecError
from harness.spec.load import duplicate_suite, load_eval_file

if TYPE_CHECKING:
    from harness.transcript.values import Transcript

SUFFIX = ".eval.yaml"
REPLAYED_DIRECTLY = "recording"
INVALID_NAME = "invalid-eval-file"


def tag_marker_line(tag: str, path: Path) -> str:
    """The ``markers`` ini line that registers an eval tag (shown by ``pytest --markers``)."""
    return f"{tag}: eval tag from {path.name}"


@dataclass
class Runtime:
    """Per-session state shared by the items of one process (one per xdist worker)."""

    settings: Settings
    record_mode: str
    pytestconfig: pytest.Config
    cases: list[Case] = field(default_factory=list)
    references: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    suites: dict[str, Path] = field(default_factory=dict)
    run_id: str | None = None
    controller: bool = False
    ahead: Any = None  # harness.ahead.Ahead while recording concurrently
    ref_lock: threading.Lock = field(default_factory=threading.Lock)
    _ref_locks: dict[tuple[str, str, int], threading.Lock] = field(default_factory=dict)
    batch: Any = None  # --harness-batch: a BatchOutcome once the jobs are collected
    _vcr: Any = None
    _sim: Any = None
    _live_sim: Any = None
    _live_dir: Path | None = None

    def reference_lock(self, key: tuple[str, str, int]) -> threading.Lock:
        """The lock that makes a case's reference computed once when pool threads race."""
        with self.ref_lock:
            return self._ref_locks.setdefault(key, threading.Lock())

    @property
    def vcr(self) -> Any:
        """The session's VCR, made on first use (importing vcr is slow)."""
        if self._vcr is None:
            self._vcr = recording.make_vcr(self.pytestconfig)
        return self._vcr

    def endpoint(self, replaying: bool, *, live: bool = False) -> Endpoint:
        """Where this process's calls go; starts the simulator on first need.

        Args:
            replaying: No network: the replay client.
            live: For an ``api: live`` item: the SDK connects the Live API with ``wss``
                only, so recording the simulator needs one that speaks TLS (started apart,
                with a throwaway certificate the client is told to trust).

        Raises:
            SetupError: ``api: live`` on a simulator given by ``--harness-base-url``.
        """
        target, settings = self.settings.target, self.settings
        if live and not replaying and target == "sim" and settings.base_url is not None \
                and not settings.base_url.startswith("https:"):
            raise SetupError(
                f"recording `api: live` needs a wss endpoint, but --harness-base-url "
                f"{settings.base_url} is plain http (the SDK connects the Live API with TLS "
                "only): leave out --harness-base-url, and the plugin starts a simulator that "
                "serves wss itself")
        # A base URL on --target sim is a simulator already running (`harness sim`).
        if replaying or target != "sim" or settings.base_url is not None:
            return Endpoint(target, recording=not replaying, base_url=settings.base_url,
                            vertex=settings.vertex)
        if live:
            return self._live_endpoint()
        if self._sim is None:
            from harness.sim.server import start

            # The simulator learns the collected cases (their reference code) in-process.
            self._sim = start(self.cases)
        return Endpoint(target, recording=True, base_url=self._sim.base_url)

    def _live_endpoint(self) -> Endpoint:
        if self._live_sim is None:
            import tempfile

            from harness.sim.server import start
            from harness.sim.tls import self_signed

            self._live_dir = Path(tempfile.mkdtemp(prefix="harness-sim-tls-"))
            self._live_sim = start(self.cases, tls=self_signed(self._live_dir))
        return Endpoint(self.settings.target, recording=True, base_url=self._live_sim.base_url,
                        cafile=str(self._live_dir / "sim.crt") if self._live_dir else None)

    def close(self) -> None:
        """Stop what the session started."""
        if self.ahead is not None:
            self.ahead.close()  # before the simulator: running calls finish first
            self.ahead = None
            if self.controller:
                from harness.ahead import run_db

                run_db(self).unlink(missing_ok=True)
        for sim in (self._sim, self._live_sim):
            if sim is not None:
                sim.stop()
        self._sim = self._live_sim = None
        if self._live_dir is not None:
            import shutil

            shutil.rmtree(self._live_dir, ignore_errors=True)
            self._live_dir = None


runtime_key = pytest.StashKey[Runtime]()


class EvalFailure(Exception):
    """Raised by runtest when checks failed; rendered by repr_failure without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EvalFile(pytest.File):
    """One ``*.eval.yaml`` file."""

    def collect(self) -> Iterator[pytest.Item]:
        """Yield an item per case x model x sample; a bad file is one ERROR item."""
        runtime = self.config.stash[runtime_key]
        settings = runtime.settings
        try:
            spec = load_eval_file(self.path, self.config.rootpath)
        except SpecError as exc:
            # An item, not a collection error: pytest stops the whole session on collection
            # errors, and a bad file must not keep the other files from running.
            yield InvalidEvalFile.from_parent(self, name=INVALID_NAME, error=exc)
            return
        other = runtime.suites.setdefault(spec.suite, self.path)
        if other != self.path:
            issue = duplicate_suite(self.path, spec.suite, other, self.config.rootpath)
            yield InvalidEvalFile.from_parent(self, name=INVALID_NAME, error=SpecError([issue]))
            return
        if not settings.models:
            raise self.CollectError(
                f"{self.path}: no models to run: add `models = [\"gemini-2.5-flash\"]` under "
                "[tool.harness] in pyproject.toml, or pass --model NAME")
        runtime.cases.extend(spec.cases)
        for tag in sorted({t for case in spec.cases for t in case.tags} - runtime.tags):
            # Registered, so tags work under --strict-markers and raise no unknown-mark warning.
            self.config.addinivalue_line("markers", tag_marker_line(tag, self.path))
            runtime.tags.add(tag)
        for case in spec.cases:
            samples = settings.samples or case.samples
            for model in settings.models:
                for k in range(1, samples + 1):
                    param = model if samples == 1 else f"{model}#{k}"
                    item = EvalItem.from_parent(self, name=f"{case.id}[{param}]", case=case,
                                                model=model, sample=k, samples=samples,
                                                nodeid=self._item_id(case.id, param))
                    for tag in case.tags:
                        item.add_marker(tag)
                    if case.skip is not None:
                        item.add_marker(pytest.mark.skip(reason=case.skip))
                    yield item


    def _item_id(self, case_id: str, param: str) -> Any:
        """The item's structured node id on pytest >= 9.2 (None: let pytest build the string).

        pytest 9.2 compares structured ids: name ``case`` with params ``model#k``, as it reads
        them back from its cache. Built from the whole name, they would never match, and
        ``--lf``, ``--ff`` and ``--sw`` would rerun everything.
        """
        parent_id = getattr(self, "id", None)
        if parent_id is None or not hasattr(parent_id, "with_params"):
            return None
        return parent_id.child(case_id).with_params(param)


class EvalItem(pytest.Item):
    """One case run against one model (one sample)."""

    def __init__(self, *, case: Case, model: str, sample: int, samples: int,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case, self.model, self.sample, self.samples = case, model, sample, samples
        # `-k` matches these as well as the node name
        self.extra_keyword_matches.update({case.id, model})
        self.transcript: Transcript | None = None
        self.check_results: list[CheckResult] = []
        self.infra_error: HarnessError | None = None
        self.reference_outputs: dict[int, str] = {}  # by 0-based turn
        self.local_runs: dict[int, Any] = {}  # verify_output's re-runs, by 0-based turn
        self.retries = 0  # calls retried while recording (shown at -v, kept in the record)
        self._retry_lines: list[str] = []  # a pool thread's retries, shown by setup
        self._endpoint: Endpoint | None = None
        # In replay: "recording" (read straight from the cassette) or why the SDK replayed it.
        self.replayed: str | None = None
        self.cassette_meta: dict[str, Any] | None = None  # its `harness:` block: provenance
        runtime = self.config.stash[runtime_key]
        self.cassette = cassette_path(
            runtime.settings.cassette_dir, runtime.settings.target, case.suite, case.id, model,
            sample)
        if case.api == "live":  # frames, not HTTP exchanges: a file of its own kind
            from harness.cassettes.live_item import live_path

            self.cassette = live_path(self.cassette)

    @property
    def info(self) -> ItemInfo:
        """Identification for messages."""
        return ItemInfo(self.case.id, self.model, self.sample, self.samples,
                        self.case.location(), display_path(self.cassette, self.config.rootpath))

    def rerun_options(self) -> str:
        """This run's command-line options that a re-record of the item must repeat.

        They decide the backend (``--target``), whether the node id exists at all (``--model``,
        ``--samples``: ``case[model#k]``), and where the cassette goes; left out, the printed
        command would record another target into another directory, or select nothing.
        """
        option = self.config.getoption
        given = (("--target", option("--target")),
                 ("--model", self.model if option("--model") else None),
                 ("--samples", option("--samples")),
                 ("--harness-cassette-dir", option("--harness-cassette-dir")),
                 ("--harness-base-url", option("--harness-base-url")))
        return "".join(f" {name} {shlex.quote(str(value))}" for name, value in given
                       if value is not None)

    def rerecord_command(self) -> str:
        """The exact command that records this item, and what recording it needs."""
        command = f"pytest {shlex.quote(self.nodeid)} --record-mode=rewrite{self.rerun_options()}"
        settings = self.config.stash[runtime_key].settings
        if settings.target == "sim":
            return command + " (records the bundled simulator: no key needed)"
        if settings.target == "vertex":
            return command + (" (needs GOOGLE_API_KEY or GEMINI_API_KEY: Vertex AI express mode)"
                              if settings.vertex.express else
                              " (needs Application Default Credentials and a project: "
                              "gcloud auth application-default login)")
        return command + " (needs GEMINI_API_KEY)"

    def setup(self) -> None:
        """Call the model through the item's cassette (failures here are ERRORs)."""
        from harness.calls.run import replay_recorded, run_case

        runtime = self.config.stash[runtime_key]
        try:
            mode = runtime.record_mode
            if runtime.batch is not None:  # replays what the batch wrote, or says why not
                mode = runtime.batch.record_mode(self.nodeid, mode)
            if runtime.settings.managed_recording and self.case.api != "live" \
                    and not is_replay(mode, self.cassette):
                self._take_ahead(runtime)
                self.local_runs = self._local_runs(runtime)
                return
            # The reference first: a broken ground truth should stop before tokens are spent.
            self.reference_outputs = self._reference_outputs(runtime)
            if is_replay(mode, self.cassette):
                self.replayed = self._replay_directly(runtime, replay_recorded)
            if self.replayed != REPLAYED_DIRECTLY:
                with self._open_cassette(runtime, mode) as rec:
                    self.transcript = run_case(
                        self.case, self.model,
                        endpoint=runtime.endpoint(rec.replaying, live=self.case.api == "live"),
                        recording=rec, retry=runtime.settings.retry, sample=self.sample,
                        on_retry=self._note_retry)
                self.cassette_meta = rec.meta  # read after the close: a kept record date
            self.local_runs = self._local_runs(runtime)
        except HarnessError as exc:
            self.infra_error = exc
        if self.infra_error is not None:  # outside `except`: no chained traceback is shown
            err = self.infra_error
            pytest.fail(redact(render_error(err.kind, self.info, str(err))), pytrace=False)

    def _take_ahead(self, runtime: Runtime) -> None:
        """Concurrent recording: this item's call ran (or runs) in the pool; take its result."""
        if runtime.ahead is None:
            from harness.ahead import Ahead

            runtime.ahead = Ahead(runtime, self.session)
        try:
            self.reference_outputs, self.transcript = runtime.ahead.take(self)
        finally:
            for line in self._retry_lines:  # written here: the job's thread owns no terminal
                self._show_retry(line)
            self._retry_lines = []

    def prepare_ahead(self) -> None:
        """Before the item's job is queued (main thread): its endpoint (starts the simulator)."""
        self._endpoint = self.config.stash[runtime_key].endpoint(False)

    def recorded_call(self, hooks: Any) -> tuple[dict[int, str], Transcript]:
        """The item's reference and call, recorded into its own cassette (a pool thread)."""
        from harness.calls.run import run_case
        from harness.cassettes import threaded

        runtime = self.config.stash[runtime_key]
        assert self._endpoint is not None, "prepare_ahead() runs before the job is queued"
        endpoint = self._endpoint
        # The reference first: a broken ground truth should stop before tokens are spent.
        references = self._reference_outputs(runtime)

        def on_retry(line: str) -> None:
            self.retries += 1
            hooks.on_retry(line)
            self._retry_lines.append(line)

        with threaded.record_cassette(runtime.vcr, self.cassette, runtime.record_mode,
                                      root=runtime.settings.cassette_dir, gate=hooks.gate,
                                      settle=hooks.settle, stopped=hooks.stopped) as rec:
            transcript = run_case(self.case, self.model, endpoint=endpoint,
                                  recording=rec, retry=runtime.settings.retry,
                                  sample=self.sample, on_retry=on_retry)
        self.cassette_meta = rec.meta  # the main thread reads it once the job's result is in
        return references, transcript

    def _replay_directly(self, runtime: Runtime, replay_recorded: Any) -> str:
        """Read the transcript straight from the cassette if that is exact; say why not."""
        if runtime.settings.replay == "full":
            return "--harness-replay=full"
        if self.case.functions:
            return "function calling"
        if self.case.api == "live":
            return "Live API frames"
        found = replay_recorded(self.case, self.model, runtime.endpoint(True), self.cassette)
        if found is not None:
            self.transcript, self.cassette_meta = found
            return REPLAYED_DIRECTLY
        from harness.calls.run import why_not_direct

        return why_not_direct(self.cassette)

    def _open_cassette(self, runtime: Runtime, mode: str) -> Any:
        """The item's cassette: HTTP exchanges (vcrpy), or Live frames (``<k>.live.yaml``)."""
        if self.case.api == "live":
            from harness.cassettes.live_item import use_live_cassette

            return use_live_cassette(self.cassette, mode, self.rerecord_command(),
                                     root=runtime.settings.cassette_dir)
        # Replay refuses sockets process-wide: not while pool threads are recording.
        return recording.use_cassette(runtime.vcr, self.cassette, mode,
                                      self.rerecord_command(),
                                      root=runtime.settings.cassette_dir,
                                      block=runtime.ahead is None or not runtime.ahead.busy())

    def _note_retry(self, line: str) -> None:
        """Count a retried call, and show it at -v (recording only: replay never retries)."""
        self.retries += 1
        self._show_retry(line)

    def _show_retry(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or self.config.get_verbosity() < 1:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        # setup() runs with output captured: the line must go past it, to the terminal
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(redact(f"harness: retry: {line}"))

    def _reference_outputs(self, runtime: Runtime) -> dict[int, str]:
        """Each turn's reference output: computed when recording, read from disk in replay."""
        from harness.cassettes import reference

        case, outputs = self.case, {}
        needed = {turn for turn, calls in case.judgements()
                  if any(call.uses_reference for call in calls)}
        for turn in range(len(case.conversation)):
            if case.reference_for(turn) is None:
                continue
            path = reference.stored_path(self.cassette.parents[1], case, turn)
            if runtime.record_mode != "none":
                key = (case.suite, case.id, turn)
                with runtime.reference_lock(key):  # pool threads: still once per case
                    if key not in runtime.references:  # once per case, not per model/sample
                        runtime.references[key] = reference.compute(case, turn)
                        reference.store(path, runtime.references[key])
                outputs[turn] = str(runtime.references[key].output)
            elif turn in needed:
                # replay loads only what a check needs: an unused output must not fail it
                hint = (f"pytest {shlex.quote(display_path(self.path, self.config.rootpath))} "
                        f"-k {shlex.quote(case.id)} --record-mode=once{self.rerun_options()}")
                outputs[turn] = reference.load(path, case, hint, turn).output
        return outputs

    def _local_runs(self, runtime: Runtime) -> dict[int, Any]:
        """verify_output's re-runs (stored when recording, cached ones read in replay)."""
        if self.transcript is None or not any(
                call.name == "verify_output" for _, calls in self.case.judgements()
                for call in calls):
            return {}
        from harness.cassettes.verify_runs import Cache, cache_path, rerun_turns
        from harness.sandbox.api import SandboxError

        path = cache_path(self.cassette)
        recording_now = runtime.record_mode != "none"
        cache = Cache.load(path)
        files = {f.base_name: f.read() for f in self.case.all_inputs()}
        try:
            runs = rerun_turns(self.transcript, files, cache, refresh=recording_now)
        except SandboxError as exc:
            raise SetupError(f"verify_output: the local sandbox failed: {exc}") from None
        if recording_now:
            cache.store(path)
        return runs

    def runtest(self) -> None:
        """Run the checks of each turn against that turn's transcript."""
        assert self.transcript is not None
        conversation = bool(self.case.turns)
        self.check_results = []
        for turn, calls in self.case.judgements():
            ctx = CheckContext(self.transcript.judged(turn), case_id=self.case.id,
                               model=self.model,
                               reference_output=self.reference_outputs.get(turn),
                               local_runs=self.local_runs.get(turn))
            for call in calls:
                result = call.run(ctx)
                self.check_results.append(replace(result, turn=turn + 1) if conversation
                                          else result)
        # JUnit XML (--junitxml) carries these as <property> elements, one per check.
        self.user_properties.extend(
            (f"check {r.display}", "passed" if r.passed
             else redact(f"failed: expected {r.expected}; actual {r.actual}"))
            for r in self.check_results)
        if not all(r.passed for r in self.check_results):
            raise EvalFailure(redact(render_failure(self.info, self.check_results,
                                                    self.transcript)))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        """Checks that failed read as a spec listing, not a traceback."""
        if isinstance(excinfo.value, EvalFailure):
            return excinfo.value.message
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Point at the case's line in the YAML file."""
        return self.path, self.case.line - 1, self.name

    def release(self) -> None:
        """Drop what the record now holds: pytest keeps every item until the session ends."""
        self.transcript = None
        self.check_results = []
        self.reference_outputs = {}
        self.local_runs = {}

    def record(self, verdict: str, error: dict[str, str] | None = None) -> dict[str, Any]:
        """This item's result record."""
        runtime = self.config.stash[runtime_key]
        item = {"suite": self.case.suite, "case": self.case.id, "model": self.model,
                "sample": self.sample, "nodeid": self.nodeid, "location": self.case.location(),
                "api": self.case.api, "target": runtime.settings.target,
                "cassette": display_path(self.cassette, self.config.rootpath),
                "prompt": self.case.prompt, "retries": self.retries,
                **({"replayed": self.replayed} if self.replayed else {}),
                **({"turns": [t.prompt for t in self.case.turns]} if self.case.turns else {}),
                "tags": list(self.case.tags)}
        if self.cassette_meta is not None:  # a cassette was read or written
            item["provenance"] = provenance.from_meta(
                self.cassette_meta, self.transcript.model_version if self.transcript else None)
        return make_record(item=item, verdict=verdict, transcript=self.transcript,
                           checks=self.check_results, error=error)


class InvalidEvalFile(pytest.Item):
    """Stands for an eval file that does not load: one ERROR with the spec problems."""

    def __init__(self, *, error: SpecError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def setup(self) -> None:
        """Report the file's problems as an ERROR (not a model failure)."""
        pytest.fail(f"harness spec error (not a model failure): {self.path.name} "
                    f"does not load\n\n{self.error}", pytrace=False)

    def runtest(self) -> None:
        """Never reached: setup always fails."""

    def reportinfo(self) -> tuple[Path, int, str]:
        """Point at the first problem."""
        line = next((i.line for i in self.error.issues if i.line), 1)
        return self.path, line - 1, self.name
