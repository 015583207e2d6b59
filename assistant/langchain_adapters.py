"""LangChain at the edge: our retrieval as a `BaseRetriever`, the answer pipeline as a `Runnable`, our
embedder as LangChain `Embeddings`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config

from assistant.models.embedder import Embedder
from assistant.types import Answer, Filters, ScoredPassage


def to_langchain(sp: ScoredPassage) -> LCDocument:
    p = sp.passage
    return LCDocument(
        page_content=p.text,
        metadata={"source": p.source, "doc_id": p.doc_id, "start": p.start, "end": p.end, "score": float(sp.score)},
    )


class AssistantRetriever(BaseRetriever):
    """Passages of an `Assistant`'s index (hybrid retrieval) as LangChain documents, with exact source offsets."""

    assistant: Any
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[LCDocument]:
        return [to_langchain(sp) for sp in self.assistant.retrieve(query, k=k or self.k, filters=self.filters)]


def _ask_args(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """A question string, or `{"question", "history"?, "k"?, "filters"?}`, as `Assistant.ask` arguments."""
    if isinstance(value, str):
        return {"question": value}
    unknown = set(value) - {"question", "history", "k", "filters"}
    if "question" not in value or unknown:
        raise ValueError(f"expected a question string or a dict with 'question' (got keys {sorted(value)})")
    return dict(value)


class AnswerRunnable(Runnable[Any, Answer]):
    """The cited-answer pipeline as a LangChain `Runnable`: `invoke` and `batch` return `Answer`s;
    `stream` yields the answer's text in pieces (str), then the complete `Answer` last."""

    def __init__(self, assistant: Any) -> None:
        self.assistant = assistant

    def invoke(self, input: str | Mapping[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        config = ensure_config(config)
        return self._call_with_config(lambda value: self.assistant.ask(**_ask_args(value)), input, config)

    def stream(
        self, input: str | Mapping[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        yield from self.assistant.stream(**_ask_args(input))


class EmbedderEmbeddings(Embeddings):
    """Our (normalized) sentence embedder behind LangChain's `Embeddings` interface."""

    def __init__(self, embedder: Embedder, batch_size: int = 64) -> None:
        self.embedder = embedder
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(list(texts), batch_size=self.batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode([text])[0].tolist()
