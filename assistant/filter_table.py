"""Which passages a filter allows, answered locally: a numpy table of every passage's source and date.

Chroma evaluates a `where` filter through its metadata store, which costs tens of milliseconds even
when the vector search itself takes one; this table answers "may passage X be used?" in microseconds.
It is a cache of Chroma's passage metadata, saved next to the index (or in the cache folder for a
server), tagged with the index generation it reflects, and rebuilt from Chroma when that changed or the
file is damaged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from assistant.types import Filters

logger = logging.getLogger(__name__)
# What numpy raises on a file that is not (all of) a saved table: zeroed, truncated, overwritten.
_DAMAGED = (ValueError, KeyError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile)


def source_files(sources: Iterable[str]) -> np.ndarray:
    """The file of each source: a jsonl record's (`file#line`) is its file, any other source is its own."""
    return np.asarray([s.split("#", 1)[0] for s in sources], dtype=object)


def filter_mask(filters: Filters, sources: np.ndarray, files: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Which rows the filters allow, given each row's source, its `source_files` and its date (YYYYMMDD, 0 or less
    for none): the one implementation of the filter rules, used by the filter table and by BM25's catalog.

    A source allows its own passages, and a jsonl file's path its records'; a date range allows dated passages only.
    """
    mask = np.ones(len(sources), dtype=bool)
    if filters.sources:
        wanted = np.asarray(list(filters.sources), dtype=object)
        mask &= np.isin(sources, wanted) | np.isin(files, wanted)
    for number, keep in zip(filters.date_numbers(), (np.greater_equal, np.less_equal), strict=True):
        if number is not None:
            mask &= (dates > 0) & keep(dates, number)
    return mask


class PassageFilterTable:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.generation: str | None = None
        self._clear()

    def _clear(self) -> None:
        self.ids = np.zeros(0, dtype=object)
        self.doc_ids = np.zeros(0, dtype=object)
        self.sources = np.zeros(0, dtype=object)
        self.dates = np.zeros(0, dtype=np.int64)
        self._row: dict[str, int] | None = None
        self._files: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    # -- keeping it current -------------------------------------------------------------------

    def load(self) -> bool:
        """Read the saved table; False when there is none (or it cannot be read)."""
        try:
            with np.load(self.path, allow_pickle=True) as saved:
                self.ids, self.doc_ids = saved["ids"], saved["doc_ids"]
                self.sources, self.dates = saved["sources"], saved["dates"]
                self.generation = str(saved["generation"])
        except OSError:
            return self._missing()
        except _DAMAGED as e:
            logger.warning("the filter table %s was damaged (%s); rebuilt from the store", self.path, e)
            # Removed, it is missing: rebuilt when next used, and not reported again.
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
            return self._missing()
        self._row = self._files = None
        return True

    def _missing(self) -> bool:
        self._clear()
        self.generation = None
        return False

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staged = self.path.with_name(self.path.name + f".{os.getpid()}.tmp.npz")
        np.savez(
            staged,
            ids=self.ids,
            doc_ids=self.doc_ids,
            sources=self.sources,
            dates=self.dates,
            generation=np.asarray(self.generation or ""),
        )
        os.replace(staged, self.path)  # readers see the old table or the new one, never half of one

    def reset(self, rows: Iterable[tuple[str, dict]], generation: str) -> None:
        """Replace the contents with (passage id, passage metadata) rows."""
        self._clear()
        self.append(list(rows))
        self.generation = generation

    def append(self, rows: Sequence[tuple[str, dict]]) -> None:
        if not rows:
            return
        self.ids = np.concatenate([self.ids, np.asarray([r[0] for r in rows], dtype=object)])
        self.doc_ids = np.concatenate([self.doc_ids, np.asarray([str(r[1]["doc_id"]) for r in rows], dtype=object)])
        self.sources = np.concatenate([self.sources, np.asarray([str(r[1]["source"]) for r in rows], dtype=object)])
        dates = [int(r[1].get("date_num", 0)) for r in rows]
        self.dates = np.concatenate([self.dates, np.asarray(dates, dtype=np.int64)])
        self._row = self._files = None

    def remove_documents(self, doc_ids: Sequence[str]) -> None:
        if not doc_ids or not len(self):
            return
        keep = ~np.isin(self.doc_ids, np.asarray(list(doc_ids), dtype=object))
        self.ids, self.doc_ids = self.ids[keep], self.doc_ids[keep]
        self.sources, self.dates = self.sources[keep], self.dates[keep]
        self._row = self._files = None

    # -- answering ----------------------------------------------------------------------------

    def allowed(self, filters: Filters) -> np.ndarray:
        """A boolean mask over the rows: which passages the filters allow."""
        if self._files is None:
            self._files = source_files(self.sources.tolist())
        return filter_mask(filters, self.sources, self._files, self.dates)

    def rows_of(self, passage_ids: Sequence[str]) -> np.ndarray:
        """Row numbers of these passages (-1 for one the table does not know)."""
        if self._row is None:
            self._row = {pid: i for i, pid in enumerate(self.ids.tolist())}
        return np.asarray([self._row.get(pid, -1) for pid in passage_ids], dtype=np.int64)
