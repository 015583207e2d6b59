"""The BM25 index follows the store: ingest, delete, restart, another writer, a stale copy."""

from __future__ import annotations

import json
import math
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.store import lexical
from assistant.store.lexical import LexicalIndex
from assistant.types import Passage
from tests.conftest import write

ZEBRA = "The zebra sanctuary in Namibia opened in March. Rangers counted forty zebras on the first day."
HERON = "A heron colony nests beside the old mill. Volunteers built twelve nesting platforms."


def _bm25_sources(bot: Assistant, query: str) -> set[str]:
    rows = {pid: i for i, pid in enumerate(bot.lexical.catalog.ids)}
    return {bot.lexical.catalog.sources[rows[pid]] for pid, _ in bot.lexical.search(query, 5)}


def test_ingest_and_delete_update_bm25(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    zebra = write(tmp_path / "docs" / "zebra.txt", ZEBRA)
    bot.ingest([zebra], progress=False)
    assert _bm25_sources(bot, "zebra sanctuary") == {str(zebra)}
    heron = write(tmp_path / "docs" / "heron.txt", HERON)
    bot.ingest([heron], progress=False)
    assert _bm25_sources(bot, "heron colony") == {str(heron)}
    assert len(bot.lexical) == bot.stats()["passages"] == 2

    bot.delete(str(zebra))
    assert _bm25_sources(bot, "zebra sanctuary") == set()
    assert len(bot.lexical) == bot.stats()["passages"] == 1


def test_spellings_near_a_known_term_count_as_known(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    bot.ingest([write(tmp_path / "zebra.txt", ZEBRA)], progress=False)
    # One letter off in a word of five or more ("namibia"), two in one of eight or more ("sanctuary").
    assert bot.lexical.knows_spelling_near("namibya") and bot.lexical.knows_spelling_near("sanktuary")
    assert not bot.lexical.knows_spelling_near("nambya") and not bot.lexical.knows_spelling_near("zebr")
    # Terms added since the base was indexed count, and terms of deleted rows do not.
    heron = write(tmp_path / "heron.txt", HERON)
    bot.ingest([heron], progress=False)
    assert bot.lexical.knows_spelling_near("herron")
    bot.delete(str(heron))
    assert not bot.lexical.knows_spelling_near("herron")


def test_a_hyphenated_question_meets_a_dashed_or_spaced_text(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    dashed = write(tmp_path / "dashed.txt", "The Fei\u2013Ranis model of economic growth describes a dual economy.")
    spaced = write(tmp_path / "spaced.txt", "Trade between Russia and Turkey grew after the pipeline opened.")
    bot.ingest([dashed, spaced], progress=False)
    assert _bm25_sources(bot, "Fei-Ranis") == {str(dashed)}
    assert _bm25_sources(bot, "Russia-Turkey") == {str(spaced)}
    # The name is the article's, so the question is answered, not declined as naming something it never mentions.
    answer = bot.ask("What does the Fei-Ranis model describe?")
    assert not answer.abstained and answer.citations[0].source == str(dashed)


def test_changed_file_replaces_its_bm25_rows(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    path = write(tmp_path / "a.txt", ZEBRA)
    bot.ingest([path], progress=False)
    write(path, HERON)
    bot.ingest([path], progress=False)
    assert _bm25_sources(bot, "zebra") == set()
    assert _bm25_sources(bot, "heron") == {str(path)}
    assert len(bot.lexical) == 1


def test_persisted_index_is_loaded_not_rebuilt(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    bot.ingest([write(tmp_path / "z.txt", ZEBRA)], progress=False)
    folder = bot.store.local_cache_path(f"lexical/{bot.settings.collection}")
    generation = json.loads((folder / "manifest.json").read_text())["generation"]
    again = make_assistant()
    assert json.loads((folder / "manifest.json").read_text())["generation"] == generation
    assert _bm25_sources(again, "zebra") == {str(tmp_path / "z.txt")}


def test_stale_or_missing_index_rebuilds_from_the_store(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    bot.ingest([write(tmp_path / "z.txt", ZEBRA), write(tmp_path / "h.txt", HERON)], progress=False)
    folder = bot.store.local_cache_path(f"lexical/{bot.settings.collection}")
    # Another client of the store removes a document without touching this lexical index.
    doc = bot.find(str(tmp_path / "h.txt"))[0]
    bot.store.forget(doc.doc_id)
    reopened = make_assistant()
    assert _bm25_sources(reopened, "heron") == set()
    assert len(reopened.lexical) == 1
    shutil.rmtree(folder)
    rebuilt = make_assistant()
    assert _bm25_sources(rebuilt, "zebra") == {str(tmp_path / "z.txt")}


def test_reader_follows_another_writer(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    reader = make_assistant()
    writer = make_assistant()
    writer.ingest([write(tmp_path / "z.txt", ZEBRA)], progress=False)
    assert [sp.passage.source for sp in reader.retrieve("zebra sanctuary", k=1)] == [str(tmp_path / "z.txt")]


def test_idf_and_catalog_of_a_fresh_index(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex")
    assert len(index) == 0 and index.search("anything", 3) == []


def test_periodic_store_check_catches_changes_by_other_clients(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    bot.ingest([write(tmp_path / "z.txt", ZEBRA), write(tmp_path / "h.txt", HERON)], progress=False)
    # What another client of a shared Chroma server would do: change the store, not our lexical files.
    bot.store.forget(bot.find(str(tmp_path / "h.txt"))[0].doc_id)
    bot.lexical.refresh(bot.store, check_store=False)
    assert _bm25_sources(bot, "heron") == {str(tmp_path / "h.txt")}
    bot.lexical.refresh(bot.store, check_store=True)
    assert _bm25_sources(bot, "heron") == set()


# -- incremental updates: delta segment, tombstones, compaction ---------------------------------------------

WORDS = (
    "harbour strike election drought railway court vaccine summit tariff border refinery coalition parliament "
    "wildfire bridge union pension satellite inflation ceasefire minister budget"
).split()


def _passages(rng: random.Random, doc: str, count: int, extra: str = "") -> list[tuple[str, Passage]]:
    """Passages of very different lengths, with repeated words, so that every BM25 statistic matters."""
    out = []
    for i in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 40))) + extra
        p = Passage(doc, f"/news/{doc}.txt", 1000 * i, 1000 * i + len(text), text)
        out.append((p.id, p))
    return out


def _corpus(seed: int = 3, docs: int = 30) -> dict[str, list[tuple[str, Passage]]]:
    rng = random.Random(seed)
    return {f"doc{d}": _passages(rng, f"doc{d}", rng.randint(1, 5), " zeppelin" if d == 0 else "") for d in range(docs)}


def _queries(seed: int = 4) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(WORDS, n)) for n in (1, 1, 2, 3, 4, 6) for _ in range(4)] + [
        "strike strike budget",  # a repeated term counts twice, as in bm25s
        "zeppelin harbour",
    ]


def _fresh(folder: Path, passages: list[tuple[str, Passage]]) -> LexicalIndex:
    """A freshly built index (one bm25s index, no delta) of these passages."""
    index = LexicalIndex(folder)
    index.add(passages)
    index.save("fresh")
    return index


def _assert_scores_like(index: LexicalIndex, fresh: LexicalIndex) -> None:
    """Same passages score, with the same scores (so the same ranking), idf and vocabulary as `fresh`."""
    for query in _queries():
        got, want = dict(index.search(query, 10_000)), dict(fresh.search(query, 10_000))
        assert got.keys() == want.keys(), query
        assert all(math.isclose(got[pid], want[pid], rel_tol=1e-5) for pid in want), query
        top = [score for _, score in index.search(query, 5)]
        assert top == pytest.approx([score for _, score in fresh.search(query, 5)], rel=1e-5)
    for term in [*WORDS, "zeppelin", "unknown"]:
        assert index.knows(term) == fresh.knows(term)
        assert index.idf(term) == pytest.approx(fresh.idf(term), rel=1e-9)
    assert sorted(index.catalog.ids) == sorted(fresh.catalog.ids) and len(index) == len(fresh)


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def test_delta_and_tombstones_score_like_a_fresh_index(tmp_path: Path) -> None:
    docs = _corpus()
    names = list(docs)
    folder = tmp_path / "lex"
    index = LexicalIndex(folder, compact_share=10.0)  # never compacts after the first save
    index.add(p for d in names[:20] for p in docs[d])
    index.save("g1")
    index.add(p for d in names[20:] for p in docs[d])
    index.remove(names[:8])
    index.add(docs["doc3"])  # removed, then added again
    index.save("g2")
    assert len(_manifest(folder)["deltas"]) == 1
    live = [p for d in ["doc3", *names[8:]] for p in docs[d]]
    fresh = _fresh(tmp_path / "fresh", live)
    assert not index.knows("zeppelin")  # only doc0 had it
    _assert_scores_like(index, fresh)

    # Another process's view, from the files: the base plus the replayed delta.
    reloaded = LexicalIndex(folder)
    reloaded.load()
    assert reloaded.generation == "g2"
    _assert_scores_like(reloaded, fresh)


def test_add_remove_add_through_the_assistant(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant(lexical_compact_share=10.0)
    zebra, heron = write(tmp_path / "zebra.txt", ZEBRA), write(tmp_path / "heron.txt", HERON)
    bot.ingest([zebra, heron], progress=False)
    folder = bot.store.local_cache_path(f"lexical/{bot.settings.collection}")
    base = _manifest(folder)["base"]
    bot.delete(str(zebra))
    assert _bm25_sources(bot, "zebra sanctuary") == set() and not bot.lexical.knows("zebra")
    bot.ingest([zebra], progress=False)
    assert _bm25_sources(bot, "zebra sanctuary") == {str(zebra)}
    assert len(bot.lexical) == bot.stats()["passages"] == 2
    assert sorted(bot.lexical.catalog.ids) == sorted(pid for pid, _ in bot.store.iter_passages())
    manifest = _manifest(folder)
    assert manifest["base"] == base and len(manifest["deltas"]) == 2
    assert manifest["generation"] == bot.store.generation()

    rebuilt = LexicalIndex(tmp_path / "rebuilt")
    rebuilt.rebuild(bot.store)
    for index in (bot.lexical, make_assistant().lexical):  # this process's index, and one read from the files
        for query in ("zebra sanctuary", "heron colony nesting", "forty zebras twelve platforms"):
            got, want = index.search(query, 5), rebuilt.search(query, 5)
            assert [pid for pid, _ in got] == [pid for pid, _ in want]
            assert [score for _, score in got] == pytest.approx([score for _, score in want], rel=1e-5)


def test_compaction_once_changes_exceed_the_share_of_the_base(tmp_path: Path) -> None:
    docs = _corpus(seed=5, docs=12)
    folder = tmp_path / "lex"
    index = LexicalIndex(folder, compact_share=0.5)
    first = [p for d in list(docs)[:6] for p in docs[d]]
    index.add(first)
    index.save("g1")
    base = _manifest(folder)["base"]
    limit = 0.5 * len(first)
    changed, saves, live = 0, 1, list(first)
    for d in list(docs)[6:]:
        index.add(docs[d])
        live += docs[d]
        changed += len(docs[d])
        saves += 1
        index.save(f"g{saves}")
        manifest = _manifest(folder)
        if changed <= limit:
            assert manifest["base"] == base and len(manifest["deltas"]) == saves - 1
        else:
            break
    assert manifest["base"] != base and manifest["deltas"] == [], "the delta outgrew half the base"
    # The replaced base stays for readers still opening it; anything older is gone.
    assert (folder / base).is_dir()
    _assert_scores_like(index, _fresh(tmp_path / "fresh", live))

    index.remove(["doc0"])
    index.save("removed")
    assert _manifest(folder)["deltas"], "a small removal is a tombstone in a delta"
    index.compact_share = 0.0
    index.remove(["doc1"])
    index.save("every write")
    assert _manifest(folder)["deltas"] == [] and not (folder / base).exists()


def test_a_reader_applies_only_the_new_delta_files(tmp_path: Path) -> None:
    docs = _corpus(seed=6, docs=10)
    folder = tmp_path / "lex"
    writer = LexicalIndex(folder, compact_share=10.0)
    writer.add(docs["doc0"])
    writer.save("g1")
    reader = LexicalIndex(folder)
    reader.load()
    base = reader._segments.base
    writer.add(p for d in list(docs)[1:] for p in docs[d])
    writer.remove(["doc0"])
    writer.save("g2")
    reader.load()
    assert reader._segments.base is base, "same base: only the delta was read"
    assert reader.generation == "g2"
    _assert_scores_like(reader, writer)


def test_a_writer_first_catches_up_with_another_writer(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    first, second = make_assistant(), make_assistant()
    first.ingest([write(tmp_path / "z.txt", ZEBRA)], progress=False)
    # `second` opened before that write; its own write must not drop the zebra passage.
    second.ingest([write(tmp_path / "h.txt", HERON)], progress=False)
    for bot in (second, make_assistant()):
        assert _bm25_sources(bot, "zebra sanctuary") == {str(tmp_path / "z.txt")}
        assert _bm25_sources(bot, "heron colony") == {str(tmp_path / "h.txt")}


def test_many_small_writes_fold_into_one_delta_file(tmp_path: Path) -> None:
    docs = _corpus(seed=7, docs=50)
    names = list(docs)
    folder = tmp_path / "lex"
    index = LexicalIndex(folder, compact_share=100.0)
    index.add(docs[names[0]])
    index.save("g0")
    base = _manifest(folder)["base"]
    counts = []
    for i, name in enumerate(names[1:], 1):
        index.add(docs[name])
        if i % 5 == 0:
            index.remove([names[i - 3]])
        index.save(f"g{i}")
        counts.append(len(_manifest(folder)["deltas"]))
    assert max(counts) == lexical.MAX_DELTAS and 1 in counts[lexical.MAX_DELTAS :]
    assert _manifest(folder)["base"] == base
    assert len(list(folder.glob("delta-*"))) <= 2 * lexical.MAX_DELTAS
    removed = {names[i - 3] for i in range(5, len(names), 5)}
    fresh = _fresh(tmp_path / "fresh", [p for d in names if d not in removed for p in docs[d]])
    reloaded = LexicalIndex(folder)
    reloaded.load()
    _assert_scores_like(reloaded, fresh)
    _assert_scores_like(index, fresh)


def test_a_writer_recreates_a_deleted_index_folder(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    bot.ingest([write(tmp_path / "z.txt", ZEBRA)], progress=False)
    shutil.rmtree(bot.store.local_cache_path(f"lexical/{bot.settings.collection}"))
    bot.ingest([write(tmp_path / "h.txt", HERON)], progress=False)
    again = make_assistant()
    assert _bm25_sources(again, "zebra sanctuary heron colony") == {str(tmp_path / "z.txt"), str(tmp_path / "h.txt")}


def test_a_running_reader_rebuilds_an_index_damaged_under_it(
    make_assistant: Callable[..., Assistant], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_assistant()
    bot.ingest([write(tmp_path / "z.txt", ZEBRA)], progress=False)
    manifest = bot.store.local_cache_path(f"lexical/{bot.settings.collection}") / "manifest.json"
    manifest.write_bytes(b"\0" * manifest.stat().st_size)
    with caplog.at_level("WARNING", logger="assistant.store.lexical"):
        for _ in range(3):
            assert [sp.passage.source for sp in bot.retrieve("zebra sanctuary", k=1)] == [str(tmp_path / "z.txt")]
            assert _bm25_sources(bot, "zebra sanctuary") == {str(tmp_path / "z.txt")}
    reports = [r.getMessage().split(" (")[0] for r in caplog.records if r.name == "assistant.store.lexical"]
    assert reports == [f"the lexical index {manifest.parent} was damaged"]
    assert json.loads(manifest.read_text())["passages"] == 1  # saved again, whole
