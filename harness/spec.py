"""Eval files: YAML -> typed cases, with line numbers and errors that say how to fix them.

An eval file (``*.eval.yaml``) is validated by pydantic models (``extra="forbid"``, strict
types, so the loader and the generated JSON Schema agree), and every problem becomes a
:class:`SpecIssue` naming ``file:line``, the field path, the valid choices and the fix. All
problems in a file are reported together in one :class:`SpecError`.
"""

from __future__ import annotations

import copy
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.checks import CheckCall, CheckParseError, check_json_schema, parse_check
from harness.specmessages import (
    bad_name,
    clean_loc,
    describe,
    got,
    reference_error,
    safe_name,
    yaml_error,
)
from harness.yamlload import LoadedYaml, Path_, format_path, load_yaml

Api = Literal["generate_content", "stream", "interactions", "chat"]
APIS: tuple[str, ...] = get_args(Api)
SCHEMA_PATH = Path(__file__).parent / "schema" / "eval.schema.json"

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
TAG_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Tags become pytest marks: these names would change how pytest runs the item.
RESERVED_TAGS = ("filterwarnings", "parametrize", "skip", "skipif", "usefixtures", "xfail")
_RESERVED_FIELDS = {
    "inputs": "`inputs:` is reserved for input files (images, CSVs) sent with the prompt",
    "turns": "`turns:` is reserved for multi-turn conversations",
}


class _Strict(BaseModel):
    # strict: `samples: "2"` is an error here exactly as it is in the JSON Schema.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ThinkingSettings(_Strict):
    """How much the model may think before answering (``config.thinking``)."""

    budget: int | None = Field(default=None, ge=-1, description=(
        "Thinking token budget: 0 turns thinking off, -1 lets the model decide."))
    include_thoughts: bool | None = Field(default=None, description="Return thought summaries.")


class GenerationSettings(_Strict):
    """Generation settings of a case (``config:``), merged over ``defaults.config``."""

    temperature: float | None = Field(default=None, ge=0, le=2,
                                      description="Sampling temperature, 0-2.")
    top_p: float | None = Field(default=None, ge=0, le=1, description="Nucleus sampling mass, 0-1.")
    seed: int | None = Field(default=None, description="Sampling seed.")
    system_instruction: str | None = Field(default=None, description="System instruction text.")
    max_output_tokens: int | None = Field(default=None, ge=1, description="Output token limit.")
    thinking: ThinkingSettings | None = Field(default=None, description="Thinking settings.")


Tag = Annotated[str, Field(pattern=TAG_PATTERN,
                           json_schema_extra={"not": {"enum": list(RESERVED_TAGS)}})]
_Expect = list[Any] | None  # entries are parsed by the check registry, not by pydantic


class DefaultsSpec(_Strict):
    """``defaults:``: values every case of the file starts from."""

    api: Api | None = Field(default=None, description="API surface of every case.")
    config: GenerationSettings | None = Field(
        default=None, description="Merged key-wise under each case's config.")
    samples: int | None = Field(default=None, ge=1, le=1000, description="Runs per case and model.")
    tags: list[Tag] | None = Field(default=None, description="Added to every case's tags.")
    expect: _Expect = Field(default=None, description="Checks run before every case's own checks.")


class InputSpec(_Strict):
    """One input file (reserved: not supported yet)."""

    file: str
    mime_type: str | None = None


class CaseSpec(_Strict):
    """One eval case."""

    id: str = Field(pattern=ID_PATTERN, description="Unique in the file; names cassettes.")
    prompt: str = Field(pattern=r"\S", description="The user prompt.")
    description: str | None = Field(default=None, description="Free text about the case.")
    api: Api | None = Field(default=None, description="API surface (default generate_content).")
    config: GenerationSettings | None = Field(default=None, description=(
        "Generation settings, merged key-wise over defaults.config (null clears one)."))
    expect: _Expect = Field(default=None, description="Checks of the transcript.")
    tags: list[Tag] | None = Field(default=None, description="pytest marks (select with -m).")
    skip: bool | str | None = Field(default=None, description="true, or the reason for skipping.")
    samples: int | None = Field(default=None, ge=1, le=1000,
                                description="Runs per model (default 1).")
    reference: str | None = Field(default=None, pattern=r"\S", description=(
        "Trusted Python code that solves the case: the ground truth (usually a `|` block)."))
    inputs: list[InputSpec] | None = Field(default=None, description="Reserved: input files.")
    turns: list[str] | None = Field(default=None, min_length=1, description="Reserved: chat turns.")


_CASE_KEYS = tuple(CaseSpec.model_fields)


