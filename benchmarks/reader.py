"""Reader throughput: the shipped int8 ONNX reader on SQuAD Super Bowl 50 questions, each read against k
passage-sized contexts (600 characters, as the splitter makes them), as the answerer reads them.

    python benchmarks/reader.py [--questions 100] [-k 5] [--threads 0]

Prints windows per second and milliseconds per question (p50/p95); docs/benchmarks.md keeps the figures.
"""

from __future__ import annotations

import random
import time
from typing import Any

from common import arguments, load_average, percentile, settings, squad_paragraphs_and_questions, table, write_json

from assistant.models.reader import PACKAGED_READER, get_reader

PASSAGE_CHARS = 600


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "reader.json")
    parser.add_argument("--questions", type=int, default=100, help="questions read")
    parser.add_argument("-k", type=int, default=settings().reader_passages, help="passages read a question")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: every core)")
    args = parser.parse_args(argv)
    paragraphs, questions = squad_paragraphs_and_questions()
    rng = random.Random(3)
    contexts = [p[:PASSAGE_CHARS] for p in paragraphs]
    reader = get_reader(PACKAGED_READER, threads=args.threads)
    asked = [q for q, _ in questions[: args.questions]]
    reader.read(asked[0], rng.sample(contexts, args.k))  # warm-up
    times, windows = [], 0
    for question in asked:
        chosen = rng.sample(contexts, args.k)
        windows += len(reader.windows(question, chosen))  # type: ignore[attr-defined]
        started = time.perf_counter()
        reader.read(question, chosen)
        times.append((time.perf_counter() - started) * 1000)
    row = {
        "questions": len(asked),
        "k": args.k,
        "threads": args.threads,
        "windows": windows,
        "windows_per_s": round(windows / (sum(times) / 1000), 1),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
    }
    table(f"Reader throughput (load {load_average()})", [row])
    payload = {"load": load_average(), "rows": [row]}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
