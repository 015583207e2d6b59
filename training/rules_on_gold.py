"""The hand-written answerer (`ASSISTANT_READER=none`) given the gold paragraph, as the reader is in
training/evaluate.py: the figures the model card puts beside the reader's.

Each paragraph of the set is indexed as its own article; each question is asked with a filter to its paragraph and
without the answerer's abstention (so that both are scored on every question), and its prediction is scored as
`assistant eval` scores it (`prediction_text`: the short answer, else the cited text).

    python -m training.rules_on_gold [--write]     # TyDi GoldP dev and Super Bowl 50 (about 2 minutes)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant import Assistant, Filters
from assistant.evaluation.metrics import best_em_f1
from assistant.evaluation.runner import prediction_text
from assistant.models.reader import PACKAGED_READER_DIR
from training import data
from training.evaluate import ROOT, SUPER_BOWL


def rules_scores(path: Path, desc: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder, rows = Path(tmp) / "paragraphs", []
        folder.mkdir()
        for a, paragraphs in enumerate(data.read_squad(path)):
            for p, paragraph in enumerate(paragraphs):
                file = folder / f"{a:04d}-{p:03d}.txt"
                file.write_text(paragraph["context"], encoding="utf-8")
                for qa in paragraph["qas"]:
                    golds = [x["text"] for x in qa.get("answers") or []]
                    if golds:
                        rows.append((qa["question"], str(file), golds))
        ems, f1s = [], []
        with Assistant(index_dir=Path(tmp) / "index", reader="none", min_score=-1e9) as bot:
            bot.ingest([folder], progress=False)
            for question, source, golds in tqdm(rows, desc=desc, unit="q", leave=False):
                answer = bot.ask(question, filters=Filters(sources=(source,)))
                em, f1 = best_em_f1(prediction_text(answer), golds)
                ems.append(em)
                f1s.append(f1)
    return {
        "questions": len(rows),
        "em": round(100 * float(np.mean(ems)), 1),
        "f1": round(100 * float(np.mean(f1s)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qa", type=Path, default=ROOT.parent / "shared" / "qa")
    parser.add_argument("--write", action="store_true", help="write the scores into the shipped reader.json")
    args = parser.parse_args()
    scores = {
        "rules_tydiqa_goldp_dev": rules_scores(args.qa / "dev" / "tydiqa_goldp_en_dev.json", "TyDi dev"),
        "rules_squad_super_bowl_50_gold_paragraph": rules_scores(SUPER_BOWL, "Super Bowl 50"),
    }
    print(json.dumps(scores, indent=2))
    if args.write:
        path = PACKAGED_READER_DIR / "reader.json"
        found = json.loads(path.read_text(encoding="utf-8"))
        found.setdefault("scores", {}).update(scores)
        path.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
