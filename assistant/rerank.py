"""Reranking the fused candidates: our own evidence signals by default, a local cross-encoder when configured.

Set `ASSISTANT_RERANKER` to a local sentence-transformers CrossEncoder folder to use it; models are
loaded by `assistant.models.cross_encoder` only, and never downloaded.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from assistant.answer_types import question_type
from assistant.evidence import EvidenceScorer
from assistant.models.cross_encoder import CrossEncoderModel, get_cross_encoder
from assistant.settings import Settings
from assistant.types import ScoredPassage

# The fused rank keeps a small say after reranking, so ties fall back to retrieval's order.
PRIOR_WEIGHT = 0.1


class Reranker(Protocol):
    def rerank(self, question: str, vector: np.ndarray, passages: list[ScoredPassage]) -> list[ScoredPassage]: ...


def _prior(n: int) -> np.ndarray:
    """1 for the first candidate down towards 0 for the last."""
    return 1.0 - np.arange(n, dtype=np.float32) / max(n, 1)


def _resort(passages: list[ScoredPassage], scores: np.ndarray) -> list[ScoredPassage]:
    order = sorted(range(len(passages)), key=lambda i: -scores[i])
    return [ScoredPassage(passages[i].passage, float(scores[i])) for i in order]


class EvidenceReranker:
    """A passage scores as its best sentence's evidence (similarity, question-word coverage, answer type)."""

    def __init__(self, scorer: EvidenceScorer) -> None:
        self.scorer = scorer

    def rerank(self, question: str, vector: np.ndarray, passages: list[ScoredPassage]) -> list[ScoredPassage]:
        if not passages:
            return []
        sentences = [s for sp in passages for s in sp.passage.sentences()]
        ranked = self.scorer.score(question, vector, question_type(question), sentences)
        best: dict[tuple[str, int], float] = {}
        for sp in passages:
            p = sp.passage
            best[(p.doc_id, p.start)] = max(
                (r.score for r in ranked if r.sentence.doc_id == p.doc_id and p.start <= r.sentence.start < p.end),
                default=0.0,
            )
        scores = np.asarray([best[(sp.passage.doc_id, sp.passage.start)] for sp in passages], dtype=np.float32)
        return _resort(passages, scores + PRIOR_WEIGHT * _prior(len(passages)))


class CrossEncoderReranker:
    """Scores (question, passage) pairs with a cross-encoder model read from a local folder."""

    def __init__(self, model: CrossEncoderModel) -> None:
        self.model = model

    def rerank(self, question: str, vector: np.ndarray, passages: list[ScoredPassage]) -> list[ScoredPassage]:
        if not passages:
            return []
        scores = self.model.predict([(question, sp.passage.text) for sp in passages])
        return _resort(passages, np.asarray(scores, dtype=np.float32))


def make_reranker(settings: Settings, scorer: EvidenceScorer) -> Reranker:
    if settings.reranker:
        return CrossEncoderReranker(get_cross_encoder(settings.reranker))
    return EvidenceReranker(scorer)
