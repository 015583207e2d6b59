"""The only module that talks to chromadb: passages, sentences and documents, embedded or on a server.

Three collections share a prefix: `<name>-passages` and `<name>-sentences` hold our own embeddings
(never Chroma's default embedding function, which would download a model), `<name>-documents` holds
each document's full text and metadata. A document record is written first as `pending` and marked
`committed` last, so a crash mid-ingest leaves a marker that `recover()` cleans up on the next open.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.settings import Settings
from assistant.types import Document, Filters, Passage, Sentence, stable_id

PENDING, COMMITTED = "pending", "committed"
_PAGE = 5000


class ModelMismatchError(RuntimeError):
    """The index was built with another embedding model: its vectors cannot be compared."""


class IndexBusyError(RuntimeError):
    """Another process is writing to the same embedded index."""


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    source: str
    status: str
    content_hash: str
    passages: int
    metadata: dict[str, Any]


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def _date_number(date: str) -> int | None:
    digits = date.replace("-", "")[:8]
    return int(digits) if len(digits) == 8 and digits.isdigit() else None


def where_clause(filters: Filters | None) -> dict[str, Any] | None:
    """Chroma `where` for these filters (dates compare as YYYYMMDD numbers); None for no filter."""
    if not filters:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    for op, date in (("$gte", filters.date_from), ("$lte", filters.date_to)):
        if date:
            number = _date_number(date)
            if number is None:
                raise ValueError(f"not a date (YYYY-MM-DD): {date!r}")
            clauses.append({"date_num": {op: number}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _span_metadata(unit: Passage | Sentence) -> dict[str, Any]:
    return {"doc_id": unit.doc_id, "source": unit.source, "start": unit.start, "end": unit.end}


def _passage_metadata(p: Passage) -> dict[str, Any]:
    meta = _span_metadata(p)
    # Chroma metadata holds scalars only: the sentence spans travel as "start-end,start-end".
    meta["sentences"] = ",".join(f"{a}-{b}" for a, b in p.sentence_spans)
    date = str(p.metadata.get("date", ""))
    if (number := _date_number(date)) is not None:
        meta["date"] = date
        meta["date_num"] = number
    return meta


def passage_from(text: str, meta: dict[str, Any]) -> Passage:
    extra = {k: v for k, v in meta.items() if k == "date"}
    spans = tuple(
        (int(a), int(b)) for a, b in (pair.split("-") for pair in str(meta.get("sentences", "")).split(",") if pair)
    )
    return Passage(meta["doc_id"], meta["source"], int(meta["start"]), int(meta["end"]), text, extra, spans)


def sentence_from(text: str, meta: dict[str, Any]) -> Sentence:
    return Sentence(meta["doc_id"], meta["source"], int(meta["start"]), int(meta["end"]), text)


class Store:
    """Chroma behind our own types; every write passes embeddings we computed."""

    def __init__(self, settings: Settings, model: str, dimension: int) -> None:
        self.settings = settings
        self._client = _client(settings)
        self.max_batch = int(self._client.get_max_batch_size())
        meta = {"hnsw:space": "cosine", "embedding_model": model, "dimension": dimension}
        self.passages = self._collection("passages", meta)
        self.sentences = self._collection("sentences", meta)
        self.documents = self._collection("documents", {"hnsw:space": "cosine"})
        for col in (self.passages, self.sentences):
            found = (col.metadata or {}).get("embedding_model")
            if found != model:
                raise ModelMismatchError(
                    f"the index at {self.location} was built with embedding model {found!r}, "
                    f"not {model!r}: use that model, or a new --index"
                )

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.index_dir)

    def _collection(self, kind: str, metadata: dict[str, Any]) -> Any:
        return self._client.get_or_create_collection(
            f"{self.settings.collection}-{kind}", metadata=metadata, embedding_function=None
        )

    # -- writes -------------------------------------------------------------------------------

    @contextmanager
    def write_lock(self, timeout: float | None = None) -> Iterator[None]:
        """Serialize writers of one embedded index across processes; a second writer gets a clear error."""
        if self.settings.chroma_url:
            yield
            return
        from filelock import FileLock, Timeout

        lock = FileLock(str(Path(self.settings.index_dir) / ".write.lock"))
        try:
            lock.acquire(timeout=self.settings.lock_timeout if timeout is None else timeout)
        except Timeout:
            raise IndexBusyError(
                f"the index at {self.location} is in use by another process; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def recover_if_idle(self) -> list[str]:
        """Clean up after a crashed writer, unless a live writer holds the index (its work is not debris)."""
        if self.settings.chroma_url:
            return []
        try:
            with self.write_lock(timeout=0):
                return self.recover()
        except IndexBusyError:
            return []

    def begin(self, doc: Document) -> None:
        """Record the document as pending: its passages may be half-written until `commit`."""
        self.documents.upsert(
            ids=[doc.doc_id],
            embeddings=[[1.0]],
            documents=[doc.text],
            metadatas=[self._doc_metadata(doc, PENDING, 0)],
        )

    def commit(self, doc: Document, passages: int) -> None:
        self.documents.update(ids=[doc.doc_id], metadatas=[self._doc_metadata(doc, COMMITTED, passages)])

    @staticmethod
    def _doc_metadata(doc: Document, status: str, passages: int) -> dict[str, Any]:
        meta: dict[str, Any] = {str(k): str(v) for k, v in doc.metadata.items()}
        meta.update(source=doc.source, status=status, content_hash=doc.content_hash, passages=passages)
        return meta

    def add(
        self,
        passages: Sequence[Passage],
        passage_vectors: np.ndarray,
        sentences: Sequence[Sentence],
        sentence_vectors: np.ndarray,
    ) -> None:
        self._add(self.sentences, sentences, sentence_vectors, [_span_metadata(s) for s in sentences])
        self._add(self.passages, passages, passage_vectors, [_passage_metadata(p) for p in passages])

    def _add(self, col: Any, units: Sequence[Passage | Sentence], vectors: np.ndarray, metas: list[dict]) -> None:
        for i in range(0, len(units), self.max_batch):
            batch = units[i : i + self.max_batch]
            col.upsert(
                ids=[u.id for u in batch],
                embeddings=vectors[i : i + self.max_batch],
                documents=[u.text for u in batch],
                metadatas=metas[i : i + self.max_batch],
            )

    def delete_units(self, doc_id: str) -> None:
        """Remove a document's passages and sentences (its record stays until `forget`)."""
        for col in (self.passages, self.sentences):
            col.delete(where={"doc_id": doc_id})

    def forget(self, doc_id: str) -> None:
        self.delete_units(doc_id)
        self.documents.delete(ids=[doc_id])

    def recover(self) -> list[str]:
        """Remove what an interrupted ingest left behind; returns the affected document ids."""
        pending = self.documents.get(where={"status": PENDING}, include=[])["ids"]
        for doc_id in pending:
            self.forget(doc_id)
        return list(pending)

    # -- reads --------------------------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentInfo | None:
        got = self.documents.get(ids=[doc_id], include=["metadatas"])
        if not got["ids"]:
            return None
        return self._info(doc_id, got["metadatas"][0])

    @staticmethod
    def _info(doc_id: str, meta: dict[str, Any]) -> DocumentInfo:
        extra = {k: v for k, v in meta.items() if k not in {"source", "status", "content_hash", "passages"}}
        return DocumentInfo(
            doc_id, str(meta["source"]), str(meta["status"]), str(meta["content_hash"]), int(meta["passages"]), extra
        )

    def document_text(self, doc_id: str) -> str | None:
        got = self.documents.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def find_by_source(self, source: str) -> list[DocumentInfo]:
        """Documents from a source: a file, or each record of a jsonl file (`file#line`)."""
        docs = [d for d in self.list_documents() if d.source == source or d.source.startswith(source + "#")]
        return docs

    def list_documents(self) -> list[DocumentInfo]:
        out: list[DocumentInfo] = []
        offset = 0
        while True:
            got = self.documents.get(include=["metadatas"], limit=_PAGE, offset=offset)
            out.extend(self._info(i, m) for i, m in zip(got["ids"], got["metadatas"]))
            if len(got["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def counts(self) -> dict[str, int]:
        committed = self.documents.get(where={"status": COMMITTED}, include=[])["ids"]
        return {"documents": len(committed), "passages": self.passages.count()}

    def query_passages(
        self, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> list[tuple[Passage, float]]:
        hits = self._query(self.passages, vector, k, where_clause(filters))
        return [(passage_from(t, m), s) for t, m, s in hits]

    def _query(self, col: Any, vector: np.ndarray, k: int, where: dict | None) -> list[tuple[str, dict, float]]:
        k = min(k, col.count())
        if k <= 0:
            return []
        got = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        # Chroma's cosine distance is 1 - cosine similarity.
        return [
            (t, m, 1.0 - float(d))
            for t, m, d in zip(got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    def sentence_vectors(self, sentences: Sequence[Sentence]) -> np.ndarray:
        """The stored embeddings of these sentences, in the same order (fetched by id: no filter scan)."""
        ids = [s.id for s in sentences]
        got = self.sentences.get(ids=ids, include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise KeyError(f"{len(missing)} sentence embeddings missing from the index (re-ingest to repair)")
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def iter_passages(self) -> Iterator[tuple[str, Passage]]:
        """Every stored passage with its id, page by page."""
        offset = 0
        while True:
            got = self.passages.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                yield pid, passage_from(text, meta)
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    # -- used by hybrid retrieval and the lexical index -----------------------------------------

    def passage_count(self) -> int:
        return int(self.passages.count())

    def fingerprint(self) -> str:
        """Identifies the committed content (documents and their versions): equal fingerprints, equal passages."""
        docs = sorted(f"{d.doc_id}:{d.content_hash}" for d in self.list_documents() if d.status == COMMITTED)
        return stable_id(*docs, length=32) if docs else ""

    def get_passages(self, ids: Sequence[str]) -> dict[str, Passage]:
        """Passages by id (a direct lookup, no filter scan); unknown ids are left out."""
        if not ids:
            return {}
        got = self.passages.get(ids=list(ids), include=["documents", "metadatas"])
        return {pid: passage_from(t, m) for pid, t, m in zip(got["ids"], got["documents"], got["metadatas"])}

    def passage_vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored embeddings of these passages, in the same order."""
        got = self.passages.get(ids=list(ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def query_passage_ids(
        self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, Passage, float]]:
        """Nearest passages with their ids; `doc_ids` restricts them (a slow `where` scan: use sparingly)."""
        where = {"doc_id": {"$in": list(doc_ids)}} if doc_ids is not None else None
        got = self._query_ids(self.passages, vector, k, where)
        return [(pid, passage_from(t, m), s) for pid, t, m, s in got]

    def query_sentences(
        self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[Sentence, float]]:
        """Nearest sentences; `doc_ids` restricts them (a slow `where` scan: use sparingly)."""
        where = {"doc_id": {"$in": list(doc_ids)}} if doc_ids is not None else None
        return [(sentence_from(t, m), s) for _, t, m, s in self._query_ids(self.sentences, vector, k, where)]

    def _query_ids(
        self, col: Any, vector: np.ndarray, k: int, where: dict | None
    ) -> list[tuple[str, str, dict, float]]:
        k = min(k, col.count())
        if k <= 0:
            return []
        got = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (i, t, m, 1.0 - float(d))
            for i, t, m, d in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]


def langchain_vectorstore(store: Store, embeddings: Any, rebuild: bool = False) -> Any:
    """A langchain-chroma `Chroma` over this store's passages in collection `<name>-langchain`, embedded by
    `embeddings` the plain LangChain way (each passage's text embedded as a whole).

    With `rebuild` the collection is dropped and filled again from the store's passages.
    """
    from langchain_chroma import Chroma

    name = f"{store.settings.collection}-langchain"
    if rebuild and name in {c.name for c in store._client.list_collections()}:
        store._client.delete_collection(name)
    vectorstore = Chroma(
        collection_name=name,
        embedding_function=embeddings,
        client=store._client,
        collection_metadata={"hnsw:space": "cosine"},
    )
    if rebuild:
        batch: list[tuple[str, Passage]] = []
        for item in store.iter_passages():
            batch.append(item)
            if len(batch) >= store.max_batch:
                _add_langchain(vectorstore, batch)
                batch = []
        _add_langchain(vectorstore, batch)
    return vectorstore


def _add_langchain(vectorstore: Any, batch: list[tuple[str, Passage]]) -> None:
    if batch:
        vectorstore.add_texts(
            [p.text for _, p in batch], metadatas=[_passage_metadata(p) for _, p in batch], ids=[i for i, _ in batch]
        )


def date_number(date: str) -> int | None:
    """An ISO date as the number YYYYMMDD (how dates are compared), or None if it is not one."""
    return _date_number(date)
