"""The only module that talks to chromadb: passages, sentences and documents, embedded or on a server.

Four collections share a prefix: `<name>-passages` and `<name>-sentences` hold our own embeddings
(never Chroma's default embedding function, which would download a model), `<name>-documents` holds
each document's full text and metadata, `<name>-meta` the server write lock and the index generation.
A document record is written first as `pending` and marked `committed` last, so a crash mid-ingest
leaves a marker that `recover()` cleans up on the next open.

Everything the index is lives in Chroma: with `chroma_url` set (a Chroma server) every process on every
machine sees the same passages, vectors and document texts. Local files are caches derived from Chroma
(e.g. a lexical index), kept valid by comparing `generation()`, which changes with every write, or keyed
by content-hash ids (`passage-cache.sqlite3`: the records retrieval reads, see `assistant.store.passage_cache`).
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.settings import Settings
from assistant.store.passage_cache import PassageCache, PassageRow, SentenceRow
from assistant.types import Document, Filters, Passage, Sentence, date_number

PENDING, COMMITTED = "pending", "committed"
_PAGE = 5000
_LOCK_ID, _GENERATION_ID = "write-lock", "generation"
# Sentence vectors kept from retrieved passages (float32, 1.5 KB each): enough for many questions' passages.
_RECENT_SENTENCES = 20_000
_RECORD_FIELDS = {"source", "status", "content_hash", "passages"}


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


@dataclass(frozen=True)
class AllowedPassages:
    """The passages a filter allows, as the passage catalog decided them (`LexicalIndex.allowed`)."""

    filters: Filters
    count: int  # passages allowed
    total: int  # passages in the catalog
    ids: Callable[[], list[str]]  # the allowed passages' ids (asked for only when they are few)
    contains: Callable[[str], bool]  # whether a passage id is allowed
    sources: Callable[[], list[str]]  # the sources of the allowed passages


def where_clause(filters: Filters, sources: Sequence[str]) -> dict[str, Any]:
    """Chroma `where` for these filters, given the `sources` they allow (from the passage catalog, which decides
    what a source filter means); dates compare as YYYYMMDD numbers."""
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(sources)}})
    for op, number in zip(("$gte", "$lte"), filters.date_numbers(), strict=True):
        if number is not None:
            clauses.append({"date_num": {op: number}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _span_metadata(unit: Passage | Sentence) -> dict[str, Any]:
    return {"doc_id": unit.doc_id, "source": unit.source, "start": unit.start, "end": unit.end}


def pack_vectors(vectors: np.ndarray) -> str:
    """Vectors as base64 float16: a passage record carries its sentences' vectors (answers need them)."""
    return base64.b64encode(np.asarray(vectors, dtype="<f2").tobytes()).decode("ascii")


