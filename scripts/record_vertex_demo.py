"""Record evals-vertex/ on ``--target vertex`` from the bundled simulator, through the SDK.

Google's API is unreachable here, so the committed Vertex AI cassettes come from the
simulator (models ``sim-*``, never Gemini). This script starts it, stands a token credential
in for Application Default Credentials (``google.auth.default``: the token has no expiry, so
nothing is refreshed), and runs pytest's recording with ``--harness-base-url`` pointing at the
simulator. The cassettes hold no token, project or location; replay needs none of them:

    python scripts/record_vertex_demo.py       # then: pytest evals-vertex/ --target vertex
"""

from __future__ import annotations

import sys
from pathlib import Path

import google.auth
import google.oauth2.credentials
import pytest

from harness.sim.server import start
from harness.spec.load import load_eval_file

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Record, then return pytest's exit code."""
    cases = load_eval_file(ROOT / "evals-vertex/vertex.eval.yaml", ROOT).cases
    token = google.oauth2.credentials.Credentials(token="demo-token")  # type: ignore[no-untyped-call]
    google.auth.default = lambda *a, **k: (token, None)  # the ADC stand-in
    with start(cases) as sim:
        return int(pytest.main([str(ROOT / "evals-vertex"), "--target", "vertex",
                                "--record-mode=rewrite", "--harness-base-url", sim.base_url,
                                "-p", "no:cacheprovider", "-q"]))


if __name__ == "__main__":
    sys.exit(main())
