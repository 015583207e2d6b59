"""Recall@10 of Chroma's HNSW search against exact search, per vector collection (passages, sentences).

For each index size, 200 query vectors (questions of the benchmark's generator, embedded by the real model)
are searched in each collection with Chroma and by exact cosine over every stored vector; recall@10 is the
share of the exact top 10 that Chroma returns, with the latency of both.

    python benchmarks/hnsw_recall.py [--sizes 10000 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, load_average, percentile, table, write_json
from query import questions

from benchmarks.indexes import cached_index

K = 10


def stored_vectors(collection: Any) -> tuple[list[str], np.ndarray]:
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    offset = 0
    while True:
        got = collection.get(include=["embeddings"], limit=5000, offset=offset)
        if not got["ids"]:
            break
        ids += got["ids"]
        vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        offset += len(got["ids"])
    matrix = np.concatenate(vectors)
    return ids, matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def recall(collection: Any, queries: np.ndarray) -> dict[str, Any]:
    ids, matrix = stored_vectors(collection)
    hits, hnsw_ms, exact_ms = [], [], []
    for q in queries:
        started = time.perf_counter()
        exact = {ids[i] for i in np.argsort(-(matrix @ q))[:K]}
        exact_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        found = collection.query(query_embeddings=[q], n_results=K, include=[])["ids"][0]
        hnsw_ms.append((time.perf_counter() - started) * 1000)
        hits.append(len(exact & set(found)) / K)
    return {"vectors": len(ids), "recall@10": round(float(np.mean(hits)), 3),
            "min recall@10": round(float(np.min(hits)), 2),
            "hnsw p50 ms": round(percentile(hnsw_ms, 50), 2), "exact p50 ms": round(percentile(exact_ms, 50), 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hnsw_recall.json")
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        bot, _ = cached_index(size)
        queries = bot.embedder.encode(questions(args.queries))
        for name in ("passages", "sentences"):
            collection = getattr(bot.store, name)
            hnsw = (collection.configuration_json or {}).get("hnsw") or {}
            rows.append({"passages": size, "collection": name, "hnsw": hnsw, **recall(collection, queries)})
    table(f"HNSW recall@10 against exact search (load {load_average()})",
          [{k: v for k, v in r.items() if k != "hnsw"} for r in rows])  # fmt: skip
    payload = {"load": load_average(), "queries": args.queries, "rows": rows}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
