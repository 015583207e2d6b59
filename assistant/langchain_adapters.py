"""LangChain at the edge: our retrieval as a standard `BaseRetriever`."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever

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
