"""BM25 over every stored passage (bm25s), persisted under the index folder and kept in step with the store.

The index also keeps the one catalog of every passage (id, document, source, offsets, date): every filter is
decided on it (`filter_mask`), for BM25, for the sentence branch of retrieval and for the store's filtered dense
search, instead of slow Chroma `where` scans.

Writes cost what they change: passages added since the last compaction form a delta segment and removed
ones become tombstones (`assistant/store/bm25.py` scores them exactly like a fresh index), until they outgrow
`lexical_compact_share` of the base and one bm25s re-index folds them in.

Layout of `<index_dir>/lexical/<collection>/`: `manifest.json` names the base folder (`base-<n>/`:
bm25s files, term ids and postings, `catalog.json`), the delta files written since (`delta-<n>.jsonl`,
one per write: the passages added and the documents removed, in order) and the store generation they
reflect. Writers add files and then switch the manifest atomically, so readers never see half a write; a
reader that finds the manifest changed applies just the new delta files when its base is unchanged. An
index whose generation differs from the store's (a crash between the two writes, or another client of a
Chroma server), or whose files cannot be read (a disk fault, a bad copy), is rebuilt from the store.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from assistant.store.bm25 import Base, Segments
from assistant.store.chroma import AllowedPassages, IndexBusyError, Store
from assistant.text import terms
from assistant.types import Filters, Passage, date_number

logger = logging.getLogger(__name__)
_FORMAT = 3
# Delta files before a write folds them into one (a load reads each of them).
MAX_DELTAS = 32
_COLUMNS = ("ids", "doc_ids", "sources", "starts", "ends", "dates")


@dataclass
class Catalog:
    """One row per passage, in the BM25 index's document order."""

    ids: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    # YYYYMMDD, 0 when the document has no date.
    dates: list[int] = field(default_factory=list)

    def append(self, row: Sequence[Any]) -> None:
        """Add a row of `row_of`."""
        for column, value in zip(self.columns(), row, strict=True):
            column.append(value)

    def keep(self, rows: Sequence[int] | np.ndarray) -> Catalog:
        return Catalog(*([column[i] for i in rows] for column in self.columns()))

    def columns(self) -> tuple[list[Any], ...]:
        return (self.ids, self.doc_ids, self.sources, self.starts, self.ends, self.dates)

    def __len__(self) -> int:
        return len(self.ids)


def source_files(sources: Iterable[str]) -> np.ndarray:
    """The file of each source: a jsonl record's (`file#line`) is its file, any other source is its own."""
    return np.asarray([s.split("#", 1)[0] for s in sources], dtype=object)


def filter_mask(filters: Filters, sources: np.ndarray, files: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Which rows the filters allow, given each row's source, its `source_files` and its date (YYYYMMDD, 0 or less
    for none): the one implementation of the filter rules, run on the passage catalog for every search.

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


def row_of(pid: str, p: Passage) -> list[Any]:
    """A passage's catalog row."""
    return [pid, p.doc_id, p.source, p.start, p.end, date_number(str(p.metadata.get("date", ""))) or 0]


