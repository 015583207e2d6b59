"""The ingest pipeline's batched writes: many documents per Chroma call, same results as one at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from assistant import Assistant
from assistant.types import Document, IngestReport
from tests.conftest import write


def _articles(n: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"a{i}",
            "date": f"2020-01-{i + 1:02d}",
            "text": f"Report {i}. The port of Riga handled {100 + i} ships in week {i}. " * 12,
        }
        for i in range(n)
    ]


def test_a_batch_of_documents_is_committed_whole(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    path = write(tmp_path / "news.jsonl", "\n".join(json.dumps(a) for a in _articles(30)))
    bot = make_assistant(embed_batch_size=8)
    report = bot.ingest([path], progress=False)
    assert len(report.added) == 30 and report.ok
    docs = bot.documents()
    assert len(docs) == 30 and {d.status for d in docs} == {"committed"}
    assert sum(d.passages for d in docs) == report.passages == bot.stats()["passages"]
    hits = bot.retrieve("How many ships did the port of Riga handle in week 7?", k=30)
    for sp in hits:
        assert bot.document_text(sp.passage.doc_id)[sp.passage.start : sp.passage.end] == sp.passage.text


def test_reingest_skips_unchanged_and_replaces_changed(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    articles = _articles(5)
    path = write(tmp_path / "news.jsonl", "\n".join(json.dumps(a) for a in articles))
    bot = make_assistant()
    bot.ingest([path], progress=False)
    before = bot.stats()
    generation = bot.store.generation()
    articles[2]["text"] = "A short correction about the ferry to Tallinn."
    write(path, "\n".join(json.dumps(a) for a in articles))
    report = bot.ingest([path], progress=False)
    assert len(report.unchanged) == 4 and report.added == [f"{path}#3"]
    assert bot.store.generation() != generation
    after = bot.stats()
    assert after["documents"] == before["documents"] and after["passages"] < before["passages"]
    [changed] = bot.find(f"{path}#3")
    assert bot.document_text(changed.doc_id) == "A short correction about the ferry to Tallinn."
    assert [sp.passage.text for sp in bot.retrieve("ferry to Tallinn", k=1)] == [
        "A short correction about the ferry to Tallinn."
    ]


def test_recover_removes_a_half_written_batch(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    kept = write(tmp_path / "kept.txt", "The museum in Porto opened an exhibition on medieval maps.")
    bot.ingest([kept], progress=False)
    half = [Document(f"half{i}", f"half{i}.txt", f"Half written article number {i}.") for i in range(3)]
    bot.store.begin(half)  # a crash after `begin`: pending records, some units, no commit
    from assistant.ingest.splitter import split_document

    sentences, passages = split_document(half[0])
    vectors = bot.embedder.encode([s.text for s in sentences])
    bot.store.add(passages, vectors[: len(passages)], sentences, vectors)
    assert sorted(bot.store.recover()) == ["half0", "half1", "half2"]
    assert bot.stats() == {"documents": 1, "passages": 1}
    assert [d.doc_id for d in bot.documents()] == [bot.find(str(kept))[0].doc_id]


def test_the_summary_counts_in_words_and_names_the_skipped_types() -> None:
    one = IngestReport(added=["/n/a.txt"], passages=1, skipped=["/n/x.RTF"])
    assert (
        one.summary() == "1 added, 0 unchanged, 0 failed (1 passage added); skipped 1 file of unsupported type (.rtf)"
    )
    two = IngestReport(passages=2, skipped=["/n/x.rtf", "/n/LICENSE", "/n/y.rtf"])
    assert two.summary().endswith("(2 passages added); skipped 3 files of unsupported types (.rtf, no extension)")
    assert two.to_json()["skipped"] == ["/n/x.rtf", "/n/LICENSE", "/n/y.rtf"]
