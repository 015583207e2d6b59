"""The base's postings and the exact scoring of base + delta - tombstones, against bm25s itself."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from assistant.store.bm25 import Base, Segments, idf

WORDS = "tide harbour ferry storm pier lighthouse gull anchor dune reef current wreck".split()


def _passages(seed: int, count: int) -> list[list[str]]:
    """Term lists of very different lengths, with repeats and the odd empty passage."""
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.choice([0, 1, 3, 8, 25, 60]))] for _ in range(count)]


def test_postings_hold_each_terms_rows_and_counts_in_the_layout_of_bm25s() -> None:
    passages = _passages(1, 40)
    base = Base.build(passages)
    scores = base.bm25.scores
    assert np.array_equal(base.indptr, scores["indptr"]) and np.array_equal(base.rows, scores["indices"])
    for term, j in base.vocab.items():
        span = slice(base.indptr[j], base.indptr[j + 1])
        got = dict(zip(base.rows[span].tolist(), base.tf[span].tolist(), strict=True))
        assert got == {i: Counter(p)[term] for i, p in enumerate(passages) if term in p}
    assert base.lengths().tolist() == [len(p) for p in passages]


def test_saved_base_loads_memory_mapped_and_scores_the_same(tmp_path: Path) -> None:
    base = Base.build(_passages(2, 30))
    base.save(tmp_path / "base")
    loaded = Base.load(tmp_path / "base")
    assert isinstance(loaded.rows, np.memmap) and loaded.vocab == base.vocab
    assert all(np.array_equal(getattr(loaded, name), getattr(base, name)) for name in ("tokens", "rows", "tf"))
    query = ["storm", "pier", "storm"]
    assert np.allclose(Segments(loaded).scores(query), base.bm25.get_scores(query))


@pytest.mark.parametrize("query", [["tide"], ["storm", "reef"], ["gull", "gull", "anchor"], ["wreck", "unknown"]])
def test_base_plus_delta_minus_tombstones_scores_like_a_fresh_bm25s_index(query: list[str]) -> None:
    first, more = _passages(3, 50), _passages(4, 20) + [["kelp", "tide", "kelp"]]
    segments = Segments(Base.build(first))
    segments.add(more)
    killed = {0, 7, 13, 49, 52, 60}  # in the base and in the delta
    segments.kill(sorted(killed))
    segments.kill([7])  # killing twice changes nothing
    live = [p for i, p in enumerate(first + more) if i not in killed]
    fresh = Base.build(live).bm25

    got = segments.scores(query)
    assert np.all(got[sorted(killed)] == 0)
    assert np.allclose(np.delete(got, sorted(killed)), fresh.get_scores(query), rtol=1e-5, atol=1e-7)
    for term in [*WORDS, "kelp", "unknown"]:
        df = sum(term in p for p in live)
        assert segments.df(term) == df
        assert segments.idf(term) == pytest.approx(float(idf(df, len(live))))
    assert segments.live == len(live) and segments.changed == len(more) + len(killed)
    assert segments.live_tokens() == live


def test_an_empty_base_takes_a_delta() -> None:
    segments = Segments(Base.build([]))
    assert len(segments) == 0 and segments.scores(["tide"]).size == 0
    segments.add([["tide", "ferry"], []])
    assert segments.scores(["tide"])[0] > 0 and segments.scores(["tide"])[1] == 0
