"""Experiment (2026-12-04, reverted): a passage reranker (cross-encoder) from the reader's encoder, trained listwise over each question's gold window and its three BM25-nearest paragraphs. python -m training.passage_reranker --init DEQUANTIZED --out DIR"""
import argparse, logging, math, random, sys, time
from pathlib import Path
import torch
from tqdm import tqdm
from training import data
from training.train_reader import base_model
p = argparse.ArgumentParser()
p.add_argument("--init", default="training/runs/dequantized")
p.add_argument("--out", default="training/runs/passage_reranker")
p.add_argument("--questions", type=int, default=5000)
p.add_argument("--negatives", type=int, default=3)
p.add_argument("--groups", type=int, default=8)
p.add_argument("--lr", type=float, default=5e-5)
p.add_argument("--max-length", type=int, default=192)
args = p.parse_args()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s"); log = logging.getLogger("ce")
torch.manual_seed(13); rng = random.Random(13)
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup
import bm25s
tok = AutoTokenizer.from_pretrained(str(base_model()))
everything = data.build(data.DEFAULT_QA, 0, 13)
chosen = [e for e in everything[:36000] if e.answerable and e.source != "qamr.json"][: args.questions]
paragraphs = {}
for name in data.MIX:
    arts = data.read_squad(data.DEFAULT_QA / "train" / name)
    paragraphs[name] = list(dict.fromkeys(p["context"] for ps in arts for p in ps))
near = {}
for name, texts in paragraphs.items():
    asking = [e for e in chosen if e.source == name]
    if not asking: continue
    index = bm25s.BM25(); index.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    found, _ = index.retrieve(bm25s.tokenize([e.question for e in asking], show_progress=False), k=min(len(texts), args.negatives + 5), show_progress=False)
    for e, row in zip(asking, found):
        near[e.id] = [texts[i] for i in row if texts[i] != e.context and e.answer_text.lower() not in texts[i].lower()][: args.negatives]
def window(q, c, a=-1, b=-1):
    enc = tok(q, c, truncation="only_second", max_length=args.max_length, stride=64, return_overflowing_tokens=True, return_offsets_mapping=True)
    for row in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(row); offs = enc["offset_mapping"][row]; toks = [t for t, s in enumerate(seq) if s == 1]
        if a < 0 or (offs[toks[0]][0] <= a and offs[toks[-1]][1] >= b):
            return enc["input_ids"][row], enc["token_type_ids"][row]
    return None
groups = []
for e in tqdm(chosen, desc="windows"):
    pos = window(e.question, e.context, e.answer_start, e.answer_start + len(e.answer_text))
    negs = [window(e.question, c) for c in near.get(e.id, [])]
    if pos is None or not negs: continue
    groups.append([pos] + negs)
rng.shuffle(groups)
log.info("%d groups, %d windows", len(groups), sum(map(len, groups)))
model = AutoModelForSequenceClassification.from_pretrained(str(base_model()), num_labels=1)
from transformers import AutoModelForQuestionAnswering
qa = AutoModelForQuestionAnswering.from_pretrained(args.init).state_dict()
missing = model.load_state_dict({k: v for k, v in qa.items() if k.startswith("bert.")}, strict=False)
log.info("not from the reader: %s", missing.missing_keys)
decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
rest = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=args.lr)
steps = math.ceil(len(groups) / args.groups)
sched = get_linear_schedule_with_warmup(opt, int(steps * 0.06), steps)
model.train(); ce = torch.nn.functional.cross_entropy; run = None; t0 = time.monotonic()
bar = tqdm(total=steps, desc="ce", mininterval=30)
for s in range(steps):
    batch = groups[s * args.groups:(s + 1) * args.groups]
    wins = [w for g in batch for w in g]
    width = max(len(w[0]) for w in wins)
    ids = torch.zeros((len(wins), width), dtype=torch.long); types = torch.zeros_like(ids); mask = torch.zeros_like(ids)
    for r, w in enumerate(wins):
        n = len(w[0]); ids[r, :n] = torch.tensor(w[0]); types[r, :n] = torch.tensor(w[1]); mask[r, :n] = 1
    logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits[:, 0]
    loss = 0.0; r = 0
    for g in batch:
        loss = loss + ce(logits[r:r + len(g)][None], torch.tensor([0])); r += len(g)
    loss = loss / len(batch)
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step(); opt.zero_grad()
    run = loss.item() if run is None else 0.98 * run + 0.02 * loss.item()
    bar.update(1)
    if (s + 1) % 50 == 0: log.info("step %d/%d loss %.3f %.0fs", s + 1, steps, run, time.monotonic() - t0)
model.eval(); model.save_pretrained(args.out); tok.save_pretrained(args.out)
log.info("done %.0fs", time.monotonic() - t0)