class FileSpec(_Strict):
    """The top level of an eval file (``cases`` is checked case by case)."""

    suite: str | None = Field(default=None, pattern=ID_PATTERN, description=(
        "Suite name (default: the file name without .eval.yaml); names cassette folders."))
    description: str | None = Field(default=None, description="Free text about the suite.")
    defaults: DefaultsSpec | None = Field(default=None, description="Applied to every case.")
    cases: list[Any] = Field(min_length=1, description="The eval cases (at least one).")


class _FileSchema(FileSpec):
    cases: list[CaseSpec] = Field(min_length=1, description="The eval cases (at least one).")


def _display(path: Path) -> str:
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


@dataclass(frozen=True)
class Case:
    """One validated case, with the file's defaults applied.

    Attributes:
        suite: The suite (file) it belongs to.
        id: Unique, filename-safe id within the suite.
        prompt: The user prompt.
        api: API surface, one of :data:`APIS`.
        config: Generation settings (defaults merged in).
        expect: Checks to run: the defaults' first, then the case's own.
        tags: pytest marks (defaults' first).
        skip: None to run, else the reason it is skipped.
        samples: Runs per model.
        path: The eval file.
        line: 1-based line where the case's mapping starts.
        description: Free text.
        reference: Trusted Python source that solves the case (compiles), or None.
        reference_line: 1-based line where the reference's text starts (the line after
            ``reference: |``), or None without a reference.

    """

    suite: str
    id: str
    prompt: str
    api: str
    config: GenerationSettings
    expect: tuple[CheckCall, ...]
    tags: tuple[str, ...]
    skip: str | None
    samples: int
    path: Path
    line: int
    description: str | None = None
    reference: str | None = None
    reference_line: int | None = None

    def location(self) -> str:
        """``file:line`` of the case, e.g. ``evals/docs.eval.yaml:12``."""
        return f"{_display(self.path)}:{self.line}"


@dataclass(frozen=True)
class EvalFile:
    """A validated eval file."""

    path: Path
    suite: str
    description: str | None
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class SpecIssue:
    """One problem in an eval file.

    Attributes:
        path: The file.
        line: 1-based line of the offending node, when known.
        field: Field path such as ``cases[1].expect[0].answer_number`` ("" for the file).
        message: What is wrong, the valid choices and the fix.

    """

    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = _display(self.path) + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.field + ': ' if self.field else ''}{self.message}"
        return text.replace("\n", "\n    ")


class SpecError(Exception):
    """An eval file that cannot be used; carries every problem found in it."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        super().__init__(issues)
        self.issues = issues

    def __str__(self) -> str:
        lines = [str(issue) for issue in self.issues]
        paths = dict.fromkeys(_display(i.path) for i in self.issues)
        lines.append(f"Check the file with: harness validate {' '.join(paths)}")
        return "\n".join(lines)


def load_eval_file(path: Path) -> EvalFile:
    """Read and validate one eval file.

    Args:
        path: The ``*.eval.yaml`` file.

    Returns:
        The file's cases, with the file's defaults applied.

    Raises:
        SpecError: with every problem found: unreadable file, invalid YAML, unknown or
            mistyped keys, unknown checks, duplicate ids, reference code that does not
            compile, features not supported yet.

    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"it is not UTF-8 text ({exc})"
        raise SpecError([SpecIssue(path, None, "", f"cannot read the file: {reason}")]) from None
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        line, message = yaml_error(exc, text)
        raise SpecError([SpecIssue(path, line, "", message)]) from None
    if doc.problems:
        raise SpecError([SpecIssue(path, p.line, p.field, p.message) for p in doc.problems])
    return _Builder(path, doc).build()


_M = TypeVar("_M", bound=BaseModel)


