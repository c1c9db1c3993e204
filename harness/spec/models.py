"""The eval file format: the pydantic models of ``*.eval.yaml``.

The models (``extra="forbid"``, strict types) are the single description of the format:
:mod:`harness.spec.load` validates files with them, and :mod:`harness.spec.schema` turns them
into the JSON Schema committed as ``harness/schema/eval.schema.json`` (for editors), so the
loader and the schema agree.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from harness.checks.numbers import integral

Api = Literal["generate_content", "stream", "interactions", "chat", "live"]
Tool = Literal["google_search", "url_context"]
TOOLS: tuple[str, ...] = get_args(Tool)
APIS: tuple[str, ...] = get_args(Api)
# Ids name committed cassette folders, cloned on every OS: no trailing '.', and none of the
# names Windows reserves (CON, NUL, COM1, ... also with an extension). ECMA-262 syntax, so
# editors validating against the generated schema read the same rule.
_WINDOWS_RESERVED = ("(?:[Cc][Oo][Nn]|[Pp][Rr][Nn]|[Aa][Uu][Xx]|[Nn][Uu][Ll]"
                     "|[Cc][Oo][Mm][0-9]|[Ll][Pp][Tt][0-9])")
ID_PATTERN = (rf"^(?!{_WINDOWS_RESERVED}(?:\.|$))"
              r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9_-])?$")
TAG_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Tags become pytest marks: these names would change how pytest runs the item.
RESERVED_TAGS = ("filterwarnings", "parametrize", "skip", "skipif", "usefixtures", "xfail")


# The JSON Schema type "integer" accepts 5.0 and 1e3 (YAML 1.2 floats), so integer fields do too.
_Int = Annotated[int, BeforeValidator(integral)]
_Samples = Annotated[int, Field(ge=1, le=1000), BeforeValidator(integral)]


class _Strict(BaseModel):
    # strict: `samples: "2"` is an error here exactly as it is in the JSON Schema.
    # python-re: ID_PATTERN needs a look-ahead, which pydantic's default engine lacks.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, regex_engine="python-re")


class ThinkingSettings(_Strict):
    """How much the model may think before answering (``config.thinking``)."""

    budget: Annotated[int, Field(ge=-1), BeforeValidator(integral)] | None = Field(
        default=None,
        description="Thinking token budget: 0 turns thinking off, -1 lets the model decide.")
    include_thoughts: bool | None = Field(default=None, description="Return thought summaries.")


class GenerationSettings(_Strict):
    """Generation settings of a case (``config:``), merged over ``defaults.config``."""

    temperature: float | None = Field(default=None, ge=0, le=2,
                                      description="Sampling temperature, 0-2.")
    top_p: float | None = Field(default=None, ge=0, le=1, description="Nucleus sampling mass, 0-1.")
    seed: _Int | None = Field(default=None, description="Sampling seed.")
    system_instruction: str | None = Field(default=None, description="System instruction text.")
    max_output_tokens: Annotated[int, Field(ge=1), BeforeValidator(integral)] | None = Field(
        default=None, description="Output token limit.")
    thinking: ThinkingSettings | None = Field(default=None, description="Thinking settings.")
    tools: list[Tool] | None = Field(default=None, description=(
        "Built-in tools added beside code execution (which is always on): google_search, "
        "url_context."))


Tag = Annotated[str, Field(pattern=TAG_PATTERN,
                           json_schema_extra={"not": {"enum": list(RESERVED_TAGS)}})]
_Expect = list[Any] | None  # entries are parsed by the check registry, not by pydantic


class DefaultsSpec(_Strict):
    """``defaults:``: values every case of the file starts from."""

    api: Api | None = Field(default=None, description="API surface of every case.")
    config: GenerationSettings | None = Field(
        default=None, description="Merged key-wise under each case's config.")
    samples: _Samples | None = Field(default=None, description="Runs per case and model.")
    tags: list[Tag] | None = Field(default=None, description="Added to every case's tags.")
    expect: _Expect = Field(default=None, description="Checks run before every case's own checks.")


class InputSpec(_Strict):
    """One input file, sent before the prompt text."""

    file: str = Field(pattern=r"\S", description=(
        "Path relative to the eval file, inside the project: .png, .jpeg/.jpg, .csv, .xml, "
        ".cpp, .java, .py, .js, .ts, .txt or .json. The code sees it in its working directory "
        "under its base name."))
    upload: bool = Field(default=False, description=(
        "Send it through the Files API first (Gemini API only); default inline."))


class TurnSpec(_Strict):
    """One user turn of a multi-turn case (a plain string is a turn with only a prompt)."""

    prompt: str = Field(pattern=r"\S", description="The user's message in this turn.")
    inputs: list[InputSpec] | None = Field(default=None, description="Files sent with it.")
    expect: _Expect = Field(default=None, description="Checks of this turn's reply.")
    reference: str | None = Field(default=None, pattern=r"\S", description=(
        "Trusted Python that solves this turn (the case's `reference` is the last turn's)."))


_Prompt = Annotated[str, Field(pattern=r"\S")]


_FUNCTION_NAME = r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$"  # what the API accepts as a name


class CannedResultSpec(_Strict):
    """One canned result of a function, for the calls whose arguments match ``when``."""

    when: dict[str, Any] | None = Field(default=None, description=(
        "Arguments the call must have (partial match: other arguments may differ); "
        "omit for the fallback result."))
    returns: Any = Field(description="What the function returns (a JSON value).")


class FunctionSpec(_Strict):
    """A function the model may call; the harness answers with a canned result."""

    description: str | None = Field(default=None, description="What it does (the model reads it).")
    parameters: dict[str, Any] | None = Field(default=None, description=(
        "JSON Schema of its arguments (an object schema); calls are validated against it."))
    returns: Any = Field(description=(
        "The canned result: a JSON value, or a list of `{when: {args...}, returns: ...}` "
        "(the first entry whose `when` matches the call's arguments)."))


class SimSourceSpec(_Strict):
    """One search result the simulator returns (shown under the ``sim-search`` source)."""

    title: str = Field(pattern=r"\S", description="The page title.")
    uri: str = Field(pattern=r"\S", description="The page address.")
    text: str | None = Field(default=None, description="What the page says (the snippet).")


class SimSearchSpec(_Strict):
    """What a simulated Google Search finds."""

    queries: list[_Prompt] | None = Field(default=None, description=(
        "The queries the sim model issues (default: the prompt)."))
    sources: list[SimSourceSpec] | None = Field(default=None, description="The results.")


class SimCallSpec(_Strict):
    """One function call a sim model makes."""

    name: str = Field(pattern=r"\S", description="The function's name.")
    args: dict[str, Any] | None = Field(default=None, description="Its arguments.")


class SimHintSpec(_Strict):
    """How sim models use the case's tools; only the simulator reads it, never the API."""

    search: SimSearchSpec | None = Field(default=None, description=(
        "With config.tools: [google_search]: what the search finds."))
    calls: list[SimCallSpec] | None = Field(default=None, description=(
        "With functions: the calls sim models make, in order, before running code."))


