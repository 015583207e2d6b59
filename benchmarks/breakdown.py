"""Where hybrid retrieval's time goes at one index size: each stage timed on its own, beside the floor.

    python benchmarks/breakdown.py [--size 100000] [--questions 40]

Stages take turns question by question, so that load from other processes falls on all of them alike.
Before every call the process's per-sentence caches (tokens, term sets, sentence ids) are emptied, so
each stage costs what it costs for a question whose passages were never scored before. The rows marked
"(Chroma records)" are what the same stage cost when it read Chroma's records instead of the local
passage cache, measured in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from common import arguments, latencies_ms, load_average, table, write_json

from assistant.answer_types import tokens
from assistant.evidence import term_set
from assistant.retrieval import HybridRetriever, rrf
from assistant.types import ScoredPassage, _sentence_id
from benchmarks.indexes import cached_index
from benchmarks.query import floor, questions


def measure(size: int, qs: list[str], k: int) -> dict[str, Any]:
    bot, _ = cached_index(size)
    retriever = bot._retriever
    assert isinstance(retriever, HybridRetriever), "the default settings retrieve hybrid"
    s, store, lexical = bot.settings, bot.store, bot.lexical
    vectors = {q: bot.embed_question(q) for q in qs}
    # What each stage works on, computed once per question so every stage can be timed alone.
    bm25 = {q: [pid for pid, _ in lexical.search(q, s.branch_k)] for q in qs}
    spans = {q: store.nearest_sentence_spans(vectors[q], s.branch_k) for q in qs}
    by_sentence = {
        q: list(dict.fromkeys(pid for d, a, b, _ in spans[q] for pid in lexical.passages_covering(d, a, b))) for q in qs
    }
    fused = {q: rrf([(s.weight_bm25, bm25[q]), (s.weight_sentence, by_sentence[q])], s.rrf_k) for q in qs}
    top = {q: sorted(fused[q], key=lambda pid: -fused[q][pid])[: s.rerank_candidates] for q in qs}
    candidates = {q: [ScoredPassage(p, fused[q][p.id]) for p in store.get_passages(top[q]).values()] for q in qs}
    unit = np.asarray

    stages = {
        "floor: embed + raw Chroma query": floor(bot, k),
        "question embedding": lambda q: bot.embed_question(q),
        "BM25 branch (bm25s get_scores + top 30)": lambda q: lexical.search(q, s.branch_k),
        "dense sentence branch: HNSW query, ids only": lambda q: store.sentences.query(
            query_embeddings=[unit(vectors[q], dtype=np.float32)], n_results=s.branch_k, include=["distances"]
        ),
        "dense sentence branch (Chroma records): query with spans": lambda q: store.sentences.query(
            query_embeddings=[unit(vectors[q], dtype=np.float32)],
            n_results=s.branch_k,
            include=["metadatas", "distances"],
        ),
        "dense sentence branch: query + spans from the cache + passages": lambda q: retriever._dense_sentences(
            vectors[q], None
        ),
        "dense passage branch (off by default): HNSW query, ids only": lambda q: store.nearest_passage_ids(
            vectors[q], s.branch_k
        ),
        "RRF fusion": lambda q: rrf([(1.0, bm25[q]), (1.0, by_sentence[q])], s.rrf_k),
        "fetch 20 candidates from the passage cache": lambda q: store.get_passages(top[q]),
        "fetch 20 candidates (Chroma records)": lambda q: store.passages.get(
            ids=top[q], include=["documents", "metadatas"]
        ),
        "evidence reranking of 20 candidates": lambda q: retriever.reranker.rerank(q, vectors[q], candidates[q]),
        "retrieve (hybrid): embedding + all of the above": lambda q: bot.retrieve(q, k=k),
        "the same, embedding first, then retrieval (no overlap with BM25)": lambda q: bot._retriever.retrieve(
            q, bot.embed_question(q), k
        ),
        "answer from the top 5 (extractive)": lambda q: bot._answerer.answer(q, vectors[q], candidates[q][:k]),
        "ask (hybrid)": lambda q: bot.ask(q, k=k),
    }
    measured = latencies_ms({name: _new_sentences(func) for name, func in stages.items()}, qs)
    passages = bot.stats()["passages"]
    base = measured["floor: embed + raw Chroma query"]["p50_ms"]
    rows = [
        {"stage": stage, **stats, "p50 / floor": round(stats["p50_ms"] / base, 2)} for stage, stats in measured.items()
    ]
    return {"passages": passages, "rows": rows}


def _new_sentences(func: Callable[[str], object]) -> Callable[[str], object]:
    """`func`, called with the caches of per-sentence work emptied first (as for never-seen passages)."""

    def call(question: str) -> object:
        tokens.cache_clear()
        term_set.cache_clear()
        _sentence_id.cache_clear()
        return func(question)

    return call


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "breakdown.json")
    parser.add_argument("--size", type=int, default=100000, help="passages in the index")
    parser.add_argument("--questions", type=int, default=40, help="questions asked")
    parser.add_argument("-k", type=int, default=5, help="passages retrieved a question")
    args = parser.parse_args(argv)
    result = measure(args.size, questions(args.questions), args.k)
    table(f"Hybrid retrieval by stage, {result['passages']} passages (ms; load {load_average()})", result["rows"])
    payload = {"load": load_average(), "k": args.k, "questions": args.questions, **result}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
