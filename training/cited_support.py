"""Experiment (2026-12-04, reverted): the calibration run with each row's support set to the cited sentence's own evidence support, to sweep it beside the margin. python -m training.cited_support ROWS.json"""
import json, sys
from assistant import answer as A
from assistant.settings import Settings
from training import calibrate_reader as C
from assistant.models.reader import PACKAGED_READER_DIR

orig = A.ExtractiveAnswerer.answer
def patched(self, question, vector, passages):
    qtype = A.question_type(question)
    ranked = self.scorer.score(question, vector, qtype, [s for sp in passages for s in sp.passage.sentences()])
    out = orig(self, question, vector, passages)
    if out.citations:
        c = out.citations[0]
        own = [r for r in ranked if r.sentence.doc_id == c.doc_id and r.sentence.start <= c.start < r.sentence.end]
        out.support = own[0].support if own else None
    return out
A.ExtractiveAnswerer.answer = patched
import assistant.evaluation.runner as R
orig_row = R.__dict__.get("result_row")
rows = C.margin_rows(PACKAGED_READER_DIR, Settings.from_env(), False)
json.dump(rows, open(sys.argv[1], "w"))
print(len(rows))
