"""All configuration in one place: defaults, overridden by `ASSISTANT_*` env vars, overridden by CLI flags."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
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
# OpenMP threads that spin while they wait steal the CPU from each other on a small shared machine: embedding one
# question took ~0.5 s instead of ~0.05 s under load. torch reads this once when it loads, so it is set here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
    # Passages are windows of whole sentences of about this many characters.
    passage_chars: int = 600
    passage_overlap_sentences: int = 1
    top_k: int = 5
    # Cosine similarity of the best sentence below which the assistant abstains.
    min_score: float = 0.35
    max_answer_sentences: int = 3
    # Larger files (or .jsonl lines) are refused with a clear error instead of taking hours to embed.
    max_file_mb: float = 20.0
    # Seconds a writer waits for another process's write to the same embedded index.
    lock_timeout: float = 10.0
    # Chat server: `user:password` (several separated by commas), or a file of such lines. Required when
    # the chat binds a non-local host, because the index and uploads are then reachable from the network.
    auth: str = field(default="", repr=False)
    auth_file: str = ""
    # Uploaded files are copied here (empty: `<index_dir>/uploads`) so their sources stay readable.
    upload_dir: str = ""
    # Larger uploads are refused before they are stored: a browser can send anything. Above max_file_mb
    # because a .jsonl upload holds many articles (max_file_mb still applies to each of them).
    max_upload_mb: float = 100.0
    # Chat events served at once; the default of 1 would make every user wait for the previous question.
    ui_concurrency: int = 8
    debug: bool = False
    # `assistant eval` keeps the indexes it builds here, keyed by corpus and indexing settings, so reruns are fast.
    eval_cache_dir: Path = Path("~/.cache/assistant/eval")

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
        if "index_dir" in values:
            values["index_dir"] = Path(values["index_dir"])
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def uploads(self) -> Path:
        """The folder uploaded files are saved in."""
        return Path(self.upload_dir).expanduser() if self.upload_dir else self.index_dir / "uploads"


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
