"""The reranker is pluggable: a local cross-encoder folder switches it on (a tiny model built here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.models.cross_encoder import get_cross_encoder
from tests.conftest import save_tiny_bert, write


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-cross-encoder"), "BertForSequenceClassification", num_labels=1)


def test_cross_encoder_reranker_orders_by_its_scores(
    make_assistant: Callable[..., Assistant], tmp_path: Path, tiny_cross_encoder: Path
) -> None:
    texts = [f"Report {i}: the canal lock number {i} was repaired in spring." for i in range(4)]
    docs = [write(tmp_path / f"d{i}.txt", text) for i, text in enumerate(texts)]
    bot = make_assistant(reranker=str(tiny_cross_encoder))
    bot.ingest(docs, progress=False)
    question = "which canal lock was repaired?"
    found = bot.retrieve(question, k=4)
    model = get_cross_encoder(str(tiny_cross_encoder))
    expected = model.predict([(question, sp.passage.text) for sp in found])
    assert [sp.score for sp in found] == pytest.approx([float(x) for x in expected], abs=1e-5)
    assert [sp.score for sp in found] == sorted((sp.score for sp in found), reverse=True)


def test_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a local cross-encoder"):
        get_cross_encoder(str(tmp_path))


def test_default_reranker_prefers_the_sentence_that_answers(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    answer_doc = write(tmp_path / "a.txt", "Officials said the tunnel will open in 2027 after safety checks.")
    noise = write(tmp_path / "b.txt", "The tunnel tunnel tunnel project remains popular with tunnel fans.")
    bot = make_assistant()
    bot.ingest([answer_doc, noise], progress=False)
    assert bot.retrieve("When will the tunnel open?", k=2)[0].passage.source == str(answer_doc)
