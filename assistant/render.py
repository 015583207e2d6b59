"""HTML for answers and their sources. Every piece of document or user text is escaped here, exactly once.

Articles are untrusted input: a page may contain `<script>` or `<img onerror=...>`. Nothing below puts
document text into HTML except through `text_html`, which escapes HTML and neutralizes Markdown too
(the chat renders Markdown, where `[x](javascript:...)` or `*` would otherwise become markup).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from assistant.types import NOT_SAID, Answer, Citation, ScoredPassage, is_url
from assistant.verify import UNSUPPORTED_MARK

# Characters that Markdown (or HTML) would read as markup; as numeric entities they show as themselves.
_MARKUP = re.compile(r"[\\`*_{}\[\]()<>#+\-.!|~&\"'=:]")
_MARKER = re.compile(r"\[(\d+)\]")
# Characters of article text shown on each side of a cited span when no retrieved passage contains it.
CONTEXT_CHARS = 300


def text_html(text: str) -> str:
    """`text` as inert HTML/Markdown: it displays as written and can never become a tag, link or emphasis."""
    return _MARKUP.sub(lambda m: f"&#{ord(m.group())};", text)


def source_id(turn: int, n: int) -> str:
    """The element id of citation `n` of answer `turn` in the sources panel."""
    return f"src-{turn}-{n}"


def answer_html(answer: Answer, turn: int, bold_min_margin: float | None = None) -> str:
    """The answer for the chat: escaped text, each `[n]` of a real citation linked to its source, unsupported
    sentences of a generated answer muted and labelled, and the answer's note (e.g. why it fell back).

    The short answer is in bold only when the reader's margin is at least `bold_min_margin`: bold says "this is
    the answer", which a low-margin span often is not. Without a threshold or a margin nothing is bold."""
    if answer.abstained:
        reason = answer.text.removeprefix(NOT_SAID).strip()
        body = f'<span class="abstained">{NOT_SAID}</span> {text_html(reason)}'.rstrip()
    elif confident(answer, bold_min_margin) and (short := _short_answer_at(answer)) is not None:
        # An extractive answer (generated ones have no short answer): the asked-for name or number stands out.
        i, j = short
        body = (
            _linked_html(answer.text[:i], answer, turn) + '<strong class="short-answer" title="the short answer">'
            f"{text_html(answer.text[i:j])}</strong>" + _linked_html(answer.text[j:], answer, turn)
        )
    else:
        body = _claims_html(answer, turn)
    if answer.backend != "extractive" and not answer.abstained:
        body = f'<span class="backend">written by {text_html(answer.backend)}</span> ' + body
    if answer.resolved_question and answer.resolved_question != answer.question:
        # A follow-up is searched as the conversation made it: the reader sees how it was understood.
        body = f'<div class="resolved">Read as: {text_html(answer.resolved_question)}</div>' + body
    if answer.note:
        body += f'<div class="answer-note">Note: {text_html(answer.note)}</div>'
    return body


def draft_html(draft: str) -> str:
    """A model's answer while it is being written: its citations are not checked yet, so it says so."""
    return f'<span class="draft-label">draft, not yet verified</span> <span class="draft">{text_html(draft)}</span>'


def confident(answer: Answer, min_margin: float | None) -> bool:
    """Whether the reader is sure enough of the answer's short answer to show it in bold."""
    return min_margin is not None and answer.margin is not None and answer.margin >= min_margin


def _short_answer_at(answer: Answer) -> tuple[int, int] | None:
    """Where the short answer is in `answer.text`: inside citation [1]'s sentence as the answer quotes it."""
    first = next((c for c in answer.citations if c.n == 1), None)
    if answer.short_span is None or first is None:
        return None
    i, j = answer.short_span[0] - first.start, answer.short_span[1] - first.start
    if not 0 <= i < j <= len(first.text):
        return None
    # The answer quotes the sentence up to its citation marker, so the text up to the short answer's end is there.
    at = answer.text.find(first.text[:j])
    return (at + i, at + j) if at >= 0 else None


