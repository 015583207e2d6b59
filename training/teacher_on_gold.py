"""Experiment (2026-12-04, reverted): the packaged Qwen2.5-Coder-1.5B as an extractive reader on TyDi GoldP dev gold paragraphs, beside our reader."""
import sys, dataclasses
from pathlib import Path
from training import evaluate, data
from assistant.llm import chat_model, complete
from assistant.settings import Settings
from assistant.models.reader import OnnxReader, PACKAGED_READER_DIR
n = int(sys.argv[1])  # python -m training.teacher_on_gold N (needs the [llm] extra)
rows = evaluate.gold_sets(data.DEFAULT_QA / "dev" / "tydiqa_goldp_en_dev.json", n)
s = dataclasses.replace(Settings.from_env(), backend="llamacpp", llm_max_tokens=40, llm_temperature=0.0)
model = chat_model(s)
SYSTEM = ("You answer questions about a passage. Reply with only the shortest phrase copied exactly from the passage "
          "that answers the question: no sentence, no explanation.")
def predict(q, c):
    return complete(model, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Passage: {c}\n\nQuestion: {q}"}]).strip().strip(".")
print("teacher", evaluate.gold_scores(rows, predict, "teacher"))
print("reader", evaluate.reader_scores(OnnxReader(PACKAGED_READER_DIR), rows, "reader"))
