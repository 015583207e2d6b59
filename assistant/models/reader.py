"""Extractive readers: the shipped int8 ONNX reader (assistant/data/reader, trained by training/), or any local
transformers question-answering folder. A reader gives, for each context, its best span and a no-answer score."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from assistant.models import offline_env

if TYPE_CHECKING:
    from assistant.settings import Settings

PACKAGED_READER = "packaged"
NO_READER = "none"
PACKAGED_READER_DIR = Path(__file__).resolve().parent.parent / "data" / "reader"
# Windows are read this many at a time: one ONNX Runtime call, padded to the longest.
BATCH_WINDOWS = 16
# A question is read up to this many tokens, so a window always has room for its context.
MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class ReadSpan:
    """The best answer in context number `context`: characters [start, end), its score (start + end logit),
    and the context's no-answer score (the [CLS] logits); `margin` > 0 means the reader prefers the span."""

    context: int
    start: int
    end: int
    score: float
    null: float

    @property
    def margin(self) -> float:
        return self.score - self.null


def uses_reader(settings: Settings) -> bool:
    """Whether these `Settings` answer with a reader (not the hand-written rules)."""
    return settings.reader not in ("", NO_READER)


class ReaderModel(Protocol):
    def read(self, question: str, contexts: list[str]) -> list[ReadSpan]: ...


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, allowed: np.ndarray, max_tokens: int
) -> tuple[int, int, float] | None:
    """The token span (i, j), i <= j < i + max_tokens, both allowed, with the highest start + end logit."""
    idx = np.flatnonzero(allowed)
    if not len(idx):
        return None
    s, e = start_logits[idx], end_logits[idx]
    scores = s[:, None] + e[None, :]
    gap = idx[None, :] - idx[:, None]
    scores = np.where((gap >= 0) & (gap < max_tokens), scores, -np.inf)
    a, b = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(idx[a]), int(idx[b]), float(scores[a, b])


@dataclass(frozen=True)
class Window:
    """One tokenized window: which context it is from, its token ids and types, and each token's characters."""

    context: int
    ids: list[int]
    types: list[int]
    in_context: np.ndarray  # True where the token is of the context (not the question or a special token)
    offsets: list[tuple[int, int]]


def decode(windows: list[Window], starts: list[np.ndarray], ends: list[np.ndarray], max_tokens: int) -> list[ReadSpan]:
    """Each context's best span over its windows, best first; its no-answer score is its windows' lowest."""
    best: dict[int, ReadSpan] = {}
    nulls: dict[int, float] = {}
    for w, s, e in zip(windows, starts, ends, strict=True):
        null = float(s[0] + e[0])
        nulls[w.context] = min(null, nulls.get(w.context, null))
        found = best_span(s, e, w.in_context, max_tokens)
        if found is None:
            continue
        i, j, score = found
        if w.context not in best or score > best[w.context].score:
            best[w.context] = ReadSpan(w.context, w.offsets[i][0], w.offsets[j][1], score, 0.0)
    spans = [ReadSpan(c, s.start, s.end, s.score, nulls[c]) for c, s in best.items()]
    return sorted(spans, key=lambda s: -s.margin)


def graph_names(settings: dict[str, Any]) -> list[str]:
    """The ONNX graphs of an exported reader folder, from its reader.json: one, or several for an ensemble
    (`models`, made by training/ensemble.py)."""
    return list(settings.get("models", ["model.onnx"]))


