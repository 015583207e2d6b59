"""Experiment (2026-12-04, reverted): hit@1 of the evidence top 5 re-sorted by evidence + LAM x the passage reranker, offline on the dev set."""
import json, sys
import numpy as np
from assistant.evaluation import runner as R
from assistant.evaluation.runner import run_eval
texts = {}
orig = R._passage_ref
def ref(sp, supports):
    out = orig(sp, supports); out["text"] = sp.passage.text; return out
R._passage_ref = ref
run = run_eval("eval/tydiqa_open_dev.json", configs=["default,reader_min_margin=-100"])
rows = run.runs[0].rows
from assistant.models.cross_encoder import get_cross_encoder
ce = get_cross_encoder("/tmp/exp/ce")
out = []
for r in rows:
    if not r["answerable"]: continue
    ps = r["passages"][:5]
    if not ps: continue
    s = ce.predict([(r["question"], p["text"]) for p in ps])
    out.append({"ev": [p["score"] for p in ps], "ce": [float(x) for x in s], "sup": [p["supports"] for p in ps]})
json.dump(out, open("/tmp/exp/combo.json", "w"))
for lam in [0, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 100]:
    hit = np.mean([o["sup"][int(np.argmax(np.array(o["ev"]) + lam * np.array(o["ce"])))] for o in out])
    print(lam, round(hit, 3), len(out))
