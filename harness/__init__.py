"""harness: evaluate Gemini models with the code-execution tool, from YAML cases and cassettes."""

from __future__ import annotations

__version__ = "0.1.0"