class LexicalIndex:
    """BM25 search and the passage catalog; writers `add` and `remove` inside `Index.writing`."""

    def __init__(self, folder: Path, compact_share: float = 0.1) -> None:
        self.folder = Path(folder)
        self.compact_share = compact_share
        # The store generation this index reflects; None until known (never equal to a store's).
        self.generation: str | None = None
        self._manifest_mtime = 0.0
        # A chat server searches from several threads while one of them may apply another writer's delta.
        self._lock = threading.RLock()
        self._start(Catalog(), Base.build([]))

    def _start(self, rows: Catalog, base: Base, base_name: str | None = None) -> None:
        """Begin anew from a base and its catalog (`base_name`: its folder, if it is saved)."""
        # Lookups by row of the segments (removed rows included until a compaction): they only grow.
        self._rows = Catalog()
        self._row_of: dict[str, int] = {}
        self._doc_rows: dict[str, list[int]] = {}  # live rows only
        self._sources = np.zeros(0, dtype=object)
        self._files = np.zeros(0, dtype=object)
        self._dates = np.zeros(0, dtype=np.int64)
        self._extend(rows)
        self._segments = Segments(base)
        self._base_name = base_name
        self._deltas: list[str] = []  # saved delta files applied, in order
        self._ops: list[dict[str, Any]] = []  # changes not saved yet
        self._derive()

    def _extend(self, rows: Catalog) -> None:
        first = len(self._rows)
        for column, values in zip(self._rows.columns(), rows.columns(), strict=True):
            column.extend(values)
        for i, (pid, doc) in enumerate(zip(rows.ids, rows.doc_ids, strict=True), first):
            self._row_of[pid] = i
            self._doc_rows.setdefault(doc, []).append(i)
        self._sources = np.concatenate([self._sources, np.asarray(rows.sources, dtype=object)])
        self._files = np.concatenate([self._files, source_files(rows.sources)])
        self._dates = np.concatenate([self._dates, np.asarray(rows.dates, dtype=np.int64)])

    def _derive(self) -> None:
        """Which rows are live; the catalog of them is made when first read."""
        alive = self._segments.alive
        self._live = None if alive.all() else np.flatnonzero(alive)
        # Catalog row of each row (the live rows before it), as a list: `row` is asked thousands of times
        # per filtered question, and indexing a list is several times faster than indexing an array.
        self._catalog_row: list[int] | None = None if self._live is None else (np.cumsum(alive) - 1).tolist()
        self._catalog: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        """The live passages; its row numbers are those of `mask` and `row`."""
        catalog = self._catalog
        if catalog is None:
            catalog = self._rows if self._live is None else self._rows.keep(self._live)
            self._catalog = catalog
        return catalog

    # -- opening and staying fresh ------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, store: Store) -> LexicalIndex:
        """The persisted index, rebuilt from the store when it is missing or stale."""
        index = cls(folder, store.settings.lexical_compact_share)
        index.load()
        if index.generation != store.generation():
            index.rebuild(store)
        return index

    def refresh(self, store: Store, check_store: bool) -> None:
        """Follow another process's writes; with `check_store`, rebuild if the store moved on without us."""
        with self._lock:
            if self._manifest_time() != self._manifest_mtime:
                self.load()
            # No generation: the saved index could not be read (see `load`), and this one now holds nothing.
            if (check_store or self.generation is None) and self.generation != store.generation():
                self.rebuild(store)

    def sync(self, store: Store) -> None:
        """Bring the index in step with the store before writing to both; the caller holds the write lock."""
        with self._lock:
            if self._manifest_time() != self._manifest_mtime:
                self.load()
            if self.generation != store.generation():
                self._read_store(store)  # saved with the write this precedes

    def rebuild(self, store: Store) -> None:
        """Re-read every passage from the store (after a crash, or when another client changed it).

        Saved only if no writer is at work (one would overwrite it, and brings the files up to date itself).
        """
        with self._lock:
            token = self._read_store(store)
            try:
                with store.write_lock(timeout=0):
                    if store.generation() == token:
                        self.save(token)
            except IndexBusyError:
                pass

    def _read_store(self, store: Store) -> str:
        # The generation first: a write that lands while the passages are read leaves this stale, not wrong.
        token = store.generation()
        rows, passages = Catalog(), []
        for pid, p in store.iter_passages():
            rows.append(row_of(pid, p))
            passages.append(terms(p.text))
        self._start(rows, Base.build(passages))
        self.generation = token
        return token

    def _manifest_time(self) -> float:
        try:
            return (self.folder / "manifest.json").stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def load(self) -> None:
        """Read the saved index, or just the delta files saved since this one was read."""
        with self._lock:
            for _ in range(3):  # a compaction may remove files between reading the manifest and reading them
                try:
                    self._load()
                    return
                except FileNotFoundError:
                    time.sleep(0.05)
                except (ValueError, KeyError) as e:  # not JSON, or not our layout: damaged, not mid-write
                    logger.warning("the lexical index %s was damaged (%s); rebuilt from the store", self.folder, e)
                    # This manifest counts as read, so it is not reported again; a save replaces it.
                    self._forget(self._manifest_time())
                    return
            self._forget(0.0)

    def _forget(self, manifest_mtime: float) -> None:
        """Hold nothing, at no generation: the caller's next step rebuilds from the store."""
        self._start(Catalog(), Base.build([]))
        self.generation, self._manifest_mtime = None, manifest_mtime

    def _load(self) -> None:
        mtime = self._manifest_time()  # before reading: a newer manifest is then noticed by the next check
        manifest = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8")) if mtime else {}
        if manifest.get("format") != _FORMAT:
            # None saved (or an older layout, which is stale): the next save writes a whole base.
            self._base_name, self._deltas = None, []
            return
        deltas: list[str] = manifest["deltas"]
        # Our base with more deltas: apply only those (unless this process has changes of its own).
        incremental = (
            manifest["base"] == self._base_name and deltas[: len(self._deltas)] == self._deltas and not self._ops
        )
        known = len(self._deltas) if incremental else 0
        # Read every file before changing anything: a missing one leaves this index as it was.
        new_ops = [op for name in deltas[known:] for op in self._read_delta(name)]
        if not incremental:
            base_dir = self.folder / manifest["base"]
            columns = json.loads((base_dir / "catalog.json").read_text(encoding="utf-8"))
            base = Base.load(base_dir)
            self._start(Catalog(*(columns[name] for name in _COLUMNS)), base, manifest["base"])
        self._apply(new_ops)
        self._deltas = deltas
        self.generation = manifest["generation"]
        self._manifest_mtime = mtime
        self._derive()

    def _read_delta(self, name: str) -> list[dict[str, Any]]:
        with open(self.folder / name, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    # -- writes -------------------------------------------------------------------------------

    def add(self, passages: Iterable[tuple[str, Passage]]) -> None:
        rows = [[*row_of(pid, p), terms(p.text)] for pid, p in passages]
        if rows:
            self._change([{"add": rows}])

    def remove(self, doc_ids: Iterable[str]) -> None:
        gone = sorted(set(doc_ids))
        if gone:
            self._change([{"remove": gone}])

    def _change(self, ops: list[dict[str, Any]]) -> None:
        with self._lock:
            self._apply(ops)
            self._ops.extend(ops)
            self._derive()

    def _apply(self, ops: list[dict[str, Any]]) -> None:
        """Replay changes: `{"add": [catalog row + terms, ...]}` or `{"remove": [doc id, ...]}`."""
        for op in ops:
            for doc in op.get("remove", ()):
                rows = self._doc_rows.pop(doc, [])
                self._segments.kill(rows)
                for row in rows:
                    if self._row_of.get(self._rows.ids[row]) == row:
                        del self._row_of[self._rows.ids[row]]
            added = op.get("add", ())
            if added:
                self._extend(Catalog(*(list(column) for column in zip(*(row[:-1] for row in added), strict=True))))
                self._segments.add(row[-1] for row in added)

    def save(self, generation: str) -> None:
        """Persist the changes since the last save, as one delta file or, past the compaction share, a new
        base; then switch the manifest. The caller holds the store's write lock."""
        with self._lock:
            if self._base_name is not None and not self._ops and generation == self.generation:
                return
            previous = {self._base_name, *self._deltas}
            if self._base_name is None or self._segments.changed > self.compact_share * len(self._segments.base):
                self._compact()
            elif len(self._deltas) >= MAX_DELTAS:
                # Many small writes: one file of the whole delta (its size, not the base's) keeps loads quick.
                self._deltas = [self._write_delta(self._delta_as_ops())]
            elif self._ops:
                self._deltas.append(self._write_delta(self._ops))
            manifest = {
                "format": _FORMAT,
                "base": self._base_name,
                "deltas": self._deltas,
                "generation": generation,
                "passages": len(self),
            }
            tmp = self.folder / "manifest.json.tmp"
            tmp.write_text(json.dumps(manifest), encoding="utf-8")
            os.replace(tmp, self.folder / "manifest.json")
            self._ops = []
            self.generation = generation
            self._manifest_mtime = self._manifest_time()
            current = {self._base_name, *self._deltas}
            if not previous <= current:
                # Files of the manifest just replaced stay one more write, for readers still opening them.
                for old in self.folder.iterdir():
                    if old.name in current | previous or old.name == "manifest.json":
                        continue
                    if old.is_dir():
                        shutil.rmtree(old, ignore_errors=True)
                    else:
                        old.unlink(missing_ok=True)

    def _write_delta(self, ops: list[dict[str, Any]]) -> str:
        name = f"delta-{time.time_ns()}.jsonl"
        with open(self.folder / name, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(op) + "\n" for op in ops)
        return name

    def _delta_as_ops(self) -> list[dict[str, Any]]:
        """The changes since the base as two operations: the base's documents removed, the live rows added."""
        n, alive = len(self._segments.base), self._segments.alive
        removed = sorted({self._rows.doc_ids[r] for r in np.flatnonzero(~alive[:n])})
        added = [
            [*(column[r] for column in self._rows.columns()), self._segments.tokens(r)]
            for r in range(n, len(alive))
            if alive[r]
        ]
        return [{"remove": removed}, {"add": added}]

    def _compact(self) -> None:
        """Save the base as a new folder, after one bm25s re-index of the live passages if any changed."""
        if self._segments.changed:
            live = self._rows if self._live is None else self._rows.keep(self._live)
            self._start(live, Base.build(self._segments.live_tokens()))
        name = f"base-{time.time_ns()}"
        self._segments.base.save(self.folder / name)
        columns = dict(zip(_COLUMNS, self._rows.columns(), strict=True))
        (self.folder / name / "catalog.json").write_text(json.dumps(columns), encoding="utf-8")
        self._base_name = name

    # -- reads --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._segments.live

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Which rows the filters allow (None: all)."""
        if not filters:
            return None
        with self._lock:
            allowed = self._segments.alive & filter_mask(filters, self._sources, self._files, self._dates)
            return allowed if self._live is None else allowed[self._live]

    def allowed(self, filters: Filters | None) -> AllowedPassages | None:
        """What the filters allow, for the store's filtered dense search (None: no filter)."""
        mask = self.mask(filters)
        if mask is None or filters is None:
            return None
        return AllowedPassages(
            filters,
            count=int(mask.sum()),
            total=len(mask),
            ids=lambda: self.allowed_ids(mask),
            contains=lambda pid: self.allows(pid, mask),
            sources=lambda: sorted({self._rows.sources[i] for i in self._allowed_rows(mask)}),
        )

    def allows(self, pid: str, mask: np.ndarray | None) -> bool:
        """Whether `mask` (of `mask()`) allows the passage."""
        if mask is None:
            return True
        row = self.row(pid)
        return row is not None and bool(mask[row])

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Passage ids with a positive BM25 score for the query's terms, best first."""
        tokens = terms(query)
        if not tokens or k <= 0 or not len(self):
            return []
        with self._lock:
            live, ids = self._live, self._rows.ids
            scores = self._segments.scores(tokens)
            if live is not None:
                scores = scores[live]
        # Rank only the allowed rows that score at all: bm25s's own top-k partitions every row, and a
        # filter's zeroed scores make that partition several times slower.
        hit = scores > 0
        if mask is not None:
            hit &= mask
        rows = np.flatnonzero(hit)
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(ids[int(i if live is None else live[i])], float(scores[i])) for i in rows]

    def idf(self, term: str) -> float:
        """Inverse document frequency (BM25's smoothed form)."""
        return self._segments.idf(term)

    def knows(self, term: str) -> bool:
        """Some passage contains the term."""
        return self._segments.df(term) > 0

    def knows_spelling_near(self, term: str) -> bool:
        """Some passage contains the term or one spelt almost like it ("tokaev" for "tokayev"): one letter off in
        a word of five or more, two in a word of eight or more."""
        if self.knows(term):
            return True
        allowed = 2 if len(term) >= 8 else 1 if len(term) >= 5 else 0
        if not allowed:
            return False
        near = process.extract(
            term, self._segments.vocabulary(), scorer=Levenshtein.distance, score_cutoff=allowed, limit=None
        )
        return any(self.knows(match) for match, _, _ in near)

    def row(self, pid: str) -> int | None:
        row = self._row_of.get(pid)
        if row is None or self._catalog_row is None:
            return row
        return self._catalog_row[row]

    def passages_covering(self, doc_id: str, start: int, end: int) -> list[str]:
        """Ids of the passages of `doc_id` that contain the span."""
        c = self._rows
        return [c.ids[i] for i in self._doc_rows.get(doc_id, ()) if c.starts[i] <= start and end <= c.ends[i]]

    def allowed_ids(self, mask: np.ndarray) -> list[str]:
        return [self._rows.ids[i] for i in self._allowed_rows(mask)]

    def allowed_docs(self, mask: np.ndarray) -> set[str]:
        return {self._rows.doc_ids[i] for i in self._allowed_rows(mask)}

    def _allowed_rows(self, mask: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(mask)
        return rows if self._live is None else self._live[rows]
