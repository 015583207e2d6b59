"""LangChain at the edge: our retrieval as a standard `BaseRetriever`, our embedder as LangChain `Embeddings`."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from assistant.embeddings import Embedder
from assistant.types import ScoredPassage


def to_langchain(sp: ScoredPassage) -> LCDocument:
    p = sp.passage
    return LCDocument(
        page_content=p.text,
        metadata={"source": p.source, "doc_id": p.doc_id, "start": p.start, "end": p.end, "score": float(sp.score)},
    )


class AssistantRetriever(BaseRetriever):
    """Passages of an `Assistant`'s index as LangChain documents, with exact source offsets."""

    assistant: Any
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [to_langchain(sp) for sp in self.assistant.retrieve(query, k=self.k)]


class EmbedderEmbeddings(Embeddings):
    """Our (normalized) sentence embedder behind LangChain's `Embeddings` interface."""

    def __init__(self, embedder: Embedder, batch_size: int = 64) -> None:
        self.embedder = embedder
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(list(texts), batch_size=self.batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode([text])[0].tolist()

