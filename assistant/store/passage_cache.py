"""A local copy of the passage records and sentence spans retrieval reads on every question (SQLite).

Fetching 20 passage records from Chroma costs 2-3 ms and resolving 30 sentence hits to their spans
another 2 ms (its metadata store answers row by row); this file answers both in a fraction of a
millisecond. It is a cache of Chroma, never the truth: rows are keyed by passage and sentence ids,
which hash their document, offsets and text, so a row is right for its id forever and an id the
cache lacks is read from Chroma (and added). The store writes new passages here as it writes them
to Chroma and drops a document's rows when it deletes them; an index written without it (an older
version) is copied in once, when the file is first created, and so is one whose file is damaged (it is
replaced by a new one).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)
# One passage: (id, doc_id, text, metadata without its sentence vectors, sentence vectors as float16).
PassageRow = tuple[str, str, str, dict[str, Any], np.ndarray]
# One sentence: (id, doc_id, start, end).
SentenceRow = tuple[str, str, int, int]
# SQLite's limit on `?` parameters in one statement is 32766; stay far below.
_CHUNK = 900


class PassageCache:
    def __init__(self, path: Path, dimension: int) -> None:
        self.dimension = dimension
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the threads of retrieval and a chat server, one statement at a time.
        self._lock = threading.Lock()
        try:
            self._db = _connect(path)
        except sqlite3.OperationalError:
            raise  # locked or not writable: not damage, and a new file would not help
        except sqlite3.DatabaseError as e:  # "file is not a database", "database disk image is malformed"
            logger.warning("the passage cache %s was damaged (%s); rebuilt from the store", path, e)
            # Its write-ahead log goes too: SQLite could replay it into the new file.
            for damaged in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                damaged.unlink(missing_ok=True)
            self._db = _connect(path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def filled(self) -> bool:
        """Every passage of the index was copied in once (later writes keep it so)."""
        return self.noted("filled") is not None

    def mark_filled(self) -> None:
        self.note("filled", "1")

    def noted(self, key: str) -> str | None:
        """A small fact about the index kept beside the rows (see `note`)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def note(self, key: str, value: str) -> None:
        self._transaction(lambda db: db.execute("INSERT OR REPLACE INTO info VALUES (?, ?)", (key, value)))

    def put(self, passages: Iterable[PassageRow], sentences: Iterable[SentenceRow]) -> None:
        """Add (or replace) rows. A write that fails because the file cannot be written now (locked by a long
        write elsewhere, read-only, disk full) is dropped: rows the cache lacks are read from Chroma."""
        passage_rows = [
            (pid, doc_id, text, json.dumps(meta), np.asarray(vectors, dtype="<f2").tobytes())
            for pid, doc_id, text, meta, vectors in passages
        ]
        sentence_rows = list(sentences)

        def write(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR REPLACE INTO passages VALUES (?, ?, ?, ?, ?)", passage_rows)
            db.executemany("INSERT OR REPLACE INTO sentences VALUES (?, ?, ?, ?)", sentence_rows)

        self._transaction(write)

    def remove_documents(self, doc_ids: Sequence[str]) -> None:
        """Drop these documents' rows (a failed drop leaves rows no id of the index asks for any more)."""

        def write(db: sqlite3.Connection) -> None:
            for i in range(0, len(doc_ids), _CHUNK):
                chunk = list(doc_ids[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                db.execute(f"DELETE FROM passages WHERE doc_id IN ({marks})", chunk)
                db.execute(f"DELETE FROM sentences WHERE doc_id IN ({marks})", chunk)

        self._transaction(write)

    def _transaction(self, write: Callable[[sqlite3.Connection], object]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN")
            except sqlite3.OperationalError:
                return
            try:
                write(self._db)
                self._db.execute("COMMIT")
            except BaseException as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if not isinstance(e, sqlite3.OperationalError):
                    raise

    def passages(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any], np.ndarray]]:
        """(text, metadata, sentence vectors as float32) of those of these passages the cache holds."""
        rows = self._select("SELECT id, text, meta, vectors FROM passages WHERE id IN ({})", ids)
        return {pid: (text, json.loads(meta), self._vectors(blob)) for pid, text, meta, blob in rows}

    def _vectors(self, blob: bytes) -> np.ndarray:
        return np.frombuffer(blob, dtype="<f2").astype(np.float32).reshape(-1, self.dimension)

    def sentence_spans(self, ids: Sequence[str]) -> dict[str, tuple[str, int, int]]:
        """(doc_id, start, end) of those of these sentences the cache holds."""
        rows = self._select("SELECT id, doc_id, start, end FROM sentences WHERE id IN ({})", ids)
        return {sid: (doc_id, start, end) for sid, doc_id, start, end in rows}

    def _select(self, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        with self._lock:
            for i in range(0, len(ids), _CHUNK):
                chunk = list(ids[i : i + _CHUNK])
                out.extend(self._db.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall())
        return out


def _connect(path: Path) -> sqlite3.Connection:
    """The cache file opened, and created when new."""
    db = sqlite3.connect(str(path), check_same_thread=False, timeout=5.0, isolation_level=None)
    try:
        # WAL: readers in other processes keep reading while a writer appends. A cache may lose its last
        # writes on power loss (NORMAL), never its consistency.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS passages (
                id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL,
                vectors BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id);
            CREATE TABLE IF NOT EXISTS sentences (
                id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS sentences_doc ON sentences (doc_id);
            CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
    except BaseException:
        db.close()
        raise
    return db
