"""One reader folder from several exported readers, whose start and end logits are averaged when read.

python -m training.ensemble OUT READER_DIR READER_DIR [...]
python -m training.calibrate_reader --reader OUT --write
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def combine(out: Path, members: list[Path]) -> None:
    settings = [json.loads((m / "reader.json").read_text(encoding="utf-8")) for m in members]
    shape = {(s["max_length"], s["stride"]) for s in settings}
    if len(shape) != 1:
        raise SystemExit(f"the readers read different windows (max_length, stride): {sorted(shape)}")
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for i, m in enumerate(members):
        names.append("model.onnx" if i == 0 else f"model-{i + 1}.onnx")
        shutil.copyfile(m / "model.onnx", out / names[-1])
    shutil.copyfile(members[0] / "tokenizer.json", out / "tokenizer.json")
    max_length, stride = shape.pop()
    combined = {
        "max_length": max_length,
        "stride": stride,
        "models": names,
        "members": [s.get("trained", {}) for s in settings],
    }
    (out / "reader.json").write_text(json.dumps(combined, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("readers", type=Path, nargs="+")
    args = parser.parse_args()
    combine(args.out, args.readers)


if __name__ == "__main__":
    main()