def unpack_vectors(packed: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<f2").astype(np.float32).reshape(-1, dimension)


def _passage_metadata(p: Passage) -> dict[str, Any]:
    meta = _span_metadata(p)
    # Chroma metadata holds scalars only: the sentence spans travel as "start-end,start-end".
    meta["sentences"] = ",".join(f"{a}-{b}" for a, b in p.sentence_spans)
    date = str(p.metadata.get("date", ""))
    if (number := date_number(date)) is not None:
        meta["date"] = date
        meta["date_num"] = number
    return meta


def passage_from(text: str, meta: dict[str, Any]) -> Passage:
    extra = {k: v for k, v in meta.items() if k == "date"}
    spans = tuple(
        (int(a), int(b)) for a, b in (pair.split("-") for pair in str(meta.get("sentences", "")).split(",") if pair)
    )
    return Passage(meta["doc_id"], meta["source"], int(meta["start"]), int(meta["end"]), text, extra, spans)


class Store:
    """Chroma behind our own types; every write passes embeddings we computed."""

    def __init__(self, settings: Settings, model: str, dimension: int) -> None:
        self.settings = settings
        self.dimension = dimension
        self._recent_sentences: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()  # a chat server asks from several threads
        self._client = _client(settings)
        self.max_batch = int(self._client.get_max_batch_size())
        meta = {"hnsw:space": "cosine", "embedding_model": model, "dimension": dimension}
        self.passages = self._vector_collection("passages", meta)
        self.sentences = self._vector_collection("sentences", meta)
        self.documents = self._collection("documents", {"hnsw:space": "cosine"})
        self.meta = self._collection("meta", {"hnsw:space": "cosine"})
        # The filter table of earlier versions: filters are now decided by the one passage catalog (lexical.py).
        self.local_cache_path("passage-filters.npz").unlink(missing_ok=True)
        for col in (self.passages, self.sentences):
            found = (col.metadata or {}).get("embedding_model")
            if found != model:
                raise ModelMismatchError(
                    f"the index at {self.location} was built with embedding model {found!r}, "
                    f"not {model!r}: use that model, or a new --index"
                )
        self._cache = PassageCache(self.local_cache_path("passage-cache.sqlite3"), dimension)
        if not self._cache.filled:
            self._fill_cache()

    def close(self) -> None:
        """Close the Chroma client (its files or connections) and the passage cache."""
        self._cache.close()
        self._client.close()

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.index_dir)

    def local_cache_path(self, name: str) -> Path:
        """Where a local cache derived from this index lives: beside it, or for a server in the cache folder."""
        if not self.settings.chroma_url:
            return Path(self.settings.index_dir) / name
        server = "".join(c if c.isalnum() else "_" for c in self.settings.chroma_url)
        return self.settings.cache_dir.expanduser() / "servers" / f"{server}-{self.settings.collection}-{name}"

    def _collection(self, kind: str, metadata: dict[str, Any], configuration: dict[str, Any] | None = None) -> Any:
        return self._client.get_or_create_collection(
            f"{self.settings.collection}-{kind}",
            metadata=metadata,
            configuration=configuration,
            embedding_function=None,
        )

    def _vector_collection(self, kind: str, metadata: dict[str, Any]) -> Any:
        """A collection of our vectors, its HNSW graph built and searched as the settings say.

        Chroma keeps a collection's configuration from its creation: the search breadth of an index built
        before (or with other settings) is brought to the setting here; its neighbours per node stay."""
        ef_search = self.settings.hnsw_ef_search
        hnsw = {"space": "cosine", "ef_search": ef_search, "max_neighbors": self.settings.hnsw_max_neighbors}
        collection = self._collection(kind, metadata, {"hnsw": hnsw})
        if ((collection.configuration_json or {}).get("hnsw") or {}).get("ef_search") != ef_search:
            collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
        return collection

    # -- writes -------------------------------------------------------------------------------

    @contextmanager
    def write_lock(self, timeout: float | None = None) -> Iterator[None]:
        """Serialize writers of one index across processes; a writer that waits `timeout` (default
        `lock_timeout`) seconds gets a clear error.

        An embedded index is locked by a file next to it; a server's by a record in `<name>-meta`, so
        writers on different machines exclude each other too.
        """
        wait = self.settings.lock_timeout if timeout is None else timeout
        if self.settings.chroma_url:
            with _ServerLock(self.meta, wait, self.settings.lock_lease, self.location):
                yield
            return
        from filelock import FileLock, Timeout

        file_lock = FileLock(str(Path(self.settings.index_dir) / ".write.lock"))
        try:
            file_lock.acquire(timeout=wait)
        except Timeout:
            raise IndexBusyError(
                f"the index at {self.location} is in use by another process; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            file_lock.release()

    def recover_if_idle(self) -> list[str]:
        """Clean up after a crashed writer, unless a live writer holds the index (its work is not debris)."""
        try:
            with self.write_lock(timeout=0):
                return self.recover()
        except IndexBusyError:
            return []

    def begin(self, docs: Sequence[Document]) -> None:
        """Record the documents as pending: their passages may be half-written until `commit`."""
        for i in range(0, len(docs), self.max_batch):
            batch = docs[i : i + self.max_batch]
            self.documents.upsert(
                ids=[d.doc_id for d in batch],
                embeddings=[[1.0]] * len(batch),
                documents=[d.text for d in batch],
                metadatas=[self._doc_metadata(d, PENDING, 0) for d in batch],
            )

    def commit(self, docs: Sequence[tuple[Document, int]]) -> None:
        """Mark documents (with their passage counts) committed: from now on they are whole."""
        for i in range(0, len(docs), self.max_batch):
            batch = docs[i : i + self.max_batch]
            self.documents.update(
                ids=[d.doc_id for d, _ in batch], metadatas=[self._doc_metadata(d, COMMITTED, n) for d, n in batch]
            )
        self._bump_generation()

    def generation(self) -> str:
        """A token that changes whenever documents are committed or removed (by any process or machine)."""
        got = self.meta.get(ids=[_GENERATION_ID], include=["metadatas"])
        return str(got["metadatas"][0]["token"]) if got["ids"] else ""

    def _bump_generation(self) -> None:
        """Record a change: the local caches of other clients (BM25 and its catalog) see it and catch up."""
        self.meta.upsert(ids=[_GENERATION_ID], embeddings=[[1.0]], metadatas=[{"token": uuid.uuid4().hex}])

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
        row = {(s.doc_id, s.start, s.end): i for i, s in enumerate(sentences)}
        metas = [_passage_metadata(p) for p in passages]
        for p, meta in zip(passages, metas, strict=True):
            rows = [row[(p.doc_id, a, b)] for a, b in p.sentence_spans]
            meta["sentence_vectors"] = pack_vectors(sentence_vectors[rows])
        self._add(self.passages, passages, passage_vectors, metas)
        self._cache.put(
            [_cache_row(p.id, p.text, m, self.dimension) for p, m in zip(passages, metas, strict=True)],
            [(s.id, s.doc_id, s.start, s.end) for s in sentences],
        )

    def _add(self, col: Any, units: Sequence[Passage | Sentence], vectors: np.ndarray, metas: list[dict]) -> None:
        # `add`, not `upsert` (a third faster here): a document's old units are always deleted before
        # its new ones are added (`delete_units` on replace, `recover` after a crash), so no id exists yet.
        for i in range(0, len(units), self.max_batch):
            batch = units[i : i + self.max_batch]
            col.add(
                ids=[u.id for u in batch],
                embeddings=vectors[i : i + self.max_batch],
                documents=[u.text for u in batch],
                metadatas=metas[i : i + self.max_batch],
            )

    def delete_units(self, doc_ids: Sequence[str]) -> None:
        """Remove these documents' passages and sentences (their records stay until `forget`)."""
        for i in range(0, len(doc_ids), _PAGE):
            where = {"doc_id": {"$in": list(doc_ids[i : i + _PAGE])}}
            for col in (self.passages, self.sentences):
                col.delete(where=where)
        self._cache.remove_documents(doc_ids)

    def forget(self, doc_id: str) -> None:
        self.delete_units([doc_id])
        self.documents.delete(ids=[doc_id])
        self._bump_generation()

    def recover(self) -> list[str]:
        """Remove what an interrupted ingest left behind; returns the affected document ids."""
        pending = self.documents.get(where={"status": PENDING}, include=[])["ids"]
        if pending:
            self.delete_units(pending)
            self.documents.delete(ids=pending)
            self._bump_generation()
        return list(pending)

    # -- reads --------------------------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentInfo | None:
        return self.documents_by_id([doc_id]).get(doc_id)

    def documents_by_id(self, doc_ids: Sequence[str]) -> dict[str, DocumentInfo]:
        """The records of those of these documents that exist, by id (one round trip per page)."""
        out: dict[str, DocumentInfo] = {}
        for i in range(0, len(doc_ids), _PAGE):
            got = self.documents.get(ids=list(doc_ids[i : i + _PAGE]), include=["metadatas"])
            out.update((d, self._info(d, m)) for d, m in zip(got["ids"], got["metadatas"], strict=True))
        return out

    @staticmethod
    def _info(doc_id: str, meta: dict[str, Any]) -> DocumentInfo:
        extra = {k: v for k, v in meta.items() if k not in _RECORD_FIELDS}
        return DocumentInfo(
            doc_id, str(meta["source"]), str(meta["status"]), str(meta["content_hash"]), int(meta["passages"]), extra
        )

    def document_text(self, doc_id: str) -> str | None:
        got = self.documents.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def find_by_source(self, source: str) -> list[DocumentInfo]:
        """Documents from a source: a file, or each record of a jsonl file (`file#line`)."""
        # An exact match is one metadata lookup; only a jsonl file's records (a prefix) need the full listing.
        return self.find_where("source", source) or [
            d for d in self.list_documents() if d.source.startswith(source + "#")
        ]

    def find_where(self, key: str, value: str) -> list[DocumentInfo]:
        """Documents whose metadata `key` is `value` (one lookup)."""
        got = self.documents.get(where={key: value}, include=["metadatas"])
        return [self._info(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)]

    def list_documents(self) -> list[DocumentInfo]:
        return [
            self._info(i, m)
            for got in _pages(self.documents, ["metadatas"])
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        ]

    def counts(self) -> dict[str, int]:
        # Count, then subtract the few pending records: listing every committed id costs seconds at 100k.
        pending = self.documents.get(where={"status": PENDING}, include=[])["ids"]
        return {"documents": self.documents.count() - len(pending), "passages": self.passages.count()}

    def query_passages(
        self, vector: np.ndarray, k: int, allowed: AllowedPassages | None = None
    ) -> list[tuple[Passage, float]]:
        """The `k` passages nearest to `vector` among those a filter allows (as the passage catalog decided),
        best first.

        Chroma's filtered search goes through its metadata store and is many times slower than an
        unfiltered one: when a filter allows few passages, those are scored exactly with numpy; otherwise
        an unfiltered search (ids only, which is cheap) fetches enough extra neighbours to keep `k`. Only
        when too few survive does Chroma's own filtered search run.
        """
        if allowed is None:
            return self._fetch(self.nearest_passage_ids(vector, k))
        if allowed.count == 0:
            return []
        if allowed.count <= self.settings.filter_exact_passages:
            return self._exact(vector, k, allowed.ids())
        wanted = int(3 * k * allowed.total / allowed.count) + k
        if wanted <= self.settings.filter_overfetch_limit:
            hits = self.nearest_passage_ids(vector, min(wanted, allowed.total))
            kept = [(pid, score) for pid, score in hits if allowed.contains(pid)][:k]
            if len(kept) == min(k, allowed.count):
                return self._fetch(kept)
        where = where_clause(allowed.filters, allowed.sources())
        return self._fetch(self.nearest_passage_ids(vector, k, where))

    def _exact(self, vector: np.ndarray, k: int, ids: list[str]) -> list[tuple[Passage, float]]:
        """Exact cosine top-k over these passages (stored vectors are unit length)."""
        got = self.passages.get(ids=ids, include=["embeddings"])
        if not got["ids"]:
            return []
        scores = np.asarray(got["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-scores, kind="stable")[:k]
        return self._fetch([(got["ids"][i], float(scores[i])) for i in top])

    def _fetch(self, scored: list[tuple[str, float]]) -> list[tuple[Passage, float]]:
        """These passages, in the given order."""
        found = self.get_passages([pid for pid, _ in scored])
        return [(found[pid], score) for pid, score in scored if pid in found]

    def _records(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any], np.ndarray]]:
        """(text, metadata, sentence vectors) of these passages: from the local cache, else from Chroma (then
        cached). Unknown ids are left out."""
        found = self._cache.passages(ids)
        missing = [pid for pid in dict.fromkeys(ids) if pid not in found]
        if missing:
            rows = self._cache_rows(self.passages.get(ids=missing, include=["documents", "metadatas"]))
            self._cache.put(rows, _sentence_rows(rows))
            found.update((pid, (text, meta, vectors)) for pid, _, text, meta, vectors in rows)
        return found

    def _remember_sentence_vectors(self, ids: Sequence[str], vectors: Sequence[np.ndarray] | np.ndarray) -> None:
        """Keep sentence vectors seen lately (with a retrieved passage, or fetched), for `sentence_vectors`."""
        with self._recent_lock:
            for sid, vector in zip(ids, vectors, strict=True):
                # Keyed by id (which covers the text): a re-ingested document never gets old vectors.
                self._recent_sentences[sid] = vector
                self._recent_sentences.move_to_end(sid)
            while len(self._recent_sentences) > _RECENT_SENTENCES:
                self._recent_sentences.popitem(last=False)

    def _fill_cache(self) -> None:
        """Copy every passage record into the local cache: once, for an index written before it existed."""
        for got in _pages(self.passages, ["documents", "metadatas"]):
            rows = self._cache_rows(got)
            self._cache.put(rows, _sentence_rows(rows))
        self._cache.mark_filled()

    def _cache_rows(self, got: dict[str, Any]) -> list[PassageRow]:
        """The passage records of a Chroma `get` (with documents and metadatas) as cache rows."""
        records = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        return [_cache_row(pid, text, meta, self.dimension) for pid, text, meta in records]

    def sentence_vectors(self, sentences: Sequence[Sentence]) -> np.ndarray:
        """The stored embeddings of these sentences, in the same order.

        Those of recently retrieved passages came with them (float16 in the passage record); others are
        fetched by id from the sentences collection, which makes Chroma load that collection's vectors
        (about 8 KB per sentence of memory, seconds at 100k passages): avoided on the usual path.
        """
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        missing: list[int] = []
        with self._recent_lock:
            for i, s in enumerate(sentences):
                vector = self._recent_sentences.get(s.id)
                if vector is None:
                    missing.append(i)
                else:
                    out[i] = vector
        if missing:
            ids = [sentences[i].id for i in missing]
            got = self.sentences.get(ids=ids, include=["embeddings"])
            by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
            lost = [i for i in ids if i not in by_id]
            if lost:
                raise KeyError(f"{len(lost)} sentence embeddings missing from the index (re-ingest to repair)")
            out[missing] = np.asarray([by_id[i] for i in ids], dtype=np.float32)
            self._remember_sentence_vectors(ids, out[missing])
        return out

    def iter_passages(self) -> Iterator[tuple[str, Passage]]:
        """Every stored passage with its id, page by page."""
        for got in _pages(self.passages, ["documents", "metadatas"]):
            for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                yield pid, passage_from(text, meta)

    # -- used by hybrid retrieval and the lexical index -----------------------------------------

    def get_passages(self, ids: Sequence[str]) -> dict[str, Passage]:
        """Passages by id (a direct lookup, no filter scan); unknown ids are left out."""
        if not ids:
            return {}
        out = {}
        for pid, (text, meta, vectors) in self._records(ids).items():
            out[pid] = passage_from(text, meta)
            # Answers and the reranker score these passages' sentences: keep the vectors that came with them.
            if len(vectors):
                self._remember_sentence_vectors([s.id for s in out[pid].sentences()], vectors)
        return out

    def passage_vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored embeddings of these passages, in the same order."""
        got = self.passages.get(ids=list(ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def nearest_passage_ids(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Ids and similarities of the `k` nearest passages: no texts or metadata, which cost more than the search."""
        return _nearest_ids(self.passages, vector, k, where)

    def nearest_sentence_spans(
        self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, int, int, float]]:
        """(doc_id, start, end, similarity) of the nearest sentences, without their texts; `doc_ids` restricts
        them (a slow `where` scan: use sparingly)."""
        where = {"doc_id": {"$in": list(doc_ids)}} if doc_ids is not None else None
        hits = _nearest_ids(self.sentences, vector, k, where)
        ids = [sid for sid, _ in hits]
        # The spans come from the local cache: Chroma's metadata of 30 hits costs twice the search.
        spans = self._cache.sentence_spans(ids)
        missing = [sid for sid in ids if sid not in spans]
        if missing:
            got = self.sentences.get(ids=missing, include=["metadatas"])
            rows = [
                (sid, str(m["doc_id"]), int(m["start"]), int(m["end"]))
                for sid, m in zip(got["ids"], got["metadatas"], strict=True)
            ]
            self._cache.put([], rows)
            spans.update((sid, (doc_id, start, end)) for sid, doc_id, start, end in rows)
        return [(*spans[sid], similarity) for sid, similarity in hits if sid in spans]

    def best_sentence_scores(self, vector: np.ndarray, passage_ids: Sequence[str]) -> dict[str, float]:
        """Each passage's best sentence similarity, scored exactly from the sentence vectors its record carries."""
        if not passage_ids:
            return {}
        query = np.asarray(vector, dtype=np.float32)
        records = self._records(passage_ids)
        return {pid: float((vectors @ query).max()) for pid, (_, _, vectors) in records.items() if len(vectors)}


