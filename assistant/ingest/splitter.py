"""Sentence-aware splitting with exact offsets: every span indexes the document text unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator

import blingfire

from assistant.ingest.loaders import header_end
from assistant.types import Document, Passage, Sentence, Span

_BLOCK_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_SPACE = re.compile(r"\s+")
# A sentence longer than this (tables, text without punctuation) is cut at white space.
MAX_SENTENCE_CHARS = 1000


def sentence_spans(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[Span]:
    """Sentences of `text` as spans, in order, without surrounding white space, never overlapping."""
    spans: list[Span] = []
    for block in _blocks(text):
        for span in _block_sentences(text, block):
            spans.extend(_cut_long(text, span, max_chars))
    return spans


def _blocks(text: str) -> Iterator[Span]:
    start = 0
    for m in _BLOCK_BREAK.finditer(text):
        yield Span(start, m.start())
        start = m.end()
    yield Span(start, len(text))


def _block_sentences(text: str, block: Span) -> Iterator[Span]:
    chunk = text[block.start : block.end]
    if not chunk.strip():
        return
    try:
        _, offsets = blingfire.text_to_sentences_and_offsets(chunk)
    except (AssertionError, UnicodeError, ValueError):
        offsets = []
    last = 0
    for a, b in offsets:
        a, b = max(a, last), min(b, len(chunk))
        # The model may skip or mis-measure characters it cannot handle; never trust a bad span.
        if b <= a:
            continue
        yield from _trimmed(text, block.start + last, block.start + a)  # text blingfire skipped
        yield from _trimmed(text, block.start + a, block.start + b)
        last = b
    yield from _trimmed(text, block.start + last, block.end)


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        yield Span(start + lead, start + lead + len(stripped))


def _cut_long(text: str, span: Span, max_chars: int) -> Iterator[Span]:
    start = span.start
    while span.end - start > max_chars:
        limit = start + max_chars
        cut = max((m.start() for m in _SPACE.finditer(text, start + max_chars // 2, limit)), default=limit)
        yield from _trimmed(text, start, cut)
        start = cut
    yield from _trimmed(text, start, span.end)


def split_document(doc: Document, passage_chars: int = 600, overlap: int = 1) -> tuple[list[Sentence], list[Passage]]:
    """The document's sentences, and passages made of consecutive sentences of about `passage_chars`.

    A `date` header is metadata, not part of the first sentence: it is blanked out (keeping every offset).
    """
    body = header_end(doc.text)
    spans = sentence_spans(" " * body + doc.text[body:])
    sentences = [Sentence(doc.doc_id, doc.source, s.start, s.end, doc.text[s.start : s.end]) for s in spans]
    passages = []
    # Each window's own sentences by index: testing every sentence against every window was quadratic
    # (a 5 MB file has ~100k sentences and ~9k windows).
    for i, j in _window_ranges(spans, passage_chars, overlap):
        start, end = spans[i].start, spans[j - 1].end
        own = tuple((s.start, s.end) for s in spans[i:j])
        passages.append(Passage(doc.doc_id, doc.source, start, end, doc.text[start:end], doc.metadata, own))
    return sentences, passages


def passage_windows(spans: list[Span], passage_chars: int, overlap: int) -> list[Span]:
    """Group sentence spans into windows of about `passage_chars`, sharing `overlap` sentences."""
    return [Span(spans[i].start, spans[j - 1].end) for i, j in _window_ranges(spans, passage_chars, overlap)]


def _window_ranges(spans: list[Span], passage_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Windows as [i, j) ranges of sentence indices."""
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        j = i + 1
        while j < len(spans) and spans[j].end - spans[i].start <= passage_chars:
            j += 1
        windows.append((i, j))
        if j >= len(spans):
            break
        i = max(j - overlap, i + 1)
    return windows
