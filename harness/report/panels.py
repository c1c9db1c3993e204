"""Transcript panels of the HTML report: one per (case, model), every sample inside.

A panel is hidden until its id is the URL fragment (CSS ``:target``), so a matrix cell is just a
link and the page needs no JavaScript. Everything here comes from the model or the run and is
untrusted: every interpolation goes through :func:`e`. Long fields and long transcripts are cut
with a note, and images are embedded as ``data:`` URIs only within a byte budget, so a run with
thousands of items still gives a file a browser opens.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from typing import Any

from harness.report import fmt
from harness.results.records import transcript_of

# Only raster types a browser shows inside <img>; SVG is left out on purpose (it is a document).
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
               "webp": "image/webp"}
OUTCOME_BADGES = {"OUTCOME_OK": ("OK", "o-ok"), "OUTCOME_FAILED": ("FAILED", "o-failed"),
                  "OUTCOME_DEADLINE_EXCEEDED": ("DEADLINE", "o-deadline")}
VERDICT_LABELS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skipped": "SKIPPED"}


def e(x: object) -> str:
    """Escape text and attribute values (quotes included)."""
    return escape(str(x), quote=True)


@dataclass
class Limits:
    """Caps that keep the report small; the defaults suit hundreds of cases x models x samples.

    Attributes:
        field_chars: Characters shown of one text, code or output field.
        panel_chars: Characters of steps shown per sample before the rest is cut (lowered for
            big runs so that all samples together stay within ``total_chars``).
        total_chars: Characters of transcripts in the whole report.
        image_bytes: Largest image embedded.
        total_image_bytes: Images embedded in the whole report before the rest are linked.
        open_samples: Failing samples shown opened per cell (the rest start closed).

    """

    field_chars: int = 6000
    panel_chars: int = 40000
    total_chars: int = 30_000_000
    image_bytes: int = 1_500_000
    total_image_bytes: int = 25_000_000
    open_samples: int = 3
    used_image_bytes: int = field(default=0, repr=False)

    def for_items(self, items: int) -> Limits:
        """These limits with ``panel_chars`` lowered so ``items`` samples fit ``total_chars``."""
        per_item = max(3000, self.total_chars // max(1, items))
        return replace(self, panel_chars=min(self.panel_chars, per_item), used_image_bytes=0)


def _cut(text: str, limit: int) -> str:
    kept, cut = fmt.truncate(text, limit)
    note = (f'<span class="cut">… {cut:,} more characters not shown (the full text is in '
            "results.jsonl)</span>") if cut else ""
    return e(kept) + note


def _pre(text: str | None, limits: Limits, cls: str = "") -> str:
    body = _cut(text or "", limits.field_chars)
    return f'<pre class="{cls}">{body}</pre>' if body else '<pre class="muted">(empty)</pre>'


def image_html(step: Mapping[str, Any], run_dir: Path | None, limits: Limits) -> str:
    """An image step as ``<img src="data:...">``, or a note saying why it is not shown."""
    rel = step.get("file")
    raw: bytes | None = None
    ext = str(rel or "").rsplit(".", 1)[-1].lower()
    mime = str(step.get("mime_type") or IMAGE_TYPES.get(ext, ""))
    where = e(rel) if rel else "the record"
    if isinstance(step.get("data"), str):
        try:
            raw = base64.b64decode(step["data"], validate=True)
        except ValueError:
            return '<p class="note">image data in the record is not valid base64</p>'
    elif rel and run_dir is not None:
        base = run_dir.resolve()
        path = (base / str(rel)).resolve()
        # A results file could name any path; embed only files inside the run directory.
        if not path.is_relative_to(base) or not path.is_file():
            return f'<p class="note">image file {where} not found in the run directory</p>'
        size = path.stat().st_size
        if size > limits.image_bytes:
            return (f'<p class="note">image {where} not embedded: {size:,} bytes is over the '
                    f"{limits.image_bytes:,}-byte cap</p>")
        raw = path.read_bytes()
    if raw is None:
        return '<p class="note">image not stored with this run</p>'
    if mime not in IMAGE_TYPES.values():
        return f'<p class="note">image {where} of type {e(mime or "unknown")} not embedded</p>'
    if len(raw) > limits.image_bytes:
        return (f'<p class="note">image not embedded: {len(raw):,} bytes is over the '
                f"{limits.image_bytes:,}-byte cap</p>")
    if limits.used_image_bytes + len(raw) > limits.total_image_bytes:
        return (f'<p class="note">image {where} not embedded: the report\'s image budget '
                f"({limits.total_image_bytes:,} bytes) is used up</p>")
    limits.used_image_bytes += len(raw)
    data = base64.b64encode(raw).decode("ascii")
    alt = f"image from the model's code ({mime}, {len(raw):,} bytes)"
    return (f'<figure class="st image"><img loading="lazy" alt="{e(alt)}" '
            f'src="data:{e(mime)};base64,{data}"><figcaption>{e(alt)}</figcaption></figure>')


# The final answer is the text after the last of these (as in harness.transcript).
_TOOL_STEPS = ("code", "result", "call", "call_result")


def _step(step: Mapping[str, Any], attempt: int, run_dir: Path | None, limits: Limits) -> str:
    kind = step.get("type")
    if kind == "thought" or (kind == "text" and step.get("thought")):
        text = str(step.get("text") or "")
        return (f'<details class="st thought"><summary>thought ({len(text):,} characters)'
                f"</summary>{_pre(text, limits, 'prose')}</details>")
    if kind == "text":
        return f'<div class="st text">{_pre(step.get("text"), limits, "prose")}</div>'
    if kind == "code":
        lang = step.get("language") or "code"
        label = "thought code (not an attempt)" if step.get("thought") else f"attempt {attempt}"
        return (f'<div class="st code"><div class="sh">{e(lang)} · {e(label)}</div>'
                f"{_pre(step.get('code'), limits, 'src')}</div>")
    if kind == "result":
        outcome = str(step.get("outcome") or "OUTCOME_UNSPECIFIED")
        text, cls = OUTCOME_BADGES.get(outcome, (outcome.removeprefix("OUTCOME_"), "o-other"))
        return (f'<div class="st result"><div class="sh">output <span class="badge {cls}">'
                f"{e(text)}</span></div>{_pre(step.get('output'), limits, 'out')}</div>")
    if kind == "image":
        return image_html(step, run_dir, limits)
    if kind in ("call", "call_result"):
        value = step.get("args") if kind == "call" else step.get("response")
        head = ("function call" if kind == "call" else "answered by the harness") + " · "
        cls = "code" if kind == "call" else "result"
        return (f'<div class="st {cls}"><div class="sh">{e(head)}{e(step.get("name"))}</div>'
                f"{_pre(json.dumps(value, ensure_ascii=False, indent=1), limits, 'src')}</div>")
    return f'<p class="note">step of unknown type {e(kind)}</p>'


def grounding_html(grounding: Any) -> str:
    """What Google Search / URL context reported: the queries and the sources.

    Only http(s) sources become links (a recorded ``javascript:`` URI stays text); ""
    when the response carried no grounding.
    """
    if not isinstance(grounding, Mapping):
        return ""
    queries = [str(q) for q in grounding.get("queries") or []]
    items = []
    for src in grounding.get("sources") or []:
        if not isinstance(src, Mapping):
            continue
        uri, title = str(src.get("uri") or ""), str(src.get("title") or src.get("domain") or "")
        label = e(title or uri or str(src.get("kind") or "source"))
        link = (f'<a href="{e(uri)}" rel="noopener noreferrer nofollow">{label}</a>'
                if uri.startswith(("https://", "http://")) else label)
        status = f' <span class="muted">{e(src.get("status"))}</span>' if src.get("status") else ""
        items.append(f"<li>{link}{status}</li>")
    shown = "; ".join(e(q) for q in queries) or "none"
    return (f'<div class="st grounding"><div class="sh">grounding · queries: {shown}</div>'
            f'<ul>{"".join(items)}</ul></div>')


def steps_html(transcript: Mapping[str, Any], run_dir: Path | None, limits: Limits) -> str:
    """The steps in order, then the final answer; answer text is shown once, in its box."""
    steps: Sequence[Mapping[str, Any]] = transcript.get("steps") or []
    last_exec = max((i for i, s in enumerate(steps) if s.get("type") in _TOOL_STEPS),
                    default=-1)
    parts: list[str] = []
    used, attempt = 0, 0
    for i, step in enumerate(steps):
        if i > last_exec and step.get("type") == "text" and not step.get("thought"):
            continue  # part of the final answer, shown below
        if step.get("type") == "code" and not step.get("thought"):
            attempt += 1
        if used > limits.panel_chars:
            parts.append(f'<p class="cut">… {len(steps) - i} more steps not shown (see '
                         "results.jsonl)</p>")
            break
        html = _step(step, attempt, run_dir, limits)
        used += len(html) if step.get("type") != "image" else 0
        parts.append(html)
    parts.append(grounding_html(transcript.get("grounding")))
    final = str(transcript.get("final_text") or "")
    parts.append('<div class="answer"><div class="sh">final answer</div>'
                 + (_pre(final, limits, "prose") if final else
                    '<p class="muted">(no final answer text)</p>') + "</div>")
    return "".join(parts)


def checks_html(checks: Sequence[Mapping[str, Any]], limits: Limits) -> str:
    """Failed checks as a table with expected and actual; passed ones as one line of names."""
    if not checks:
        return ""
    failed = [c for c in checks if not c.get("passed")]
    passed = [c for c in checks if c.get("passed")]
    rows = []
    for c in failed:
        detail = "".join(
            f'<div><span class="k">{label}</span> {_cut(str(c.get(key)), 1000)}</div>'
            for key, label in (("expected", "expected"), ("actual", "actual"), ("error", "error"))
            if c.get(key) not in (None, ""))
        rows.append(f'<tr class="bad"><td>✗</td><td><code>{e(c.get("name"))}</code></td>'
                    f"<td>{detail}</td></tr>")
    ok = "".join(f'<span class="chip">✓ {e(c.get("name"))}</span>' for c in passed)
    head = f"checks: {len(passed)} of {len(checks)} passed"
    table = f'<table class="checks">{"".join(rows)}</table>' if rows else ""
    return f'<div class="checks"><span class="sh">{e(head)}</span> {ok}{table}</div>'


def _sample_summary(rec: Mapping[str, Any]) -> str:
    verdict = str(rec.get("verdict"))
    usage = rec.get("usage") or {}
    bits = [f"sample {rec.get('sample') or 1}"]
    if rec.get("attempts") is not None:
        bits.append(f"{rec['attempts']} attempt{'s' if rec['attempts'] != 1 else ''}")
    if usage.get("total_tokens") is not None:
        bits.append(f"{usage['total_tokens']:,} tokens")
    if rec.get("latency_s") is not None:
        bits.append(fmt.seconds(rec.get("latency_s")))
    return (f'<span class="badge v-{e(verdict)}">{e(VERDICT_LABELS.get(verdict, verdict))}'
            f"</span> {e(' · '.join(bits))}")


def _footer(rec: Mapping[str, Any]) -> str:
    usage = rec.get("usage") or {}
    tokens = ", ".join(f"{label} {usage[k]:,}" for k, label in fmt.TOKEN_LABELS.items()
                       if usage.get(k) is not None)
    bits = [("model version", rec.get("model_version")), ("finish", rec.get("finish_reason")),
            ("tokens", tokens or None), ("latency", fmt.seconds(rec.get("latency_s"))
                                         if rec.get("latency_s") is not None else None),
            ("first chunk", fmt.seconds(rec.get("ttft_s"))
             if rec.get("ttft_s") is not None else None)]
    return '<p class="meta">' + " · ".join(f"{k}: <code>{e(v)}</code>" for k, v in bits
                                           if v) + "</p>"


def sample_html(rec: Mapping[str, Any], run_dir: Path | None, limits: Limits,
                opened: bool) -> str:
    """One sample: verdict, ERROR details, checks, steps, final answer, usage."""
    body = []
    err = rec.get("error")
    if err:
        body.append(f'<div class="err"><b>ERROR ({e(err.get("kind", "error"))})</b> not a model '
                    f"failure{_pre(str(err.get('message', '')), limits)}</div>")
    body.append(checks_html(rec.get("checks") or [], limits))
    transcript = transcript_of(rec)  # read from results.jsonl now, if the run left it there
    if transcript:
        if transcript.get("error"):
            body.append(f'<div class="err"><b>API error in the response</b>'
                        f"{_pre(str(transcript['error']), limits)}</div>")
        body.append(steps_html(transcript, run_dir, limits))
    elif rec.get("verdict") != "skipped":
        body.append('<p class="muted">no transcript: the model call did not complete</p>')
    body.append(_footer(rec))
    return (f'<details class="sample"{" open" if opened else ""}><summary>'
            f"{_sample_summary(rec)}</summary>{''.join(body)}</details>")


def panel_html(panel_id: str, back: str, case: tuple[str, str], model: str,
               recs: Sequence[Mapping[str, Any]], siblings: Sequence[tuple[str, str]],
               run_dir: Path | None, limits: Limits) -> str:
    """The panel of one (case, model) cell.

    Args:
        panel_id: The element id the cell links to.
        back: Fragment the close link returns to (the case's matrix row).
        case: ``(suite, case id)``.
        model: The model.
        recs: Its records, one per sample.
        siblings: ``(model, panel id)`` of the same case's other cells, for switching.
        run_dir: Where ``images/`` lives.
        limits: Size caps (and the image budget, shared by the whole report).

    Returns:
        An HTML fragment.

    """
    first = recs[0] if recs else {}
    tabs = "".join(f'<a href="#{e(pid)}" class="{"cur" if m == model else ""}">{e(m)}</a>'
                   for m, pid in siblings)
    cassette = str(first.get("cassette") or "")
    if len(recs) > 1 and "/" in cassette:  # one directory, one file per sample
        cassette = cassette.rsplit("/", 1)[0] + "/<sample>.yaml"
    node = str(first.get("nodeid") or "")
    if len(recs) > 1:
        node = node.replace(f"#{first.get('sample') or 1}]", "#<sample>]")
    meta = " · ".join(f"{k}: <code>{e(v)}</code>" for k, v in
                      (("suite", case[0]), ("location", first.get("location")),
                       ("api", first.get("api")), ("target", first.get("target")),
                       ("node", node), ("cassette", cassette))
                      if v)
    # Open what explains the cell: every sample that did not pass, or the first when all did.
    bad = [i for i, r in enumerate(recs) if r.get("verdict") != "pass"][:limits.open_samples]
    samples = "".join(sample_html(r, run_dir, limits, opened=i in bad or (not bad and i == 0))
                      for i, r in enumerate(recs))
    # Records do not carry the prompt yet; show it as soon as they do ("prompt" or "turns").
    turns = first.get("turns") or ([first["prompt"]] if first.get("prompt") else [])
    prompt = "".join(f'<div class="st prompt"><div class="sh">prompt'
                     f'{f" · turn {i}" if len(turns) > 1 else ""}</div>'
                     f"{_pre(str(t), limits, 'prose')}</div>" for i, t in enumerate(turns, 1))
    where = "" if prompt else " where"
    return (f'<section class="tx" id="{e(panel_id)}" aria-label="transcript">'
            f'<div class="panel"><a class="close" href="#{e(back)}" title="close">&times;</a>'
            f"<h2>{e(case[1])} <small>{e(model)}</small></h2>"
            f'<p class="meta{where}">{meta}</p><nav class="tabs">{tabs}</nav>'
            f"{prompt}{samples}</div></section>")
