"""A sentence-transformers CrossEncoder reranker from a local folder, never downloaded."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.models import offline_env


class CrossEncoderModel(Protocol):
    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray: ...


class _LockedCrossEncoder:
    """A sentence-transformers CrossEncoder from a local folder, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        offline_env()
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
