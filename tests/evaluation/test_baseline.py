"""The plain LangChain baseline: its vector store, its Embeddings adapter, and its answers' exact citations."""

import numpy as np

from assistant import Assistant
from assistant.evaluation.baseline import LangChainBaseline
from assistant.langchain_adapters import EmbedderEmbeddings
from assistant.store import langchain_vectorstore
from tests.conftest import SAMPLE_QUESTION


def test_embeddings_adapter_matches_the_embedder(sample_bot: Assistant) -> None:
    emb = EmbedderEmbeddings(sample_bot.embedder)
    query = emb.embed_query(SAMPLE_QUESTION)
    docs = emb.embed_documents(["one sentence.", SAMPLE_QUESTION])
    assert len(query) == sample_bot.embedder.dimension
    assert np.allclose(query, sample_bot.embed_question(SAMPLE_QUESTION), atol=1e-5)
    # The int8 embedder quantizes activations per batch: the same text in another batch moves slightly.
    assert float(np.dot(docs[1], query)) > 0.98


def test_langchain_store_holds_the_same_passages_and_rebuilds_cleanly(sample_bot: Assistant) -> None:
    passages = {pid: p for pid, p in sample_bot.store.iter_passages()}
    for _ in range(2):  # a rebuild replaces, never duplicates
        LangChainBaseline.build(sample_bot)
        vs = langchain_vectorstore(sample_bot.store, EmbedderEmbeddings(sample_bot.embedder))
        assert vs._collection.count() == len(passages)
    got = vs.get(include=["documents"])
    assert set(got["ids"]) == set(passages)
    assert all(passages[i].text == text for i, text in zip(got["ids"], got["documents"], strict=True))


def test_baseline_answers_with_the_top_sentence_of_the_top_passage(sample_bot: Assistant) -> None:
    LangChainBaseline.build(sample_bot)
    baseline = LangChainBaseline.open(sample_bot)
    passages = baseline.retrieve(SAMPLE_QUESTION, k=4)
    assert len(passages) == 4
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    text = sample_bot.document_text(passages[0].passage.doc_id)
    for sp in passages:
        assert text[sp.passage.start : sp.passage.end] == sp.passage.text
    answer = baseline.ask(SAMPLE_QUESTION)
    assert not answer.abstained and len(answer.citations) == 1
    c = answer.citations[0]
    assert (c.start, c.end) in passages[0].passage.sentence_spans
    assert sample_bot.document_text(c.doc_id)[c.start : c.end] == c.text
