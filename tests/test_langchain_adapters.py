"""LangChain at the edge: the standard retriever test suite, and the answer pipeline as a Runnable."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant import Assistant
from assistant.langchain_adapters import AnswerRunnable, AssistantRetriever
from assistant.types import Answer, Filters
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE


@pytest.fixture(scope="class")
def lc_bot(request: pytest.FixtureRequest, sample_bot: Assistant) -> None:
    request.cls.bot = sample_bot


@pytest.mark.usefixtures("lc_bot")
class TestAssistantRetrieverStandard(RetrieversIntegrationTests):
    bot: Assistant

    @property
    def retriever_constructor(self) -> type[AssistantRetriever]:
        return AssistantRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"assistant": self.bot}

    @property
    def retriever_query_example(self) -> str:
        return SAMPLE_QUESTION


def test_retriever_documents_carry_exact_offsets(sample_bot: Assistant) -> None:
    docs = sample_bot.retriever.invoke(SAMPLE_QUESTION, k=2)
    assert len(docs) == 2
    for d in docs:
        text = sample_bot.document_text(d.metadata["doc_id"])
        assert text[d.metadata["start"] : d.metadata["end"]] == d.page_content
    nothing = AssistantRetriever(assistant=sample_bot, filters=Filters(sources=("elsewhere.txt",)))
    assert nothing.invoke(SAMPLE_QUESTION) == []


def test_answer_runnable_invoke_batch_stream(sample_bot: Assistant) -> None:
    runnable = sample_bot.runnable
    assert isinstance(runnable, AnswerRunnable)
    answer = runnable.invoke(SAMPLE_QUESTION)
    assert isinstance(answer, Answer) and SAMPLE_SENTENCE in [c.text for c in answer.citations]
    batch = runnable.batch([SAMPLE_QUESTION, {"question": "Who wrote the opinion piece?", "k": 3}])
    assert [a.question for a in batch] == [SAMPLE_QUESTION, "Who wrote the opinion piece?"]
    pieces = list(runnable.stream(SAMPLE_QUESTION))
    assert isinstance(pieces[-1], Answer)
    assert "".join(pieces[:-1]) == pieces[-1].text == answer.text


def test_answer_runnable_composes(sample_bot: Assistant) -> None:
    chain = RunnableLambda(lambda q: {"question": q}) | sample_bot.runnable | RunnableLambda(lambda a: a.citations)
    citations = chain.invoke(SAMPLE_QUESTION)
    assert SAMPLE_SENTENCE in [c.text for c in citations]
    with pytest.raises(ValueError, match="question"):
        sample_bot.runnable.invoke({"query": SAMPLE_QUESTION})