def averaged_logits(sessions: list[Any], feed: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The start and end logits of every graph on `feed`, averaged: an ensemble reads each window with each."""
    outs = [sess.run(None, feed) for sess in sessions]
    return sum(o[0] for o in outs) / len(outs), sum(o[1] for o in outs) / len(outs)


class OnnxReader:
    """The reader as an ONNX graph with a `tokenizers` tokenizer: no torch or transformers at run time."""

    def __init__(self, folder: Path, max_answer_tokens: int = 30, threads: int = 0) -> None:
        offline_env()
        from tokenizers import Tokenizer

        from assistant.models.onnx import session

        settings = reader_settings(str(folder))
        self.settings = settings
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._question_tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._question_tokenizer.no_truncation()
        self._tokenizer.enable_truncation(
            max_length=int(settings["max_length"]), stride=int(settings["stride"]), strategy="only_second"
        )
        self._sessions = [session(folder / name, threads) for name in graph_names(settings)]
        self._max_answer_tokens = max_answer_tokens

    def windows(self, question: str, contexts: list[str]) -> list[Window]:
        tokens = self._question_tokenizer.encode(question, add_special_tokens=False)
        if len(tokens.ids) > MAX_QUESTION_TOKENS:
            question = question[: tokens.offsets[MAX_QUESTION_TOKENS - 1][1]]
        out = []
        for c, enc in enumerate(self._tokenizer.encode_batch([(question, text) for text in contexts])):
            for part in [enc, *enc.overflowing]:
                in_context = np.asarray([s == 1 for s in part.sequence_ids])
                out.append(Window(c, part.ids, part.type_ids, in_context, part.offsets))
        return out

    def read(self, question: str, contexts: list[str]) -> list[ReadSpan]:
        """The best span of each context, the likeliest answer first."""
        windows = self.windows(question, contexts)
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        for i in range(0, len(windows), BATCH_WINDOWS):
            chunk = windows[i : i + BATCH_WINDOWS]
            width = max(len(w.ids) for w in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for r, w in enumerate(chunk):
                ids[r, : len(w.ids)] = w.ids
                types[r, : len(w.ids)] = w.types
                mask[r, : len(w.ids)] = 1
            s, e = averaged_logits(self._sessions, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            for r, w in enumerate(chunk):
                starts.append(s[r, : len(w.ids)])
                ends.append(e[r, : len(w.ids)])
        return decode(windows, starts, ends, self._max_answer_tokens)


class TransformersReader:
    """A transformers extractive question-answering model (SQuAD-style) from a local folder, on torch."""

    WINDOW, STRIDE = 384, 96

    def __init__(self, path: Path, max_answer_tokens: int = 30) -> None:
        offline_env()
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        if not self._tokenizer.is_fast:
            raise ValueError(f"reader {str(path)!r} needs a fast tokenizer (tokenizer.json) to map answers to text")
        self._model = AutoModelForQuestionAnswering.from_pretrained(str(path), local_files_only=True).eval()
        self._max_answer_tokens = max_answer_tokens
        # torch modules are not safe to call from several threads at once.
        self._lock = threading.Lock()

    def read(self, question: str, contexts: list[str]) -> list[ReadSpan]:
        import torch

        if not contexts:
            return []
        enc = self._tokenizer(
            [question] * len(contexts),
            contexts,
            truncation="only_second",
            max_length=self.WINDOW,
            stride=self.STRIDE,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        samples = enc.pop("overflow_to_sample_mapping").tolist()
        offsets = enc.pop("offset_mapping").tolist()
        with self._lock, torch.inference_mode():
            out = self._model(**enc)
        starts, ends = out.start_logits.float().numpy(), out.end_logits.float().numpy()
        windows = [
            Window(c, [], [], np.asarray([s == 1 for s in enc.sequence_ids(row)]), [tuple(o) for o in offsets[row]])
            for row, c in enumerate(samples)
        ]
        return decode(windows, list(starts), list(ends), self._max_answer_tokens)


def reader_folder(path: str) -> Path:
    return PACKAGED_READER_DIR if path == PACKAGED_READER else Path(path).expanduser()


def reader_settings(path: str) -> dict[str, Any]:
    """What an exported reader's reader.json says (window, stride, calibrated min_margin); {} for other folders."""
    file = reader_folder(path) / "reader.json"
    return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}


@lru_cache(maxsize=2)
def get_reader(path: str = PACKAGED_READER, max_answer_tokens: int = 30, threads: int = 0) -> ReaderModel:
    """The shipped reader (`packaged`), an exported ONNX reader folder, or a local transformers QA folder;
    loaded once per process, never downloaded."""
    folder = reader_folder(path)
    if (folder / "model.onnx").exists() and (folder / "reader.json").exists():
        return OnnxReader(folder, max_answer_tokens, threads)
    if (folder / "config.json").exists():
        return TransformersReader(folder, max_answer_tokens)
    raise FileNotFoundError(
        f"reader {path!r} is not a local question-answering model folder (no model.onnx with reader.json, "
        "nor config.json)"
    )