def _claims_html(answer: Answer, turn: int) -> str:
    """The answer's text with each sentence listed in `answer.unsupported` (followed by its mark) set apart."""
    parts: list[str] = []
    last = 0
    for sentence in answer.unsupported:
        marked = f"{sentence} {UNSUPPORTED_MARK}"
        at = answer.text.find(marked, last)
        if at < 0:
            continue
        parts.append(_linked_html(answer.text[last:at], answer, turn))
        parts.append(
            f'<span class="unsupported" title="No source was found for this sentence">{text_html(sentence)} '
            '<span class="unsupported-label">unsupported</span></span>'
        )
        last = at + len(marked)
    parts.append(_linked_html(answer.text[last:], answer, turn))
    return "".join(parts)


def _linked_html(text: str, answer: Answer, turn: int) -> str:
    """`text` escaped, with each `[n]` of one of the answer's citations linked to its source card."""
    numbers = {c.n for c in answer.citations}
    parts: list[str] = []
    last = 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in numbers:
            continue
        parts.append(text_html(text[last : m.start()]))
        parts.append(f'<a class="cite-marker" href="#{source_id(turn, n)}">[{n}]</a>')
        last = m.end()
    parts.append(text_html(text[last:]))
    return "".join(parts)


def context_bounds(citation: Citation, passages: list[ScoredPassage], doc_length: int) -> tuple[int, int]:
    """The retrieved passage around the cited span, else a window of the article around it."""
    for sp in passages:
        p = sp.passage
        if p.doc_id == citation.doc_id and p.start <= citation.start and citation.end <= p.end:
            return p.start, p.end
    return max(0, citation.start - CONTEXT_CHARS), min(doc_length, citation.end + CONTEXT_CHARS)


def highlighted(text: str, start: int, end: int, context: tuple[int, int]) -> str:
    """`text[context]` escaped, with `text[start:end]` inside a `<mark>`."""
    a, b = context
    before = "…" if a > 0 else ""
    after = "…" if b < len(text) else ""
    return f"{before}{text_html(text[a:start])}<mark>{text_html(text[start:end])}</mark>{text_html(text[end:b])}{after}"


def file_name(source: str) -> str:
    """The file part of a source path, keeping a jsonl record's `#line`; a web page's URL."""
    if is_url(source):
        return source
    path, sep, record = source.partition("#")
    return PurePath(path).name + sep + record


def describe(source: str, metadata: dict[str, Any]) -> str:
    """`title · date · file` for a source header, escaped."""
    name = file_name(source)
    parts = [f"<strong>{text_html(str(metadata.get('title') or name))}</strong>"]
    if metadata.get("date"):
        parts.append(f'<span class="date">{text_html(str(metadata["date"]))}</span>')
    parts.append(f'<span class="file">{text_html(name)}</span>')
    return " · ".join(parts)


def sources_html(
    answer: Answer, turn: int, document_text: Callable[[str], str], metadata: Callable[[str], dict[str, Any]]
) -> str:
    """The sources panel for one answer: each citation's span highlighted inside its passage."""
    if not answer.citations:
        closest = "".join(
            f"<li>{describe(sp.passage.source, metadata(sp.passage.doc_id))}"
            f'<div class="context">{text_html(sp.passage.text)}</div></li>'
            for sp in answer.passages[:3]
        )
        note = "Nothing in the articles supports an answer."
        if answer.no_matching_articles:
            note = "No article matches the filters in Settings."
        elif closest:
            note += " The closest passages found were:"
        return f'<div class="sources abstained-sources"><p>{note}</p><ol class="closest">{closest}</ol></div>'
    cards = []
    for c in answer.citations:
        text = document_text(c.doc_id)
        context = context_bounds(c, answer.passages, len(text))
        cards.append(
            f'<div class="source" id="{source_id(turn, c.n)}">'
            f'<div class="source-head"><span class="num">[{c.n}]</span> {describe(c.source, metadata(c.doc_id))}'
            f' <span class="offsets">characters {c.start}–{c.end}</span></div>'
            f'<div class="context">{highlighted(text, c.start, c.end, context)}</div></div>'
        )
    return f'<div class="sources">{"".join(cards)}</div>'


EMPTY_SOURCES = (
    '<div class="sources empty"><p>Sources of the answer appear here, with the cited words highlighted.</p></div>'
)
