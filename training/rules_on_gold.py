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

from assistant import Assistant, Filters
from assistant.evaluation.runner import prediction_text
from assistant.models.reader import PACKAGED_READER_DIR
from training import card
from training.evaluate import ROOT, SUPER_BOWL, gold_scores, gold_sets


def rules_scores(path: Path, desc: str) -> dict[str, float]:
    rows = gold_sets(path, 0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "paragraphs"
        folder.mkdir()
        files: dict[str, str] = {}  # paragraph -> its file, the source a question is filtered to
        for _, context, _ in rows:
            if context not in files:
                files[context] = str(folder / f"{len(files):05d}.txt")
                Path(files[context]).write_text(context, encoding="utf-8")
        with Assistant(index_dir=Path(tmp) / "index", reader="none", min_score=-1e9) as bot:
            bot.ingest([folder], progress=False)

            def predict(question: str, context: str) -> str:
                return prediction_text(bot.ask(question, filters=Filters(sources=(files[context],))))

            return gold_scores(rows, predict, desc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qa", type=Path, default=ROOT.parent / "shared" / "qa", help="the mix, for its dev/ sets")
    parser.add_argument("--write", action="store_true", help="write the scores into the shipped reader.json")
    args = parser.parse_args()
    scores = {
        "rules_tydiqa_goldp_dev": rules_scores(args.qa / "dev" / "tydiqa_goldp_en_dev.json", "TyDi dev"),
        "rules_squad_super_bowl_50_gold_paragraph": rules_scores(SUPER_BOWL, "Super Bowl 50"),
    }
    print(json.dumps(scores, indent=2))
    if args.write:
        card.record(PACKAGED_READER_DIR, scores={**card.recorded(PACKAGED_READER_DIR).get("scores", {}), **scores})


if __name__ == "__main__":
    main()
