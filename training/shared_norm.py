"""Experiment (2026-12-04, reverted): a second stage with shared normalization across a question's passages (Clark & Gardner 2018): each question with its window and the two BM25-nearest paragraphs of its file, the start/end softmax taken over all their tokens relative to each window's [CLS] plus one shared no-answer. python -m training.shared_norm --init DEQUANTIZED --out RUN"""
import argparse, logging, math, random, sys, time, json
from pathlib import Path
import torch
from tqdm import tqdm
from training import data
from training.train_reader import Config, export, base_model

p = argparse.ArgumentParser()
p.add_argument("--init", default="training/runs/dequantized")
p.add_argument("--out", default="training/runs/shared_norm")
p.add_argument("--skip", type=int, default=36000)
p.add_argument("--questions", type=int, default=7000)
p.add_argument("--neighbors", type=int, default=2)
p.add_argument("--groups", type=int, default=11)
p.add_argument("--lr", type=float, default=3e-5)
p.add_argument("--shared", type=float, default=1.0)
args = p.parse_args()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
log = logging.getLogger("s2")
torch.manual_seed(13); rng = random.Random(13)
from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup
import bm25s
tok = AutoTokenizer.from_pretrained(str(base_model()))
cfg = Config(out=args.out)
everything = data.build(data.DEFAULT_QA, 0, 13)
chosen = everything[args.skip: args.skip + args.questions]
log.info("%d questions (%d answerable)", len(chosen), sum(e.answerable for e in chosen))
paragraphs = {}
for name in data.MIX:
    arts = data.read_squad(data.DEFAULT_QA / "train" / name)
    paragraphs[name] = list(dict.fromkeys(p["context"] for ps in arts for p in ps))
near = {}
for name, texts in paragraphs.items():
    asking = [e for e in chosen if e.source == name]
    if not asking: continue
    index = bm25s.BM25(); index.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    found, _ = index.retrieve(bm25s.tokenize([e.question for e in asking], show_progress=False), k=min(len(texts), args.neighbors + 4), show_progress=False)
    for e, row in zip(asking, found):
        near[e.id] = [texts[i] for i in row if texts[i] != e.context and (not e.answerable or e.answer_text.lower() not in texts[i].lower())][: args.neighbors]

def window(question, context, a=-1, b=-1):
    enc = tok(question, context, truncation="only_second", max_length=cfg.max_length, stride=cfg.stride,
              return_overflowing_tokens=True, return_offsets_mapping=True)
    for row in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(row); offs = enc["offset_mapping"][row]
        toks = [t for t, s in enumerate(seq) if s == 1]
        if a < 0:
            return enc["input_ids"][row], enc["token_type_ids"][row], 0, 0
        if offs[toks[0]][0] <= a and offs[toks[-1]][1] >= b:
            st = next(t for t in toks if offs[t][1] > a); en = next(t for t in reversed(toks) if offs[t][0] < b)
            return enc["input_ids"][row], enc["token_type_ids"][row], st, en
    return None

groups = []
for e in tqdm(chosen, desc="windows"):
    own = window(e.question, e.context, e.answer_start, e.answer_start + len(e.answer_text)) if e.answerable else window(e.question, e.context)
    if own is None: continue
    groups.append([own] + [window(e.question, c) for c in near.get(e.id, [])])
rng.shuffle(groups)
log.info("%d groups, %d windows", len(groups), sum(map(len, groups)))
model = AutoModelForQuestionAnswering.from_pretrained(args.init)
decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
rest = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=args.lr)
steps = math.ceil(len(groups) / args.groups)
sched = get_linear_schedule_with_warmup(opt, int(steps * 0.06), steps)
model.train(); ce = torch.nn.functional.cross_entropy
bar = tqdm(total=steps, desc="stage2"); run = None; t0 = time.monotonic()
for s in range(steps):
    batch = groups[s * args.groups:(s + 1) * args.groups]
    wins = [w for g in batch for w in g]
    width = max(len(w[0]) for w in wins)
    ids = torch.zeros((len(wins), width), dtype=torch.long); types = torch.zeros_like(ids); mask = torch.zeros_like(ids)
    ctx = torch.zeros_like(ids, dtype=torch.bool)
    for r, w in enumerate(wins):
        n = len(w[0]); ids[r, :n] = torch.tensor(w[0]); types[r, :n] = torch.tensor(w[1]); mask[r, :n] = 1
        ctx[r, :n] = torch.tensor(w[1]).bool()
        ctx[r, n - 1] = False  # final [SEP]
    out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    S, E = out.start_logits, out.end_logits
    loss_own = 0.0; loss_sh = 0.0; r = 0
    for g in batch:
        k = len(g)
        st, en = g[0][2], g[0][3]
        loss_own = loss_own + (ce(S[r:r+1].masked_fill(mask[r:r+1] == 0, -1e4), torch.tensor([st])) + ce(E[r:r+1].masked_fill(mask[r:r+1] == 0, -1e4), torch.tensor([en]))) / 2
        for L, tgt in ((S, st), (E, en)):
            parts = [torch.zeros(1)]
            target = 0
            for j in range(k):
                rel = (L[r + j] - L[r + j, 0])[ctx[r + j]]
                if j == 0 and tgt > 0:
                    target = 1 + int(ctx[r, :tgt].sum())
                parts.append(rel)
            loss_sh = loss_sh + ce(torch.cat(parts)[None], torch.tensor([target])) / 2
        r += k
    loss = (loss_own + args.shared * loss_sh) / len(batch)
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step(); opt.zero_grad()
    run = loss.item() if run is None else 0.98 * run + 0.02 * loss.item()
    bar.update(1); bar.set_postfix(loss=f"{run:.3f}")
    if (s + 1) % 50 == 0: log.info("step %d/%d loss %.3f %.0fs", s + 1, steps, run, time.monotonic() - t0)
model.eval(); final = Path(args.out) / "final"; model.save_pretrained(final); tok.save_pretrained(final)
export(final, Path(args.out) / "reader", cfg)
log.info("done %.0fs", time.monotonic() - t0)
