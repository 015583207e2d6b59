"""Finding the passages that may answer a question: dense, BM25, or both fused, then reranked.

Hybrid retrieval fuses the rankings of up to three branches with reciprocal rank fusion (RRF): BM25,
dense sentence search (a passage ranks by its best sentence) and dense passage search (off by default:
`weight_dense` is 0, and a branch of weight 0 does not run). The branches are independent and run one after
another, or side by side with `retrieval_threads` > 1. The question's vector may still be being computed
when retrieval starts (a `Future`): BM25, which needs only the words, runs meanwhile, so the embedding's
time on one core overlaps BM25's on the other. Filters apply to every branch without Chroma's `where`
(which is 30-50x slower): BM25 ranks only allowed rows, the passage branch asks the store with the rows
the catalog allows, and the sentence branch scores a narrow filter's passages exactly from the sentence
vectors their records carry, or over-fetches for a broad one, falling back to `where` only when too few
survive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Protocol

import numpy as np

from assistant.rerank import Reranker
from assistant.settings import Settings
from assistant.store import Store
from assistant.store.lexical import LexicalIndex
from assistant.types import Filters, Passage, ScoredPassage

# The filtered sentence branch asks Chroma for at most this many results before falling back to `where`.
MAX_OVERFETCH = 1000

# The question's embedding, or its computation under way.
Vector = np.ndarray | Future[np.ndarray]


def ready(vector: Vector) -> np.ndarray:
    """The embedding itself, waiting for it if it is still being computed."""
    return vector.result() if isinstance(vector, Future) else vector


class NoMatchingArticles(LookupError):
    """The filters exclude every article: there is nothing to search, whatever the question."""

    def __init__(self) -> None:
        super().__init__("No article matches these filters.")


class Retriever(Protocol):
    def retrieve(self, question: str, vector: Vector, k: int, filters: Filters | None = None) -> list[ScoredPassage]:
        """The passages most likely to answer, best first; NoMatchingArticles when `filters` allow none."""
        ...

    def close(self) -> None:
        """Stop the threads it started, if any."""
        ...


class DenseRetriever:
    """Nearest passages by cosine similarity of their embeddings to the question's."""

    def __init__(self, store: Store, lexical: LexicalIndex) -> None:
        self.store = store
        self.lexical = lexical  # its catalog decides the filters

    def close(self) -> None:
        pass

    def retrieve(self, question: str, vector: Vector, k: int, filters: Filters | None = None) -> list[ScoredPassage]:
        self.lexical.refresh(self.store, check_store=False)
        found = self.store.query_passages(ready(vector), k, self.lexical.allowed(filters))
        if filters and not found:  # a filtered search returns its k nearest among the allowed: none are
            raise NoMatchingArticles
        return [ScoredPassage(p, score) for p, score in found]


