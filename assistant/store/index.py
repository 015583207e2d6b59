"""The index behind one facade: the Chroma store and the local caches derived from it, with one write
transaction over all of them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from assistant.settings import Settings
from assistant.store.chroma import Store
from assistant.store.lexical import LexicalIndex


class Index:
    """Chroma (`store`), and the passage catalog with BM25 (`lexical`, opened on first use: rebuilding it from a
    stale index takes seconds, and counting needs none of it)."""

    def __init__(self, settings: Settings, model: str, dimension: int) -> None:
        self.store = Store(settings, model, dimension)
        self.store.recover_if_idle()
        self._lexical: LexicalIndex | None = None
        self._opening = threading.Lock()

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            with self._opening:
                if self._lexical is None:
                    # Beside an embedded index; in the cache folder for a server.
                    path = self.store.local_cache_path(f"lexical/{self.store.settings.collection}")
                    self._lexical = LexicalIndex.open(path, self.store)
        return self._lexical

    @contextmanager
    def writing(self) -> Iterator[None]:
        """The one write transaction: the store's write lock, the catalog brought in step (and what a crashed
        writer left pending removed from both), the caller's writes to the store and the catalog, then the
        catalog saved with the store's new generation. Every ingest and delete goes through here."""
        lexical = self.lexical
        with self.store.write_lock():
            lexical.sync(self.store)
            lexical.remove(self.store.recover())
            yield
            lexical.save(self.store.generation())

    def close(self) -> None:
        """Close Chroma's client and the passage cache; the catalog holds no open files once collected."""
        self.store.close()
        self._lexical = None
