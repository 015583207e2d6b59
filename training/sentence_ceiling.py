"""Experiment (2026-12-04, reverted next; python -m training.sentence_ceiling [READER_DIR]): Given the gold paragraph, how often the sentence holding the reader's span holds a gold answer."""
import sys
from pathlib import Path
from blingfire import text_to_sentences_and_offsets
from assistant.evaluation.metrics import contains_answer
from assistant.models.reader import OnnxReader, PACKAGED_READER_DIR
from training.evaluate import gold_sets, SUPER_BOWL
r = OnnxReader(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGED_READER_DIR)
for name, path in [("tydi", Path("/work/shared/qa/dev/tydiqa_goldp_en_dev.json")), ("sb50", SUPER_BOWL)]:
    rows = gold_sets(path, 0)
    held = 0
    for q, c, golds in rows:
        span = r.read(q, [c])[0]
        _, offs = text_to_sentences_and_offsets(c)
        sent = next((c[a:b] for a, b in offs if a <= span.start < b), c[span.start:span.end])
        held += contains_answer(sent, golds)
    print(name, len(rows), round(100 * held / len(rows), 1))
