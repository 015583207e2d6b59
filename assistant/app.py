"""`Assistant`: the one obvious way in; it wires the store, model, retriever and answerer together."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer import ExtractiveAnswerer, answer_pieces
from assistant.embeddings import get_embedder
from assistant.ingest.pipeline import Ingestor
from assistant.retrieval import DenseRetriever
from assistant.settings import Settings
from assistant.store import DocumentInfo, Store
from assistant.types import Answer, Filters, IngestReport, ScoredPassage

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """A question that cannot be asked as given (empty, too long)."""


def sample_path() -> Path:
    """The news article bundled with the package, used when the index is empty."""
    return Path(str(resources.files("assistant") / "data" / "000_d4614d5e4eabd9fe.txt"))


def clean_question(question: str) -> str:
    cleaned = "".join(c if c.isprintable() else " " for c in question).strip()
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long ({len(cleaned)} characters; the limit is {MAX_QUESTION_CHARS})")
    return cleaned


class Assistant:
    """Question answering with cited spans over an index of articles.

    >>> bot = Assistant(index_dir="index")
    >>> bot.ingest(["articles/"])
    >>> bot.ask("why did Tokayev prefer the CSTO?").citations
    """

    def __init__(
        self, index_dir: str | os.PathLike[str] | None = None, settings: Settings | None = None, **overrides: Any
    ) -> None:
        base = settings or Settings.from_env()
        self.settings = base.replace(index_dir=Path(index_dir) if index_dir is not None else None, **overrides)
        self.embedder = get_embedder(
            self.settings.model, self.settings.embed_backend, self.settings.embed_threads, self.settings.cache_dir
        )
        self.store = Store(self.settings, self.embedder.name, self.embedder.dimension)
        self._dense = DenseRetriever(self.store)
        self._answerer = ExtractiveAnswerer(self.store, self.settings)

    # -- indexing -----------------------------------------------------------------------------

    def ingest(self, paths: Iterable[str | os.PathLike[str]] | str, progress: bool | None = None) -> IngestReport:
        """Add files or folders; unchanged files are skipped, changed ones replaced, bad ones reported."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return Ingestor(self.store, self.embedder, self.settings).ingest(paths, progress=progress)

    def ensure_sample(self) -> IngestReport | None:
        """Ingest the bundled sample article when the index is empty."""
        if self.stats()["documents"]:
            return None
        return self.ingest([sample_path()], progress=False)

    def delete(self, source: str) -> int:
        """Remove every document from `source` (a path, a jsonl record `file#line`, or a doc id)."""
        found = self.find(source)
        with self.store.write_lock():
            for doc in found:
                self.store.forget(doc.doc_id)
        return len(found)

    def find(self, source_or_id: str) -> list[DocumentInfo]:
        """Documents whose id, source path or file path is `source_or_id`."""
        doc = self.store.document(source_or_id)
        if doc is not None:
            return [doc]
        found = self.store.find_by_source(source_or_id)
        if not found and not source_or_id.startswith(("/", "\\")):
            found = self.store.find_by_source(os.path.abspath(source_or_id))
        return found

    # -- reading ------------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        return self.store.counts()

    def documents(self) -> list[DocumentInfo]:
        return self.store.list_documents()

    def document_text(self, doc_id: str) -> str:
        text = self.store.document_text(doc_id)
        if text is None:
            raise KeyError(f"no document {doc_id!r} in the index")
        return text

    def embed_question(self, question: str) -> np.ndarray:
        return self.embedder.encode([question])[0]

    def retrieve(
        self, question: str, k: int | None = None, filters: Filters | None = None
    ) -> list[ScoredPassage]:
        """The passages most likely to answer `question`, best first."""
        question = clean_question(question)
        return self._dense.retrieve(question, self.embed_question(question), k or self.settings.top_k, filters)

    def ask(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        *,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """Answer with citations, or abstain when the articles do not support an answer.

        `history` is the conversation so far, as (question, answer) pairs or chat messages
        (`{"role": ..., "content": ...}`); `k` and `filters` narrow retrieval for this question.
        """
        question = clean_question(question)
        vector = self.embed_question(question)
        passages = self._dense.retrieve(question, vector, k or self.settings.top_k, filters)
        return self._answerer.answer(question, vector, passages)

    def stream(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        *,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Iterator[str | Answer]:
        """The answer's text in pieces as it is produced, then the complete `Answer` as the last item.

        The final `Answer.text` is authoritative: a UI replaces what it streamed with it.
        """
        answer = self.ask(question, history, k=k, filters=filters)
        for piece in answer_pieces(answer):
            yield piece
        yield answer

    @cached_property
    def retriever(self) -> Any:
        """This assistant's retrieval as a LangChain `BaseRetriever`."""
        from assistant.langchain_adapters import AssistantRetriever

        return AssistantRetriever(assistant=self, k=self.settings.top_k)
