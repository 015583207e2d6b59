"""The store: filtered search strategies, crash recovery, the recorded model, the write lock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.ingest.splitter import split_document
from assistant.settings import Settings
from assistant.store import ModelMismatchError, Store, where_clause
from assistant.store.lexical import filter_mask, source_files
from assistant.types import Document, Filters
from tests.conftest import write

TOPICS = ["ferry", "election", "harvest", "museum"]


@pytest.fixture
def news(tmp_path: Path) -> Path:
    lines = []
    for i in range(24):
        topic = TOPICS[i % 4]
        text = f"Article {i} is about the {topic}. " + f"The {topic} story number {i} continues with details. " * 8
        lines.append(json.dumps({"text": text, "date": f"20{10 + i % 12}-06-15"}))
    return write(tmp_path / "news.jsonl", "\n".join(lines))


# (exact limit, over-fetch limit): which strategy answers, from exact numpy scoring to Chroma's `where`.
STRATEGIES = {"exact": (10_000, 300), "overfetch": (0, 10_000), "chroma-where": (0, 0)}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize(
    "filters",
    [Filters(date_from="2014-01-01", date_to="2016-12-31"), Filters(date_from="2011-01-01"), Filters(sources=("x",))],
    ids=["date-range", "from-date", "sources"],
)
def test_filtered_search_strategies_agree(
    strategy: str, filters: Filters, news: Path, make_assistant: Callable[..., Assistant]
) -> None:
    exact_limit, overfetch_limit = STRATEGIES[strategy]
    bot = make_assistant(filter_exact_passages=exact_limit, filter_overfetch_limit=overfetch_limit)
    bot.ingest([news], progress=False)
    if filters.sources:
        filters = Filters(sources=(f"{news}#3", f"{news}#8"))
    reference = make_assistant("reference", filter_exact_passages=10_000)
    reference.ingest([news], progress=False)
    vector = bot.embed_question("news about the harvest")
    everything = reference.store.query_passages(vector, 1000)
    allowed = [(p, s) for p, s in everything if _allows(filters, p.source, p.metadata.get("date", ""))]
    got = bot.store.query_passages(vector, 5, bot.lexical.allowed(filters))
    assert got and all(_allows(filters, p.source, p.metadata.get("date", "")) for p, _ in got)
    assert [p.id for p, _ in got] == [p.id for p, _ in allowed[:5]]
    assert [s for _, s in got] == pytest.approx([s for _, s in allowed[:5]], abs=1e-4)


def _allows(filters: Filters, source: str, date: str) -> bool:
    return (
        (not filters.sources or source in filters.sources)
        and (not filters.date_from or date >= filters.date_from)
        and (not filters.date_to or date <= filters.date_to)
    )


def test_a_filter_matching_nothing_returns_nothing(news: Path, make_assistant: Callable[..., Assistant]) -> None:
    bot = make_assistant()
    bot.ingest([news], progress=False)
    assert bot.retrieve("harvest", filters=Filters(date_from="2030-01-01")) == []
    assert bot.retrieve("harvest", filters=Filters(sources=("no-such-file.txt",))) == []


def test_filtered_dense_search_follows_writes_from_another_process(
    news: Path, make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    reader = make_assistant(retrieval="dense", rerank=False, filter_exact_passages=0, filter_overfetch_limit=0)
    reader.ingest([news], progress=False)
    year = Filters(date_from="2030-01-01")
    assert reader.retrieve("ferry", filters=year) == []
    assert not (reader.settings.index_dir / "passage-filters.npz").exists()  # one catalog: BM25's

    # Another writer on the same index (a second Assistant, as another process would be).
    writer = make_assistant(filter_exact_passages=10_000)
    late = write(tmp_path / "late.jsonl", json.dumps({"text": "The ferry returns in spring.", "date": "2030-03-01"}))
    writer.ingest([late], progress=False)
    hits = reader.retrieve("ferry", filters=year)
    assert [sp.passage.text for sp in hits] == ["The ferry returns in spring."]
    writer.delete(f"{late}#1")
    assert reader.retrieve("ferry", filters=year) == []


def test_answers_use_the_sentence_vectors_that_came_with_their_passages(
    news: Path, make_assistant: Callable[..., Assistant]
) -> None:
    bot = make_assistant()
    bot.ingest([news], progress=False)
    passages = bot.retrieve("news about the harvest", k=3)
    sentences = [s for sp in passages for s in sp.passage.sentences()]
    carried = bot.store.sentence_vectors(sentences)
    stored = bot.store.sentences.get(ids=[s.id for s in sentences], include=["embeddings"])
    by_id = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    # float16 in the passage record: the same vectors to about 3 decimals.
    assert np.allclose(carried, [by_id[s.id] for s in sentences], atol=2e-3)
    # Sentences of passages not retrieved lately are still found, in the sentences collection.
    fresh = make_assistant()  # a new store on the same index: nothing retrieved through it yet
    exact = np.asarray([by_id[s.id] for s in sentences], dtype=np.float32)
    assert np.array_equal(fresh.store.sentence_vectors(sentences), exact)


def test_an_interrupted_ingest_is_cleaned_up_on_the_next_write(tmp_path: Path) -> None:
    bot = Assistant(index_dir=tmp_path / "index")
    doc = Document("half", str(tmp_path / "half.txt"), "One sentence here. Another one there.")
    sentences, passages = split_document(doc)
    vectors = bot.embedder.encode([s.text for s in sentences])
    # What a process killed between writing passages and its commit marker leaves behind:
    bot.store.begin([doc])
    bot.store.add(passages, vectors[: len(passages)], sentences, vectors)
    assert bot.store.document("half").status == "pending"
    assert bot.stats()["documents"] == 0

    report = bot.ingest([], progress=False)
    assert report.ok
    assert bot.store.document("half") is None
    assert bot.stats() == {"documents": 0, "passages": 0}


def test_model_name_and_dimension_are_recorded(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    Store(settings, "model-a", 3)
    Store(settings, "model-a", 3)
    with pytest.raises(ModelMismatchError):
        Store(settings, "model-b", 3)


def test_the_hnsw_settings_build_a_new_index_and_set_the_search_breadth_of_an_old_one(tmp_path: Path) -> None:
    def hnsw(store: Store) -> list[tuple[int, int]]:
        configs = [c.configuration_json["hnsw"] for c in (store.passages, store.sentences)]
        return [(c["ef_search"], c["max_neighbors"]) for c in configs]

    built = Settings(index_dir=tmp_path / "index", hnsw_ef_search=150, hnsw_max_neighbors=24)
    assert hnsw(Store(built, "model-a", 3)) == [(150, 24), (150, 24)]
    # Reopened with other settings: the search breadth follows them, the graph's links per node cannot.
    assert hnsw(Store(built.replace(hnsw_ef_search=60, hnsw_max_neighbors=8), "model-a", 3)) == [(60, 24)] * 2
    assert hnsw(Store(built.replace(hnsw_ef_search=60), "model-a", 3)) == [(60, 24)] * 2


def test_where_clause_takes_the_sources_the_catalog_allows() -> None:
    records = ["/n/a.jsonl#1", "/n/a.jsonl#2"]
    assert where_clause(Filters(sources=("/n/a.jsonl",)), records) == {"source": {"$in": records}}
    assert where_clause(Filters(date_from="2022-01-02", date_to="2022-12-31"), []) == {
        "$and": [{"date_num": {"$gte": 20220102}}, {"date_num": {"$lte": 20221231}}]
    }
    with pytest.raises(ValueError, match="not a date"):
        where_clause(Filters(date_from="yesterday"), [])


def test_one_filter_rule_for_files_records_and_dates() -> None:
    sources = np.asarray(["/n/a.txt", "/n/b.jsonl#1", "/n/b.jsonl#2", "/n/c.txt"], dtype=object)
    dates = np.asarray([20220105, 0, 20220301, 20230101])
    files = source_files(sources.tolist())
    assert filter_mask(Filters(sources=("/n/b.jsonl",)), sources, files, dates).tolist() == [0, 1, 1, 0]
    assert filter_mask(Filters(sources=("/n/b.jsonl#2", "/n/a.txt")), sources, files, dates).tolist() == [1, 0, 1, 0]
    assert filter_mask(Filters(date_to="2022-12-31"), sources, files, dates).tolist() == [1, 0, 1, 0]
    # An old table marks "no date" as -1: still no date.
    assert (
        filter_mask(Filters(date_to="2022-12-31"), sources, files, np.asarray([-1, 0, 1, 2])).tolist()
        == [0] * 2 + [1] * 2
    )


def test_sentence_vectors_come_back_in_order(sample_bot: Assistant) -> None:
    passage = sample_bot.retrieve("Nord Stream 2", k=1)[0].passage
    sentences = passage.sentences()
    stored = sample_bot.store.sentence_vectors(list(reversed(sentences)))
    fresh = sample_bot.embedder.encode([s.text for s in reversed(sentences)])
    # Row by row the same sentence (int8 encoding moves a vector slightly with its batch).
    similarity = stored @ fresh.T
    assert all(similarity[i, i] > 0.98 for i in range(len(sentences)))
    assert all(similarity[i, i] == similarity[i].max() for i in range(len(sentences)))


def test_a_second_writer_gets_a_clear_index_in_use_error(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import write

    index = tmp_path / "index"
    bot = Assistant(index_dir=index)
    article = write(tmp_path / "a.txt", "The tram line opened in March.")
    command = [sys.executable, "-m", "assistant", "ingest", str(article), "--index", str(index)]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "ASSISTANT_LOCK_TIMEOUT": "1"}
    with bot.store.write_lock():
        blocked = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert blocked.returncode == 1
    assert "is in use by another process" in blocked.stderr and "Traceback" not in blocked.stderr
    assert bot.stats()["documents"] == 0
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_exact_sentence_scores_match_the_sentence_search(news: Path, make_assistant: Callable[..., Assistant]) -> None:
    bot = make_assistant()
    bot.ingest([news], progress=False)
    vector = bot.embed_question("news about the harvest")
    passages = list(bot.store.iter_passages())
    best = bot.store.best_sentence_scores(vector, [pid for pid, _ in passages])
    spans = bot.store.nearest_sentence_spans(vector, 10_000)
    assert set(best) == {pid for pid, _ in passages}
    for pid, p in passages:
        expected = max(s for d, a, b, s in spans if d == p.doc_id and p.start <= a and b <= p.end)
        # The passage record carries its sentences' vectors as float16.
        assert best[pid] == pytest.approx(expected, abs=2e-3)


ZEBRA = "The zebra sanctuary in Namibia opened in March. Rangers counted forty zebras on the first day."
HERON = "A heron colony nests beside the old mill. Volunteers built twelve nesting platforms."


def _cites(bot: Assistant, question: str, sentence: str) -> bool:
    """The answer cites `sentence`, at its true offsets in its document."""
    answer = bot.ask(question)
    spans = [bot.document_text(c.doc_id)[c.start : c.end] for c in answer.citations]
    return not answer.abstained and sentence in spans and spans == [c.text for c in answer.citations]


@pytest.mark.parametrize(
    ("cache", "named"),
    [
        ("lexical/assistant/manifest.json", "lexical index"),
        ("passage-cache.sqlite3", "passage cache"),
    ],
)
def test_a_damaged_cache_is_rebuilt_from_the_store_and_reported_once(
    cache: str, named: str, make_assistant: Callable[..., Assistant], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    zebra, heron = write(tmp_path / "docs" / "zebra.txt", ZEBRA), write(tmp_path / "docs" / "heron.txt", HERON)
    first = make_assistant()
    assert first.ingest([zebra], progress=False).ok
    first.store._cache._db.close()  # as at the end of a process: nothing left in SQLite's write-ahead log
    damaged = tmp_path / "index" / cache
    damaged.write_bytes(b"\0" * damaged.stat().st_size)  # same length, all NUL bytes

    with caplog.at_level("WARNING", logger="assistant"):
        bot = make_assistant()
        assert _cites(bot, "When did the zebra sanctuary open?", "The zebra sanctuary in Namibia opened in March.")
        assert bot.ingest([heron], progress=False).ok
        assert _cites(bot, "Where does the heron colony nest?", "A heron colony nests beside the old mill.")
        assert bot.delete(str(zebra)) == 1
        only_heron = Filters(sources=(str(heron),))
        assert [sp.passage.source for sp in bot.retrieve("zebra heron", filters=only_heron)] == [str(heron)]
        assert [sp.passage.source for sp in make_assistant().retrieve("zebra sanctuary", k=5)] == [str(heron)]
    reports = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(reports) == 1 and named in reports[0] and "rebuilt from the store" in reports[0]
