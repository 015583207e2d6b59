"""Experiment (2026-12-04, reverted): the evidence reranker's top 5 re-sorted by evidence + LAM x the passage reranker's score, end to end on a set. python -m training.e2e LAM SET OUT.json"""
"""End to end: the evidence reranker's top 5 re-sorted by evidence + LAM x cross-encoder."""
import sys
import numpy as np
from assistant import rerank as RR
from assistant.types import ScoredPassage
from assistant.models.cross_encoder import get_cross_encoder
from assistant.evaluation.runner import run_eval
lam = float(sys.argv[1]); n = 5; out = sys.argv[3]
ce = get_cross_encoder("/tmp/exp/ce")
orig = RR.EvidenceReranker.rerank
def rerank(self, question, vector, passages):
    ranked = orig(self, question, vector, passages)
    if lam == 0 or not ranked: return ranked
    top = ranked[:n]
    s = ce.predict([(question, sp.passage.text) for sp in top])
    scored = [ScoredPassage(sp.passage, sp.score + lam * float(x)) for sp, x in zip(top, s)]
    return sorted(scored, key=lambda sp: -sp.score) + ranked[n:]
RR.EvidenceReranker.rerank = rerank
run = run_eval(sys.argv[2], configs=["default", "default,reader_min_margin=-100"])
import json
for r in run.runs:
    print(lam, getattr(r, "name", ""), {k: r.summary.get(k) for k in ("hit@1", "hit@5", "em", "f1", "answer_contains_gold", "no_ans_accuracy", "latency_p50_ms")})
json.dump([{"q": r["question"], "pred": r.get("prediction"), "cg": r["scores"].get("contains_gold"), "p0": r["passages"][0]["supports"] if r["passages"] else None, "ans": r["answerable"], "margin": r["margin"]} for r in run.runs[1].rows], open(out, "w"))
