"""The index: Chroma, where everything the index is lives (`chroma.py`, the only module that speaks to chromadb),
and the local caches derived from it and kept in step by its generation token: the one passage catalog with BM25
(`lexical.py`, `bm25.py`) and the passage records retrieval reads (`passage_cache.py`). `Index` is the facade:
one write transaction over all of them."""

from assistant.store.chroma import (
    COMMITTED,
    PENDING,
    AllowedPassages,
    DocumentInfo,
    IndexBusyError,
    ModelMismatchError,
    Store,
    langchain_vectorstore,
    passage_from,
    unpack_vectors,
    where_clause,
)
from assistant.store.index import Index
from assistant.store.lexical import LexicalIndex

__all__ = [
    "COMMITTED",
    "PENDING",
    "AllowedPassages",
    "DocumentInfo",
    "Index",
    "IndexBusyError",
    "LexicalIndex",
    "ModelMismatchError",
    "Store",
    "langchain_vectorstore",
    "passage_from",
    "unpack_vectors",
    "where_clause",
]
