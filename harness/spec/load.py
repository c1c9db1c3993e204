"""Eval files: YAML -> typed cases, with line numbers and errors that say how to fix them.

An eval file (``*.eval.yaml``) is read by :mod:`harness.spec.yamlload` (safe YAML with line
numbers), validated by the pydantic models of :mod:`harness.spec.models` (``extra="forbid"``,
strict types, so the loader and the generated JSON Schema agree), and every problem becomes a
:class:`~harness.spec.case.SpecIssue` naming ``file:line``, the field path, the valid choices
and the fix (worded by :mod:`harness.spec.messages`). All problems in a file are reported
together in one :class:`~harness.spec.case.SpecError`.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.checks.api import CheckCall
from harness.checks.registry import CheckParseError, parse_check
from harness.paths import display_path
from harness.spec import cache as spec_cache
from harness.spec.case import Case, EvalFile, SpecError, SpecIssue, SpecWarning, Turn
from harness.spec.functions import DEFAULT_MAX_CALLS, build_functions, with_limit_check
from harness.spec.inputs import InputError, InputFile, resolve_input
from harness.spec.messages import (
    bad_name,
    clean_loc,
    describe,
    got,
    reference_error,
    safe_name,
    yaml_error,
)
from harness.spec.models import (
    APIS,
    ID_PATTERN,
    RESERVED_TAGS,
    CaseSpec,
    DefaultsSpec,
    FileSpec,
    GenerationSettings,
)
from harness.spec.source import SourceError, read_eval_text
from harness.spec.yamlload import LoadedYaml, Path_, format_path, load_yaml

_TURN_APIS = ("chat", "interactions", "live")
_CASE_KEYS = tuple(CaseSpec.model_fields)




def load_eval_file(path: Path, root: Path | None = None) -> EvalFile:
    """Read and validate one eval file.

    Args:
        path: The ``*.eval.yaml`` file.
        root: The project root (default: the working directory): see
            :mod:`harness.spec.source` for what is refused before parsing.

    Returns:
        The file's cases, with the file's defaults applied.

    Raises:
        SpecError: with every problem found: unreadable file, invalid YAML, unknown or
            mistyped keys, unknown checks, duplicate ids, reference code that does not
            compile, features not supported yet.

    """
    path = Path(path)
    try:
        text = read_eval_text(path, root)
    except SourceError as exc:
        raise SpecError([SpecIssue(path, None, "", str(exc))]) from None
    cached = spec_cache.load(path, text, root)
    if cached is not None:
        return cached
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        line, message = yaml_error(exc, text)
        raise SpecError([SpecIssue(path, line, "", message)]) from None
    if doc.problems:
        raise SpecError([SpecIssue(path, p.line, p.field, p.message) for p in doc.problems])
    spec = _Builder(path, doc, root).build()
    spec_cache.store(path, text, root, spec)
    return spec


_M = TypeVar("_M", bound=BaseModel)


class _Builder:
    """Validates one parsed file, collecting issues instead of stopping at the first."""

    def __init__(self, path: Path, doc: LoadedYaml, root: Path | None = None) -> None:
        self.path, self.doc, self.root = path, doc, root
        self.shown = display_path(path)  # once per file: every case's reference names it
        self.issues: list[SpecIssue] = []

    def add(self, path: Path_, message: str, *, key: bool = False,
            line: int | None = None) -> None:
        line = line or self.doc.line_of(path, key=key)
        self.issues.append(SpecIssue(self.path, line, format_path(path), message))

    def validate(self, model: type[_M], raw: Any, base: Path_,
                 ignore: tuple[Path_, ...] = ()) -> _M | None:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            groups: dict[Path_, tuple[list[dict[str, Any]], list[Any]]] = {}
            errors = exc.errors(include_url=False)
            # A mapping where a text-or-mapping is allowed (a turn): only the mapping's own
            # problems matter, not "expected text".
            modelled = {e["loc"][:i] for e in errors for i, part in enumerate(e["loc"])
                        if isinstance(part, str) and part[:1].isupper()}
            for err in errors:
                if err["type"] == "string_type" and isinstance(err.get("input"), dict) \
                        and err["loc"][:-1] in modelled:
                    continue
                sub, types = clean_loc(model, err["loc"])
                groups.setdefault(sub, ([], types))[0].append(dict(err))
            for sub, (errs, types) in groups.items():
                if sub not in ignore:
                    self.add((*base, *sub), describe(errs, sub, types, case_keys=_CASE_KEYS),
                             key=errs[0]["type"] == "extra_forbidden")
            return None

    def checks(self, entries: list[Any] | None, base: Path_) -> list[CheckCall]:
        calls = []
        for j, raw in enumerate(entries or []):
            try:
                calls.append(parse_check(raw))
            except CheckParseError as exc:
                self.add((*base, j, *exc.subpath), exc.message)
            except Exception as exc:  # a broken plug-in check: report it, don't crash collection
                self.add((*base, j), f"the check failed to load: {type(exc).__name__}: {exc}")
        return calls

    def build(self) -> EvalFile:
        data = self.doc.data
        if data is None or data == {}:
            self.add((), "the file is empty. An eval file is a mapping with a `cases:` list, e.g."
                         "\ncases:\n  - id: my-case\n    prompt: What is 2 + 2? Run code to check.")
        elif not isinstance(data, dict):
            hint = " Put the list under a `cases:` key." if isinstance(data, list) else ""
            self.add((), f"the top level must be a mapping (suite, description, defaults, "
                         f"cases), got {got(data)}.{hint}")
        if self.issues:
            raise SpecError(self.issues)
        head = self.validate(FileSpec, data, ())
        try:  # bad defaults are reported above; the cases are still checked without them
            defaults = head.defaults if head else DefaultsSpec.model_validate(
                data.get("defaults") or {})
        except ValidationError:
            defaults = None
        defaults = defaults or DefaultsSpec()
        default_checks = self.checks(defaults.expect, ("defaults", "expect"))
        suite = self.suite(data.get("suite"))
        cases_raw = data.get("cases")
        seen: dict[str, tuple[int, str]] = {}
        cases = []
        for i, raw in enumerate(cases_raw if isinstance(cases_raw, list) else []):
            case = self.case(i, raw, defaults, default_checks, suite, seen)
            if case is not None:
                cases.append(case)
        if self.issues:
            raise SpecError(sorted(self.issues, key=lambda s: s.line or 0))
        desc = data.get("description")
        return EvalFile(self.path, suite, desc, tuple(cases))

    def suite(self, explicit: Any) -> str:
        if isinstance(explicit, str):
            return explicit
        name = self.path.name
        for suffix in (".eval.yaml", ".eval.yml", ".yaml", ".yml"):
            name = name.removesuffix(suffix) if name.endswith(suffix) else name
        if not re.match(ID_PATTERN, name):
            self.add((), f"{bad_name('suite', name)}. Rename the file or add "
                         f"`suite: {safe_name(name)}` at the top.")
        return name

    def case(self, i: int, raw: Any, defaults: DefaultsSpec, default_checks: list[CheckCall],
             suite: str, seen: dict[str, tuple[int, str]]) -> Case | None:
        base: Path_ = ("cases", i)
        before = len(self.issues)
        if not isinstance(raw, dict):
            self.add(base, f"each case is a mapping with at least `id:` and `prompt:`, "
                           f"got {got(raw)}")
            return None
        rid = raw.get("id")
        if isinstance(rid, str):
            line = self.doc.line_of((*base, "id")) or 0
            if rid.casefold() in seen:
                first_line, first_id = seen[rid.casefold()]
                same = "" if first_id == rid else (
                    f" as {first_id!r} (ids that differ only in letter case would share a "
                    "cassette folder on macOS and Windows)")
                self.add((*base, "id"), f"duplicate case id {rid!r}: first used at line "
                                        f"{first_line}{same}, again at line {line}. Case ids "
                                        "must be unique in a file: rename one of them.")
            else:
                seen[rid.casefold()] = (line, rid)
        spec = self.validate(CaseSpec, raw, base)
        # The checks below read the raw mapping, so they are reported even when a type is wrong.
        api = raw.get("api") or defaults.api or APIS[0]
        self.conversation_shape(raw, base, api)
        tags = raw.get("tags")
        for tag in tags if isinstance(tags, list) else []:
            if isinstance(tag, str) and tag in RESERVED_TAGS:
                self.add((*base, "tags"), f"tag {tag!r} is a pytest mark with its own meaning; "
                                          f"to skip a case use `skip: true` (or a reason); "
                                          f"otherwise pick another tag name")
        expect = raw.get("expect")
        calls = self.checks(expect if isinstance(expect, list) else [], (*base, "expect"))
        reference_line = self.reference(raw.get("reference"), (*base, "reference"))
        self.needs_reference(calls, raw.get("reference"), (*base, "expect"), "case")
        inputs = self.inputs(raw.get("inputs"), (*base, "inputs"))
        turns = self.turns(raw.get("turns"), (*base, "turns"), inputs, raw.get("reference"))
        functions = build_functions(raw.get("functions"), (*base, "functions"), self.add,
                                    self.doc.line_of)
        calls = with_limit_check(raw, base, functions, calls, self.add)
        if api == "live":
            self.live_limits(raw, base, defaults)
        if spec is None or len(self.issues) > before:
            return None
        if expect == [] and not default_checks:
            at = self.doc.line_of((*base, "expect"), key=True) or self.doc.line_of(base)
            warnings.warn(SpecWarning(
                f"{display_path(self.path)}:{at}: case {spec.id!r} has `expect: []` and no "
                "default checks: it passes whatever the model does; add checks, or remove "
                "the case"), stacklevel=1)
        skip: str | None = None
        if spec.skip is True or (isinstance(spec.skip, str) and not spec.skip.strip()):
            at = self.doc.line_of((*base, "skip"), key=True)
            skip = f"skipped in {display_path(self.path)}:{at}"
        elif isinstance(spec.skip, str):
            skip = spec.skip
        merged = _merge(_dump(defaults.config), _dump(spec.config))
        return Case(
            suite=suite, id=spec.id, prompt=turns[-1].prompt if turns else spec.prompt or "",
            api=api, inputs=() if turns else inputs, turns=turns, stream=bool(spec.stream),
            config=GenerationSettings.model_validate(merged),
            expect=(*default_checks, *calls),
            tags=tuple(dict.fromkeys([*(defaults.tags or []), *(spec.tags or [])])),
            skip=skip, samples=spec.samples or defaults.samples or 1, path=self.path,
            line=self.doc.line_of(base) or 0, description=spec.description,
            reference=spec.reference, reference_line=reference_line if spec.reference else None,
            functions=functions, max_function_calls=spec.max_function_calls or DEFAULT_MAX_CALLS,
            sim=spec.sim.model_dump(exclude_none=True) if spec.sim is not None else None)

    def conversation_shape(self, raw: dict[str, Any], base: Path_, api: Any) -> None:
        """One of `prompt` and `turns`; turns only where the API keeps a conversation."""
        has_prompt, has_turns = raw.get("prompt") is not None, raw.get("turns") is not None
        if has_prompt and has_turns:
            self.add((*base, "turns"), "give either `prompt:` (one message) or `turns:` (a "
                                       "conversation), not both", key=True)
        elif not has_prompt and not has_turns:
            self.add((*base, "prompt"), "missing required key 'prompt': add the user's "
                     "message as `prompt:`, or a conversation as `turns:`",
                     line=self.doc.line_of(base))
        if has_turns and api not in _TURN_APIS:
            self.add((*base, "turns"), f"`turns:` needs a surface that keeps a conversation: "
                     f"set `api: chat`, `api: interactions` or `api: live` (api {api!r} sends one "
                     "prompt)",
                     key=True)
        if raw.get("stream") is not None and api != "chat":
            self.add((*base, "stream"), f"`stream:` applies to `api: chat` only; for one "
                     f"streamed call use `api: stream` (this case has api {api!r})", key=True)

    def live_limits(self, raw: dict[str, Any], base: Path_, defaults: DefaultsSpec) -> None:
        """What `api: live` cannot do here: uploads (Files API) and extra tools."""
        entries: list[tuple[Path_, Any]] = [((*base, "inputs"), raw.get("inputs"))]
        turns = raw.get("turns")
        for k, turn in enumerate(turns if isinstance(turns, list) else []):
            if isinstance(turn, dict):
                entries.append(((*base, "turns", k, "inputs"), turn.get("inputs")))
        for path, inputs in entries:
            for j, entry in enumerate(inputs if isinstance(inputs, list) else []):
                if isinstance(entry, dict) and entry.get("upload") is True:
                    self.add((*path, j, "upload"), "`upload: true` sends the file through the "
                             "Files API, which the harness's `api: live` surface does not use: "
                             "Live turns carry their files inline; remove `upload: true`",
                             key=True)
        if raw.get("functions") is not None:  # the function-calling loop is HTTP surfaces' only
            self.add((*base, "functions"), "`functions:` is not supported with `api: live` "
                     "yet (the harness answers function calls on the HTTP surfaces only); use "
                     "`api: chat` for a conversation with functions", key=True)
        config = raw.get("config")
        if isinstance(config, dict) and config.get("tools"):
            self.add((*base, "config", "tools"), "`config.tools` is not supported with "
                     "`api: live` yet (the Live surface turns on code execution only); remove "
                     "it, or use another api (generate_content, stream, chat, interactions)",
                     key=True)
        elif (not isinstance(config, dict) or "tools" not in config) and (
                defaults.config is not None and defaults.config.tools):
            self.add(base, "`defaults.config.tools` applies to this case, but `config.tools` "
                     "is not supported with `api: live` yet; give this case `config: {tools: "
                     "null}`, or move it to a file without those defaults",
                     line=self.doc.line_of(base))

    def inputs(self, raw: Any, path: Path_) -> tuple[InputFile, ...]:
        """Validate `inputs:` entries against the disk (each problem names its line)."""
        out: list[InputFile] = []
        for j, entry in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                continue  # the schema check reports its shape
            upload = entry.get("upload") is True
            try:
                out.append(resolve_input(entry["file"], self.path, self.root, upload=upload))
            except InputError as exc:
                self.add((*path, j, "file"), str(exc))
        return tuple(out)

    def turns(self, raw: Any, path: Path_, first_inputs: tuple[InputFile, ...],
              case_reference: Any) -> tuple[Turn, ...]:
        """The turns of a conversation; case-level inputs go with the first turn."""
        if not isinstance(raw, list):
            return ()
        out: list[Turn] = []
        for k, entry in enumerate(raw):
            at = (*path, k)
            line = self.doc.line_of(at) or 0
            if isinstance(entry, str):
                out.append(Turn(entry, first_inputs if k == 0 else (), (), None, line))
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("prompt"), str):
                continue  # reported by the schema check
            expect = entry.get("expect")
            calls = self.checks(expect if isinstance(expect, list) else [], (*at, "expect"))
            own = entry.get("reference")
            self.reference(own, (*at, "reference"))
            last = k == len(raw) - 1
            self.needs_reference(calls, own or (case_reference if last else None),
                                 (*at, "expect"), f"turn {k + 1}")
            inputs = self.inputs(entry.get("inputs"), (*at, "inputs"))
            out.append(Turn(entry["prompt"], (first_inputs if k == 0 else ()) + inputs,
                            tuple(calls), own if isinstance(own, str) else None, line))
        return tuple(out)

    def needs_reference(self, calls: list[CheckCall], reference: Any, path: Path_,
                        what: str) -> None:
        """`from_reference` checks need a reference for the turn they judge."""
        if reference:
            return
        for j, call in enumerate(calls):
            if call.uses_reference:
                self.add((*path, j), f"`{call.label}` compares with the {what}'s reference "
                         f"output, but the {what} has no `reference:`; add the Python that "
                         f"solves the {what} under `reference: |`, or give the expected value "
                         "itself")

    def reference(self, source: Any, path: Path_) -> int | None:
        """Check that a (non-blank) reference compiles; return the line where its text starts."""
        line = self.doc.text_line(path)
        if not isinstance(source, str) or not source.strip():
            return line  # missing, or reported by the schema check
        try:
            with warnings.catch_warnings():  # e.g. invalid escapes: the run reports those
                warnings.simplefilter("ignore")
                compile(source, f"{self.shown}:{line}", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            literal = self.doc.styles.get(path) == "|"
            lineno = exc.lineno if isinstance(exc, SyntaxError) else None
            at = line + lineno - 1 if line and lineno and literal else line
            self.add(path, reference_error(exc, literal=literal), line=at)
        return line


def _dump(settings: BaseModel | None) -> dict[str, Any]:
    # exclude_unset: only keys written in the file override, and `key: null` clears a default
    return settings.model_dump(exclude_unset=True) if settings is not None else {}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def duplicate_suite(path: Path, suite: str, first: Path, root: Path | None = None) -> SpecIssue:
    """The problem of a second file with the suite name of ``first``.

    Two files with one suite name would record into the same cassette folders.
    """
    return SpecIssue(path, 1, "suite", (
        f"suite {suite!r} is also the suite of {display_path(first, root)}; "
        "their cassettes would collide: give one file another `suite:`"))


def validate_paths(paths: list[Path]) -> list[SpecError]:
    """Validate eval files; directories are searched for ``**/*.eval.yaml``.

    Args:
        paths: Files and directories.

    Returns:
        One :class:`SpecError` per bad file (or missing path / directory without eval files);
        empty when everything is valid.

    """
    files, errors = expand_paths(paths)
    for f in files:
        try:
            load_eval_file(f)
        except SpecError as exc:
            errors.append(exc)
    return errors


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[SpecError]]:
    """The eval files named by ``paths`` (directories searched for ``**/*.eval.yaml``).

    Returns:
        The files, each once and in order, and one :class:`SpecError` per missing path or
        directory without eval files.
    """
    errors: list[SpecError] = []
    files: dict[Path, None] = {}
    for p in map(Path, paths):
        found = sorted(p.rglob("*.eval.yaml")) if p.is_dir() else [p] if p.exists() else []
        if not found:
            why = "no *.eval.yaml files under this directory" if p.is_dir() else \
                "no such file or directory"
            errors.append(SpecError([SpecIssue(p, None, "", why)]))
        files.update(dict.fromkeys(found))
    return list(files), errors
