"""BM25 over a base segment indexed by bm25s plus the passages added and removed since, scored as one index.

bm25s scores eagerly: every (term, passage) score is fixed at indexing time with the statistics of that
moment (passage count, document frequencies, average length), so adding one passage would mean
re-indexing all of them. Instead, new passages go to a small delta segment and removed ones become
tombstones. While either exists, a query is scored from term frequencies with the current statistics,
which ranks exactly like a fresh bm25s index of the live passages; with neither, bm25s scores it. The
owner folds both into a new base (one bm25s re-index) once they outgrow a share of it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Lucene's BM25 (bm25s's default method and constants): the base and the delta must score alike.
K1, B = 1.5, 0.75
_ARRAYS = ("tokens", "offsets", "indptr", "rows", "tf")


def idf(df: Any, n: int) -> Any:
    """Lucene's smoothed inverse document frequency (bm25s's `lucene` idf), for a number or an array."""
    return np.log1p((n - df + 0.5) / (df + 0.5))


@dataclass
class Base:
    """Passages indexed by bm25s, with their term ids and per-term postings (row, term frequency).

    `tokens[offsets[i]:offsets[i + 1]]` are passage i's term ids; postings of term j are
    `rows[indptr[j]:indptr[j + 1]]` with counts `tf[...]` (the layout of bm25s's score matrix).
    """

    bm25: Any  # bm25s.BM25, None when no passage has a term
    vocab: dict[str, int]
    tokens: np.ndarray
    offsets: np.ndarray
    indptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray

    @classmethod
    def build(cls, passages: Sequence[Sequence[str]]) -> Base:
        import bm25s

        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in row] for row in passages]
        lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        tokens = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(offsets[-1]))
        # Each (term, row) pair once, sorted by term then row, with how often the term occurs there.
        keys = (tokens.astype(np.int64) << 32) | np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
        keys, tf = np.unique(keys, return_counts=True)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys >> 32, minlength=len(vocab)), out=indptr[1:])
        bm25 = None
        if vocab:
            bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
            bm25.index((ids, vocab), create_empty_token=False, show_progress=False)
        rows = (keys & 0xFFFFFFFF).astype(np.int32)
        return cls(bm25, vocab, tokens, offsets, indptr, rows, tf.astype(np.int32))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.bm25 is not None:
            self.bm25.save(str(folder / "bm25"), show_progress=False)
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> Base:
        import bm25s

        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True) if len(arrays["indptr"]) > 1 else None
        return cls(bm25, dict(bm25.vocab_dict) if bm25 is not None else {}, **arrays)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets).astype(np.float64)

    def df(self) -> np.ndarray:
        return np.diff(self.indptr)


class Segments:
    """The base, plus rows appended since (delta), minus rows killed since (tombstones).

    Rows are numbered base first, then delta, in the order they were added; killed rows keep their
    number (and score 0) until the owner compacts.
    """

    def __init__(self, base: Base) -> None:
        self.base = base
        self._terms = sorted(base.vocab, key=base.vocab.__getitem__)
        self._base_df = base.df()
        self.delta: list[list[str]] = []
        self._postings: dict[str, tuple[list[int], list[int]]] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.alive = np.ones(len(base), dtype=bool)
        self.lengths = base.lengths()
        self._live_length = float(self.lengths.sum())
        self._df_change: Counter[str] = Counter()
        self.dead = 0

    def __len__(self) -> int:
        """Rows, killed ones included."""
        return len(self.base) + len(self.delta)

    @property
    def live(self) -> int:
        return len(self) - self.dead

    @property
    def changed(self) -> int:
        """Rows added or killed since the base was indexed: what a compaction would fold in."""
        return len(self.delta) + self.dead

    # -- writes -------------------------------------------------------------------------------

    def add(self, passages: Iterable[list[str]]) -> None:
        lengths = []
        for tokens in passages:
            row = len(self)
            self.delta.append(tokens)
            for term, count in Counter(tokens).items():
                rows, tfs = self._postings.setdefault(term, ([], []))
                rows.append(row)
                tfs.append(count)
                self._df_change[term] += 1
            lengths.append(len(tokens))
        if lengths:
            self.alive = np.concatenate([self.alive, np.ones(len(lengths), dtype=bool)])
            self.lengths = np.concatenate([self.lengths, np.asarray(lengths, dtype=np.float64)])
            self._live_length += sum(lengths)
            self._arrays.clear()

    def kill(self, rows: Iterable[int]) -> None:
        for row in rows:
            if not self.alive[row]:
                continue
            self.alive[row] = False
            self.dead += 1
            self._live_length -= self.lengths[row]
            self._df_change.subtract(set(self.tokens(row)))

    # -- reads --------------------------------------------------------------------------------

    def tokens(self, row: int) -> list[str]:
        if row >= len(self.base):
            return self.delta[row - len(self.base)]
        ids = self.base.tokens[self.base.offsets[row] : self.base.offsets[row + 1]]
        return [self._terms[i] for i in ids]

    def live_tokens(self) -> list[list[str]]:
        """The terms of every live row, in row order (what a compaction indexes)."""
        return [self.tokens(int(row)) for row in np.flatnonzero(self.alive)]

    def vocabulary(self) -> list[str]:
        """Every term that some row, live or not, has held (the base's and the delta's)."""
        return self._terms + [t for t in self._postings if t not in self.base.vocab]

    def df(self, term: str) -> int:
        """Live rows that contain the term."""
        j = self.base.vocab.get(term)
        return (int(self._base_df[j]) if j is not None else 0) + self._df_change[term]

    def idf(self, term: str) -> float:
        return float(idf(self.df(term), max(self.live, 1)))

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every row for the query's terms (a repeated term counts again, as in bm25s)."""
        if not self.changed:
            if self.base.bm25 is None:
                return np.zeros(len(self), dtype=np.float32)
            return self.base.bm25.get_scores(query)
        live = self.live
        if not live:
            return np.zeros(len(self))
        # Length normalization with the current average length, as a fresh index would have it.
        norm_at = K1 * (1 - B)
        norm_per_length = K1 * B * live / self._live_length if self._live_length else 0.0
        rows_parts: list[np.ndarray] = []
        weight_parts: list[np.ndarray] = []
        for term, count in Counter(query).items():
            df = self.df(term)
            if df <= 0:
                continue
            weight = count * float(idf(df, live))
            for rows, tf in self._postings_of(term):
                rows_parts.append(rows)
                weight_parts.append(weight * tf / (tf + (norm_at + norm_per_length * self.lengths[rows])))
        if not rows_parts:
            return np.zeros(len(self))
        scores = np.bincount(np.concatenate(rows_parts), np.concatenate(weight_parts), minlength=len(self))
        if self.dead:
            scores[~self.alive] = 0.0
        return scores

    def _postings_of(self, term: str) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """(rows, term frequencies) of the term in the base and in the delta."""
        j = self.base.vocab.get(term)
        if j is not None:
            span = slice(self.base.indptr[j], self.base.indptr[j + 1])
            yield self.base.rows[span], self.base.tf[span].astype(np.float64)
        if term in self._postings:
            if term not in self._arrays:
                rows, tfs = self._postings[term]
                self._arrays[term] = (np.asarray(rows, dtype=np.int64), np.asarray(tfs, dtype=np.float64))
            yield self._arrays[term]
