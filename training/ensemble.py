"""One reader folder from several exported readers (trained from other seeds): the answerer reads each window
with every graph and averages their start and end logits. Then it is evaluated like a single reader.

    python -m training.ensemble assistant/data/reader training/runs/reader/reader training/runs/seed29/reader
    python -m training.calibrate_reader --write     # an ensemble's no-answer scale is its own
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from assistant.models.reader import graph_names
from training import card, data


def combine(out: Path, members: list[Path]) -> None:
    """Write the ensemble of `members` (single or ensemble reader folders) into `out`, replacing what is there."""
    settings = [card.recorded(m) for m in members]
    shape = {(s["max_length"], s["stride"]) for s in settings}
    if len(shape) != 1:
        raise SystemExit(f"the readers read different windows (max_length, stride): {sorted(shape)}")
    graphs = [m / name for m, s in zip(members, settings, strict=True) for name in graph_names(s)]
    trained = [t for s in settings for t in card.members(s)]
    # Staged first: `out` may be one of the members (the shipped folder, say).
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        names = ["model.onnx" if i == 0 else f"model-{i + 1}.onnx" for i in range(len(graphs))]
        for graph, name in zip(graphs, names, strict=True):
            shutil.copyfile(graph, staged / name)
        shutil.copyfile(members[0] / "tokenizer.json", staged / "tokenizer.json")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(staged, out)
    max_length, stride = shape.pop()
    combined = {"max_length": max_length, "stride": stride, "models": names, "members": trained}
    (out / "reader.json").write_text(json.dumps(combined, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the ensemble's folder (replaced)")
    parser.add_argument("readers", type=Path, nargs="+", help="exported reader folders")
    parser.add_argument("--qa", type=Path, default=data.DEFAULT_QA, help="the mix, for its dev/ sets")
    parser.add_argument("--dev-examples", type=int, default=0, help="questions per evaluation set (0: all)")
    args = parser.parse_args()
    combine(args.out, args.readers)
    from training import evaluate

    scores = evaluate.evaluate_folder(args.out, args.qa, args.dev_examples)
    card.record(args.out, scores=scores)
    print(json.dumps(scores, indent=2))


if __name__ == "__main__":
    main()