class CaseSpec(_Strict):
    """One eval case."""

    id: str = Field(pattern=ID_PATTERN, description="Unique in the file; names cassettes.")
    prompt: str | None = Field(default=None, pattern=r"\S", description=(
        "The user prompt (or give `turns:` instead)."))
    description: str | None = Field(default=None, description="Free text about the case.")
    api: Api | None = Field(default=None, description="API surface (default generate_content).")
    stream: bool | None = Field(default=None, description=(
        "api: chat only: send every turn with send_message_stream."))
    config: GenerationSettings | None = Field(default=None, description=(
        "Generation settings, merged key-wise over defaults.config (null clears one)."))
    expect: _Expect = Field(default=None, description=(
        "Checks of the transcript (of the last turn, for a multi-turn case)."))
    tags: list[Tag] | None = Field(default=None, description="pytest marks (select with -m).")
    skip: bool | str | None = Field(default=None, description="true, or the reason for skipping.")
    samples: _Samples | None = Field(default=None, description="Runs per model (default 1).")
    reference: str | None = Field(default=None, pattern=r"\S", description=(
        "Trusted Python code that solves the case: the ground truth (usually a `|` block); it "
        "runs with the input files in its working directory."))
    inputs: list[InputSpec] | None = Field(default=None, description=(
        "Files sent before the prompt (with `turns:`, before the first turn's)."))
    turns: list[_Prompt | TurnSpec] | None = Field(default=None, min_length=1, description=(
        "User turns of a conversation (api: chat, interactions or live), instead of `prompt`."))
    functions: dict[Annotated[str, Field(pattern=_FUNCTION_NAME)], FunctionSpec] | None = Field(
        default=None, description=(
            "Functions the model may call beside code execution, by name, with canned "
            "results; the harness answers every call."))
    max_function_calls: Annotated[int, Field(ge=1, le=100), BeforeValidator(integral)] | None = (
        Field(default=None, description=(
            "With functions: the most calls the harness answers (default 10); a model that "
            "calls more is stopped and fails.")))
    sim: SimHintSpec | None = Field(default=None, description=(
        "Hints for the bundled simulator (search results, function calls); the API never "
        "sees them."))


class FileSpec(_Strict):
    """The top level of an eval file (``cases`` is checked case by case)."""

    suite: str | None = Field(default=None, pattern=ID_PATTERN, description=(
        "Suite name (default: the file name without .eval.yaml); names cassette folders."))
    description: str | None = Field(default=None, description="Free text about the suite.")
    defaults: DefaultsSpec | None = Field(default=None, description="Applied to every case.")
    cases: list[Any] = Field(min_length=1, description="The eval cases (at least one).")


class FileSchemaSpec(FileSpec):
    """The top level as the JSON Schema describes it: with every case's fields."""

    cases: list[CaseSpec] = Field(min_length=1, description="The eval cases (at least one).")
