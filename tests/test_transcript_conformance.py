"""Real recorded Gemini responses (../shared/conformance/) through harness.transcript.

Every expectation below was read off the response bodies by hand (parts, outcomes, usage of the
last chunk carrying each field, ...), not captured from the code's output. The corpus is test
data beside the checkout and is never copied into this repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.cassettes.files import transcript_from_path
from harness.transcript.parse import parse_body
from harness.transcript.values import Transcript

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"conformance corpus not found at {CORPUS} "
    "(clone the shared repository beside this checkout)")


@dataclass(frozen=True)
class Run:
    code: str                 # substring of the run's code
    outcome: str | None       # None: no result part followed the code
    output: str | None        # substring of the joined output; None: no result followed
    thought: bool = False
    id: str | None = None     # id on the code part (and echoed on its results)


@dataclass(frozen=True)
class Case:
    file: str
    runs: tuple[Run, ...]
    final: str                # the exact final answer
    usage: tuple[int | None, ...]  # prompt, output, tool_use_prompt, thought, total
    model_version: str | None
    steps: str                # step types in order: t=text h=thought c=code r=result i=image
    finish_reason: str | None = "STOP"
    first_text: str | None = None  # exact first step text, where streams split it
    thought_steps: tuple[int, ...] = field(default=())  # indexes of steps flagged thought


SUM_PRIMES_50 = ("The first 50 prime numbers are: 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, "
                 "41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, "
                 "127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, "
                 "199, 211, 223, 227, 229.\n\nThe sum of the first 50 prime numbers is **5117**.")
PRIMES5_CODE = "sum_of_primes = sum(prime_numbers)"
PRIMES5_OUT = "The sum of the first 5 prime numbers is: 28\n"
ARITH_OUT = "-428330955.97745\n"
PRODUCT = "is **$121,932,631,112,635,269$** (or $121932631112635269$)."

CASES = [
    # SSE, \r\n\r\n separators; ids on code and result; thoughtSignature; the result chunk has
    # no candidate index; the final chunk is an empty text part carrying a thoughtSignature.
    Case("chatlas-g35flash-stream/response_0.sse",
         (Run("print(fib(20))", "OUTCOME_OK", "6765\n", id="2ydsz5r8"),),
         "6765", (157, 66, 222, 153, 598), "gemini-3.5-flash", "crt"),
    # toolUsePromptTokenCount appears only from the 5th chunk on.
    Case("firebase-googleai-g25flash-stream/streaming-success-code-execution.txt",
         (Run(PRIMES5_CODE, "OUTCOME_OK", PRIMES5_OUT),),
         "The sum of the first 5 prime numbers is 28.", (21, 126, 243, 95, 485),
         "gemini-2.5-flash", "tcrt",
         first_text="To find the sum of the first 5 prime numbers, we first need to identify "
                    "them. The first five prime numbers are 2, 3, 5, 7, and 11.\n\nNow, let's "
                    "calculate their sum using a Python tool:\n\n"),
    Case("firebase-googleai-g25flash-unary/unary-success-code-execution.json",
         (Run("print(f'{sum_of_primes=}')", "OUTCOME_OK", "sum_of_primes=28\n"),),
         "The first 5 prime numbers are 2, 3, 5, 7, and 11.\nThe sum of these numbers is:\n"
         "2 + 3 + 5 + 7 + 11 = 28", (21, 96, 160, 86, 363), "gemini-2.5-flash", "crt"),
    # Vertex: early chunks carry only usageMetadata.trafficType; usage and finishReason only
    # in the last chunk; createTime; no candidate index.
    Case("firebase-vertex-g25flash-stream/streaming-success-code-execution.txt",
         (Run(PRIMES5_CODE, "OUTCOME_OK", PRIMES5_OUT),),
         "The sum of the first 5 prime numbers (2, 3, 5, 7, and 11) is 28.",
         (210, 192, 371, 192, 965), "gemini-2.5-flash", "tcrt"),
    Case("firebase-vertex-g25flash-unary/unary-success-code-execution.json",
         (Run(PRIMES5_CODE, "OUTCOME_OK", PRIMES5_OUT),),
         "The sum of the first 5 prime numbers (2, 3, 5, 7, and 11) is 28.",
         (20, 192, 371, 192, 775), "gemini-2.5-flash", "tcrt"),
    # The final answer arrives in 7 fragments; the code has \u003c escapes.
    Case("openinference-g25flash-stream/response_0.sse",
         (Run("while len(prime_numbers) < 50:", "OUTCOME_OK",
              "The sum of the first 50 prime numbers is: 5117\n"),),
         SUM_PRIMES_50, (32, 477, 764, 240, 1513), "gemini-2.5-flash", "tcrt"),
    Case("openinference-g25flash-unary/response_0.json",
         (Run("    if n < 2:\n        return False", "OUTCOME_OK",
              "The count of prime numbers found: 50\n"),),
         "The sum of the first 50 prime numbers is **5117**.", (32, 341, 720, 103, 1196),
         "gemini-2.5-flash", "tcrt"),
    # Three failed attempts with text between them, then an answer without code.
    Case("pydantic-g20flash-failed-retries/response_1.json",
         (Run("result = (3 * 12390) * 12390", "OUTCOME_FAILED",
              "1:10: a command can only contain words and redirects; encountered ("),
          Run("first_part = 3 * 12390", "OUTCOME_FAILED", '2:1: "foo(" must be followed by )'),
          Run("import sympy", "OUTCOME_FAILED", '3:1: "foo(" must be followed by )')),
         "I apologize for the repeated errors. I'm having difficulty getting the code to work "
         "correctly. I'll just calculate this directly.\n\n3 * 12390 = 37170\n37170 * 12390 = "
         "460536300\n\nSo the answer is 460,536,300\n", (54, 286, 588, None, 928),
         "gemini-2.0-flash", "tcrtcrtcrt"),
    # promptTokenCount changes from 46 to 44 in the last chunk: the last value wins.
    Case("pydantic-g20flash-stream/response_0.sse",
         (Run("result = 65465 - 6544 * 65464 - 6 + 1.02255\nprint(result)\n", "OUTCOME_OK",
              ARITH_OUT),),
         "The answer is -428330955.97745.\n", (44, 77, 100, None, 221), "gemini-2.0-flash",
         "crt"),
    Case("pydantic-g20flash-twoturn/response_0.json",
         (Run("now.strftime(\"%A\")", "OUTCOME_OK", "day_of_week='Thursday'\n"),),
         "Today is Thursday in Utrecht.\n", (13, 95, 101, None, 209), "gemini-2.0-flash", "tcrt"),
    Case("pydantic-g20flash-twoturn/response_1.json",
         (Run("tomorrow = today + datetime.timedelta(days=1)", "OUTCOME_OK",
              "day_of_week='Friday'\n"),),
         "Tomorrow is Friday.\n", (113, 95, 203, None, 411), "gemini-2.0-flash", "tcrt"),
    # fileSearch, not codeExecution: a thought-flagged code part, then a code part carrying a
    # mid-stream finishReason; NO result part follows either of them.
    Case("pydantic-g25pro-filesearch-thought-executablecode/response_3.sse",
         (Run('print(file_search.query(query="what is the capital of France?"))', None, None,
              thought=True),
          Run('print(file_search.query(query="what is the capital of France?"))', None, None)),
         "The capital of France is Paris. A famous landmark in Paris is the Eiffel Tower.",
         (15, 53, 526, 211, 805), "gemini-2.5-pro", "cct", thought_steps=(0,)),
    # A code/result pair run while thinking (both parts "thought": true), then a visible pair;
    # the visible code chunk carries finishReason STOP mid-stream.
    Case("pydantic-g25pro-stream-thought-code/response_0.sse",
         (Run("    print(65465 - 6544 * 65464 - 6 + 1.02255)", "OUTCOME_OK", ARITH_OUT,
              thought=True),
          Run("print(65465 - 6544 * 65464 - 6 + 1.02255)\n", "OUTCOME_OK", ARITH_OUT)),
         "The result of the expression `65465-6544 * 65464-6+1.02255` is "
         "**-428,330,955.97745**.", (46, 235, 1268, 563, 2112), "gemini-2.5-pro", "crtcrt",
         thought_steps=(0, 1)),
    Case("pydantic-g25pro-twoturn-rawjson/response_0.json",
         (Run("pytz.timezone('Europe/Amsterdam')", "OUTCOME_OK",
              "Today in Utrecht is Tuesday, September 16, 2025.\n"),),
         "Today in Utrecht is Tuesday, September 16, 2025.", (15, 177, 675, 483, 1350),
         "gemini-2.5-pro", "crt"),
    Case("pydantic-g25pro-twoturn-rawjson/response_1.json",
         (Run("tomorrow = date.today() + timedelta(days=1)", "OUTCOME_OK",
              "Tomorrow is Wednesday, September 17, 2025.\n"),),
         "Tomorrow is Wednesday, September 17, 2025.", (39, 58, 637, 540, 1274),
         "gemini-2.5-pro", "crt"),
    # The first result has no `output` at all (the code printed nothing).
    Case("pydantic-g3flash-history-from-anthropic/response_1.json",
         (Run("37170 * 12390", "OUTCOME_OK", "", id="3u8s8qrk"),
          Run("print(37170 * 12390)", "OUTCOME_OK", "460536300\n", id="sw1mur8k")),
         "37,170 multiplied by 12,390 is **460,536,300**.", (343, 82, 877, 159, 1461),
         "gemini-3-flash-preview", "crcrt"),
    # thoughtsTokenCount only in the first chunk; the final chunk is an empty text part.
    Case("pydantic-g3flash-stream/response_0.sse",
         (Run("result = 65465 - 6544 * 65464 - 6 + 1.02255\nprint(result)", "OUTCOME_OK",
              ARITH_OUT, id="gzl5c0n7"),),
         "The result of $65465 - 6544 \\times 65464 - 6 + 1.02255$ is **-428,330,955.97745**.",
         (213, 57, 426, 167, 696), "gemini-3-flash-preview", "crt"),
    Case("pydantic-g3flash-twoturn-multiblock/response_0.json",
         (Run("utrecht_time.strftime(\"%A, %B %d, %Y\")", "OUTCOME_OK",
              "Current day in Utrecht: Tuesday, May 05, 2026\n", id="h0mwtrhs"),
          Run("import datetime\nprint(datetime.datetime.now())\n", "OUTCOME_OK",
              "2026-05-05 20:40:33.367937\n", id="7lr99y60")),
         "Today is **Thursday, May 23, 2024**, in Utrecht, Netherlands. Utrecht is currently in "
         "the Central European Summer Time (CEST) zone.", (257, 170, 1732, 773, 2932),
         "gemini-3-flash-preview", "crcrt"),
    Case("pydantic-g3flash-twoturn-multiblock/response_1.json",
         (Run("import datetime\nprint(datetime.datetime.now())\n", "OUTCOME_OK",
              "2026-05-05 20:40:38.762896\n", id="l5m4dm9r"),
          Run("# Utrecht is Europe/Amsterdam", "OUTCOME_OK",
              "Time in Utrecht: 2026-05-05 22:40:41.913103+02:00\n", id="tu0hnkbw")),
         "Tomorrow in Utrecht will be **Friday, May 24, 2024**.", (893, 106, 3056, 1312, 5367),
         "gemini-3-flash-preview", "crcrt"),
    Case("rubyllm-g35flash-roundtrip-callid/response_0.json",
         (Run("result = 123456789 * 987654321", "OUTCOME_OK", "result=121932631112635269\n",
              id="call_46063"),),
         "The exact product of $123456789 \\times 987654321$ " + PRODUCT,
         (85, 122, 149, 87, 443), "gemini-3.5-flash", "crt"),
    Case("rubyllm-g35flash-roundtrip-callid/response_1.json", (), "OK",
         (206, 1, None, 28, 235), "gemini-3.5-flash", "t"),
    Case("rubyllm-g35flash-roundtrip-shortid/response_0.json",
         (Run("product = num1 * num2", "OUTCOME_OK", "Product: 121932631112635269\n",
              id="9eoj5gt3"),),
         "The exact product of $123456789 \\times 987654321$ " + PRODUCT,
         (80, 136, 159, 77, 452), "gemini-3.5-flash", "crt"),
    Case("rubyllm-g35flash-roundtrip-shortid/response_1.json", (), "OK.",
         (196, 2, None, None, 198), "gemini-3.5-flash", "t"),
    # 2024: a leaked "Thoughts" text, finishReason STOP on nearly every chunk, usage counts
    # that reset mid-stream (the last chunk's values win), no modelVersion anywhere.
    Case("swift-2024-stream/streaming-success-code-execution.txt",
         (Run('\nprint("Hello, world!")\n', "OUTCOME_OK", "Hello, world!\n"),),
         'OK. I have printed "Hello, world!" using the `print()` function in Python. \n',
         (21, 19, None, None, 40), None, "tcrt",
         first_text="Thoughts: I can use the `print()` function in Python to print strings. "
                    "\n\n"),
    Case("swift-2024-unary/unary-success-code-execution.json",
         (Run('\nprint("Hello, world!")\n', "OUTCOME_OK", "Hello, world!\n"),),
         'The code successfully prints the string "Hello, world!". \n', (21, 11, None, None, 32),
         None, "tcrt"),
    Case("vercel-g3flash-failed-zerodiv/"
         "google-code-execution-single-combined-result-live-2026-07-16.json",
         (Run("print('ok')\nprint(1/0)", "OUTCOME_FAILED",
              "stdout: ok\n\nstderr: OpenBLAS WARNING", id="g4hwl40j"),),
         "The execution of the code snippet produced the following output:\n\n```\nok\n"
         "Traceback (most recent call last):\n  File \"<string>\", line 2, in <module>\n"
         "ZeroDivisionError: division by zero\n```\n\nAs expected, the code printed `ok` and "
         "then raised a `ZeroDivisionError` when attempting to divide by zero.",
         (23, 98, 161, None, 282), "gemini-3-flash-preview", "crt"),
    # ONE code part followed by TWO results: the run's outcome is the last result's, the
    # output both outputs joined.
    Case("vercel-g3flash-one-code-two-results/google-code-execution-multiple-results.json",
         (Run("print('ok')\nprint(1/0)", "OUTCOME_FAILED", "ok\ndivision by zero\nTraceback"),),
         "The code execution resulted in the following output:\n\n```\nok\n```\n\nFollowed by "
         "an error:\n\n```python\nZeroDivisionError: division by zero\n```",
         (23, 35, 289, None, 347), "gemini-3-flash-preview", "crrt"),
]
BY_FILE = {c.file: c for c in CASES}
STEP_LETTERS = {"text": "t", "thought": "h", "code": "c", "result": "r", "image": "i"}


def check(t: Transcript, case: Case) -> None:
    assert t.error is None
    assert t.model_version == case.model_version
    assert t.finish_reason == case.finish_reason
    assert t.final_text == case.final
    assert "".join(STEP_LETTERS[s.type] for s in t.steps) == case.steps
    assert tuple(i for i, s in enumerate(t.steps) if s.thought and s.type != "thought") \
        == case.thought_steps
    assert tuple(t.usage.to_json().values()) == case.usage
    if case.first_text is not None:
        assert t.steps[0].text == case.first_text
    assert len(t.code_runs) == len(case.runs)
    for run, want in zip(t.code_runs, case.runs, strict=True):
        assert want.code in run.code
        assert run.outcome == want.outcome
        assert run.thought == want.thought
        if want.output is None:
            assert run.output is None
        else:
            assert run.output is not None and want.output in run.output
    code_ids = [s.id for s in t.steps if s.type == "code"]
    assert code_ids == [r.id for r in case.runs]
    last_code_id = None
    for step in t.steps:  # results echo the id of the code part before them
        if step.type == "code":
            last_code_id = step.id
        elif step.type == "result":
            assert step.id == last_code_id
    assert t.attempts == sum(not r.thought for r in case.runs)


@pytest.mark.parametrize("case", CASES, ids=[c.file.split("/")[0] + "/" + c.file.split("/")[1]
                                               for c in CASES])
def test_response_body(case: Case) -> None:
    check(transcript_from_path(CORPUS / case.file), case)


def test_every_body_in_the_corpus_has_expectations() -> None:
    bodies = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*")
              if p.suffix in (".json", ".sse", ".txt")
              and p.name != "meta.json" and not p.name.startswith("request_")}
    assert bodies == set(BY_FILE)


def test_counts_agree_with_the_corpus_metadata() -> None:
    """Cross-check against the corpus author's own per-response counts in meta.json."""
    for meta_path in sorted(CORPUS.glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        for resp in meta["responses"]:
            t = transcript_from_path(meta_path.parent / resp["file"])
            results = [s for s in t.steps if s.type == "result"]
            assert [s.outcome for s in results] == resp["outcomes"], meta_path
            assert sum(s.type == "code" for s in t.steps) == resp["executableCode_parts"]
            assert len(results) == resp["codeExecutionResult_parts"]
            assert sum(s.thought for s in t.steps) == resp["thought_true_parts"]
            assert t.model_version == (resp["modelVersion"] or [None])[-1]
            assert not t.images and not resp["inlineData"]


# --- the cassettes themselves, through transcript_from_path -------------------------------

CASSETTES = [
    # (cassette, interaction=None picks ..., the response file that exchange holds)
    ("chatlas-g35flash-stream/test_google_code_execution.yaml", "response_0.sse"),
    ("openinference-g25flash-stream/test_validate_token_counts_stream.yaml", "response_0.sse"),
    ("openinference-g25flash-unary/test_validate_token_counts.yaml", "response_0.json"),
    # Interaction 0 is an Anthropic call: the Gemini call after it is picked (parsed_body).
    ("pydantic-g20flash-failed-retries/"
     "test_google_model_server_tool_receive_history_from_another_provider.yaml",
     "response_1.json"),
    ("pydantic-g20flash-stream/test_google_model_builtin_code_execution_stream.yaml",
     "response_0.sse"),
    ("pydantic-g20flash-twoturn/test_google_model_code_execution_tool.yaml", "response_1.json"),
    # fileSearchStores create + 2 upload POSTs + the stream + a DELETE: the stream is picked.
    ("pydantic-g25pro-filesearch-thought-executablecode/"
     "test_google_model_file_search_tool_stream.yaml", "response_3.sse"),
    ("pydantic-g25pro-stream-thought-code/test_google_model_builtin_code_execution_stream.yaml",
     "response_0.sse"),
    # Older pydantic-ai format: body {type: json, content: <decoded JSON>}, status: 200.
    ("pydantic-g25pro-twoturn-rawjson/test_google_model_code_execution_tool.yaml",
     "response_1.json"),
    ("pydantic-g3flash-history-from-anthropic/test_receive_history_from_another_provider.yaml",
     "response_1.json"),
    ("pydantic-g3flash-stream/test_code_execution_stream.yaml", "response_0.sse"),
    ("pydantic-g3flash-twoturn-multiblock/test_code_execution.yaml", "response_1.json"),
    # Ruby VCR: http_interactions, lower-case method, body {encoding, string}.
    ("rubyllm-g35flash-roundtrip-callid/chat_code_execution_with_gemini_gemini-3_5-flash_runs_"
     "code_server-side_and_replays_the_turn.yml", "response_1.json"),
    ("rubyllm-g35flash-roundtrip-shortid/chat_code_execution_with_gemini_gemini-3_5-flash_runs_"
     "code_server-side_and_replays_the_turn.yml", "response_1.json"),
]


@pytest.mark.parametrize(("cassette", "response"), CASSETTES,
                         ids=[c.split("/")[0] for c, _ in CASSETTES])
def test_cassette_default_pick(cassette: str, response: str) -> None:
    # A conversation recorded in one cassette (the history resent) gives every turn; the last
    # is the response the default pick used to be.
    t = transcript_from_path(CORPUS / cassette)
    conversation = "twoturn" in cassette or "roundtrip" in cassette
    assert len(t.turns) == (2 if conversation else 0)
    check(t.turns[-1] if t.turns else t, BY_FILE[cassette.split("/")[0] + "/" + response])
    if conversation:
        check(t.turns[0], BY_FILE[cassette.split("/")[0] + "/response_0.json"])


def test_every_cassette_is_covered() -> None:
    found = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*.y*ml")}
    assert found == {c for c, _ in CASSETTES}


@pytest.mark.parametrize(("cassette", "index", "response"), [
    ("pydantic-g20flash-twoturn/test_google_model_code_execution_tool.yaml", 0,
     "response_0.json"),
    ("pydantic-g25pro-twoturn-rawjson/test_google_model_code_execution_tool.yaml", 0,
     "response_0.json"),
    ("pydantic-g3flash-twoturn-multiblock/test_code_execution.yaml", 0, "response_0.json"),
    ("rubyllm-g35flash-roundtrip-callid/chat_code_execution_with_gemini_gemini-3_5-flash_runs_"
     "code_server-side_and_replays_the_turn.yml", 0, "response_0.json"),
    ("pydantic-g25pro-filesearch-thought-executablecode/"
     "test_google_model_file_search_tool_stream.yaml", -2, "response_3.sse"),
])
def test_cassette_explicit_interaction(cassette: str, index: int, response: str) -> None:
    check(transcript_from_path(CORPUS / cassette, interaction=index),
          BY_FILE[cassette.split("/")[0] + "/" + response])


def test_cassette_pick_of_a_non_model_exchange_says_what_it_found() -> None:
    from harness.transcript.bodies import TranscriptError

    path = (CORPUS / "pydantic-g25pro-filesearch-thought-executablecode"
            / "test_google_model_file_search_tool_stream.yaml")
    with pytest.raises(TranscriptError, match=r"interaction 0: POST /v1beta/fileSearchStores"):
        transcript_from_path(path, interaction=0)


# --- SSE framing ---------------------------------------------------------------------------

@pytest.mark.parametrize("file", [c.file for c in CASES if c.file.endswith((".sse", ".txt"))])
def test_sse_separators_do_not_matter(file: str) -> None:
    raw = (CORPUS / file).read_bytes()
    assert b"\r\n\r\n" in raw  # every recorded stream in the corpus uses CRLF framing
    lf = raw.replace(b"\r\n", b"\n")
    with_done = raw + b"data: [DONE]\r\n\r\n"
    for body in (lf, with_done, raw.decode()):
        check(parse_body(body), BY_FILE[file])


def test_stream_chunks_as_a_json_array_read_like_the_sse() -> None:
    """streamGenerateContent without alt=sse returns a JSON array of the same chunks."""
    for case in CASES:
        if not case.file.endswith((".sse", ".txt")):
            continue
        text = (CORPUS / case.file).read_text()
        chunks = [json.loads(line[len("data: "):]) for line in text.splitlines()
                  if line.startswith("data: ")]
        check(parse_body(json.dumps(chunks)), case)


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_the_sdk_free_reader_reads_every_response_as_the_sdk_does(case: Case) -> None:
    """Direct replay reads generateContent JSON without the SDK (harness.transcript.rawjson)."""
    body = (CORPUS / case.file).read_bytes()
    assert parse_body(body, raw=True).to_json() == parse_body(body).to_json()
