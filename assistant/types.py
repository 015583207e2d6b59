"""The small plain types every module shares: nothing here imports an outside library."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import PurePath
from typing import Any


def stable_id(*parts: object, length: int = 20) -> str:
    """A short deterministic id from its parts (same parts, same id, across runs and machines)."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:length]


@dataclass(frozen=True)
class Document:
    """One article as stored: `text` is what every offset indexes."""

    doc_id: str
    source: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return stable_id(self.text, sorted(self.metadata.items()), length=32)


@dataclass(frozen=True)
class Span:
    """A character range `[start, end)` of a document's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrievable window of a document: `text == document.text[start:end]`."""

    doc_id: str
    source: str
    start: int
    end: int
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    # The (start, end) offsets of the sentences the passage is made of, in order.
    sentence_spans: tuple[tuple[int, int], ...] = ()

    @property
    def id(self) -> str:
        return stable_id(self.doc_id, self.start, self.end, self.text)

    def sentences(self) -> list[Sentence]:
        return [
            Sentence(self.doc_id, self.source, a, b, self.text[a - self.start : b - self.start])
            for a, b in self.sentence_spans
        ]


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document, the unit that is embedded and cited."""

    doc_id: str
    source: str
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return _sentence_id(self.doc_id, self.start, self.end, self.text)


@lru_cache(maxsize=1 << 16)
def _sentence_id(doc_id: str, start: int, end: int, text: str) -> str:
    # Every question looks up the vectors of a hundred sentences by id, mostly the same ones again: hash once.
    return stable_id("s", doc_id, start, end, text)


@dataclass(frozen=True)
class ScoredPassage:
    passage: Passage
    score: float

    def to_json(self) -> dict[str, Any]:
        p = self.passage
        return {
            "source": p.source,
            "doc_id": p.doc_id,
            "start": p.start,
            "end": p.end,
            "score": round(float(self.score), 6),
            "text": p.text,
        }


_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def calendar_date(text: str) -> dt.date:
    """The date `text` writes as YYYY-MM-DD (or YYYYMMDD); ValueError saying why it is none ("2022-02-30")."""
    m = _DATE.fullmatch(text)
    if m is None:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}")
    try:
        return dt.date(*map(int, m.groups()))
    except ValueError as e:  # month 13, February 30th: shaped like a date, but no day of the calendar
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r} ({e})") from None


def date_number(date: str | None) -> int | None:
    """YYYY-MM-DD (or YYYYMMDD) as the number YYYYMMDD; None when it is not a date."""
    digits = (date or "").replace("-", "")[:8]
    return int(digits) if len(digits) == 8 and digits.isdigit() else None


@dataclass(frozen=True)
class Filters:
    """Which documents a question may be answered from; empty means all.

    A bound that is no calendar date, or a range that ends before it starts, is a ValueError naming the field:
    it would otherwise exclude every article and look like an answer the articles do not hold.
    """

    sources: tuple[str, ...] = ()
    # Inclusive ISO dates (YYYY-MM-DD) compared with each document's `date` metadata.
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        bounds: dict[str, dt.date] = {}
        for name in ("date_from", "date_to"):
            if value := getattr(self, name):
                try:
                    bounds[name] = calendar_date(value)
                except ValueError as e:
                    raise ValueError(f"{name}: {e}") from None
        if len(bounds) == 2 and bounds["date_from"] > bounds["date_to"]:
            raise ValueError(f"date_to: {self.date_to} is before date_from {self.date_from}")

    def date_numbers(self) -> tuple[int | None, int | None]:
        """The bounds (already checked) as YYYYMMDD numbers, as the index keeps document dates; None: unbounded."""
        return date_number(self.date_from), date_number(self.date_to)

    def __bool__(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to)


@dataclass(frozen=True)
class Citation:
    """An exact, checkable span of a source that supports (part of) an answer."""

    n: int
    source: str
    doc_id: str
    start: int
    end: int
    text: str
    # Every citation we emit has been located in its source; `match` says how the quote was found there:
    # "exact", "normalized" (case, white space, quote marks) or "fuzzy" (a few characters differ).
    verified: bool = True
    match: str = "exact"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# How every abstention opens: the chat shows it once, as its label.
NOT_SAID = "The articles do not say."


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[ScoredPassage] = field(default_factory=list)
    resolved_question: str | None = None
    # Which backend wrote `text`: "extractive", "llamacpp" or "openai".
    backend: str = "extractive"
    # Why the answer is not what was asked for, e.g. the model was unreachable and the extractive answer is shown.
    note: str | None = None
    # Sentences of a generated answer that no verified citation supports (marked "[unsupported]" in `text`).
    unsupported: list[str] = field(default_factory=list)
    # The precise thing asked for (a name, date, number...) inside citation [1], when it could be located,
    # and its [start, end) in that citation's document (so `short_answer` is the document's text there).
    short_answer: str | None = None
    short_span: tuple[int, int] | None = None
    # How well the best sentence found supports the question: the evidence score that `Settings.min_score`
    # is compared with (None when no passage was found).
    support: float | None = None
    # The reader's confidence in its best span: start + end logits minus its no-answer score, which
    # `Settings.reader_min_margin` is compared with (None without a reader, or when it read nothing).
    margin: float | None = None
    # The filters excluded every article: nothing was searched, whatever the question.
    no_matching_articles: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "backend": self.backend,
            "citations": [c.to_json() for c in self.citations],
            "unsupported": self.unsupported,
            "passages": [p.to_json() for p in self.passages],
        }
        if self.resolved_question is not None:
            out["resolved_question"] = self.resolved_question
        if self.note is not None:
            out["note"] = self.note
        if self.short_answer is not None:
            out["short_answer"] = self.short_answer
        if self.short_span is not None:
            out["short_answer_span"] = {"start": self.short_span[0], "end": self.short_span[1]}
        if self.support is not None:
            out["support"] = round(self.support, 4)
        if self.no_matching_articles:
            out["no_matching_articles"] = True
        return out


def is_url(source: object) -> bool:
    """Whether a target or source is a web address (http or https) rather than a path."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def counted(n: int, noun: str) -> str:
    """A count with its noun in the right number, "1 document" or "2 documents" (for nouns whose plural adds -s)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass
class IngestReport:
    """What one ingest call did, per file: added, unchanged (already indexed) or failed (with why); and the files
    of unsupported types that a folder held, which were not read."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    passages: int = 0
    skipped: list[str] = field(default_factory=list)
    # How a source was read or why it was left out, where that is not plain (web pages and feed entries).
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        line = (
            f"{len(self.added)} added, {len(self.unchanged)} unchanged, "
            f"{len(self.failed)} failed ({counted(self.passages, 'passage')} added)"
        )
        if self.skipped:
            types = sorted({_file_type(source) for source in self.skipped})
            kinds = "type" if len(types) == 1 else "types"
            line += f"; skipped {counted(len(self.skipped), 'file')} of unsupported {kinds} ({', '.join(types)})"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "unchanged": self.unchanged,
            "failed": [{"source": s, "reason": r} for s, r in self.failed],
            "skipped": self.skipped,
            "notes": self.notes,
            "passages": self.passages,
            "summary": self.summary(),
        }

    def lines(self, chosen: Callable[[str], bool]) -> list[str]:
        """A line for each added or unchanged source that `chosen` picks (the web pages of an ingest, say), and for
        each failure."""

        def line(kind: str, source: str) -> str:
            return f"{kind}: {source}" + (f" ({self.notes[source]})" if source in self.notes else "")

        out = [line("added", s) for s in self.added if chosen(s)]
        out += [line("unchanged", s) for s in self.unchanged if chosen(s)]
        return out + [f"failed: {s}: {r}" for s, r in self.failed]


def _file_type(path: str) -> str:
    """A file's extension as its type (".docx"), or "no extension"."""
    return PurePath(path).suffix.lower() or "no extension"
