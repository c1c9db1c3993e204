"""The function-calling loop: answer each call the model makes from the case's ``functions:``.

Every surface runs the same loop (:class:`FunctionLoop`): after each call to the API, the
function calls in the reply are judged and answered with their canned results, and the
answers go back in the next request, until the model replies without calling anything or
the case's ``max_function_calls`` is reached. The loop runs alike when recording and when
replaying, so every hop is in the item's one cassette and replays as it was recorded.

A call to an undeclared function, or with arguments that the declared JSON Schema rejects,
is the model's mistake: it is answered with an ``{"error": ...}`` result (as a real
application would answer it), recorded with its reason, and judged by the checks. It never
stops the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.checks.functions import args_match
from harness.transcript.values import FunctionCall, Step, Transcript, combine_hops

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from harness.spec.case import Case
    from harness.spec.functions import FunctionDecl


@dataclass(frozen=True)
class Answer:
    """The harness's reply to one function call.

    Attributes:
        call: The call step it answers.
        response: The object sent back as the function's response.
        record: The call as the transcript keeps it.
    """

    call: Step
    response: dict[str, Any]
    record: FunctionCall

    @property
    def step(self) -> Step:
        """The ``call_result`` step that shows the answer in the transcript."""
        return Step("call_result", name=self.call.name, response=self.response, id=self.call.id)


class FunctionTable:
    """A case's declared functions, with their argument validators."""

    def __init__(self, functions: tuple[FunctionDecl, ...]) -> None:
        self._decls = {f.name: f for f in functions}
        self._validators: dict[str, Validator] = {}

    def answer(self, name: str, args: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The response to a call, and the reason it was a mistake (None for a valid call)."""
        decl = self._decls.get(name)
        if decl is None:
            known = ", ".join(self._decls) or "none"
            problem = f"{name!r} is not a declared function (declared: {known})"
            return {"error": problem}, problem
        invalid = self._invalid(decl, args)
        if invalid is not None:
            problem = f"arguments rejected by the schema: {invalid}"
            return {"error": problem}, problem
        for result in decl.results:
            if result.when is None or args_match(result.when, args):
                value = result.returns
                # The API's function response is an object: other JSON values are wrapped.
                return (dict(value) if isinstance(value, dict) else {"result": value}), None
        problem = "no canned result matches these arguments"
        return {"error": problem}, problem

    def _invalid(self, decl: FunctionDecl, args: Mapping[str, Any]) -> str | None:
        if decl.parameters is None:
            return None
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match

        validator = self._validators.get(decl.name)
        if validator is None:
            validator = self._validators[decl.name] = Draft202012Validator(decl.parameters)
        error = best_match(validator.iter_errors(dict(args)))
        if error is None:
            return None
        at = "/".join(str(p) for p in error.absolute_path)
        return f"{error.message}" + (f" (at {at})" if at else "")


class FunctionLoop:
    """Answers one turn's function calls, hop by hop, up to the case's limit.

    Use :meth:`answers` after every hop; when it returns nothing the turn is over, and
    :meth:`transcript` gives the turn's transcript with every hop and answer in order.
    """

    def __init__(self, case: Case, turn: int = 1) -> None:
        self.table = FunctionTable(case.functions)
        self.limit = case.max_function_calls
        self.active = bool(case.functions)
        self.turn = turn
        self.hops: list[Transcript] = []
        self.sent: list[list[Step]] = []
        self.calls: list[FunctionCall] = []
        self.stopped = False

    def answers(self, hop: Transcript) -> list[Answer]:
        """Record a hop; the answers to send back (empty: the turn is over)."""
        self.hops.append(hop)
        pending = [s for s in hop.steps if s.type == "call"] if self.active else []
        if pending and len(self.calls) + len(pending) > self.limit:
            self.stopped = True  # the model keeps calling: stop rather than loop forever
            self.calls.extend(FunctionCall(s.name or "", dict(s.args or {}), answered=False,
                                           turn=self.turn) for s in pending)
            pending = []
        out = []
        for step in pending:
            response, problem = self.table.answer(step.name or "", step.args or {})
            record = FunctionCall(step.name or "", dict(step.args or {}), problem,
                                  turn=self.turn)
            out.append(Answer(step, response, record))
            self.calls.append(record)
        self.sent.append([a.step for a in out])
        return out

    def transcript(self) -> Transcript:
        """The turn's transcript: every hop's steps with the answers between them."""
        combined = combine_hops(self.hops, self.sent)
        return replace(combined, function_calls=tuple(self.calls),
                       function_loop_stopped=self.stopped)


def unsent_turns(case: Case, stopped_at: int) -> list[Transcript]:
    """Placeholders for the turns after one whose loop was stopped: they are not sent.

    The conversation ends with calls the harness did not answer, which the API would not
    take another user turn after; the later turns' checks then fail on these (empty) turns.
    """
    note = (f"not sent: the harness stopped answering function calls in turn {stopped_at} "
            f"(max_function_calls: {case.max_function_calls})")
    return [Transcript(error=note, function_loop_stopped=True)
            for _ in case.conversation[stopped_at:]]
