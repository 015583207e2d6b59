"""The BM25 index follows the store: ingest, delete, restart, another writer, a stale copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from assistant import Assistant
from assistant.lexical import LexicalIndex
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
