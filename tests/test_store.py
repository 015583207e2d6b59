from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Filters
from assistant.ingest.splitter import split_document
from assistant.settings import Settings
from assistant.store import ModelMismatchError, Store, where_clause
from assistant.types import Document


def test_an_interrupted_ingest_is_cleaned_up_on_the_next_write(tmp_path: Path) -> None:
    bot = Assistant(index_dir=tmp_path / "index")
    doc = Document("half", str(tmp_path / "half.txt"), "One sentence here. Another one there.")
    sentences, passages = split_document(doc)
    vectors = bot.embedder.encode([s.text for s in sentences])
    # What a process killed between writing passages and its commit marker leaves behind:
    bot.store.begin(doc)
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


def test_where_clause() -> None:
    assert where_clause(None) is None
    assert where_clause(Filters()) is None
    assert where_clause(Filters(sources=("a",))) == {"source": {"$in": ["a"]}}
    assert where_clause(Filters(date_from="2022-01-02", date_to="2022-12-31")) == {
        "$and": [{"date_num": {"$gte": 20220102}}, {"date_num": {"$lte": 20221231}}]
    }
    with pytest.raises(ValueError, match="not a date"):
        where_clause(Filters(date_from="yesterday"))


def test_sentence_vectors_come_back_in_order(sample_bot: Assistant) -> None:
    passage = sample_bot.retrieve("Nord Stream 2", k=1)[0].passage
    sentences = passage.sentences()
    stored = sample_bot.store.sentence_vectors(list(reversed(sentences)))
    fresh = sample_bot.embedder.encode([s.text for s in reversed(sentences)])
    assert np.allclose(stored, fresh, atol=1e-4)


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
