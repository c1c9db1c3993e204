"""report.html: structure (tables, matrix, panels, charts), escaping, CSP, size caps."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.report.html import render_html
from harness.report.panels import Limits
from harness.report.summary import summary_json
from harness.report.synthetic import PAYLOAD, png, synthetic_run
from harness.report.write import render_run, write_reports

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag
                and (cls is None or cls in n.attrs.get("class", "").split())]

    def find(self, tag: str, cls: str | None = None) -> Node:
        found = self.find_all(tag, cls)
        assert found, f"no <{tag} class={cls}>"
        return found[0]

    def by_id(self, id_: str) -> Node:
        found = [n for n in self.iter() if n.attrs.get("id") == id_]
        assert len(found) == 1, f"{len(found)} elements with id {id_}"
        return found[0]

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)

    def children_tagged(self, *tags: str) -> list[Node]:
        return [c for c in self.children if c.tag in tags]


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        # The renderer must produce balanced markup: a mismatch is a bug, not something to fix up.
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].text.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


MODELS = (("gemini-2.5-flash", 0.8), ("gemini-3-flash", 0.6))
Run = tuple[Path, list[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("reports")
    records = synthetic_run(root, "run-1", cases=12, models=MODELS, seed=5)
    summary = summary_json(records, baseline="gemini-2.5-flash")
    return root / "run-1", records, summary


@pytest.fixture(scope="module")
def page(run: Run) -> tuple[str, Node]:
    run_dir, records, summary = run
    html = write_reports(run_dir, records, summary)["html"].read_text(encoding="utf-8")
    return html, parse(html)


def test_csp_and_no_active_content(page: tuple[str, Node]) -> None:
    html, dom = page
    metas = dom.find("head").children_tagged("meta")
    csp = [m for m in metas if m.attrs.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(csp) == 1
    policy = csp[0].attrs["content"]
    assert "default-src 'none'" in policy and "img-src data:" in policy
    assert "script-src" not in policy  # scripts fall back to default-src 'none'
    # The policy must come before anything it governs.
    assert html.index("Content-Security-Policy") < html.index("<style>")
    tags = [n.tag for n in dom.iter()]
    for banned in ("script", "iframe", "object", "embed", "link", "base", "form"):
        assert banned not in tags
    for node in dom.iter():
        assert not [a for a in node.attrs if a.startswith("on")], (node.tag, node.attrs)
        if node.tag == "img":
            assert node.attrs["src"].startswith("data:image/")
        if node.tag == "a":
            assert node.attrs["href"].startswith("#"), node.attrs  # nothing leaves the page


def test_payload_is_inert_everywhere(page: tuple[str, Node],
                                     run: Run
                                     ) -> None:
    html, dom = page
    assert "<script>" not in html.lower() and "onerror=alert" not in html.replace(
        "onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = dom.all_text()
    # Shown as text in the model's prose, its code, its output, the answer and the ERROR message.
    assert text.count(PAYLOAD) >= 5
    panel = dom.by_id("t-1-0")
    kinds = {n.attrs.get("class", "") for n in panel.iter() if PAYLOAD in "".join(n.text)}
    assert {"prose", "src", "out"} <= kinds
    imgs = dom.find_all("img")
    assert all(i.attrs.get("src", "").startswith("data:image/png;base64,") for i in imgs)


def test_model_table_rows(page: tuple[str, Node],
                          run: Run) -> None:
    _, dom = page
    _, _, summary = run
    section = dom.by_id("models")
    first = section.find("table", "models")
    rows = first.find("tbody").children_tagged("tr")
    assert [r.children[0].find("b").all_text() for r in rows] == [m for m, _ in MODELS]
    for row, (model, _) in zip(rows, MODELS, strict=True):
        m = summary["models"][model]
        cells = [c.all_text() for c in row.children]
        assert cells[1:6] == [str(m[k]) for k in ("items", "passed", "failed", "errors",
                                                  "skipped")]
        assert f"{100 * m['pass_rate']:.1f}%" in cells[6]
        assert f"[{100 * m['ci_low']:.1f}, {100 * m['ci_high']:.1f}]" in cells[6]
    second = section.find_all("table", "models")[1]
    assert "unknown" in second.all_text()  # no price table: cost is unknown, not $0


def test_matrix_has_a_row_per_case_and_a_linked_cell_per_model(
        page: tuple[str, Node], run: Run) -> None:
    _, dom = page
    _, records, _ = run
    cases = list(dict.fromkeys(r["case"] for r in records))
    matrix = dom.find("table", "matrix")
    head = [th.find("span", "mname").all_text()
            for th in matrix.find("thead").find_all("th")[1:]]
    assert head == [m for m, _ in MODELS]
    rows = matrix.find("tbody").children_tagged("tr")
    assert [r.find("span", "case").all_text() for r in rows] == cases
    for r, row in enumerate(rows):
        cells = row.children_tagged("td")
        assert len(cells) == len(MODELS)
        for c, cell in enumerate(cells):
            link = cell.find("a")
            assert link.attrs["href"] == f"#t-{r}-{c}"
            panel = dom.by_id(f"t-{r}-{c}")
            assert "tx" in panel.attrs["class"]
            assert cases[r] in panel.find("h2").all_text()
            assert MODELS[c][0] in panel.find("h2").all_text()
            # The close link returns to the case's row.
            assert panel.find("a", "close").attrs["href"] == f"#case-{r}"
    # Case 2 ERRORs and case 3 is skipped for the last model (see synthetic_run).
    assert "v-error" in rows[2].children_tagged("td")[1].attrs["class"]
    assert "v-skipped" in rows[3].children_tagged("td")[1].attrs["class"]
    err = dom.by_id("t-2-1").all_text()
    assert "ERROR (cassette)" in err and "not a model failure" in err


def test_transcript_panel_shows_steps_badges_checks_and_answer(
        page: tuple[str, Node], run: Run) -> None:
    _, dom = page
    _, records, _ = run
    failing = next(r for r in records if r["verdict"] == "fail")
    cases = list(dict.fromkeys(r["case"] for r in records))
    row = cases.index(failing["case"])
    col = [m for m, _ in MODELS].index(failing["model"])
    panel = dom.by_id(f"t-{row}-{col}")
    text = panel.all_text()
    assert failing["location"] in text and failing["api"] in text
    bad = panel.find("table", "checks")
    failed = [c for c in failing["checks"] if not c["passed"]]
    assert len(bad.find_all("tr")) == len(failed)
    for check in failed:
        assert check["name"] in bad.all_text() and check["expected"] in bad.all_text()
        assert check["actual"] in bad.all_text()
    badges = [b.all_text() for b in panel.find_all("span", "badge")]
    assert "FAIL" in badges and ("OK" in badges or "DEADLINE" in badges)
    assert failing["transcript"]["final_text"] in panel.find("div", "answer").all_text()
    code = [s for s in failing["transcript"]["steps"] if s["type"] == "code"]
    assert code[-1]["code"] in panel.all_text()


def test_images_are_embedded_from_the_run_directory(
        page: tuple[str, Node], run: Run) -> None:
    _, dom = page
    run_dir, records, _ = run
    files = {s["file"] for r in records for s in (r.get("transcript") or {}).get("steps", [])
             if s["type"] == "image"}
    assert files and all(not r.get("data") for r in records)
    imgs = dom.find_all("img")
    assert imgs
    embedded = {base64.b64decode(i.attrs["src"].split(",", 1)[1]) for i in imgs}
    assert embedded == {(run_dir / f).read_bytes() for f in files}


def test_charts_are_inline_svg(page: tuple[str, Node]) -> None:
    _, dom = page
    charts = dom.by_id("charts").find_all("svg")
    assert len(charts) == 3
    labels = [s.attrs["aria-label"] for s in charts]
    assert labels[0].startswith("Pass rate") and "Outcome" in labels[1]
    assert "tokens" in labels[2]
    assert len(dom.by_id("comparisons").find_all("svg")) == 1
    # Pass-rate chart: one whisker group per model with its numbers in a tooltip.
    tips = [t.all_text() for t in charts[0].find_all("title")]
    assert sum("95% CI" in t for t in tips) == len(MODELS)


def test_comparison_section_links_cases_to_the_candidate_transcript(
        page: tuple[str, Node], run: Run) -> None:
    _, dom = page
    _, records, summary = run
    comp = summary["comparisons"][0]
    card = dom.by_id("comparisons").find("article", "cmp")
    assert comp["verdict"] in card.find("span", "verdict").all_text()
    text = card.all_text()
    assert f"{comp['p_value']:.3g}" in text or "<0.001" in text
    cases = list(dict.fromkeys(r["case"] for r in records))
    labels = comp["regressed"] + comp["now_failing"] + comp["now_passing"]
    assert labels
    for label in labels:
        link = next(a for a in card.find_all("a") if a.all_text() == label)
        assert link.attrs["href"] == f"#t-{cases.index(label.split('::')[1])}-1"


def test_report_without_comparison_or_records(tmp_path: Path) -> None:
    records = synthetic_run(tmp_path, "solo", cases=3, models=(("only", 0.5),), errors=False)
    summary = summary_json(records)
    dom = parse(render_html(records, summary, run_dir=tmp_path / "solo"))
    assert not [n for n in dom.iter() if n.attrs.get("id") == "comparisons"]
    assert "No comparison" in dom.find("div", "gate").all_text()
    empty = parse(render_html([], summary_json([])))
    assert "No eval items ran" in empty.by_id("models").all_text()
    assert empty.find("table", "matrix").find("tbody").children == []


def test_samples_show_pass_fractions_and_pass_at_k(tmp_path: Path) -> None:
    records = synthetic_run(tmp_path, "multi", cases=6, samples=3, models=MODELS, seed=9)
    summary = summary_json(records, baseline=MODELS[0][0])
    dom = parse(render_html(records, summary, run_dir=tmp_path / "multi"))
    cells = [td.all_text() for td in dom.find("table", "matrix").find_all("td")]
    assert all(re.match(r"^(\d/3|\d/\d \dE|3E|3S)", c) for c in cells), cells
    head = [th.all_text() for th in dom.find("table", "models").find_all("th")]
    assert "pass@k" in head and "pass^k" in head
    panel = dom.by_id("t-0-0")
    assert len(panel.find_all("details", "sample")) == 3


def test_history_chart(tmp_path: Path) -> None:
    records = synthetic_run(tmp_path, "h", cases=3, models=MODELS, errors=False)
    history = [{"run_id": f"r{i}", "time": f"2026-01-0{i + 1}T00:00:00", "model": m,
                "model_version": f"{m}-00{1 + i // 2}", "pass_rate": 0.5 + i / 10,
                "ci_low": 0.3, "ci_high": 0.9, "items": 10}
               for i in range(4) for m, _ in MODELS]
    dom = parse(render_html(records, summary_json(records), history=history))
    svg = dom.by_id("history").find("svg")
    assert len(svg.find_all("circle")) == len(history)
    assert any("-002" in t.all_text() for t in svg.find_all("text"))  # release marked
    no_history = parse(render_html(records, summary_json(records)))
    assert not [n for n in no_history.iter() if n.attrs.get("id") == "history"]


def _record_with(step: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"suite": "s", "case": "c", "model": "m", "sample": 1, "verdict": "pass",
            "error": None, "checks": [], "attempts": 1, "outcomes": ["OUTCOME_OK"],
            "transcript": {"steps": [step], "final_text": "done"}, **extra}


def test_untrusted_paths_and_sizes_are_capped(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "secret.png").write_bytes(png(4, 4, [1.0]))
    big = "x" * 50_000
    records = [
        _record_with({"type": "image", "mime_type": "image/png", "file": "../secret.png"},
                     case="escape"),
        _record_with({"type": "result", "outcome": "OUTCOME_OK", "output": big}, case="big"),
        _record_with({"type": "image", "mime_type": "image/svg+xml",
                      "data": base64.b64encode(b"<svg onload=alert(1)/>").decode()}, case="svg"),
        _record_with({"type": "image", "mime_type": "image/png",
                      "data": base64.b64encode(png(40, 40, [0.5])).decode()}, case="inline"),
    ]
    html = render_html(records, summary_json(records), run_dir=tmp_path / "run",
                       limits=Limits(field_chars=1000))
    dom = parse(html)
    assert "not found in the run directory" in dom.by_id("t-0-0").all_text()
    big_panel = dom.by_id("t-1-0").all_text()
    assert "49,000 more characters not shown" in big_panel and "x" * 1001 not in big_panel
    assert html.count("records do not keep it") == 1  # once in the CSS, not once per panel
    assert "image/svg+xml not embedded" in dom.by_id("t-2-0").all_text()
    assert dom.by_id("t-3-0").find("img").attrs["src"].startswith("data:image/png;base64,")
    tight = parse(render_html(records, summary_json(records), run_dir=tmp_path / "run",
                              limits=Limits(total_image_bytes=10)))
    assert "image budget" in tight.by_id("t-3-0").all_text()


def test_prompt_is_shown_when_records_carry_it() -> None:
    records = [_record_with({"type": "text", "text": "hi"}, prompt="What is <2+2>?")]
    dom = parse(render_html(records, summary_json(records)))
    panel = dom.by_id("t-0-0")
    assert panel.find("div", "prompt").all_text() == "promptWhat is <2+2>?"
    assert "where" not in panel.find("p", "meta").attrs["class"]


def test_write_reports_and_render_run(tmp_path: Path) -> None:
    records = synthetic_run(tmp_path, "r1", cases=4, models=MODELS, seed=3)
    summary = summary_json(records, baseline=MODELS[0][0], alpha=0.1)
    paths = write_reports(tmp_path / "r1", records, summary)
    assert set(paths) == {"summary", "markdown", "html"}
    assert json.loads(paths["summary"].read_text()) == summary
    assert not list((tmp_path / "r1").glob(".*.tmp"))
    (tmp_path / "history.jsonl").write_text(json.dumps(
        {"run_id": "r0", "time": "2026-01-01", "model": MODELS[0][0], "pass_rate": 0.5}) + "\n")
    paths["html"].unlink()
    again = render_run(tmp_path / "latest")  # reports/latest works, as does the run dir
    resummarized = json.loads(again["summary"].read_text())
    assert resummarized["baseline"] == MODELS[0][0] and resummarized["alpha"] == 0.1
    dom = parse(again["html"].read_text())
    assert dom.by_id("history").find("svg")
    with pytest.raises(FileNotFoundError, match=r"no results\.jsonl"):
        render_run(tmp_path / "nothing")


def test_reports_read_with_transcripts_left_on_disk_are_identical(tmp_path: Path) -> None:
    """The end of a run reads records without transcripts (flat memory), same reports."""
    import shutil

    from harness.report.summary import summary_json
    from harness.report.synthetic import synthetic_run
    from harness.report.write import write_reports
    from harness.results.records import StoredTranscript, read_results, read_slim
    from harness.stats.tally import dedupe_items

    synthetic_run(tmp_path, "r1", cases=6, samples=2)
    outs = []
    for i, reader in enumerate((read_results, read_slim)):
        records = dedupe_items(reader(tmp_path / "r1"))
        run = tmp_path / f"copy{i}"
        shutil.copytree(tmp_path / "r1", run)
        summary = summary_json(records, baseline="gemini-2.5-flash", alpha=0.05, prices={},
                               gate_underpowered="warn")
        paths = write_reports(run, records, summary, history=[], run_id="r1")
        outs.append({k: p.read_text(encoding="utf-8") for k, p in paths.items()})
    assert outs[0] == outs[1]
    slim = list(read_slim(tmp_path / "r1"))
    assert any(isinstance(r.get("transcript"), StoredTranscript) for r in slim)