class _Builder:
    """Validates one parsed file, collecting issues instead of stopping at the first."""

    def __init__(self, path: Path, doc: LoadedYaml) -> None:
        self.path, self.doc = path, doc
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
            for err in exc.errors(include_url=False):
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
        if defaults.api == "chat":
            self.add(("defaults", "api"), _CHAT)
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
        # A `turns:` case may have no prompt; that case is reported as unsupported below.
        ignore: tuple[Path_, ...] = (("prompt",),) if raw.get("turns") is not None else ()
        spec = self.validate(CaseSpec, raw, base, ignore)
        # The checks below read the raw mapping, so they are reported even when a type is wrong.
        for name, what in _RESERVED_FIELDS.items():
            if raw.get(name) is not None:
                self.add((*base, name), f"{what} and is not supported yet in this version; "
                                        "remove it to run the case", key=True)
        if raw.get("api") == "chat":
            self.add((*base, "api"), _CHAT)
        tags = raw.get("tags")
        for tag in tags if isinstance(tags, list) else []:
            if isinstance(tag, str) and tag in RESERVED_TAGS:
                self.add((*base, "tags"), f"tag {tag!r} is a pytest mark with its own meaning; "
                                          f"to skip a case use `skip: true` (or a reason); "
                                          f"otherwise pick another tag name")
        expect = raw.get("expect")
        calls = self.checks(expect if isinstance(expect, list) else [], (*base, "expect"))
        reference_line = self.reference(raw.get("reference"), (*base, "reference"))
        if spec is None or len(self.issues) > before:
            return None
        skip: str | None = None
        if spec.skip is True or (isinstance(spec.skip, str) and not spec.skip.strip()):
            skip = f"skipped in {_display(self.path)}:{self.doc.line_of((*base, 'skip'), key=True)}"
        elif isinstance(spec.skip, str):
            skip = spec.skip
        merged = _merge(_dump(defaults.config), _dump(spec.config))
        return Case(
            suite=suite, id=spec.id, prompt=spec.prompt, api=spec.api or defaults.api or APIS[0],
            config=GenerationSettings.model_validate(merged),
            expect=(*default_checks, *calls),
            tags=tuple(dict.fromkeys([*(defaults.tags or []), *(spec.tags or [])])),
            skip=skip, samples=spec.samples or defaults.samples or 1, path=self.path,
            line=self.doc.line_of(base) or 0, description=spec.description,
            reference=spec.reference, reference_line=reference_line if spec.reference else None)

    def reference(self, source: Any, path: Path_) -> int | None:
        """Check that a (non-blank) reference compiles; return the line where its text starts."""
        line = self.doc.text_line(path)
        if not isinstance(source, str) or not source.strip():
            return line  # missing, or reported by the schema check
        try:
            with warnings.catch_warnings():  # e.g. invalid escapes: the run reports those
                warnings.simplefilter("ignore")
                compile(source, f"{_display(self.path)}:{line}", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            literal = self.doc.styles.get(path) == "|"
            lineno = exc.lineno if isinstance(exc, SyntaxError) else None
            at = line + lineno - 1 if line and lineno and literal else line
            self.add(path, reference_error(exc, literal=literal), line=at)
        return line


_CHAT = ("`api: chat` (multi-turn conversations) is reserved and not supported yet in this "
         "version; use one of: generate_content, stream, interactions")


def _dump(settings: BaseModel | None) -> dict[str, Any]:
    # exclude_unset: only keys written in the file override, and `key: null` clears a default
    return settings.model_dump(exclude_unset=True) if settings is not None else {}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def validate_paths(paths: list[Path]) -> list[SpecError]:
    """Validate eval files; directories are searched for ``**/*.eval.yaml``.

    Args:
        paths: Files and directories.

    Returns:
        One :class:`SpecError` per bad file (or missing path / directory without eval files);
        empty when everything is valid.

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
    for f in files:
        try:
            load_eval_file(f)
        except SpecError as exc:
            errors.append(exc)
    return errors


def eval_schema() -> dict[str, Any]:
    """Build the JSON Schema (draft 2020-12) of an eval file.

    Generated from the pydantic models, with ``expect:`` entries described by the check
    registry (:func:`harness.checks.check_json_schema`), so plug-in checks appear too.
    """
    schema = _FileSchema.model_json_schema()
    defs = schema.setdefault("$defs", {})
    checks = copy.deepcopy(check_json_schema())
    for alt in checks["anyOf"]:
        for name in alt.get("properties", {}):
            _hoist_defs(alt, f"{name}.", defs)
    defs["Check"] = {"description": "One check: `name`, `name: value` or `name: {args}`.",
                     **checks}
    for model in ("CaseSpec", "DefaultsSpec"):
        for alt in defs[model]["properties"]["expect"]["anyOf"]:
            if alt.get("type") == "array":
                alt["items"] = {"$ref": "#/$defs/Check"}
    case = defs["CaseSpec"]
    case["required"] = ["id"]  # and a prompt, unless it is a (reserved) multi-turn case:
    case["anyOf"] = [{"required": ["prompt"]}, {"required": ["turns"]}]
    schema.update({"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "title": "harness eval file",
                   "description": "Eval cases for harness (*.eval.yaml)."})
    return schema


def _hoist_defs(alt: dict[str, Any], prefix: str, root: dict[str, Any]) -> None:
    """Move a check model's own ``$defs`` to the root, renamed so checks cannot collide."""
    found: dict[str, Any] = {}

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.pop("$defs", {}).items():
                found[k] = v
                collect(v)
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)

    def rename(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.removeprefix("#/$defs/") in found:
                node["$ref"] = "#/$defs/" + prefix + ref.removeprefix("#/$defs/")
            for v in node.values():
                rename(v)
        elif isinstance(node, list):
            for v in node:
                rename(v)

    collect(alt)
    rename(alt)
    for k, v in found.items():
        rename(v)
        root[prefix + k] = v
