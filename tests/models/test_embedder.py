"""Embedding backends: the ONNX ones give the packaged model's vectors, and the choice is checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.models.embedder import get_embedder, onnx_file, resolve_backend
from assistant.settings import PACKAGED_MODEL

TEXTS = [
    "Tokayev invited the Russian-led CSTO to help control protestors.",
    "The ferry to Bergen was cancelled on Monday because of a storm.",
    "Denver beat Carolina 24 to 10 in Super Bowl 50.",
    "",
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return get_embedder(PACKAGED_MODEL, "torch").encode(TEXTS)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_backends_match_torch_vectors(backend: str, torch_vectors: np.ndarray, tmp_path: Path) -> None:
    embedder = get_embedder(PACKAGED_MODEL, backend, 1, tmp_path)
    vectors = embedder.encode(TEXTS, batch_size=2)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosines = np.sum(vectors * torch_vectors, axis=1)
    assert cosines.min() > (0.99 if backend == "onnx" else 0.97)
    alone = embedder.encode(TEXTS[1:2])
    if backend == "onnx":
        # Batching and length sorting do not change a text's vector...
        assert np.allclose(alone, vectors[1:2], atol=1e-5)
    else:
        # ...but int8 activations share one scale per batch, so a vector moves a little with its batch.
        assert float(alone[0] @ vectors[1]) > 0.97
    assert embedder.encode([]).shape == (0, 384)


def test_the_int8_graph_is_made_once_into_the_cache_folder(tmp_path: Path) -> None:
    made = onnx_file("onnx-int8", tmp_path)
    assert made.parent == tmp_path and made.stat().st_size > 1_000_000
    stamp = made.stat().st_mtime_ns
    assert onnx_file("onnx-int8", tmp_path) == made and made.stat().st_mtime_ns == stamp
    assert not [p for p in tmp_path.iterdir() if p != made]


def test_backend_choice(tmp_path: Path) -> None:
    assert resolve_backend(PACKAGED_MODEL, "auto") == "onnx-int8"
    assert resolve_backend(str(tmp_path), "auto") == "torch"
    with pytest.raises(ValueError, match="only"):
        resolve_backend(str(tmp_path), "onnx")
    with pytest.raises(ValueError, match="choose one of"):
        resolve_backend(PACKAGED_MODEL, "tensorrt")
