"""The wheel users install holds what the package loads at run time: the reader, the sample, prompts, data."""

import sys
import zipfile
from pathlib import Path

NEEDED = [
    "assistant/data/reader/model.onnx",
    "assistant/data/reader/tokenizer.json",
    "assistant/data/reader/reader.json",
    "assistant/data/reader/MODEL_CARD.md",
    "assistant/data/pronouns.json",
    "assistant/prompts/answer_with_citations.txt",
    "assistant/prompts/condense_question.txt",
    "assistant/prompts/read_shortest_answer.txt",
]

[wheel] = Path(sys.argv[1]).glob("assistant-*.whl")
names = set(zipfile.ZipFile(wheel).namelist())
missing = [n for n in NEEDED if n not in names]
if not any(n.startswith("assistant/data/") and n.endswith(".txt") for n in names):
    missing.append("assistant/data/<the bundled sample>.txt")
if missing:
    sys.exit(f"{wheel.name} lacks: {', '.join(missing)}")
print(f"{wheel.name}: {len(names)} files, every run-time file present")
