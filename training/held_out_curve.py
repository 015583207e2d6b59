"""The reader's abstention trade-off on question sets no threshold was tuned on.

`calibrate_reader` chooses `min_margin` on the open dev set; this re-measures what each threshold does on
sets that played no part in it: SQuAD Super Bowl 50 (open retrieval over its 54 paragraphs; all answerable),
its first 150 questions asked of the bundled sample article (off-topic), the sample's on-topic questions it
does not answer (eval/sample_unanswerable.jsonl) and the news set (eval/news_questions.jsonl, on eval/news).
Each question is answered once with the reader never declining; its margin then tells what every threshold
would do. The curve goes into the model card; nothing here changes a setting.

    python -m training.held_out_curve [--reader DIR] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.evaluation.calibrate import NO_THRESHOLD, off_topic_csv, sweep
from assistant.evaluation.indexes import bundled_dir
from assistant.evaluation.runner import run_eval
from assistant.evaluation.sets import read_set
from assistant.models.reader import PACKAGED_READER_DIR
from assistant.settings import Settings
from training import card
from training.calibrate_reader import OFF_TOPIC, THRESHOLDS

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
SQUAD = EVAL / "squad_v1_super_bowl_50.json"


def held_out_rows(reader: Path, settings: Settings, progress: bool) -> dict[str, list[dict]]:
    """Results rows by kind: `answerable`, `off_topic` and `unanswerable` (on-topic)."""
    config = f"default,reader={reader},reader_min_margin={NO_THRESHOLD}"
    sample = [bundled_dir() / n for n in read_set(EVAL / "seed_questions.jsonl").referenced_docs()]
    off_topic = off_topic_csv(
        [q.question for q in read_set(SQUAD).questions[:OFF_TOPIC]],
        settings.eval_cache_dir.expanduser() / "calibration" / "squad_on_sample.csv",
    )
    runs = [(SQUAD, []), (off_topic, sample), (EVAL / "sample_unanswerable.jsonl", sample)]
    runs.append((EVAL / "news_questions.jsonl", sorted((EVAL / "news").iterdir())))
    rows: dict[str, list[dict]] = {"answerable": [], "off_topic": [], "unanswerable": []}
    for set_path, corpus in runs:
        found = run_eval(set_path, corpus=corpus, configs=[config], settings=settings, progress=progress)
        for row in found.runs[0].rows:
            kind = "answerable" if row["answerable"] else "off_topic" if set_path == off_topic else "unanswerable"
            rows[kind].append(row)
    return rows


def curve(rows: dict[str, list[dict]]) -> list[dict]:
    """At each threshold: answerable answered with the gold cited and declined, off-topic and on-topic
    unanswerable declined."""
    off = sweep(rows["answerable"] + rows["off_topic"], THRESHOLDS, key="margin")
    on = sweep(rows["answerable"] + rows["unanswerable"], THRESHOLDS, key="margin")
    return [
        {
            "threshold": a.threshold,
            "answered_correctly": a.answered_correctly,
            "abstained_wrongly": a.abstained_wrongly,
            "off_topic_declined": a.abstained_rightly,
            "unanswerable_declined": b.abstained_rightly,
        }
        for a, b in zip(off, on, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", type=Path, default=PACKAGED_READER_DIR)
    parser.add_argument("--write", action="store_true", help="write the curve into the reader.json and its card")
    args = parser.parse_args()
    rows = held_out_rows(args.reader, Settings.from_env(), sys.stderr.isatty())
    points = curve(rows)
    file = args.reader / "reader.json"
    found = json.loads(file.read_text(encoding="utf-8"))
    found["held_out"] = {"counts": {k: len(v) for k, v in rows.items()}, "curve": points}
    print(card.held_out(found))
    if args.write:
        file.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
        card.write(args.reader)


if __name__ == "__main__":
    main()
