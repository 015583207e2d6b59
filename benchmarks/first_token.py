"""Time to the first streamed piece and to the verified answer, per question, for one backend.

`assistant eval` times whole answers; a chat user sees the first words long before that. Usage (repo root):

    python -m benchmarks.first_token --backend llamacpp [--limit 10]

Asks the seed questions (eval/seed_questions.jsonl) over the bundled article, after one warm-up question
(loading the model is not counted), and prints the median and max of both times and the backends that answered.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import click

from assistant import Answer, Assistant
from assistant.app import sample_path

SEEDS = Path(__file__).resolve().parents[1] / "eval" / "seed_questions.jsonl"


@click.command()
@click.option("--backend", default="llamacpp")
@click.option("--limit", type=int, default=None, help="Ask only the first N questions.")
def main(backend: str, limit: int | None) -> None:
    questions = [json.loads(line)["question"] for line in SEEDS.read_text().splitlines() if line][:limit]
    with tempfile.TemporaryDirectory() as tmp:
        bot = Assistant(index_dir=tmp, backend=backend)
        bot.ingest([sample_path()], progress=False)
        bot.ask("Who is Tokayev?")  # loads the model
        first: list[float] = []
        total: list[float] = []
        backends: Counter[str] = Counter()
        for question in questions:
            started = time.perf_counter()
            first_at = None
            for item in bot.stream(question):
                if first_at is None:
                    first_at = time.perf_counter() - started
                if isinstance(item, Answer):
                    backends[item.backend] += 1
            total.append(time.perf_counter() - started)
            first.append(first_at or 0.0)
    report = {
        "backend": backend,
        "questions": len(questions),
        "first_piece_seconds_median": round(statistics.median(first), 2),
        "first_piece_seconds_max": round(max(first), 2),
        "answer_seconds_median": round(statistics.median(total), 2),
        "answer_seconds_max": round(max(total), 2),
        "answered_by": dict(backends),
    }
    click.echo(json.dumps(report))


if __name__ == "__main__":
    main()
