"""A turn's files and text as each surface sends them: inline or uploaded, Gemini or Vertex."""

from __future__ import annotations

import base64
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.calls.surfaces.contents import interaction_input, user_parts
from harness.errors import SetupError
from harness.spec.case import Case, Turn
from harness.spec.inputs import resolve_input
from harness.spec.models import GenerationSettings

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


class FakeClient:
    def __init__(self, vertexai: bool) -> None:
        self.vertexai = vertexai
        self.uploads: list[tuple[str, Any]] = []
        self.files = SimpleNamespace(upload=self._upload)

    def _upload(self, *, file: str, config: Any) -> Any:
        self.uploads.append((file, config))
        return SimpleNamespace(uri="https://files/abc", mime_type=config.mime_type)


def _case(tmp_path: Path, upload: bool) -> tuple[Case, Turn]:
    (tmp_path / "chart.png").write_bytes(PNG)
    (tmp_path / "x.eval.yaml").write_text("")
    png = resolve_input("chart.png", tmp_path / "x.eval.yaml", tmp_path, upload=upload)
    turn = Turn("How many bars?", (png,))
    case = Case("s", "c", "How many bars?", "generate_content", GenerationSettings(), (), (),
                None, 1, tmp_path / "x.eval.yaml", 1, inputs=(png,))
    return case, turn


@pytest.mark.parametrize("vertexai", [False, True], ids=["gemini", "vertex"])
@pytest.mark.parametrize("upload", [False, True], ids=["inline", "upload"])
@pytest.mark.parametrize("surface", ["parts", "interactions"])
def test_files_go_before_the_text(tmp_path: Path, vertexai: bool, upload: bool,
                                  surface: str) -> None:
    case, turn = _case(tmp_path, upload)
    client = FakeClient(vertexai)
    build = user_parts if surface == "parts" else interaction_input
    if upload and vertexai:  # the Files API is Gemini API only
        with pytest.raises(SetupError, match="only on the Gemini API; on --target vertex send "
                                             "it inline"):
            build(client, case, turn)
        return
    sent = build(client, case, turn)
    assert len(sent) == 2
    if surface == "parts":
        file_part, text_part = sent
        assert text_part.text == "How many bars?"
        if upload:
            assert file_part.file_data.file_uri == "https://files/abc"
        else:
            assert file_part.inline_data.data == PNG
            assert file_part.inline_data.mime_type == "image/png"
    else:
        block, text = sent
        assert text == {"type": "text", "text": "How many bars?"}
        assert block["type"] == "image" and block["mime_type"] == "image/png"
        assert block.get("uri") == "https://files/abc" if upload else \
            base64.b64decode(block["data"]) == PNG
    assert [(Path(f).name, c.display_name) for f, c in client.uploads] == (
        [("chart.png", "chart.png")] if upload else [])


def test_a_turn_without_files_is_its_text(tmp_path: Path) -> None:
    case, _ = _case(tmp_path, False)
    assert user_parts(FakeClient(False), case, Turn("hi")) == "hi"
    assert interaction_input(FakeClient(True), case, Turn("hi")) == "hi"
