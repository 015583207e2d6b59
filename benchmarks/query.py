"""Query latency at 1k/10k/100k passages: retrieval (every mode the settings offer), filtered retrieval and the
full `ask`, beside the floor (question embedding + one raw Chroma query) measured in the same run.

What is compared takes turns question by question (`common.latencies_ms`), so load from other processes on
the shared cores falls on the floor and the pipelines alike.

    python benchmarks/query.py [--sizes 1000 10000 100000] [--questions 60]

The indexes are built from cached embeddings of generated text (benchmarks/indexes.py).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
from common import CACHE, arguments, latencies_ms, load_average, peak_rss_mb, settings, table, write_json

from assistant.app import Assistant
from assistant.store import where_clause
from assistant.types import Filters
from benchmarks.corpus import PLACES, TOPICS
from benchmarks.indexes import cached_index

# Retrieval variants: label -> settings changes (names a version does not know are dropped, see `settings`).
# The default (hybrid, reranked) goes first: per-sentence work (term sets, tokens) is cached in the process,
# so the first pipeline to see a question's passages pays for scoring them, and the rows after it get them cheaper.
VARIANTS: dict[str, dict[str, Any]] = {
    "hybrid + rerank, default": {},
    "hybrid": {"retrieval": "hybrid", "rerank": False},
    "hybrid with the dense passage branch": {"retrieval": "hybrid", "rerank": False, "weight_dense": 1.0},
    "dense": {"retrieval": "dense", "rerank": False},
    "bm25": {"retrieval": "bm25", "rerank": False},
}
FORMS = [
    "What did {org} say about {obj}?",
    "Why did {org} act on {obj} in {place}?",
    "What happened after {org} {action} {obj}?",
    "How many people signed the petition about {obj} in {place}?",
]


def questions(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        orgs, actions, objects, _ = TOPICS[rng.choice(sorted(TOPICS))]
        out.append(
            rng.choice(FORMS).format(
                org=rng.choice(orgs), action=rng.choice(actions), obj=rng.choice(objects), place=rng.choice(PLACES)
            )
        )
    return out


def floor(bot: Assistant, k: int, where: dict[str, Any] | None = None):  # noqa: ANN201
    """Question embedding plus one raw Chroma query: what any retrieval must at least spend."""

    def run(question: str) -> object:
        vector = bot.embedder.encode([question])[0]
        return bot.store.passages.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )

    return run


def measure(size: int, qs: list[str], k: int) -> list[dict[str, Any]]:
    bot, built = cached_index(size)
    passages = bot.stats()["passages"]
    rows: list[dict[str, Any]] = []

    def row(what: str, stats: dict[str, float], base: dict[str, float] | None) -> None:
        ratio = round(stats["p50_ms"] / base["p50_ms"], 2) if base else None
        rows.append({"passages": passages, "what": what, **stats, "p50 / floor": ratio})

    funcs = {"floor: embed + raw Chroma query": floor(bot, k)}
    for label, changes in VARIANTS.items():
        try:
            variant = Assistant(settings=settings(index_dir=bot.settings.index_dir, **changes))
            variant.retrieve(qs[0], k=k)
        except (ValueError, TypeError) as e:
            print(f"retrieval {label!r} not available: {e}")
            continue
        funcs[f"retrieve ({label})"] = lambda q, v=variant: v.retrieve(q, k=k)
    funcs[f"ask ({getattr(bot.settings, 'retrieval', 'dense')}, reader {getattr(bot.settings, 'reader', 'none')})"] = (
        lambda q: bot.ask(q, k=k)
    )
    rules = Assistant(settings=settings(index_dir=bot.settings.index_dir, reader="none"))
    funcs["ask (rules, no reader)"] = lambda q: rules.ask(q, k=k)
    measured = latencies_ms(funcs, qs)
    base = measured["floor: embed + raw Chroma query"]
    # Filters: one year of dates (about a tenth of the articles), and five named articles. Measured apart:
    # Chroma's `where` scans its metadata store, which evicts what the unfiltered queries keep warm.
    some_sources = tuple(d.source for d in bot.documents()[:5])
    filtered = {}
    for name, filters in (
        ("one year", Filters(date_from="2019-01-01", date_to="2019-12-31")),
        ("5 sources", Filters(sources=some_sources)),
    ):
        filtered[f"floor with Chroma where ({name})"] = floor(bot, k, where_clause(filters, filters.sources))
        filtered[f"retrieve with filter ({name})"] = lambda q, f=filters: bot.retrieve(q, k=k, filters=f)
    measured.update(latencies_ms(filtered, qs))
    for what, stats in measured.items():
        row(what, stats, None if stats is base else base)
    for r in rows:
        r["index"] = "cached vectors of generated text" + (f", built in {built['build_seconds']} s" if built else "")
    return rows


def measure_server(size: int, qs: list[str], k: int) -> list[dict[str, Any]]:
    """The same index served by `chroma run` on 127.0.0.1 (a copy of the embedded folder: same format)."""
    import shutil
    import tempfile

    from tests.conftest import ChromaServer

    bot, _ = cached_index(size)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        data = Path(tmp) / "chroma-data"
        shutil.copytree(bot.settings.index_dir, data)
        server = ChromaServer(data)
        server.start()
        try:
            remote = Assistant(settings=settings(chroma_url=server.url, cache_dir=Path(tmp) / "cache"))
            passages = remote.stats()["passages"]
            year = Filters(date_from="2019-01-01", date_to="2019-12-31")
            measured = latencies_ms(
                {
                    "server floor: embed + raw Chroma query": floor(remote, k),
                    "server retrieve": lambda q: remote.retrieve(q, k=k),
                    "server ask": lambda q: remote.ask(q, k=k),
                    "server retrieve with filter (one year)": lambda q: remote.retrieve(q, k=k, filters=year),
                },
                qs,
            )
            base = measured["server floor: embed + raw Chroma query"]
            rows = list(measured.items())
        finally:
            server.stop()
    return [
        {
            "passages": passages,
            "what": what,
            **stats,
            "p50 / floor": round(stats["p50_ms"] / base["p50_ms"], 2),
            "index": "Chroma server on 127.0.0.1 (copy of the embedded index)",
        }
        for what, stats in rows
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "query.json")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="index sizes (passages)")
    parser.add_argument("--questions", type=int, default=60, help="questions an index")
    parser.add_argument(
        "--server-size", type=int, default=10000, help="also measure this index via a Chroma server (0: skip)"
    )
    parser.add_argument("-k", type=int, default=settings().top_k, help="passages retrieved a question")
    args = parser.parse_args(argv)
    qs = questions(args.questions)
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        size_rows = measure(size, qs, args.k)
        rows.extend(size_rows)
        table(
            f"Query latency, {size_rows[0]['passages']} passages, k={args.k} (ms; load {load_average()})",
            [{k: v for k, v in r.items() if k not in {"passages", "index"}} for r in size_rows],
        )
    if args.server_size:
        server_rows = measure_server(args.server_size, qs, args.k)
        rows.extend(server_rows)
        table(
            "Query latency through a Chroma server (ms)",
            [{k: v for k, v in r.items() if k not in {"index"}} for r in server_rows],
        )
    payload = {"load": load_average(), "k": args.k, "questions": len(qs), "rows": rows, "peak_rss_mb": peak_rss_mb()}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
