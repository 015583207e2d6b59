"""`Assistant`: the one obvious way in; it wires the store, model, retriever and answerer together."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from assistant.answer import ExtractiveAnswerer, answer_pieces
from assistant.evidence import EvidenceScorer
from assistant.followup import resolve
from assistant.generate import GenerativeAnswerer
from assistant.ingest import isolate
from assistant.ingest.pipeline import Ingestor
from assistant.models.embedder import Embedder, get_embedder
from assistant.models.embedder import identity as embedder_identity
from assistant.rerank import make_reranker
from assistant.retrieval import DenseRetriever, HybridRetriever, NoMatchingArticles, Retriever
from assistant.settings import BACKENDS, Settings
from assistant.store import DocumentInfo, Index, LexicalIndex
from assistant.types import NOT_SAID, Answer, Filters, IngestReport, ScoredPassage

MAX_QUESTION_CHARS = 2000
T = TypeVar("T")


class QuestionError(ValueError):
    """A question that cannot be asked as given (empty, too long)."""


def sample_path() -> Path:
    """The news article bundled with the package, used when the index is empty."""
    return Path(str(resources.files("assistant") / "data" / "000_d4614d5e4eabd9fe.txt"))


_TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def clean_question(question: str) -> str:
    """The question without terminal escapes and control characters; empty or huge ones are errors."""
    question = _TERMINAL_ESCAPE.sub(" ", question)
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in question).split())
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
        # Opening is cheap: the index is opened and checked against the model's name and size (read from its
        # files), and each part below (the model, BM25, retrieval) is made when first used. `stats` loads no model.
        name, dimension = embedder_identity(self.settings.model, self.settings.embed_backend)
        self.index = Index(self.settings, name, dimension)
        self.store = self.index.store
        self._parts: dict[str, Any] = {}
        self._opening = threading.RLock()
        self._closed = False
        # One answerer per model backend, so each call may pick its own (a chat user switching models).
        # Creating them is cheap: each loads its model on first use.
        self._generators = {
            b: GenerativeAnswerer(self.settings.replace(backend=b), self.document_text)
            for b in BACKENDS
            if b != "extractive"
        }

    def _part(self, name: str, make: Callable[[], T]) -> T:
        """The part `name`, made on first use (once, whichever thread asks first)."""
        part = self._parts.get(name)
        if part is None:
            with self._opening:
                if self._closed:
                    raise RuntimeError("this Assistant was closed")
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = make()
        return cast(T, part)

    @property
    def embedder(self) -> Embedder:
        s = self.settings
        return self._part("embedder", lambda: get_embedder(s.model, s.embed_backend, s.embed_threads, s.cache_dir))

    @embedder.setter
    def embedder(self, embedder: Embedder) -> None:
        """Embed with this one from now on (benchmarks wrap the model to time it or to answer from cached vectors)."""
        with self._opening:
            self._parts["embedder"] = embedder

    @property
    def lexical(self) -> LexicalIndex:
        """BM25 and the passage catalog (opened by the index on first use)."""
        return self.index.lexical

    @property
    def _retriever(self) -> Retriever:
        return self._pipeline[0]

    @property
    def _answerer(self) -> ExtractiveAnswerer:
        return self._pipeline[1]

    @property
    def _pipeline(self) -> tuple[Retriever, ExtractiveAnswerer]:
        def make() -> tuple[Retriever, ExtractiveAnswerer]:
            scorer = EvidenceScorer(self.store, self.lexical, self.settings)
            retriever: Retriever = (
                DenseRetriever(self.store, self.lexical)
                if self.settings.retrieval == "dense" and not self.settings.rerank
                else HybridRetriever(self.store, self.lexical, self.settings, make_reranker(self.settings, scorer))
            )
            return retriever, ExtractiveAnswerer(scorer, self.settings)

        return self._part("pipeline", make)

    @property
    def _embedding(self) -> ThreadPoolExecutor:
        """Questions are embedded in these threads, see `_embed_meanwhile`."""
        return self._part("embedding", lambda: ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="embed"))

    def close(self) -> None:
        """Release what this assistant opened: its threads, the Chroma client, the caches' files and the parser
        process. Models stay loaded for the process (they are shared). Closing twice is harmless."""
        with self._opening:
            parts, self._parts, self._closed = self._parts, {}, True
        if "embedding" in parts:
            parts["embedding"].shutdown(wait=True)
        if "pipeline" in parts:
            parts["pipeline"][0].close()
        self.index.close()
        isolate.stop()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- indexing -----------------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[str | os.PathLike[str]] | str, progress: bool | None = None, private_hosts: bool = True
    ) -> IngestReport:
        """Add files, folders, web pages and feeds (http(s) URLs); unchanged ones are skipped, changed ones
        replaced, bad ones reported. `private_hosts=False` refuses URLs of loopback and private addresses."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        ingestor = Ingestor(self.index, self.embedder, self.settings)
        return ingestor.ingest(paths, progress=progress, private_hosts=private_hosts)

    def ensure_sample(self) -> IngestReport | None:
        """Ingest the bundled sample article when the index is empty."""
        if self.stats()["documents"]:
            return None
        return self.ingest([sample_path()], progress=False)

    def delete(self, source: str) -> int:
        """Remove every document from `source` (a path, a jsonl record `file#line`, or a doc id)."""
        found = self.find(source)
        with self.index.writing():
            for doc in found:
                self.store.forget(doc.doc_id)
            self.lexical.remove(doc.doc_id for doc in found)
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

    def warm_up(self) -> None:
        """Load now what the first answer would otherwise wait for: Chroma's vector indexes (read on their
        first query) and the NER pipeline (loaded on first need). A server calls this once it listens."""
        self.retrieve("warm up", k=1)
        self._answerer.warm_up()

    def embed_question(self, question: str) -> np.ndarray:
        return self.embedder.encode([question])[0]

    def _embed_meanwhile(self, question: str) -> Future[np.ndarray]:
        """Embed the question in a worker thread while retrieval starts on what needs no vector (BM25)."""
        return self._embedding.submit(self.embed_question, question)

    def retrieve(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[ScoredPassage]:
        """The passages most likely to answer `question`, best first (none when the filters allow no article)."""
        question = clean_question(question)
        try:
            return self._retriever.retrieve(
                question, self._embed_meanwhile(question), k or self.settings.top_k, filters
            )
        except NoMatchingArticles:
            return []

    def ask(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        backend: str | None = None,
    ) -> Answer:
        """Answer with citations, or abstain when the articles do not support an answer.

        `history` is the conversation so far, as (question, answer) pairs or chat messages
        (`{"role": ..., "content": ...}`); `k` and `filters` narrow retrieval for this question; `backend`
        overrides `settings.backend` for it. With a language-model backend the answer is generated, and only
        its verified citations are kept.
        """
        *_, final = self.stream(question, history, k=k, filters=filters, backend=backend)
        assert isinstance(final, Answer)
        return final

    def stream(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        backend: str | None = None,
    ) -> Iterator[str | Answer]:
        """The answer's text in pieces as it is produced, then the complete `Answer` as the last item.

        The final `Answer.text` is authoritative: a UI replaces what it streamed with it (a model's
        draft still carries its own passage numbers and quotes; the final text cites verified spans).
        """
        backend = self._pick_backend(backend)
        question = clean_question(question)
        # A language model rewrites a follow-up when one is chosen; the offline resolver otherwise.
        resolved = self.condense_question(question, history, backend=backend) or (
            resolve(question, history) if history else None
        )
        query = resolved or question
        vector = self._embed_meanwhile(query)
        try:
            passages = self._retriever.retrieve(query, vector, k or self.settings.top_k, filters)
        except NoMatchingArticles as e:
            # Not "no passage answers closely enough": nothing was searched, and no model is asked.
            answer = Answer(
                question, f"{NOT_SAID} {e}", abstained=True, resolved_question=resolved, no_matching_articles=True
            )
            yield from answer_pieces(answer)
            yield answer
            return
        answer = self._answerer.answer(query, vector.result(), passages)
        answer.question, answer.resolved_question = question, resolved
        if backend == "extractive":
            yield from answer_pieces(answer)
            yield answer
        else:
            yield from self._generators[backend].stream(question, passages, answer)

    def _pick_backend(self, backend: str | None) -> str:
        """The backend a call uses: `backend` if given, else `settings.backend`."""
        if backend is None:
            return self.settings.backend
        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
        return backend

    def condense_question(
        self, question: str, history: Sequence[Any] | None, *, backend: str | None = None
    ) -> str | None:
        """A follow-up rewritten by the language model to stand alone; None with the extractive backend,
        without history, or when the model fails (the caller then resolves the question offline)."""
        backend = self._pick_backend(backend)
        if backend == "extractive":
            return None
        condensed = self._generators[backend].condense(question, history)
        if condensed is None:
            return None
        try:
            return clean_question(condensed)
        except QuestionError:
            return None

    @cached_property
    def retriever(self) -> Any:
        """This assistant's retrieval as a LangChain `BaseRetriever`."""
        from assistant.langchain_adapters import AssistantRetriever

        return AssistantRetriever(assistant=self, k=self.settings.top_k)

    @cached_property
    def runnable(self) -> Any:
        """This assistant's cited-answer pipeline as a LangChain `Runnable` (invoke, stream, batch)."""
        from assistant.langchain_adapters import AnswerRunnable

        return AnswerRunnable(self)
