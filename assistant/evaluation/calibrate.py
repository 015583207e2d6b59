"""The abstention trade-off curve: what each `min_score` would cost and gain, from one run per question set.

Every question is answered once with the threshold out of the way (`min_score` far below any support); an
answer's `support` then says whether a given threshold would have abstained, so the whole curve comes from
that one run. The type, office and unknown-number or -name rules still abstain on their own, at every threshold.

The calibration sets are the shipped ones: the seed questions on their article and SQuAD Super Bowl 50 on its
paragraphs (answerable, bar the seed's three), plus off-topic questions made by asking each set against the
other's documents (all seed questions on the SQuAD paragraphs, the first 150 SQuAD questions on the seed
article) and the on-topic questions the seed article does not answer (sample_unanswerable.jsonl), which must
all be declined.

    python -m assistant.evaluation.calibrate [--sets eval] [--thresholds 0.2,0.3,...] [--out curve.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.indexes import bundled_dir, write_contexts
from assistant.evaluation.runner import run_eval
from assistant.evaluation.sets import read_set
from assistant.settings import Settings

THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8)
# Far below any support (cosine + coverage terms), so that only the rules abstain in the calibration runs.
NO_THRESHOLD = -100.0
OFF_TOPIC_SQUAD_QUESTIONS = 150


@dataclass(frozen=True)
class Point:
    threshold: float
    # Shares of the answerable questions answered with a gold answer in the text, and declined.
    answered_correctly: float
    abstained_wrongly: float
    # Share of the unanswerable (and off-topic) questions declined.
    abstained_rightly: float


def declines(row: dict[str, Any], threshold: float, key: str = "support") -> bool:
    """Whether the answer in `row` (run without a threshold) would be an abstention at this threshold of `key`
    (`support` for `min_score`, the reader's `margin` for `reader_min_margin`)."""
    return bool(row["abstained"]) or row[key] is None or row[key] < threshold


def sweep(
    rows: Sequence[dict[str, Any]], thresholds: Sequence[float] = THRESHOLDS, key: str = "support"
) -> list[Point]:
    """The trade-off at each threshold of `key`, from results rows of runs made with `NO_THRESHOLD`."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    points = []
    for t in thresholds:
        correct = sum(1 for r in answerable if not declines(r, t, key) and r["scores"]["contains_gold"])
        wrong = sum(1 for r in answerable if declines(r, t, key))
        right = sum(1 for r in unanswerable if declines(r, t, key))
        points.append(
            Point(t, _share(correct, len(answerable)), _share(wrong, len(answerable)), _share(right, len(unanswerable)))
        )
    return points


def _share(n: int, total: int) -> float:
    return round(n / total, 3) if total else 0.0


def off_topic_csv(questions: Sequence[str], path: Path) -> Path:
    """Questions as a CSV set whose empty answers mark them unanswerable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "answer"])
        writer.writerows([q, ""] for q in questions)
    return path


def calibration_runs(settings: Settings, eval_dir: Path) -> list[tuple[Path, list[Path]]]:
    """(question set, corpus) pairs of the calibration: the shipped sets, then each asked of the other's documents."""
    seed_path, squad_path = eval_dir / "seed_questions.jsonl", eval_dir / "squad_v1_super_bowl_50.json"
    unanswerable_path = eval_dir / "sample_unanswerable.jsonl"
    seed, squad = read_set(seed_path), read_set(squad_path)
    cache = settings.eval_cache_dir.expanduser()
    folder = cache / "calibration"
    seed_article = [bundled_dir() / n for n in seed.referenced_docs()]
    squad_paragraphs = write_contexts(squad, cache)
    squad_questions = [q.question for q in squad.questions[:OFF_TOPIC_SQUAD_QUESTIONS]]
    return [
        (seed_path, []),
        (squad_path, []),
        (off_topic_csv([q.question for q in seed.questions], folder / "seed_on_squad.csv"), [squad_paragraphs]),
        (off_topic_csv(squad_questions, folder / "squad_on_seed.csv"), seed_article),
        (unanswerable_path, seed_article),
    ]


def calibrate(
    settings: Settings, eval_dir: Path, thresholds: Sequence[float] = THRESHOLDS, progress: bool = False
) -> list[Point]:
    rows: list[dict[str, Any]] = []
    config = f"default,min_score={NO_THRESHOLD}"
    for set_path, corpus in calibration_runs(settings, eval_dir):
        run = run_eval(set_path, corpus=corpus, configs=[config], settings=settings, progress=progress)
        rows += run.runs[0].rows
    # The first point is what the rules decline on their own.
    return sweep(rows, [NO_THRESHOLD, *thresholds])


def table(points: Sequence[Point], default: float, name: str = "min_score") -> str:
    lines = [
        f"| {name} | answered correctly (answerable) | abstained wrongly (answerable) "
        "| abstained rightly (off-topic/unanswerable) |",
        "|---|---|---|---|",
    ]
    for p in points:
        cells = [
            f"{p.threshold:.2f}",
            f"{p.answered_correctly:.3f}",
            f"{p.abstained_wrongly:.3f}",
            f"{p.abstained_rightly:.3f}",
        ]
        if p.threshold == NO_THRESHOLD:
            cells[0] = "none (the rules only)"
        elif p.threshold == default:
            cells = [f"**{c}**" for c in cells]
            cells[0] = f"**{p.threshold:.2f} (default)**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.evaluation.calibrate",
        description="Print the abstention trade-off curve (ASSISTANT_MIN_SCORE) on the shipped question sets.",
    )
    parser.add_argument(
        "--thresholds",
        default=",".join(map(str, THRESHOLDS)),
        help="comma-separated min_score values (default: %(default)s)",
    )
    parser.add_argument(
        "--sets",
        type=Path,
        default=Path("eval"),
        help="the folder with the shipped question sets (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="also write the curve as JSON to this file")
    args = parser.parse_args(argv)
    thresholds = [float(t) for t in args.thresholds.split(",") if t.strip()]
    settings = Settings.from_env()
    points = calibrate(settings, args.sets, thresholds, progress=sys.stderr.isatty())
    print(table(points, settings.min_score))
    if args.out:
        args.out.write_text(json.dumps([asdict(p) for p in points], indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
