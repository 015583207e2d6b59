"""Ingest throughput: `Assistant.ingest` on the synthetic corpus beside raw `model.encode` of the same passages.

    python benchmarks/ingest.py [--passages 2000]

Both run in this process with the same embedder and batch size. The raw encode is split in two halves,
one before and one after the ingest, so a change of machine load during the run weighs on both alike.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import arguments, load_average, peak_rss_mb, scratch_dir, settings, table, write_json

from assistant.app import Assistant
from assistant.ingest.loaders import load
from assistant.ingest.splitter import split_document
from assistant.models.embedder import Embedder
from benchmarks.corpus import sentence_pool, write_corpus
from benchmarks.indexes import PASSAGES_PER_ARTICLE, POOL_SIZE

STORE_WRITES = ("begin", "add", "commit", "delete_units", "recover")
STORE_READS = ("documents_by_id",)


def _timed(spent: dict[str, float], key: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

    return wrapper


class TimedEmbedder:
    """The real embedder, with the time spent in its calls added up in `spent["embed"]`."""

    def __init__(self, real: Embedder, spent: dict[str, float]) -> None:
        self.name, self.backend, self.dimension = real.name, real.backend, real.dimension
        self.encode = _timed(spent, "embed", real.encode)


def run(passages: int, workdir: Path) -> dict[str, Any]:
    articles = max(1, round(passages / PASSAGES_PER_ARTICLE))
    # A corpus of its own (seeded apart from the query indexes' pool), so no vector cache can help.
    files = write_corpus(workdir / "corpus", articles, sentence_pool(POOL_SIZE, seed=2024), per_file=100)
    s = settings(index_dir=workdir / "index")
    texts = [
        p.text
        for f in files
        for doc in load(f)
        for p in split_document(doc, s.passage_chars, s.passage_overlap_sentences)[1]
    ]
    bot = Assistant(settings=s)
    embedder = bot.embedder
    embedder.encode(texts[:16], batch_size=s.embed_batch_size)  # warm-up

    half = len(texts) // 2
    start = time.perf_counter()
    embedder.encode(texts[:half], batch_size=s.embed_batch_size)
    raw_seconds = time.perf_counter() - start

    spent: dict[str, float] = {}
    bot.embedder = TimedEmbedder(embedder, spent)
    for name in STORE_WRITES:
        setattr(bot.store, name, _timed(spent, "chroma writes", getattr(bot.store, name)))
    for name in STORE_READS:
        setattr(bot.store, name, _timed(spent, "chroma reads", getattr(bot.store, name)))
    start = time.perf_counter()
    report = bot.ingest(files, progress=False)
    ingest_seconds = time.perf_counter() - start
    bot.embedder = embedder

    start = time.perf_counter()
    embedder.encode(texts[half:], batch_size=s.embed_batch_size)
    raw_seconds += time.perf_counter() - start

    assert report.ok and report.passages == len(texts), (report.summary(), len(texts))
    raw_rate = len(texts) / raw_seconds
    ingest_rate = report.passages / ingest_seconds
    stages = {k: round(v, 2) for k, v in spent.items()}
    stages["load, split, pool, other"] = round(ingest_seconds - sum(spent.values()), 2)
    return {
        "passages": report.passages,
        "documents": len(report.added),
        "sentences_embedded": sum(1 for _ in bot.store.sentences.get(include=[])["ids"]),
        "backend": embedder.backend,
        "batch_size": s.embed_batch_size,
        "raw_encode_passages_per_s": round(raw_rate, 1),
        "ingest_passages_per_s": round(ingest_rate, 1),
        "ratio": round(ingest_rate / raw_rate, 2),
        "ingest_seconds": round(ingest_seconds, 1),
        "stage_seconds": stages,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "ingest.json")
    parser.add_argument("--passages", type=int, default=2000, help="passages ingested")
    args = parser.parse_args(argv)
    with scratch_dir("ingest-") as workdir:
        result = run(args.passages, workdir)
    result["load"] = load_average()
    rows = [
        {"what": "raw model.encode of the passages", "passages/s": result["raw_encode_passages_per_s"]},
        {"what": "Assistant.ingest (sentences embedded once)", "passages/s": result["ingest_passages_per_s"]},
        {"what": "ratio ingest / raw encode (target >= 0.85)", "passages/s": result["ratio"]},
    ]
    table(f"Ingest: {result['passages']} passages, {result['backend']}, batch {result['batch_size']}", rows)
    total = result["ingest_seconds"]
    table(
        "Ingest time by stage",
        [{"stage": k, "seconds": v, "share": f"{100 * v / total:.0f}%"} for k, v in result["stage_seconds"].items()],
    )
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
