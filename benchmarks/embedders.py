"""Embedding backends compared: encode throughput (interleaved rounds, median) and SQuAD retrieval hit@1/hit@5.

python benchmarks/embedders.py [--sentences 600] [--rounds 2]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common import CACHE, arguments, load_average, settings, squad_paragraphs_and_questions, table, write_json

from assistant.app import Assistant
from assistant.models.embedder import get_embedder
from benchmarks.corpus import sentence_pool

# (backend, threads): threads 0 lets the runtime use every core.
CONFIGS = [("torch", 0), ("torch", 1), ("onnx", 0), ("onnx", 1), ("onnx-int8", 0), ("onnx-int8", 1)]


def squad_hits(backend: str, workdir: Path) -> dict[str, float]:
    """Open dense retrieval over the 54 paragraphs: share of the 810 questions whose paragraph is in the top 1/5."""
    paragraphs, questions = squad_paragraphs_and_questions()
    folder = workdir / "squad"
    if not folder.exists():
        folder.mkdir(parents=True)
        for i, text in enumerate(paragraphs):
            (folder / f"p{i:03d}.txt").write_text(text, encoding="utf-8")
    bot = Assistant(settings=settings(index_dir=workdir / f"index-{backend}", embed_backend=backend, retrieval="dense"))
    bot.ingest([folder], progress=False)
    hit1 = hit5 = 0
    for question, para in questions:
        sources = [Path(sp.passage.source).stem for sp in bot.retrieve(question, k=5)]
        target = f"p{para:03d}"
        hit1 += sources[:1] == [target]
        hit5 += target in sources
    return {"hit@1": round(100 * hit1 / len(questions), 2), "hit@5": round(100 * hit5 / len(questions), 2)}


def throughput(texts: list[str], rounds: int, batch_size: int) -> dict[tuple[str, int], float]:
    """Sentences/s of each config, the median of `rounds` interleaved rounds (load changes hit all alike)."""
    cache_dir = settings().cache_dir
    embedders = {cfg: get_embedder("all-MiniLM-L6-v2", cfg[0], cfg[1], cache_dir) for cfg in CONFIGS}
    speeds: dict[tuple[str, int], list[float]] = {cfg: [] for cfg in CONFIGS}
    for _ in range(rounds):
        for cfg, embedder in embedders.items():
            _set_torch_threads(cfg)
            embedder.encode(texts[:64], batch_size=batch_size)
            start = time.perf_counter()
            embedder.encode(texts, batch_size=batch_size)
            speeds[cfg].append(len(texts) / (time.perf_counter() - start))
    _set_torch_threads(("torch", 0))
    return {cfg: statistics.median(v) for cfg, v in speeds.items()}


def _set_torch_threads(cfg: tuple[str, int]) -> None:
    # torch's thread count is per process, so the torch configs take turns setting it.
    if cfg[0] == "torch":
        import os

        import torch

        torch.set_num_threads(cfg[1] or os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "embedders.json")
    parser.add_argument("--sentences", type=int, default=600, help="corpus sentences encoded per round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (the median is kept)")
    parser.add_argument("--batch-size", type=int, default=settings().embed_batch_size, help="encoding batch")
    args = parser.parse_args(argv)

    texts = [text for _, text in sentence_pool(args.sentences, seed=99)]
    speeds = throughput(texts, args.rounds, args.batch_size)
    with tempfile.TemporaryDirectory(dir=CACHE if CACHE.exists() else None) as tmp:
        hits = {backend: squad_hits(backend, Path(tmp)) for backend in dict.fromkeys(b for b, _ in CONFIGS)}
    reference = hits["torch"]["hit@5"]
    rows = [
        {
            "backend": backend,
            "threads": threads or "all",
            "sentences/s": round(speed, 1),
            "vs torch (all)": round(speed / speeds[("torch", 0)], 2),
            "SQuAD hit@1": hits[backend]["hit@1"],
            "SQuAD hit@5": hits[backend]["hit@5"],
            "hit@5 within 0.5 of fp32": abs(hits[backend]["hit@5"] - reference) <= 0.5,
        }
        for (backend, threads), speed in speeds.items()
    ]
    table(f"Embedding backends ({args.sentences} sentences x {args.rounds} rounds; load {load_average()})", rows)
    payload = {"load": load_average(), "sentences": args.sentences, "rounds": args.rounds, "rows": rows}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
