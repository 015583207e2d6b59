"""Cited answers without an LLM: the sentences of the retrieved passages that best answer the question."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from assistant.settings import Settings
from assistant.store import Store
from assistant.text import fold, terms, words
from assistant.types import Answer, Citation, ScoredPassage, Sentence

ABSTAIN_TEXT = "The articles do not say. None of the passages found answers this question closely enough."
# How much a sentence's share of the question's content words adds to its cosine similarity.
LEXICAL_WEIGHT = 0.3
# Extra sentences join the answer only when they score almost as well as the best one.
EXTRA_SENTENCE_MARGIN = 0.12
_EXPLANATORY = {"why", "how"}
_QUANTITY = {"many", "much", "long", "old", "far"}


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    score: float
    similarity: float


def wants_explanation(question: str) -> bool:
    """Why/how questions (but not "how many"/"how long") are answered with up to a few sentences."""
    ws = [fold(w) for w in words(question)]
    return bool(ws) and ws[0] in _EXPLANATORY and not (len(ws) > 1 and ws[0] == "how" and ws[1] in _QUANTITY)


class ExtractiveAnswerer:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def score_sentences(self, question: str, vector: np.ndarray, passages: list[ScoredPassage]) -> list[ScoredSentence]:
        """Every distinct sentence of the passages, scored against the question, best first."""
        unique: dict[tuple[str, int, int], Sentence] = {}
        for sp in passages:
            for s in sp.passage.sentences():
                unique.setdefault((s.doc_id, s.start, s.end), s)
        sentences = list(unique.values())
        if not sentences:
            return []
        similarities = self.store.sentence_vectors(sentences) @ np.asarray(vector, dtype=np.float32)
        asked = set(terms(question))
        scored = []
        for s, sim in zip(sentences, similarities):
            overlap = len(asked & set(terms(s.text))) / len(asked) if asked else 0.0
            scored.append(ScoredSentence(s, float(sim) + LEXICAL_WEIGHT * overlap, float(sim)))
        return sorted(scored, key=lambda x: -x.score)

    def answer(self, question: str, vector: np.ndarray, passages: list[ScoredPassage]) -> Answer:
        ranked = self.score_sentences(question, vector, passages)
        if not ranked or ranked[0].score < self.settings.min_score:
            return Answer(question, ABSTAIN_TEXT, abstained=True, passages=passages)
        limit = self.settings.max_answer_sentences if wants_explanation(question) else 1
        chosen = [s for s in ranked[:limit] if s.score >= ranked[0].score - EXTRA_SENTENCE_MARGIN]
        return cite(question, [c.sentence for c in chosen], passages)


def answer_pieces(answer: Answer) -> Iterator[str]:
    """The answer's text cut into word-sized pieces, for streaming; they join back to `answer.text`."""
    yield from re.findall(r"\S+\s*|\s+", answer.text)


def cite(question: str, sentences: list[Sentence], passages: list[ScoredPassage]) -> Answer:
    """An answer made of these sentences in document order, each followed by its citation marker."""
    ordered = sorted(sentences, key=lambda s: (s.source, s.start))
    citations = [Citation(n, s.source, s.doc_id, s.start, s.end, s.text) for n, s in enumerate(ordered, start=1)]
    text = " ".join(f"{c.text} [{c.n}]" for c in citations)
    return Answer(question, text, abstained=False, citations=citations, passages=passages)
