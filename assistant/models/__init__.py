"""Model loading: one module per kind of model, the only places that load weights (never downloaded)."""

from __future__ import annotations

import os

# Offline and quiet by default. huggingface_hub reads its switch once, when it is first imported (by
# sentence-transformers, transformers or gradio), so each loader calls `offline_env` before importing them; a value
# the user set is kept. Importing the package changes nothing.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    # OpenMP threads that spin while they wait steal the CPU from each other on a small shared machine: embedding
    # one question took ~0.5 s instead of ~0.05 s under load. torch reads this once, when it loads.
    "OMP_WAIT_POLICY": "PASSIVE",
}


def offline_env() -> None:
    """Switch the model libraries offline before one of them is imported."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
