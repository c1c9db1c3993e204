"""Map the facts of a run (exit status, why it ended, bytes read) to Gemini's outcome codes.

* exit status 0 -> ``OUTCOME_OK``, output = stdout.
* a raised exception, non-zero exit, or death by a signal (OOM kill) -> ``OUTCOME_FAILED``,
  output = stderr with the traceback; when the code also printed to stdout, both, in the
  "stdout: ... <newline> stderr: ..." form Gemini 3 uses.
* the wall-clock deadline -> ``OUTCOME_DEADLINE_EXCEEDED``, output = what stdout received before.
* more output than the cap -> the run is stopped: ``OUTCOME_FAILED``, output = the capped
  stdout with a note, ``truncated`` set.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from harness.sandbox import figures


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _signal_note(status: int, oom: bool, memory_bytes: int) -> str:
    if not os.WIFSIGNALED(status):
        return ""
    sig = os.WTERMSIG(status)
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = str(sig)
    if oom:
        return (f"MemoryError: out of memory: the process was killed ({name}); "
                f"the run's memory limit is {memory_bytes >> 20} MiB\n")
    if sig == signal.SIGKILL:
        return f"The process was killed ({name}).\n"
    return f"The process died from signal {name}.\n"


def to_response(raw: dict[str, Any], *, level: str, seed: int, memory_bytes: int,
                output_cap: int) -> tuple[dict[str, Any], list[bytes]]:
    """The zygote's response header and PNG blobs for one run."""
    setup = raw["setup"]
    if raw["reason"] == "parent-gone":
        return {"parent_gone": True}, []
    if "error" in setup and raw["reason"] != "deadline":
        return {"error": f"sandbox setup failed at level {level}: {setup['error']}"}, []
    stdout, stderr = _decode(raw["stdout"]), _decode(raw["stderr"])
    status = raw["status"]
    reason = raw["reason"]
    if reason == "deadline":
        outcome, output = "OUTCOME_DEADLINE_EXCEEDED", stdout
    elif reason == "cap":
        note = f"\n[output exceeded {output_cap} bytes: truncated, and the run was stopped]\n"
        stderr += note
        outcome, output = "OUTCOME_FAILED", (stdout if len(raw["stdout"]) >= output_cap
                                              else stderr) + note
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        outcome, output = "OUTCOME_OK", stdout
    else:
        stderr += _signal_note(status, raw["oom"], memory_bytes)
        if os.WIFEXITED(status) and not stderr:
            stderr = f"The process exited with status {os.WEXITSTATUS(status)}.\n"
        outcome = "OUTCOME_FAILED"
        output = f"stdout: {stdout}\nstderr: {stderr}" if stdout else stderr
    pngs = figures.unframe(raw["figures"])
    head = {"outcome": outcome, "output": output, "stdout": stdout, "stderr": stderr,
            "duration_s": raw["duration_s"], "truncated": raw["truncated"], "seed": seed,
            "isolation": level, "layers": setup.get("layers", []), "images": len(pngs)}
    return head, pngs
