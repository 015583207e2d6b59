"""Choose the reader's no-answer threshold (`min_margin` in its reader.json) on the open-retrieval dev set.

Every question of eval/tydiqa_open_dev.json (TyDi GoldP dev, a third made unanswerable; see open_dev.py) and
the first 150 of them asked of the bundled sample article (off-topic, all to be declined) is answered once with
the reader never declining; each answer's margin then tells what every threshold would do. The threshold kept
is the highest that costs at most `MAX_COST` of the answerable questions answered with the gold in the cited
text (a wrong "the articles do not say" hides an answer the user came for); the curve is printed for
docs/reader.md.

    python -m training.calibrate_reader [--reader DIR] [--write]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from assistant.evaluation.calibrate import NO_THRESHOLD, off_topic_csv, sweep, table
from assistant.evaluation.indexes import bundled_dir
from assistant.evaluation.runner import run_eval
from assistant.evaluation.sets import read_set
from assistant.models.reader import PACKAGED_READER_DIR
from assistant.settings import Settings
from training import card

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "eval" / "tydiqa_open_dev.json"
SEED = ROOT / "eval" / "seed_questions.jsonl"
THRESHOLDS = [x / 2 for x in range(-8, 17)]  # -4.0 .. 8.0 logits
OFF_TOPIC = 150
# 1% chose -0.5 for the reader trained two epochs, which declined "Who invited the CSTO into Kazakhstan?" of
# eval/seed_conversations.jsonl (margin -0.93); half a point keeps it (docs/reader.md).
MAX_COST = 0.005


def sample_article() -> list[Path]:
    """The bundled sample article, which off-topic questions are asked of."""
    return [bundled_dir() / n for n in read_set(SEED).referenced_docs()]


def asked_of_sample(questions_of: Path, settings: Settings, name: str) -> Path:
    """The first `OFF_TOPIC` questions of a set, as a set of off-topic questions (none answerable)."""
    asked = [q.question for q in read_set(questions_of).questions[:OFF_TOPIC]]
    return off_topic_csv(asked, settings.eval_cache_dir.expanduser() / "calibration" / name)


def answered_without_threshold(
    reader: Path, runs: list[tuple[Path, list[Path]]], settings: Settings, progress: bool
) -> list[list[dict]]:
    """Each (set, corpus) run's results rows, answered as the default settings answer with `reader` never
    declining: each row's margin then tells what any threshold would do."""
    config = f"default,reader={reader},reader_min_margin={NO_THRESHOLD}"
    return [
        run_eval(set_path, corpus=corpus, configs=[config], settings=settings, progress=progress).runs[0].rows
        for set_path, corpus in runs
    ]


def margin_rows(reader: Path, settings: Settings, progress: bool) -> list[dict]:
    off_topic = asked_of_sample(DEV, settings, "tydi_on_sample.csv")
    runs = [(DEV, []), (off_topic, sample_article())]
    return [row for rows in answered_without_threshold(reader, runs, settings, progress) for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", type=Path, default=PACKAGED_READER_DIR, help="an exported reader folder")
    parser.add_argument("--write", action="store_true", help="write the chosen min_margin into the reader.json")
    args = parser.parse_args()
    rows = margin_rows(args.reader, Settings.from_env(), sys.stderr.isatty())
    answerable = sum(r["answerable"] for r in rows)
    points = sweep(rows, THRESHOLDS, key="margin")
    most = max(p.answered_correctly for p in points)
    best = max((p for p in points if p.answered_correctly >= most - MAX_COST), key=lambda p: p.threshold)
    print(table(points, best.threshold, name="reader_min_margin"))
    print(f"chosen: {best.threshold} ({answerable} answerable, {len(rows) - answerable} unanswerable or off-topic)")
    if args.write:
        card.record(args.reader, min_margin=best.threshold, max_cost=MAX_COST, calibration=[asdict(p) for p in points])


if __name__ == "__main__":
    main()
