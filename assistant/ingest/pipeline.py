"""Files to indexed passages: load, split, embed in large batches, write; idempotent and crash-safe."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.ingest import web
from assistant.ingest.errors import failure_reason
from assistant.ingest.loaders import Limits, LoadFailure, expand, load
from assistant.ingest.splitter import split_document
from assistant.models.embedder import Embedder
from assistant.settings import Settings
from assistant.store import COMMITTED, Index
from assistant.types import Document, IngestReport, Passage, Sentence, is_url

log = logging.getLogger(__name__)
# Encoding memory grows with a batch's size times the square of its longest text (attention): 64 sentences cut
# at 1000 characters took ONNX Runtime 2.6 GB. Batches whose longest text is longer than this are smaller in
# proportion (10 such sentences: ~0.5 GB); batches of ordinary sentences, and so their vectors, are unchanged.
LONG_TEXT_CHARS = 400


@dataclass
class _Split:
    doc: Document
    replaces: bool
    sentences: list[Sentence]
    passages: list[Passage]


def passage_vectors(split_sentences: list[Sentence], vectors: np.ndarray, passages: list[Passage]) -> np.ndarray:
    """A passage's vector is the normalized mean of its sentences' vectors: each sentence is encoded once."""
    row = {(s.start, s.end): i for i, s in enumerate(split_sentences)}
    out = np.zeros((len(passages), vectors.shape[1]), dtype=np.float32)
    for j, p in enumerate(passages):
        out[j] = vectors[[row[span] for span in p.sentence_spans]].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


def encode_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices of texts in encoding batches, shortest first (as the embedders sort them); a batch of long
    texts holds fewer of them."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        cap = max(1, batch_size * LONG_TEXT_CHARS**2 // max(lengths[i], LONG_TEXT_CHARS) ** 2)
        if not batches or len(batches[-1]) >= min(batch_size, cap):
            batches.append([])
        batches[-1].append(i)
    return batches


class Ingestor:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.store = index.store
        self.embedder = embedder
        self.settings = settings
        # Encode many documents' sentences at once: one model call per batch beats one per document.
        self.flush_sentences = max(settings.embed_batch_size * 8, 256)

    def ingest(
        self, paths: Iterable[str | os.PathLike[str]], progress: bool | None = None, private_hosts: bool = True
    ) -> IngestReport:
        """Ingest files, folders, web pages and feeds (URLs); `private_hosts` False refuses URLs of loopback and
        private addresses (the chat's clients name them)."""
        report = IngestReport()
        show = sys.stderr.isatty() if progress is None else progress
        targets = [os.fspath(p) for p in paths]
        urls = [t for t in targets if is_url(t)]
        # Pages are fetched before the write lock is taken: a slow site must not hold up other writers.
        pages = self._fetch(urls, report, show, private_hosts) if urls else []
        with self.index.writing():
            files: list[Path | Document | LoadFailure] = [
                *expand([t for t in targets if not is_url(t)], report.skipped),
                *pages,
            ]
            pending: list[_Split] = []
            limits = Limits(max_bytes=int(self.settings.max_file_mb * 2**20))
            bar = tqdm(files, desc="ingest", unit="file", disable=not show, file=sys.stderr)
            for item in bar:
                if isinstance(item, LoadFailure):
                    report.failed.append((item.source, item.reason))
                    continue
                docs: list[Document] = []
                for loaded in load(item, limits) if isinstance(item, Path) else [item]:
                    if isinstance(loaded, LoadFailure):
                        report.failed.append((loaded.source, loaded.reason))
                    else:
                        docs.append(loaded)
                pending.extend(self._split_changed(docs, report))
                if sum(len(s.sentences) for s in pending) >= self.flush_sentences:
                    self._write(pending, report)
                    pending = []
                bar.set_postfix(passages=report.passages)
            self._write(pending, report)
            bar.close()
        return report

    def _fetch(self, urls: list[str], report: IngestReport, show: bool, private_hosts: bool) -> list[Document]:
        """The documents of the pages and feed entries that are new; the others go into the report."""
        limits = web.WebLimits.from_settings(self.settings, private_hosts)
        docs: list[Document] = []
        texts: dict[str, str] = {}  # text hash -> the source that has it, in this run
        for url, got, note in web.documents(urls, limits, self._known_urls, show):
            if isinstance(got, LoadFailure):
                report.failed.append((got.source, got.reason))
                continue
            if got is not None and (same := texts.get(h := got.metadata["text_hash"]) or self._same_text(got)):
                got, note = None, f"the same text as {same}"
            if note:
                report.notes[url] = note
            if got is None:
                report.unchanged.append(url)
            else:
                texts[h] = url
                docs.append(got)
        return docs

    def _known_urls(self, urls: list[str]) -> set[str]:
        found = self.store.documents_by_id([web.doc_id(u) for u in urls])
        return {d.source for d in found.values() if d.status == COMMITTED}

    def _same_text(self, doc: Document) -> str:
        """The source of another indexed document with the same text as this web page, if any."""
        same = self.store.find_where("text_hash", doc.metadata["text_hash"])
        return next((d.source for d in same if d.doc_id != doc.doc_id and d.status == COMMITTED), "")

    def _split_changed(self, docs: list[Document], report: IngestReport) -> list[_Split]:
        """Split the documents that are new or changed; one index lookup for all of a file's documents."""
        existing = self.store.documents_by_id([d.doc_id for d in docs])
        out: list[_Split] = []
        for doc in docs:
            known = existing.get(doc.doc_id)
            if known is not None and known.status == COMMITTED and known.content_hash == doc.content_hash:
                report.unchanged.append(doc.source)
                continue
            try:
                sentences, passages = split_document(
                    doc, self.settings.passage_chars, self.settings.passage_overlap_sentences
                )
            except Exception as e:  # a splitter failure on one odd text fails that document only
                log.debug("%s: split failed", doc.source, exc_info=True)
                report.failed.append((doc.source, failure_reason(e)))
                continue
            out.append(_Split(doc, known is not None, sentences, passages))
        return out

    def _write(self, splits: list[_Split], report: IngestReport) -> None:
        """Embed and store a batch of documents with a few large Chroma writes (pending first, committed last)."""
        if not splits:
            return
        sentences = [s for split in splits for s in split.sentences]
        vectors = self._encode([s.text for s in sentences])
        passages: list[Passage] = []
        pooled: list[np.ndarray] = []
        offset = 0
        for split in splits:
            mine = vectors[offset : offset + len(split.sentences)]
            offset += len(split.sentences)
            passages.extend(split.passages)
            pooled.append(passage_vectors(split.sentences, mine, split.passages))
        self.store.begin([split.doc for split in splits])
        self.store.delete_units([split.doc.doc_id for split in splits if split.replaces])
        self.store.add(passages, np.concatenate(pooled), sentences, vectors)
        self.store.commit([(split.doc, len(split.passages)) for split in splits])
        self.index.lexical.remove([split.doc.doc_id for split in splits if split.replaces])
        self.index.lexical.add((p.id, p) for p in passages)
        for split in splits:
            report.added.append(split.doc.source)
            report.passages += len(split.passages)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        for batch in encode_batches([len(t) for t in texts], self.settings.embed_batch_size):
            vectors[batch] = self.embedder.encode([texts[i] for i in batch], batch_size=len(batch))
        return vectors