def _pages(col: Any, include: list[str]) -> Iterator[dict[str, Any]]:
    """A whole collection, one `get` of `_PAGE` records at a time."""
    offset = 0
    while True:
        got = col.get(include=include, limit=_PAGE, offset=offset)
        yield got
        if len(got["ids"]) < _PAGE:
            return
        offset += _PAGE


def _nearest_ids(col: Any, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
    # No `count()` first: Chroma caps n_results itself, and counting costs more than the query at 100k.
    if k <= 0:
        return []
    got = col.query(
        query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k, where=where, include=["distances"]
    )
    # Chroma's cosine distance is 1 - cosine similarity.
    return [(uid, 1.0 - float(d)) for uid, d in zip(got["ids"][0], got["distances"][0], strict=True)]


def _cache_row(pid: str, text: str, meta: dict[str, Any], dimension: int) -> PassageRow:
    """A Chroma passage record as a cache row: its sentence vectors unpacked beside the rest of its metadata."""
    rest = {k: v for k, v in meta.items() if k != "sentence_vectors"}
    return pid, str(meta["doc_id"]), text, rest, unpack_vectors(str(meta.get("sentence_vectors") or ""), dimension)


def _sentence_rows(rows: Sequence[PassageRow]) -> list[SentenceRow]:
    return [
        (s.id, s.doc_id, s.start, s.end) for _, _, text, meta, _ in rows for s in passage_from(text, meta).sentences()
    ]


class _ServerLock:
    """A write lock held as a record in a Chroma server, with a lease a heartbeat renews.

    Chroma's `add` keeps the first record of an id and ignores later ones, so of several writers adding
    the lock record at once exactly one finds its own token in it. A holder that dies stops renewing:
    after `lease` seconds another writer may delete the record (only if it still holds the dead
    holder's token) and take it. Leases compare wall clocks, so writers' clocks must roughly agree.
    """

    def __init__(self, col: Any, timeout: float, lease: float, location: str) -> None:
        self.col, self.timeout, self.lease, self.location = col, timeout, lease, location
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._renew, daemon=True)

    def _meta(self) -> dict[str, Any]:
        holder = f"{socket.gethostname()}:{os.getpid()}"
        return {"owner": self.token, "holder": holder, "expires": time.time() + self.lease}

    def _current(self) -> dict[str, Any] | None:
        got = self.col.get(ids=[_LOCK_ID], include=["metadatas"])
        return got["metadatas"][0] if got["ids"] else None

    def __enter__(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            self.col.add(ids=[_LOCK_ID], embeddings=[[1.0]], metadatas=[self._meta()])
            held = self._current()
            if held is not None and held.get("owner") == self.token:
                self._heartbeat.start()
                return
            if held is not None and float(held.get("expires", 0)) < time.time():
                # The holder stopped renewing (it died): remove its record, unless someone already did.
                self.col.delete(ids=[_LOCK_ID], where={"owner": held["owner"]})
                continue
            if time.monotonic() >= deadline:
                who = held.get("holder", "another process") if held else "another process"
                raise IndexBusyError(f"the index at {self.location} is in use by {who}; try again when it has finished")
            time.sleep(0.2)

    def _renew(self) -> None:
        while not self._stop.wait(self.lease / 3):
            held = self._current()
            if held is None or held.get("owner") != self.token:
                return
            self.col.update(ids=[_LOCK_ID], metadatas=[self._meta()])

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._heartbeat.join()
        self.col.delete(ids=[_LOCK_ID], where={"owner": self.token})


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
