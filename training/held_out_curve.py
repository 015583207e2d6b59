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
import sys
from pathlib import Path

from assistant.evaluation.calibrate import sweep
from assistant.models.reader import PACKAGED_READER_DIR
from assistant.settings import Settings
from training import card
from training.calibrate_reader import THRESHOLDS, answered_without_threshold, asked_of_sample, sample_article

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
SQUAD = EVAL / "squad_v1_super_bowl_50.json"


def held_out_rows(reader: Path, settings: Settings, progress: bool) -> dict[str, list[dict]]:
    """Results rows by kind: `answerable`, `off_topic` and `unanswerable` (on-topic)."""
    off_topic = asked_of_sample(SQUAD, settings, "squad_on_sample.csv")
    sample = sample_article()
    runs = [(SQUAD, []), (off_topic, sample), (EVAL / "sample_unanswerable.jsonl", sample)]
    runs.append((EVAL / "news_questions.jsonl", sorted((EVAL / "news").iterdir())))
    rows: dict[str, list[dict]] = {"answerable": [], "off_topic": [], "unanswerable": []}
    for (set_path, _), found in zip(runs, answered_without_threshold(reader, runs, settings, progress), strict=True):
        for row in found:
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
    parser.add_argument("--reader", type=Path, default=PACKAGED_READER_DIR, help="an exported reader folder")
    parser.add_argument("--write", action="store_true", help="write the curve into the reader.json and its card")
    args = parser.parse_args()
    rows = held_out_rows(args.reader, Settings.from_env(), sys.stderr.isatty())
    measured = {"counts": {k: len(v) for k, v in rows.items()}, "curve": curve(rows)}
    print(card.held_out({**card.recorded(args.reader), "held_out": measured}))
    if args.write:
        card.record(args.reader, held_out=measured)


if __name__ == "__main__":
    main()
