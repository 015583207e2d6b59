"""The local passage cache: what retrieval reads instead of Chroma's records, always equal to them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.store import passage_from, unpack_vectors
from assistant.store.passage_cache import PassageCache
from tests.conftest import write


@pytest.fixture
def bot(make_assistant: Callable[..., Assistant], tmp_path: Path) -> Assistant:
    lines = [
        json.dumps({"text": f"Story {i} is about the {topic}. The {topic} report {i} adds more detail. " * 3})
        for i, topic in enumerate(["ferry", "harvest", "museum", "election"])
    ]
    bot = make_assistant()
    assert bot.ingest([write(tmp_path / "news.jsonl", "\n".join(lines))], progress=False).ok
    return bot


def chroma_records(bot: Assistant) -> dict[str, tuple[object, np.ndarray]]:
    """Every passage and its sentence vectors as Chroma holds them."""
    got = bot.store.passages.get(include=["documents", "metadatas"])
    return {
        pid: (passage_from(text, meta), unpack_vectors(str(meta["sentence_vectors"]), bot.store.dimension))
        for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def cache_of(bot: Assistant) -> PassageCache:
    return bot.store._cache


def test_ingest_writes_every_passage_and_sentence_to_the_cache(bot: Assistant) -> None:
    records = chroma_records(bot)
    cached = cache_of(bot).passages(list(records))
    assert set(cached) == set(records)
    for pid, (passage, vectors) in records.items():
        text, meta, cached_vectors = cached[pid]
        assert passage_from(text, meta) == passage
        assert np.array_equal(cached_vectors, vectors)
    sentences = bot.store.sentences.get(include=["metadatas"])
    spans = cache_of(bot).sentence_spans(sentences["ids"])
    metas = dict(zip(sentences["ids"], sentences["metadatas"], strict=True))
    assert spans == {sid: (m["doc_id"], m["start"], m["end"]) for sid, m in metas.items()}


def test_retrieval_returns_the_same_passages_as_chroma_holds(bot: Assistant) -> None:
    records = chroma_records(bot)
    assert bot.store.get_passages(list(records)) == {pid: p for pid, (p, _) in records.items()}
    vector = bot.embed_question("news about the harvest")
    spans = bot.store.nearest_sentence_spans(vector, 100)
    raw = bot.store.sentences.query(query_embeddings=[vector], n_results=100, include=["metadatas", "distances"])
    hits = zip(raw["metadatas"][0], raw["distances"][0], strict=True)
    expected = [(m["doc_id"], m["start"], m["end"], 1.0 - d) for m, d in hits]
    assert [s[:3] for s in spans] == [e[:3] for e in expected]
    assert [s[3] for s in spans] == pytest.approx([e[3] for e in expected])


def test_rows_the_cache_lacks_are_read_from_chroma_and_kept(bot: Assistant) -> None:
    records = chroma_records(bot)
    doc_ids = sorted({p.doc_id for p, _ in records.values()})
    cache_of(bot).remove_documents(doc_ids)
    assert cache_of(bot).passages(list(records)) == {}
    assert bot.store.get_passages(list(records)) == {pid: p for pid, (p, _) in records.items()}
    assert set(cache_of(bot).passages(list(records))) == set(records)


def test_an_index_written_without_the_cache_is_copied_in_once(bot: Assistant, tmp_path: Path) -> None:
    records = chroma_records(bot)
    cache_of(bot)._db.close()
    for path in (tmp_path / "index").glob("passage-cache.sqlite3*"):
        path.unlink()
    reopened = Assistant(settings=bot.settings)
    cached = cache_of(reopened).passages(list(records))
    assert cache_of(reopened).filled and set(cached) == set(records)
    assert reopened.retrieve("news about the harvest", k=2)


def test_deleting_a_document_drops_its_rows(bot: Assistant, tmp_path: Path) -> None:
    records = chroma_records(bot)
    gone = next(p for p, _ in records.values())
    assert bot.delete(gone.source) == 1
    left = cache_of(bot).passages(list(records))
    assert left and all(passage_from(t, m).doc_id != gone.doc_id for t, m, _ in left.values())
    assert all(p.doc_id != gone.doc_id for p in bot.store.get_passages(list(records)).values())
