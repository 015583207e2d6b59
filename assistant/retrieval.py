"""Finding the passages that may answer a question."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from assistant.store import Store
from assistant.types import Filters, ScoredPassage


class Retriever(Protocol):
    def retrieve(
        self, question: str, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> list[ScoredPassage]: ...


class DenseRetriever:
    """Nearest passages by cosine similarity of their embeddings to the question's."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def retrieve(
        self, question: str, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> list[ScoredPassage]:
        return [ScoredPassage(p, score) for p, score in self.store.query_passages(vector, k, filters)]
