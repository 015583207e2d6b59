"""Benchmark indexes of 1k-100k passages from the synthetic corpus, built through `Assistant.ingest`.

Embedding 100k real passages takes hours on 2 cores, so the large indexes are built from *cached
embeddings of generated text*: every distinct sentence of the corpus's finite pool is encoded once by
the real model (`pool_vectors`), and `CachedEmbedder` hands those vectors to the unchanged ingest
pipeline (splitting, passage pooling, Chroma writes, lexical index if any). Only texts outside the
pool (the benchmark's questions) reach the model. Built indexes are reused while their recipe matches.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import CACHE, settings

from assistant.app import Assistant
from assistant.models.embedder import Embedder, resolve_backend
from benchmarks.corpus import sentence_pool, write_corpus

POOL_SIZE = 12000
# Articles average ~4.6 passages of 600 characters (measured on the generator's output).
PASSAGES_PER_ARTICLE = 4.57


class CachedEmbedder:
    """An embedder that answers known texts from a table of vectors and the rest from the real model."""

    def __init__(self, real: Embedder, table: dict[str, np.ndarray]) -> None:
        self.real, self.table = real, table
        self.name, self.backend, self.dimension = real.name, real.backend, real.dimension
        self.misses = 0

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing = [i for i, t in enumerate(texts) if t not in self.table]
        for i, t in enumerate(texts):
            if t in self.table:
                out[i] = self.table[t]
        if missing:
            self.misses += len(missing)
            out[missing] = self.real.encode([texts[i] for i in missing], batch_size=batch_size)
        return out


def pool_vectors(embedder: Embedder, size: int = POOL_SIZE) -> dict[str, np.ndarray]:
    """Every pool sentence's vector, encoded once per backend and cached on disk."""
    texts = [t for _, t in sentence_pool(size)]
    path = CACHE / f"pool-{size}-{embedder.name}-{embedder.backend}.npy"
    if path.exists():
        vectors = np.load(path)
    else:
        start = time.perf_counter()
        vectors = embedder.encode(texts, batch_size=settings().embed_batch_size)
        print(f"encoded the {size} pool sentences in {time.perf_counter() - start:.0f} s", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return dict(zip(texts, vectors, strict=True))


def corpus(articles: int) -> list[Path]:
    folder = CACHE / f"corpus-{articles}"
    marker = folder / "done"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_corpus(folder, articles, sentence_pool(POOL_SIZE))
        marker.write_text("ok")
    return sorted(folder.glob("*.jsonl"))


def _recipe(passages: int, overrides: dict[str, Any]) -> dict[str, Any]:
    wanted = settings(**overrides)
    return {
        "format": 3,  # bump when the store's layout changes
        "articles": max(1, round(passages / PASSAGES_PER_ARTICLE)),
        "pool": POOL_SIZE,
        "model": wanted.model,
        "backend": resolve_backend(wanted.model, wanted.embed_backend),
        "passage_chars": wanted.passage_chars,
        "overlap": wanted.passage_overlap_sentences,
    }


def cached_index(passages: int, **overrides: Any) -> tuple[Assistant, dict[str, Any]]:
    """An Assistant on an index of about `passages` passages (built once, then reused), and how it was built."""
    folder = CACHE / f"index-{passages}"
    wanted = settings(index_dir=folder, **overrides)
    recipe = _recipe(passages, overrides)
    articles = recipe["articles"]
    marker = folder / "built.json"
    if marker.exists() and json.loads(marker.read_text())["recipe"] == recipe:
        return Assistant(settings=wanted), json.loads(marker.read_text())
    # Remove a stale index before any client opens it (Chroma keeps one client per path per process).
    shutil.rmtree(folder, ignore_errors=True)
    bot = Assistant(settings=wanted)
    real = bot.embedder
    cached = CachedEmbedder(real, pool_vectors(real))
    files = corpus(articles)
    bot.embedder = cached
    start = time.perf_counter()
    report = bot.ingest(files, progress=False)
    seconds = time.perf_counter() - start
    bot.embedder = real
    built = {
        "recipe": recipe,
        "passages": report.passages,
        "documents": len(report.added),
        "build_seconds": round(seconds, 1),
        "passages_per_s_embedding_cached": round(report.passages / seconds, 1),
        "model_calls_for_texts_outside_the_pool": cached.misses,
    }
    marker.write_text(json.dumps(built, indent=2))
    return bot, built


def index_folder(passages: int, **overrides: Any) -> tuple[Path, dict[str, Any]]:
    """The folder of an index of about `passages` passages (built once, then reused), and how it was built.

    An index that is already built is not opened, so a benchmark may copy it untouched.
    """
    folder = CACHE / f"index-{passages}"
    marker = folder / "built.json"
    if marker.exists() and json.loads(marker.read_text())["recipe"] == _recipe(passages, overrides):
        return folder, json.loads(marker.read_text())
    _, built = cached_index(passages, **overrides)
    return folder, built
