"""Hybrid retrieval: fusion, every branch honouring filters, modes, and MMR against reprinted articles."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.retrieval import mmr, rrf
from assistant.types import Filters
from tests.conftest import write

ARTICLES = {
    "lighthouse.txt": "date 2021-03-04\nThe lighthouse keeper retired after forty years. The lamp was automated.",
    "orchard.txt": "date 2022-06-10\nThe orchard harvest doubled this year. Apple growers thanked the mild spring.",
    "ferry.txt": "date 2023-09-01\nThe ferry to the island was cancelled by the storm. Passengers waited at the pier.",
}


@pytest.fixture
def news(make_assistant: Callable[..., Assistant], tmp_path: Path) -> tuple[Assistant, dict[str, Path]]:
    bot = make_assistant()
    paths = {name: write(tmp_path / "news" / name, text) for name, text in ARTICLES.items()}
    assert bot.ingest(list(paths.values()), progress=False).ok
    return bot, paths


def test_rrf_adds_weighted_reciprocal_ranks() -> None:
    fused = rrf([(1.0, ["a", "b"]), (2.0, ["b", "c"])], k=10)
    assert fused == pytest.approx({"a": 1 / 11, "b": 1 / 12 + 2 / 11, "c": 2 / 12})
    assert max(fused, key=fused.__getitem__) == "b"


def test_mmr_skips_a_duplicate() -> None:
    vectors = np.asarray([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert mmr(vectors, np.asarray([1.0, 0.99, 0.5]), 2, lam=0.5) == [0, 2]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_article(news: tuple[Assistant, dict[str, Path]], mode: str) -> None:
    bot, paths = news
    bot = Assistant(settings=bot.settings.replace(retrieval=mode))
    assert bot.retrieve("who retired from the lighthouse?", k=1)[0].passage.source == str(paths["lighthouse.txt"])


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filters_apply_to_every_branch(news: tuple[Assistant, dict[str, Path]], mode: str) -> None:
    bot, paths = news
    bot = Assistant(settings=bot.settings.replace(retrieval=mode))
    query = "lighthouse keeper, orchard harvest, island ferry"
    assert {sp.passage.source for sp in bot.retrieve(query, k=3)} == {str(p) for p in paths.values()}
    only_ferry = Filters(sources=(str(paths["ferry.txt"]),))
    assert {sp.passage.source for sp in bot.retrieve(query, k=3, filters=only_ferry)} == {str(paths["ferry.txt"])}
    recent = bot.retrieve(query, k=3, filters=Filters(date_from="2022-01-01"))
    assert {sp.passage.source for sp in recent} == {str(paths["orchard.txt"]), str(paths["ferry.txt"])}
    old = bot.retrieve(query, k=3, filters=Filters(date_to="2021-12-31"))
    assert {sp.passage.source for sp in old} == {str(paths["lighthouse.txt"])}
    assert bot.retrieve(query, k=3, filters=Filters(sources=("nowhere.txt",))) == []


def test_hybrid_branch_ranks_are_fused(news: tuple[Assistant, dict[str, Path]]) -> None:
    bot, paths = news
    no_rerank = Assistant(settings=bot.settings.replace(rerank=False))
    found = no_rerank.retrieve("orchard apple harvest", k=3)
    assert found[0].passage.source == str(paths["orchard.txt"])
    # Without reranking the scores are RRF sums: at most the sum of the branch weights over (rrf_k + 1).
    s = bot.settings
    assert found[0].score <= (s.weight_dense + s.weight_sentence + s.weight_bm25) / (s.rrf_k + 1) + 1e-9
    assert [sp.score for sp in found] == sorted((sp.score for sp in found), reverse=True)


def test_mmr_keeps_reprints_from_crowding_the_top(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    text = "The river flooded the lower town on Sunday. Families were moved to the school gym."
    paths = [write(tmp_path / f"reprint{i}.txt", text) for i in range(3)]
    other = write(tmp_path / "other.txt", "The town council met on Monday about the flood barriers.")
    # Reranking alone already demotes repeated sentences; MMR is tested without it.
    plain = make_assistant(rerank=False)
    plain.ingest([*paths, other], progress=False)
    top_plain = {sp.passage.source for sp in plain.retrieve("river flooded the town", k=2)}
    assert top_plain <= {str(p) for p in paths}
    diverse = Assistant(settings=plain.settings.replace(mmr=True, mmr_lambda=0.5))
    assert str(other) in {sp.passage.source for sp in diverse.retrieve("river flooded the town", k=2)}


def test_a_jsonl_file_filter_allows_all_its_records(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    records = write(
        tmp_path / "wire.jsonl",
        '{"text": "The glacier retreated by forty metres."}\n{"text": "The glacier lake drained overnight."}\n',
    )
    other = write(tmp_path / "other.txt", "The glacier museum opened a new hall.")
    bot = make_assistant()
    bot.ingest([records, other], progress=False)
    found = bot.retrieve("glacier", k=5, filters=Filters(sources=(str(records),)))
    assert sorted(sp.passage.source for sp in found) == [f"{records}#1", f"{records}#2"]


@pytest.mark.parametrize("filters", [Filters(date_from="2022-01-01"), Filters(sources=("x",))], ids=["date", "source"])
def test_filtered_retrieval_is_the_same_scored_exactly_or_searched(
    news: tuple[Assistant, dict[str, Path]], filters: Filters
) -> None:
    bot, paths = news
    if filters.sources:
        filters = Filters(sources=(str(paths["orchard.txt"]), str(paths["ferry.txt"])))
    exact = Assistant(settings=bot.settings.replace(filter_exact_passages=10_000))
    searched = Assistant(settings=bot.settings.replace(filter_exact_passages=0))
    query = "storm cancelled the island harvest"
    got = [sp.passage.id for sp in exact.retrieve(query, k=3, filters=filters)]
    assert got and got == [sp.passage.id for sp in searched.retrieve(query, k=3, filters=filters)]


def test_branches_in_threads_or_one_after_another_agree(news: tuple[Assistant, dict[str, Path]]) -> None:
    bot, _ = news
    threaded = Assistant(settings=bot.settings.replace(retrieval_threads=3))
    for question in ("who retired from the lighthouse?", "storm at the pier", "apple growers"):
        inline = [(sp.passage.id, sp.score) for sp in bot.retrieve(question, k=3)]
        assert [(sp.passage.id, sp.score) for sp in threaded.retrieve(question, k=3)] == inline


def test_a_branch_of_weight_zero_does_not_run(news: tuple[Assistant, dict[str, Path]]) -> None:
    bot, _ = news
    settings = bot.settings.replace(rerank=False, weight_dense=1.0)
    # The dense passage branch ranks every passage of this small index: run, it would bring in all of them.
    assert len(Assistant(settings=settings).retrieve("lighthouse keeper", k=10)) == 3
    bm25_only = Assistant(settings=settings.replace(weight_dense=0.0, weight_sentence=0.0))
    found = bm25_only.retrieve("lighthouse keeper", k=10)
    assert [sp.passage.source for sp in found] == [str(news[1]["lighthouse.txt"])]


@pytest.mark.parametrize("rerank", [True, False])  # without reranking, dense retrieval is the plain DenseRetriever
@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_a_vector_still_being_computed_retrieves_the_same(
    news: tuple[Assistant, dict[str, Path]], mode: str, rerank: bool
) -> None:
    bot, _ = news
    bot = Assistant(settings=bot.settings.replace(retrieval=mode, rerank=rerank))
    question = "who retired from the lighthouse?"
    vector = bot.embed_question(question)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(lambda: (time.sleep(0.2), vector)[1])  # BM25 runs before it is ready
        meanwhile = bot._retriever.retrieve(question, pending, 3)
    given = bot._retriever.retrieve(question, vector, 3)
    assert [(sp.passage.id, sp.score) for sp in meanwhile] == [(sp.passage.id, sp.score) for sp in given]
    assert [(sp.passage.id, sp.score) for sp in bot.retrieve(question, k=3)] == [
        (sp.passage.id, sp.score) for sp in given
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {},  # hybrid: BM25 and sentence branches, filtered through the catalog
        {"retrieval": "dense", "rerank": False},  # Chroma's passages, filtered through the catalog
        {"retrieval": "dense", "rerank": False, "filter_exact_passages": 0, "filter_overfetch_limit": 0},  # `where`
    ],
)
def test_a_jsonl_files_path_allows_its_records_in_every_search(
    make_assistant: Callable[..., Assistant], tmp_path: Path, settings: dict[str, object]
) -> None:
    records = [
        '{"text": "The Vellmora ferry sails at dawn.", "date": "2022-03-01"}',
        '{"text": "The Vellmora bridge opened in May.", "date": "2023-05-02"}',
    ]
    news = write(tmp_path / "news.jsonl", "\n".join(records))
    write(tmp_path / "other.txt", "The Vellmora ferry and the Vellmora bridge are both on the old river.")
    bot = make_assistant(**settings)
    bot.ingest([tmp_path], progress=False)
    hits = bot.retrieve("Vellmora ferry bridge river", k=5, filters=Filters(sources=(str(news),)))
    assert sorted(sp.passage.source for sp in hits) == [f"{news}#1", f"{news}#2"]
    dated = bot.retrieve("Vellmora ferry", k=5, filters=Filters(sources=(str(news),), date_to="2022-12-31"))
    assert [sp.passage.source for sp in dated] == [f"{news}#1"]
