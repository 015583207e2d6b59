"""All configuration in one place: defaults, overridden by `ASSISTANT_*` env vars, overridden by CLI flags."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

# Offline by default: set before chromadb, huggingface or gradio are imported anywhere.
_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}
for _key, _value in _OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)

PACKAGED_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """Every tunable of the assistant; each field `x` reads env var `ASSISTANT_X`."""

    index_dir: Path = Path("index")
    # A Chroma server (`http://host:port`); empty means the embedded store in `index_dir`.
    chroma_url: str = ""
    collection: str = "assistant"
    # `all-MiniLM-L6-v2` is the model packaged on PyPI; any sentence-transformers folder works too.
    model: str = PACKAGED_MODEL
    embed_batch_size: int = 64
    # How the model runs: `auto` (int8 ONNX for the packaged model, torch for a model folder), `onnx-int8`
    # (int8 matrix products, ~2x torch's speed on 2 cores), `onnx` (the same ONNX file in fp32 arithmetic) or
    # `torch`. All give vectors of the same model (cosine >= 0.99 to torch's), so an index is shared by all;
    # docs/benchmarks.md has the speed and retrieval quality of each.
    embed_backend: str = "auto"
    # Threads for one encode call (0: all cores). One measured fastest on 2 busy cores for every backend
    # (int8: 233 vs 189 sentences/s, docs/benchmarks.md); raise it on a machine with idle cores.
    embed_threads: int = 1
    # Files derived once from the packaged models (the int8 ONNX graph); nothing here is downloaded.
    cache_dir: Path = Path("~/.cache/assistant")
    # Passages are windows of whole sentences of about this many characters.
    passage_chars: int = 600
    passage_overlap_sentences: int = 1
    top_k: int = 5
    # Filtered search (Chroma's own `where` search is 30-50x slower than an unfiltered one): a filter whose
    # documents hold at most this many passages is scored exactly in numpy...
    filter_exact_passages: int = 300
    # ...a broader one by an unfiltered search of up to this many neighbours, filtered afterwards.
    filter_overfetch_limit: int = 3000
    # Cosine similarity of the best sentence below which the assistant abstains.
    min_score: float = 0.35
    max_answer_sentences: int = 3
    # Seconds a writer waits for another process's write to the same embedded index.
    lock_timeout: float = 10.0
    # With a Chroma server, the write lock is a record there that its holder renews: seconds after which a
    # holder that stopped renewing (it crashed) is presumed dead and its lock may be taken.
    lock_lease: float = 30.0
    debug: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from `env` (default: `os.environ`), then `overrides` (None values are ignored)."""
        env = os.environ if env is None else env
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"ASSISTANT_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(hints[f.name], raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("index_dir", "cache_dir"):
            if name in values:
                values[name] = Path(values[name]).expanduser()
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _parse(kind: Any, raw: str, name: str) -> Any:
    try:
        if kind is bool:
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind is Path:
            return Path(raw).expanduser()
        return kind(raw)
    except ValueError:
        raise ValueError(f"ASSISTANT_{name.upper()}={raw!r} is not a valid {getattr(kind, '__name__', kind)}") from None
