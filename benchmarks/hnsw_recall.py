"""Recall@10 of Chroma's HNSW search against exact search, per vector collection (passages, sentences).

For each index size, 200 query vectors (questions of the benchmark's generator, embedded by the real model)
are searched in each collection with Chroma and by exact cosine over every stored vector; recall@10 is the
share of Chroma's 10 results that score at least the exact 10th best (the synthetic corpus repeats
sentences, so ties are counted as hits), with the latency of both.

    python benchmarks/hnsw_recall.py [--sizes 10000 100000] [--queries 200] [--ef-search 50 100 200]

`--ef-search` measures each value on the same index, each in its own process: Chroma reads a collection's
search breadth when it loads its graph, and the store sets it from `ASSISTANT_HNSW_EF_SEARCH` when it opens the
index (the number of neighbours per node, `hnsw_max_neighbors`, is fixed when a collection is created).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import arguments, load_average, percentile, settings, table, write_json
from query import questions

from benchmarks.indexes import cached_index

K = 10
TIE = 1e-5


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


def exact_floor(collection: Any, queries: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """Every stored vector's score for each query, each query's exact 10th best score, and the exact search's
    p50 milliseconds."""
    ids, matrix = stored_vectors(collection)
    scores, kth, exact_ms = np.zeros((len(queries), len(ids)), dtype=np.float32), [], []
    for n, q in enumerate(queries):
        started = time.perf_counter()
        scores[n] = matrix @ q
        kth.append(-np.partition(-scores[n], K - 1)[K - 1])
        exact_ms.append((time.perf_counter() - started) * 1000)
    return {id_: scores[:, i] for i, id_ in enumerate(ids)}, np.asarray(kth), percentile(exact_ms, 50)


def recall(collection: Any, queries: np.ndarray, by_id: dict[str, np.ndarray], kth: np.ndarray) -> dict[str, Any]:
    hits, hnsw_ms = [], []
    for n, q in enumerate(queries):
        started = time.perf_counter()
        found = collection.query(query_embeddings=[q], n_results=K, include=[])["ids"][0]
        hnsw_ms.append((time.perf_counter() - started) * 1000)
        # The synthetic corpus repeats sentences, so the exact top 10 may be one of several tied sets:
        # a hit is any returned vector scoring at least the exact 10th best.
        hits.append(sum(by_id[f][n] >= kth[n] - TIE for f in found) / K)
    return {
        "recall@10": round(float(np.mean(hits)), 3),
        "min recall@10": round(float(np.min(hits)), 2),
        "hnsw p50 ms": round(percentile(hnsw_ms, 50), 2),
    }


def measure(size: int, queries: int) -> list[dict[str, Any]]:
    """Recall of both collections of the `size` index, searched with the settings' `hnsw_ef_search`."""
    bot, _ = cached_index(size)
    vectors = bot.embedder.encode(questions(queries))
    rows = []
    for name in ("passages", "sentences"):
        collection = getattr(bot.store, name)
        hnsw = (collection.configuration_json or {}).get("hnsw") or {}
        by_id, kth, exact_ms = exact_floor(collection, vectors)
        rows.append(
            {
                "passages": size,
                "collection": name,
                "ef_search": hnsw.get("ef_search"),
                "max_neighbors": hnsw.get("max_neighbors"),
                "vectors": len(by_id),
                **recall(collection, vectors, by_id, kth),
                "exact p50 ms": round(exact_ms, 2),
            }
        )
    return rows


def measure_in_child(size: int, queries: int, ef_search: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        command = [sys.executable, __file__, "--sizes", str(size), "--queries", str(queries), "--child", str(out)]
        subprocess.run(command, check=True, env={**os.environ, "ASSISTANT_HNSW_EF_SEARCH": str(ef_search)})
        return list(json.loads(out.read_text()))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "hnsw_recall.json")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000], help="index sizes (passages)")
    parser.add_argument("--queries", type=int, default=200, help="queries an index")
    parser.add_argument(
        "--ef-search", type=int, nargs="+", default=[settings().hnsw_ef_search], help="ef_search values"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # one measurement, rows to this file
    args = parser.parse_args(argv)
    if args.child:
        args.child.write_text(json.dumps([row for size in args.sizes for row in measure(size, args.queries)]))
        return {}
    rows = [row for size in args.sizes for ef in args.ef_search for row in measure_in_child(size, args.queries, ef)]
    rows.sort(key=lambda r: (r["passages"], r["collection"], r["ef_search"]))
    table(f"HNSW recall@10 against exact search (load {load_average()})", rows)
    payload = {"load": load_average(), "queries": args.queries, "rows": rows}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