def rrf(rankings: Iterable[tuple[float, list[str]]], k: int) -> dict[str, float]:
    """Reciprocal rank fusion: each (weight, ranked ids) adds weight / (k + rank) to its ids (rank from 1)."""
    fused: dict[str, float] = {}
    for weight, ids in rankings:
        for rank, pid in enumerate(ids, start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return fused


def mmr(vectors: np.ndarray, relevance: np.ndarray, k: int, lam: float) -> list[int]:
    """Maximal marginal relevance: pick k rows trading relevance against similarity to those already picked."""
    chosen: list[int] = []
    rest = list(range(len(relevance)))
    sims = vectors @ vectors.T
    while rest and len(chosen) < k:

        def value(i: int) -> float:
            redundancy = max((float(sims[i, j]) for j in chosen), default=0.0)
            return lam * float(relevance[i]) - (1 - lam) * redundancy

        best = max(rest, key=value)
        chosen.append(best)
        rest.remove(best)
    return chosen


class HybridRetriever:
    """BM25 + dense sentence (+ dense passage) branches, fused with RRF, reranked, optionally diversified."""

    def __init__(
        self, store: Store, lexical: LexicalIndex, settings: Settings, reranker: Reranker | None = None
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.settings = settings
        self.reranker = reranker
        self._checked = time.monotonic()
        self._pool = (
            ThreadPoolExecutor(max_workers=settings.retrieval_threads, thread_name_prefix="retrieval")
            if settings.retrieval_threads > 1
            else None
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _fresh(self) -> None:
        """Follow writes by other processes; against a shared server, check the store now and then."""
        due = bool(self.settings.chroma_url) and time.monotonic() - self._checked > self.settings.lexical_check_seconds
        self.lexical.refresh(self.store, check_store=due)
        if due:
            self._checked = time.monotonic()

    def retrieve(self, question: str, vector: Vector, k: int, filters: Filters | None = None) -> list[ScoredPassage]:
        self._fresh()
        s = self.settings
        if s.retrieval not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"retrieval must be dense, bm25 or hybrid, not {s.retrieval!r}")
        mask = self.lexical.mask(filters)
        if mask is not None and not mask.any():
            raise NoMatchingArticles
        known: dict[str, Passage] = {}
        branches: list[tuple[float, Callable[[], list[str]]]] = []
        # BM25 first: it needs no vector, so it runs while the question is still being embedded.
        if s.retrieval in ("hybrid", "bm25"):
            branches.append((s.weight_bm25, partial(self._bm25, question, mask)))
        if s.retrieval in ("hybrid", "dense"):
            branches.append((s.weight_dense, partial(self._dense_passages, vector, filters, mask, known)))
        if s.retrieval == "hybrid":
            branches.append((s.weight_sentence, partial(self._dense_sentences, vector, mask)))
        # A branch that adds nothing to the fused scores is not run; a single mode runs its branch whatever its weight.
        if len(branches) > 1:
            branches = [(weight, branch) for weight, branch in branches if weight > 0]
        fused = rrf(self._run(branches), s.rrf_k)
        # Reranking and MMR choose among more candidates than they keep.
        depth = max(k, s.rerank_candidates) if (s.rerank and self.reranker) or s.mmr else k
        top = sorted(fused, key=lambda pid: -fused[pid])[:depth]
        known.update(self.store.get_passages([pid for pid in top if pid not in known]))
        candidates = [ScoredPassage(known[pid], fused[pid]) for pid in top if pid in known]
        if s.rerank and self.reranker is not None:
            candidates = self.reranker.rerank(question, ready(vector), candidates)
        if s.mmr and len(candidates) > k:
            return self._diversify(candidates, k)
        return candidates[:k]

    def _run(self, branches: list[tuple[float, Callable[[], list[str]]]]) -> list[tuple[float, list[str]]]:
        """Each branch's ranking, computed in the calling thread or side by side in the pool."""
        if self._pool is None:
            return [(weight, branch()) for weight, branch in branches]
        futures = [(weight, self._pool.submit(branch)) for weight, branch in branches]
        return [(weight, future.result()) for weight, future in futures]

    def _bm25(self, question: str, mask: np.ndarray | None) -> list[str]:
        return [pid for pid, _ in self.lexical.search(question, self.settings.branch_k, mask)]

    def _dense_passages(
        self, vector: Vector, filters: Filters | None, mask: np.ndarray | None, known: dict[str, Passage]
    ) -> list[str]:
        n, vector = self.settings.branch_k, ready(vector)
        if mask is None:
            # Ids only: the few passages that survive fusion are fetched once, afterwards.
            return [pid for pid, _ in self.store.nearest_passage_ids(vector, n)]
        # Filtered by the catalog (exact scoring or over-fetching), not by Chroma's `where`.
        hits = [(p.id, p) for p, _ in self.store.query_passages(vector, n, self.lexical.allowed(filters))]
        kept = [(pid, p) for pid, p in hits if self.lexical.allows(pid, mask)]
        known.update(kept)
        return [pid for pid, _ in kept]

    def _dense_sentences(self, vector: Vector, mask: np.ndarray | None) -> list[str]:
        n, vector = self.settings.branch_k, ready(vector)
        if mask is not None and int(mask.sum()) <= self.settings.filter_exact_passages:
            # Few passages allowed: score their sentences exactly from the vectors their records carry.
            best = self.store.best_sentence_scores(vector, self.lexical.allowed_ids(mask))
            return sorted(best, key=lambda pid: -best[pid])[:n]
        hits = self.store.nearest_sentence_spans(vector, self._fetch(n, mask))
        ranked = self._sentence_passages(hits, mask)
        if mask is not None and len(ranked) < n and len(hits) < len(self.lexical):
            hits = self.store.nearest_sentence_spans(vector, n, doc_ids=sorted(self.lexical.allowed_docs(mask)))
            ranked = self._sentence_passages(hits, mask)
        return ranked[:n]

    def _sentence_passages(self, hits: list[tuple[str, int, int, float]], mask: np.ndarray | None) -> list[str]:
        """Passages in the order of their best sentence."""
        out: dict[str, None] = {}
        for doc_id, start, end, _ in hits:
            for pid in self.lexical.passages_covering(doc_id, start, end):
                if self.lexical.allows(pid, mask):
                    out.setdefault(pid)
        return list(out)

    def _fetch(self, n: int, mask: np.ndarray | None) -> int:
        """How many nearest neighbours to ask for so that about `n` pass the filter."""
        if mask is None:
            return n
        share = max(float(mask.mean()), 1e-6)
        return int(min(MAX_OVERFETCH, max(n, np.ceil(2 * n / share))))

    def _diversify(self, candidates: list[ScoredPassage], k: int) -> list[ScoredPassage]:
        ids = [sp.passage.id for sp in candidates]
        vectors = self.store.passage_vectors(ids)
        scores = np.asarray([sp.score for sp in candidates], dtype=np.float32)
        # Relevance relative to the best candidate, on the same 0..1 footing as cosine redundancy.
        order = mmr(vectors, scores / (float(np.abs(scores).max()) or 1.0), k, self.settings.mmr_lambda)
        return [candidates[i] for i in order]
