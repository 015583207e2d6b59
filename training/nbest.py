"""Experiment (2026-12-04, reverted): within-passage choice: every sentence of the 5 read passages as a candidate (its best span), chosen by
span margin + 20 x retrieval + BETA x evidence score. Dev set only."""
import json, sys
import numpy as np
from assistant import answer as A
from assistant.models import reader as RM
from assistant.evaluation.runner import run_eval
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.runner import _MARKER as R_MARK
records = {}
orig_answer = A.ExtractiveAnswerer.answer
def answer(self, question, vector, passages):
    out = orig_answer(self, question, vector, passages)
    if self.reader is None: return out
    qtype = A.question_type(question)
    ranked = self.scorer.score(question, vector, qtype, [s for sp in passages for s in sp.passage.sentences()])
    ev = {(r.sentence.doc_id, r.sentence.start): r.score for r in ranked}
    read = passages[: self.settings.reader_passages]
    rd = self.reader
    windows = rd.windows(question, [sp.passage.text for sp in read])
    cands = []
    for w in windows:
        ids = np.asarray([w.ids]); mask = np.ones_like(ids); types = np.asarray([w.types])
        s, e = rd._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        s, e = s[0], e[0]; null = float(s[0] + e[0])
        sp = read[w.context]
        for sent in sp.passage.sentences():
            a, b = sent.start - sp.passage.start, sent.end - sp.passage.start
            allowed = np.asarray([w.in_context[t] and w.offsets[t][0] >= a and w.offsets[t][1] <= b for t in range(len(w.ids))])
            found = RM.best_span(s, e, allowed, 30)
            if found is None: continue
            i, j, score = found
            cands.append({"m": score - null, "r": sp.score, "ev": ev.get((sent.doc_id, sent.start), 0.0), "text": sent.text,
                          "span": sp.passage.text[w.offsets[i][0]:w.offsets[j][1]]})
    records[question] = (cands, qtype.kind is A.Kind.EXPLANATION)
    return out
A.ExtractiveAnswerer.answer = answer
run = run_eval("eval/tydiqa_open_dev.json", configs=["default,reader_min_margin=-100"])
rows = [r for r in run.runs[0].rows if r["answerable"]]
data = []
for r in rows:
    c, expl = records.get(r["question"], ([], False))
    if not c or expl: continue
    gold = [a for a in r["answers"]]
    data.append({"c": [[x["m"], x["r"], x["ev"], contains_answer(R_MARK.sub("", x["text"]), gold)] for x in c], "cg": r["scores"]["contains_gold"]})
json.dump(data, open("/tmp/exp/nbest.json", "w"))
print("rows", len(rows), "with candidates", len(data), "baseline contains_gold", np.mean([d["cg"] for d in data]))
for beta in [0, 1, 2, 5, 10, 20, 40]:
    hit = np.mean([max(d["c"], key=lambda x: x[0] + 20 * x[1] + beta * x[2])[3] for d in data])
    print(beta, round(float(hit), 3))
print("oracle", np.mean([any(x[3] for x in d["c"]) for d in data]))
