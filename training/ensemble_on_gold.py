"""Experiment (2026-12-04, reverted next; python -m training.ensemble_on_gold shipped,DIR[,DIR]): Logit-averaging ensemble of exported readers, on gold paragraphs."""
import sys, json
from pathlib import Path
import numpy as np
from assistant.models.reader import OnnxReader, BATCH_WINDOWS, decode, PACKAGED_READER_DIR
from assistant.models.onnx import session
from training import evaluate
from training.evaluate import gold_sets, reader_scores, SUPER_BOWL

class Ens(OnnxReader):
    def __init__(self, folders, weights):
        super().__init__(folders[0])
        self._sessions = [session(f / "model.onnx", 0) for f in folders]
        self._w = weights
    def read(self, question, contexts):
        windows = self.windows(question, contexts)
        starts, ends = [], []
        for i in range(0, len(windows), BATCH_WINDOWS):
            chunk = windows[i:i+BATCH_WINDOWS]
            width = max(len(w.ids) for w in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64); types = np.zeros_like(ids); mask = np.zeros_like(ids)
            for r, w in enumerate(chunk):
                ids[r,:len(w.ids)] = w.ids; types[r,:len(w.ids)] = w.types; mask[r,:len(w.ids)] = 1
            S = E = 0
            for sess, wt in zip(self._sessions, self._w):
                s, e = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
                S = S + wt*s; E = E + wt*e
            for r, w in enumerate(chunk):
                starts.append(S[r,:len(w.ids)]); ends.append(E[r,:len(w.ids)])
        return decode(windows, starts, ends, self._max_answer_tokens)

names = sys.argv[1].split(",")
folders = [PACKAGED_READER_DIR if n == "shipped" else Path(n) for n in names]
w = [1/len(folders)]*len(folders)
r = Ens(folders, w)
qa = Path("/work/shared/qa")
dev = gold_sets(qa / "dev" / "tydiqa_goldp_en_dev.json", 0)
test = gold_sets(SUPER_BOWL, 0)
print(names, json.dumps({"tydi": reader_scores(r, dev, "d"), "sb50": reader_scores(r, test, "t")}), flush=True)
