"""A small local stand-in for the Gemini API, for the spine's end-to-end tests.

It answers generateContent, streamGenerateContent (SSE) and interactions with canned
code-execution responses chosen by prompt, so tests can record through the real SDK and
replay with the server stopped. (The bundled simulator, harness.sim, will replace it.)
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Canned:
    code: str
    output: str
    answer: str
    outcome: str = "OUTCOME_OK"


ANSWERS: dict[str, Canned] = {
    "primes": Canned("from sympy import prime\nprint(sum(prime(i) for i in range(1, 51)))",
                     "5117\n", "The sum of the first 50 primes is **5,117**."),
    "palindrome": Canned("f=[0,1]\nfor _ in range(19): f.append(f[-1]+f[-2])\nprint(f[20])",
                         "6765\n", "F(20) is 6765; the nearest palindrome is 6776."),
}
WRONG = Canned("print(41)", "41\n", "The answer is 41.")


@dataclass
class Stub:
    """State of one running stub (hits and what it saw)."""

    hits: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def canned(self, model: str, prompt: str) -> Canned:
        if "wrong" in model:
            return WRONG
        for key, canned in ANSWERS.items():
            if key in prompt.lower():
                return canned
        return Canned("print('hello')", "hello\n", "I ran some code.")


def _generate_response(c: Canned, model: str) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Let me compute that."},
        {"executableCode": {"language": "PYTHON", "code": c.code}},
        {"codeExecutionResult": {"outcome": c.outcome, "output": c.output}},
        {"text": c.answer}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 30,
                          "toolUsePromptTokenCount": 40, "totalTokenCount": 90},
        "modelVersion": model, "responseId": "stub-1"}


def _stream_chunks(c: Canned, model: str) -> list[dict[str, Any]]:
    parts = _generate_response(c, model)["candidates"][0]["content"]["parts"]
    chunks = []
    for i, part in enumerate(parts):
        chunk: dict[str, Any] = {"candidates": [{"content": {"role": "model", "parts": [part]},
                                                 "index": 0}], "modelVersion": model}
        if i == len(parts) - 1:
            chunk["candidates"][0]["finishReason"] = "STOP"
            chunk["usageMetadata"] = {"promptTokenCount": 20, "candidatesTokenCount": 30,
                                      "totalTokenCount": 50}
        chunks.append(chunk)
    return chunks


def _interaction(c: Canned, model: str) -> dict[str, Any]:
    return {"id": "v1_stub-1", "status": "completed", "model": model,
            "steps": [
                {"type": "code_execution_call", "id": "call_1",
                 "arguments": {"language": "python", "code": c.code}},
                {"type": "code_execution_result", "call_id": "call_1", "result": c.output,
                 "is_error": c.outcome != "OUTCOME_OK"},
                {"type": "model_output", "content": [{"type": "text", "text": c.answer}]}],
            "usage": {"total_input_tokens": 20, "total_output_tokens": 30,
                      "total_tool_use_tokens": 40, "total_tokens": 90}}


def start(port: int = 0) -> tuple[Stub, ThreadingHTTPServer]:
    """Start the stub on 127.0.0.1; returns its state and server (call .shutdown())."""
    stub = Stub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "session=stub-cookie")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> None:
            body = json.dumps({"error": {"code": status, "message": message, "status": code}})
            self._send(status, body.encode(), headers=headers)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            stub.hits.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if stub.fail_next:
                status, headers = stub.fail_next.pop(0)
                return self._error(status, "RESOURCE_EXHAUSTED" if status == 429
                                   else "UNAVAILABLE", "stub fault", headers)
            m = re.match(r"/v1beta/models/([^:]+):(generateContent|streamGenerateContent)",
                         self.path)
            if m:
                model, method = m.groups()
                if model.startswith("missing"):
                    return self._error(404, "NOT_FOUND", f"models/{model} is not found")
                prompt = body["contents"][-1]["parts"][0]["text"]
                canned = stub.canned(model, prompt)
                if method == "generateContent":
                    return self._send(200, json.dumps(_generate_response(canned, model)).encode())
                sse = "".join(f"data: {json.dumps(c)}\r\n\r\n"
                              for c in _stream_chunks(canned, model))
                return self._send(200, sse.encode(), "text/event-stream")
            if self.path == "/v1beta/interactions":
                model = body["model"]
                prompt = body["input"] if isinstance(body["input"], str) else json.dumps(body)
                return self._send(200, json.dumps(_interaction(stub.canned(model, prompt),
                                                               model)).encode())
            return self._error(404, "NOT_FOUND", f"no route {self.path}")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return stub, server
