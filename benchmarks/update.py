"""Incremental updates of a large index: `Assistant.ingest` and `delete` of one small article, and BM25 search
latency before and after such writes (while they wait for the lexical index's next compaction).

    python benchmarks/update.py [--size 100000] [--articles 5] [--questions 40]

Runs on a copy of the benchmark index (benchmarks/indexes.py), so the cached index is left as it was. The
articles are new generated text (their sentences reach the real model): the embedding time is shown apart.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from common import arguments, latencies_ms, load_average, scratch_dir, settings, table, write_json

from assistant.app import Assistant
from benchmarks.corpus import articles, sentence_pool
from benchmarks.indexes import POOL_SIZE, index_folder
from benchmarks.ingest import TimedEmbedder
from benchmarks.query import questions


def small_articles(folder: Path, count: int) -> list[Path]:
    """`count` articles as .txt files, from a sentence pool seeded apart from the index's."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for article in articles(count, sentence_pool(POOL_SIZE, seed=4242), seed=17):
        path = folder / f"{article['id']}.txt"
        path.write_text(article["text"], encoding="utf-8")
        paths.append(path)
    return paths


def run(size: int, count: int, qs: list[str], workdir: Path) -> dict[str, Any]:
    source, _ = index_folder(size)
    copy = workdir / "index"
    shutil.copytree(source, copy)
    start = time.perf_counter()
    bot = Assistant(settings=settings(index_dir=copy))
    open_seconds = time.perf_counter() - start
    passages = bot.stats()["passages"]
    k = bot.settings.branch_k
    search = {"bm25 search": lambda q: bot.lexical.search(q, k)}
    search_before = latencies_ms(search, qs)["bm25 search"]

    spent: dict[str, float] = {}
    real = bot.embedder
    bot.embedder = TimedEmbedder(real, spent)
    ingest_s, embed_s = [], []
    files = small_articles(workdir / "articles", count)
    for path in files:
        spent.clear()
        start = time.perf_counter()
        report = bot.ingest([path], progress=False)
        ingest_s.append(time.perf_counter() - start)
        embed_s.append(spent.get("embed", 0.0))
        assert report.ok and len(report.added) == 1, report.summary()
    bot.embedder = real
    search_after = latencies_ms(search, qs)["bm25 search"]

    delete_s = []
    for path in files:
        start = time.perf_counter()
        assert bot.delete(str(path)) == 1
        delete_s.append(time.perf_counter() - start)
    assert bot.stats()["passages"] == passages

    start = time.perf_counter()
    Assistant(settings=settings(index_dir=copy))
    reopen_seconds = time.perf_counter() - start
    # The write that crosses `lexical_compact_share` (every ~10k passages at 100k) re-indexes the base.
    bot.lexical.compact_share = 0.0
    start = time.perf_counter()
    bot.ingest([files[0]], progress=False)
    compacting_seconds = time.perf_counter() - start
    return {
        "passages": passages,
        "articles": count,
        "open_s": round(open_seconds, 2),
        "ingest_one_article_s": round(statistics.median(ingest_s), 3),
        "of_which_embedding_s": round(statistics.median(embed_s), 3),
        "delete_one_article_s": round(statistics.median(delete_s), 3),
        "reopen_s": round(reopen_seconds, 2),
        "ingest_one_article_with_compaction_s": round(compacting_seconds, 2),
        "bm25_search_before_writes": search_before,
        "bm25_search_after_writes": search_after,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "update.json")
    parser.add_argument("--size", type=int, default=100000, help="passages in the index")
    parser.add_argument("--articles", type=int, default=5, help="articles ingested and deleted")
    parser.add_argument("--questions", type=int, default=40, help="BM25 searches before and after")
    args = parser.parse_args(argv)
    with scratch_dir("update-") as workdir:
        result = run(args.size, args.articles, questions(args.questions), workdir)
    result["load"] = load_average()
    before, after = result["bm25_search_before_writes"], result["bm25_search_after_writes"]
    rows = [
        {"what": "open the index (first time with this version)", "seconds or ms": result["open_s"], "unit": "s"},
        {"what": "ingest one small article (median)", "seconds or ms": result["ingest_one_article_s"], "unit": "s"},
        {"what": "  of which embedding", "seconds or ms": result["of_which_embedding_s"], "unit": "s"},
        {"what": "delete one article (median)", "seconds or ms": result["delete_one_article_s"], "unit": "s"},
        {
            "what": "ingest one article, compacting the BM25 index",
            "seconds or ms": result["ingest_one_article_with_compaction_s"],
            "unit": "s",
        },
        {"what": "open the index again", "seconds or ms": result["reopen_s"], "unit": "s"},
        {"what": "BM25 search p50, before the writes", "seconds or ms": before["p50_ms"], "unit": "ms"},
        {"what": f"BM25 search p50, after {args.articles} ingests", "seconds or ms": after["p50_ms"], "unit": "ms"},
    ]
    table(f"Incremental update, {result['passages']} passages (load {result['load']})", rows)
    write_json(args.out, result)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
