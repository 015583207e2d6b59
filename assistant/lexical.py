"""BM25 over every stored passage (bm25s), persisted under the index folder and kept in step with the store.

The index also keeps a small catalog of every passage (id, document, source, offsets, date), which is
what filters and the sentence branch of retrieval use instead of slow Chroma `where` scans.

Layout of `<index_dir>/lexical/<collection>/`: `manifest.json` names the current generation folder
(`gen-<n>/`: bm25s files, `catalog.json`, `tokens.jsonl`) and the store fingerprint it was built from.
Writers build a new generation and switch the manifest atomically, so readers never see half a write.
A process that finds the manifest changed (another writer) reloads; one whose fingerprint differs from
the store's (a crash between the two writes, or another client of a Chroma server) rebuilds from the store.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.filter_table import date_number
from assistant.store import Store
from assistant.text import terms
from assistant.types import Filters, Passage

_FORMAT = 1


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

    def append(self, pid: str, p: Passage) -> None:
        self.ids.append(pid)
        self.doc_ids.append(p.doc_id)
        self.sources.append(p.source)
        self.starts.append(p.start)
        self.ends.append(p.end)
        self.dates.append(date_number(str(p.metadata.get("date", ""))) or 0)

    def keep(self, rows: Sequence[int]) -> Catalog:
        return Catalog(*([column[i] for i in rows] for column in self.columns()))

    def columns(self) -> tuple[list[Any], ...]:
        return (self.ids, self.doc_ids, self.sources, self.starts, self.ends, self.dates)

    def __len__(self) -> int:
        return len(self.ids)


class LexicalIndex:
    """BM25 search and the passage catalog; `add`/`remove` then `save` on every write of the store."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.catalog = Catalog()
        self._tokens: list[list[str]] | None = []
        self._bm25: Any = None
        self._df: dict[str, int] = {}
        self.fingerprint = ""
        self._manifest_mtime = 0.0
        self._derive()

    # -- opening and staying fresh ------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, store: Store) -> LexicalIndex:
        """The persisted index, rebuilt from the store when it is missing or stale."""
        index = cls(folder)
        index.load()
        if index.fingerprint != store.fingerprint():
            index.rebuild(store)
        return index

    def refresh(self, store: Store, check_store: bool) -> None:
        """Reload if another process wrote a new generation; with `check_store`, rebuild if the store moved on."""
        mtime = self._manifest_time()
        if mtime != self._manifest_mtime:
            self.load()
        if check_store and self.fingerprint != store.fingerprint():
            self.rebuild(store)

    def _manifest_time(self) -> float:
        try:
            return (self.folder / "manifest.json").stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def load(self) -> None:
        for _ in range(3):  # a writer may delete the generation between reading the manifest and its files
            try:
                self._load()
                return
            except FileNotFoundError:
                time.sleep(0.05)
        self.__init__(self.folder)  # type: ignore[misc]

    def _load(self) -> None:
        import bm25s

        manifest_path = self.folder / "manifest.json"
        if not manifest_path.exists():
            return
        mtime = manifest_path.stat().st_mtime
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != _FORMAT:
            return
        gen = self.folder / manifest["generation"]
        data = json.loads((gen / "catalog.json").read_text(encoding="utf-8"))
        self.catalog = Catalog(*(data[name] for name in ("ids", "doc_ids", "sources", "starts", "ends", "dates")))
        self._df = data["df"]
        self._bm25 = bm25s.BM25.load(str(gen / "bm25"), mmap=True) if len(self.catalog) else None
        self._tokens = None  # read from disk only when a write needs them
        self._generation = gen
        self.fingerprint = manifest["fingerprint"]
        self._manifest_mtime = mtime
        self._derive()

    def rebuild(self, store: Store) -> None:
        """Re-read every passage from the store (after a crash, or when another client changed it)."""
        self.catalog = Catalog()
        self._tokens = []
        self.add(store.iter_passages())
        self.save(store.fingerprint())

    # -- writes -------------------------------------------------------------------------------

    def _all_tokens(self) -> list[list[str]]:
        if self._tokens is None:
            with open(self._generation / "tokens.jsonl", encoding="utf-8") as f:
                self._tokens = [json.loads(line) for line in f]
        return self._tokens

    def add(self, passages: Iterable[tuple[str, Passage]]) -> None:
        tokens = self._all_tokens()
        for pid, p in passages:
            self.catalog.append(pid, p)
            tokens.append(terms(p.text))

    def remove(self, doc_ids: Iterable[str]) -> None:
        gone = set(doc_ids)
        if not gone:
            return
        tokens = self._all_tokens()
        rows = [i for i, d in enumerate(self.catalog.doc_ids) if d not in gone]
        self.catalog = self.catalog.keep(rows)
        self._tokens = [tokens[i] for i in rows]

    def save(self, fingerprint: str) -> None:
        """Re-index BM25 (bm25s scores eagerly, so IDF changes touch every row) and switch generations."""
        import bm25s

        tokens = self._all_tokens()
        self._df = dict(Counter(t for row in tokens for t in set(row)))
        gen_name = f"gen-{time.time_ns()}"
        gen = self.folder / gen_name
        gen.mkdir(parents=True)
        bm25 = None
        if tokens:
            bm25 = bm25s.BM25()
            bm25.index(tokens, show_progress=False)
            bm25.save(str(gen / "bm25"), show_progress=False)
        catalog = dict(zip(("ids", "doc_ids", "sources", "starts", "ends", "dates"), self.catalog.columns()))
        (gen / "catalog.json").write_text(json.dumps({**catalog, "df": self._df}), encoding="utf-8")
        with open(gen / "tokens.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in tokens)
        manifest = {"format": _FORMAT, "generation": gen_name, "fingerprint": fingerprint, "passages": len(tokens)}
        tmp = self.folder / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest), encoding="utf-8")
        os.replace(tmp, self.folder / "manifest.json")
        for old in self.folder.glob("gen-*"):
            if old.name != gen_name:
                shutil.rmtree(old, ignore_errors=True)
        self._bm25 = bm25
        self._generation = gen
        self.fingerprint = fingerprint
        self._manifest_mtime = self._manifest_time()
        self._derive()

    def _derive(self) -> None:
        """Arrays and lookups for the hot path, computed once per generation."""
        self._row = {pid: i for i, pid in enumerate(self.catalog.ids)}
        self._dates = np.asarray(self.catalog.dates, dtype=np.int64)
        by_doc: dict[str, list[int]] = {}
        for i, d in enumerate(self.catalog.doc_ids):
            by_doc.setdefault(d, []).append(i)
        self._by_doc = by_doc
        by_source: dict[str, list[int]] = {}
        for i, source in enumerate(self.catalog.sources):
            by_source.setdefault(source, []).append(i)
            if "#" in source:
                by_source.setdefault(source.split("#", 1)[0], []).append(i)
        self._by_source = by_source

    # -- reads --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.catalog)

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Which rows the filters allow (None: all)."""
        if not filters:
            return None
        allowed = np.ones(len(self.catalog), dtype=bool)
        if filters.sources:
            # A jsonl file stands for all its records (`file#line`).
            rows = [r for source in filters.sources for r in self._by_source.get(source, ())]
            by_source = np.zeros(len(self.catalog), dtype=bool)
            by_source[rows] = True
            allowed &= by_source
        if filters.date_from:
            allowed &= self._dates >= _required_date(filters.date_from)
        if filters.date_to:
            allowed &= (self._dates <= _required_date(filters.date_to)) & (self._dates > 0)
        return allowed

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Passage ids with a positive BM25 score for the query's terms, best first."""
        tokens = terms(query)
        if self._bm25 is None or not tokens or k <= 0:
            return []
        scores = self._bm25.get_scores(tokens)
        # Rank only the allowed rows that score at all: bm25s's own top-k partitions every row, and a
        # filter's zeroed scores make that partition several times slower.
        hit = scores > 0
        if mask is not None:
            hit &= mask
        rows = np.flatnonzero(hit)
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(self.catalog.ids[int(i)], float(scores[i])) for i in rows]

    def idf(self, term: str) -> float:
        """Inverse document frequency (BM25's smoothed form)."""
        n = max(len(self.catalog), 1)
        df = self._df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def knows(self, term: str) -> bool:
        """Some passage contains the term."""
        return term in self._df

    def row(self, pid: str) -> int | None:
        return self._row.get(pid)

    def passages_covering(self, doc_id: str, start: int, end: int) -> list[str]:
        """Ids of the passages of `doc_id` that contain the span."""
        c = self.catalog
        return [c.ids[i] for i in self._by_doc.get(doc_id, ()) if c.starts[i] <= start and end <= c.ends[i]]

    def allowed_ids(self, mask: np.ndarray) -> list[str]:
        return [self.catalog.ids[i] for i in np.flatnonzero(mask)]

    def allowed_docs(self, mask: np.ndarray) -> set[str]:
        return {self.catalog.doc_ids[i] for i in np.flatnonzero(mask)}


def _required_date(date: str) -> int:
    number = date_number(date)
    if number is None:
        raise ValueError(f"not a date (YYYY-MM-DD): {date!r}")
    return number
