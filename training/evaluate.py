"""The reader alone, given the gold paragraph: EM/F1 on TyDi QA GoldP English dev (the tuning set) and on SQuAD
Super Bowl 50 (a test set: never tuned on), and how well its no-answer score separates answerable questions from
made unanswerable ones (the question with another paragraph of its article) on the dev set.

    python -m training.evaluate                       # the shipped reader
    python -m training.evaluate --reader DIR --max-examples 100
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.evaluation.metrics import best_em_f1
from assistant.models.reader import PACKAGED_READER_DIR, OnnxReader
from training import data

ROOT = Path(__file__).resolve().parent.parent
SUPER_BOWL = ROOT / "eval" / "squad_v1_super_bowl_50.json"


def gold_sets(path: Path, max_examples: int) -> list[tuple[str, str, list[str]]]:
    rows = []
    for paragraphs in data.read_squad(path):
        for p in paragraphs:
            for qa in p["qas"]:
                golds = [a["text"] for a in qa.get("answers") or []]
                if golds:
                    rows.append((qa["question"], p["context"], golds))
    return rows[:max_examples] if max_examples > 0 else rows


def reader_scores(reader: OnnxReader, rows: list[tuple[str, str, list[str]]], desc: str) -> dict[str, float]:
    def predict(question: str, context: str) -> str:
        spans = reader.read(question, [context])
        return context[spans[0].start : spans[0].end] if spans else ""

    return gold_scores(rows, predict, desc)


def gold_scores(
    rows: list[tuple[str, str, list[str]]], predict: Callable[[str, str], str], desc: str
) -> dict[str, float]:
    """EM and F1 of `predict(question, gold paragraph)` over (question, paragraph, gold answers) rows."""
    ems, f1s = [], []
    started = time.monotonic()
    for question, context, golds in tqdm(rows, desc=desc, unit="q", leave=False):
        em, f1 = best_em_f1(predict(question, context), golds)
        ems.append(em)
        f1s.append(f1)
    return {
        "questions": len(rows),
        "em": round(100 * float(np.mean(ems)), 1),
        "f1": round(100 * float(np.mean(f1s)), 1),
        "ms_per_question": round(1000 * (time.monotonic() - started) / max(len(rows), 1), 1),
    }


def no_answer_scores(reader: OnnxReader, rows: list[tuple[str, str, list[str]]]) -> dict[str, float]:
    """Margins of answerable (gold paragraph) and made unanswerable (another paragraph) pairs: the share of
    pairs ranked right (AUC), and what a zero threshold keeps and declines."""
    rng = random.Random(7)
    contexts = [c for _, c, _ in rows]
    positive, negative = [], []
    for question, context, golds in tqdm(rows, desc="no-answer", unit="q", leave=False):
        spans = reader.read(question, [context])
        positive.append(spans[0].margin if spans else -1e9)
        other = rng.choice(contexts)
        if other == context or any(g.lower() in other.lower() for g in golds):
            continue
        spans = reader.read(question, [other])
        negative.append(spans[0].margin if spans else -1e9)
    pos, neg = np.asarray(positive), np.asarray(negative)
    auc = float((pos[:, None] > neg[None, :]).mean())
    return {
        "answerable": len(pos),
        "unanswerable": len(neg),
        "auc": round(auc, 3),
        "answered_at_0": round(float((pos > 0).mean()), 3),
        "declined_at_0": round(float((neg <= 0).mean()), 3),
    }


def evaluate_folder(folder: Path, qa: Path, max_examples: int = 0) -> dict[str, dict[str, float]]:
    reader = OnnxReader(folder)
    dev = gold_sets(qa / "dev" / "tydiqa_goldp_en_dev.json", max_examples)
    test = gold_sets(SUPER_BOWL, max_examples)
    return {
        "tydiqa_goldp_dev": reader_scores(reader, dev, "TyDi dev"),
        "tydiqa_goldp_dev_no_answer": no_answer_scores(reader, dev),
        "squad_super_bowl_50_gold_paragraph": reader_scores(reader, test, "Super Bowl 50"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", type=Path, default=PACKAGED_READER_DIR, help="an exported reader folder")
    parser.add_argument("--qa", type=Path, default=ROOT.parent / "shared" / "qa", help="the mix, for its dev/ sets")
    parser.add_argument("--max-examples", type=int, default=0, help="questions per set (0: all)")
    args = parser.parse_args()
    print(json.dumps(evaluate_folder(args.reader, args.qa, args.max_examples), indent=2))


if __name__ == "__main__":
    main()
