"""An open-retrieval dev set for the answerer, from TyDi QA GoldP English dev (the tuning set of training/):
`eval/tydiqa_open_dev.json`, SQuAD v2 JSON that `assistant eval` reads.

Every dev paragraph is in the corpus once. Half of the questions (chosen at random) keep their paragraph whole
and are answerable; for the other half the paragraph is stored without the sentence that holds the answer
(checked: the answer's words are nowhere in what remains), so the question is unanswerable although its topic is
right there: the case abstention must get right. The no-answer threshold is chosen on this set.

    python -m training.open_dev
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from training import data

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "eval" / "tydiqa_open_dev.json"


def build(folder: Path, seed: int = 5) -> dict:
    rng = random.Random(seed)
    articles = []
    for ex in data.dev_examples(folder):
        cut = data.without_answer_sentence(ex) if rng.random() < 0.5 else None
        context = cut.context if cut is not None else ex.context
        qa: dict = {"id": ex.id, "question": ex.question}
        if cut is None:
            qa["answers"] = [{"text": ex.answer_text, "answer_start": ex.answer_start}]
        else:
            qa.update(answers=[], is_impossible=True)
        articles.append({"title": ex.id, "paragraphs": [{"context": context, "qas": [qa]}]})
    return {"version": "v2.0", "data": articles}


def main() -> None:
    found = build(data.DEFAULT_QA)
    TARGET.write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    qas = [q for a in found["data"] for p in a["paragraphs"] for q in p["qas"]]
    print(f"{TARGET}: {len(qas)} questions, {sum(bool(q.get('is_impossible')) for q in qas)} unanswerable")


if __name__ == "__main__":
    main()
