"""Experiment (2026-12-04, reverted next; python -m training.length_prior 0.1,0.2 [sb50]): Length prior in span decoding: score = start + end - lam * (tokens - 1), on gold paragraphs."""
import sys, json
from pathlib import Path
import numpy as np
import assistant.models.reader as R
from training.evaluate import gold_sets, reader_scores, SUPER_BOWL
LAM = [0.0]
def best_span(s, e, allowed, max_tokens):
    idx = np.flatnonzero(allowed)
    if not len(idx): return None
    sc = s[idx][:, None] + e[idx][None, :]
    gap = idx[None, :] - idx[:, None]
    sc = np.where((gap >= 0) & (gap < max_tokens), sc - LAM[0] * gap, -np.inf)
    a, b = np.unravel_index(int(np.argmax(sc)), sc.shape)
    return int(idx[a]), int(idx[b]), float(sc[a, b] + LAM[0] * gap[a, b])
R.best_span = best_span
r = R.OnnxReader(R.PACKAGED_READER_DIR)
qa = Path("/work/shared/qa")
dev = gold_sets(qa / "dev" / "tydiqa_goldp_en_dev.json", 0)
test = gold_sets(SUPER_BOWL, 0)
for lam in [float(x) for x in sys.argv[1].split(",")]:
    LAM[0] = lam
    print(lam, json.dumps({"tydi": reader_scores(r, dev, "d"), "sb50": reader_scores(r, test, "t") if len(sys.argv) > 2 else None}), flush=True)
