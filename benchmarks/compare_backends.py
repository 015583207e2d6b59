"""Extractive vs generated answers on the seed questions: citation validity, answer quality, latency.

A stop-gap until `assistant eval` can select a backend; then use that. Usage (from the repo root):

    python -m benchmarks.compare_backends --backend extractive --backend llamacpp [--out report.json]

Measures per backend: citation validity (every citation is `document_text[start:end]`), answerable questions
whose answer cites a span overlapping the gold evidence or states a gold answer, unanswerable questions
abstained, how often the model's own answer survived verification (else the extractive fallback is shown),
and seconds per question (the first question of a backend includes loading the model).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from assistant import Answer, Assistant
from assistant.app import sample_path

SEEDS = Path(__file__).resolve().parents[1] / "eval"


def _overlaps(answer: Answer, evidence: list[dict[str, Any]]) -> bool:
    return any(
        os.path.basename(c.source) == e["doc"] and c.start < e["end"] and e["start"] < c.end
        for c in answer.citations
        for e in evidence
    )


def _states(answer: Answer, answers: list[str]) -> bool:
    return any(a.casefold() in answer.text.casefold() for a in answers)


def evaluate(bot: Assistant, questions: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for q in questions:
        history = q.get("history")
        started = time.perf_counter()
        answer = bot.ask(q["question"], history)
        seconds = time.perf_counter() - started
        valid = all(bot.document_text(c.doc_id)[c.start : c.end] == c.text for c in answer.citations)
        rows.append(
            {
                "id": q["id"],
                "answerable": q["answerable"],
                "abstained": answer.abstained,
                "cites_evidence": _overlaps(answer, q["evidence"]),
                "states_answer": _states(answer, q["answers"]),
                "citations_valid": valid,
                "citations": len(answer.citations),
                "backend": answer.backend,
                "unsupported": len(answer.unsupported),
                "seconds": round(seconds, 2),
                "answer": answer.text,
                "resolved_question": answer.resolved_question,
                "note": answer.note,
            }
        )
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    times = [r["seconds"] for r in rows]
    return {
        "questions": len(rows),
        "citation_validity": sum(r["citations_valid"] for r in rows) / len(rows),
        "answerable_citing_gold_evidence": f"{sum(r['cites_evidence'] for r in answerable)}/{len(answerable)}",
        "answerable_stating_a_gold_answer": f"{sum(r['states_answer'] for r in answerable)}/{len(answerable)}",
        "unanswerable_abstained": f"{sum(r['abstained'] for r in unanswerable)}/{len(unanswerable)}",
        "answers_by_backend": {b: sum(r["backend"] == b for r in rows) for b in sorted({r["backend"] for r in rows})},
        "unsupported_sentences": sum(r["unsupported"] for r in rows),
        "seconds_median": round(statistics.median(times), 2),
        "seconds_mean": round(statistics.mean(times), 2),
        "seconds_max": round(max(times), 2),
        "rows": rows,
    }


def seed_questions() -> list[dict[str, Any]]:
    questions = [json.loads(line) for line in (SEEDS / "seed_questions.jsonl").read_text().splitlines() if line]
    for line in (SEEDS / "seed_conversations.jsonl").read_text().splitlines():
        if line:
            first, follow = json.loads(line)["turns"]
            # The follow-up is asked after the first turn, with the first turn's gold answer as history.
            questions.append({**follow, "history": [(first["question"], first["answers"][0])]})
    return questions


@click.command()
@click.option("--backend", "backends", multiple=True, default=["extractive", "llamacpp"])
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the full report (JSON) here.")
def main(backends: tuple[str, ...], out: Path | None) -> None:
    questions = seed_questions()
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        Assistant(index_dir=tmp).ingest([sample_path()], progress=False)
        for backend in backends:
            report[backend] = evaluate(Assistant(index_dir=tmp, backend=backend), questions)
            summary = {k: v for k, v in report[backend].items() if k != "rows"}
            click.echo(f"{backend}: {json.dumps(summary)}")
    if out:
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
