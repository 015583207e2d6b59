"""The index an evaluation runs on: the set's documents ingested once, cached by what determines the index.

Without `--index`, indexes live in `Settings.eval_cache_dir/<key>/`, where the key hashes the corpus (file paths
and bytes; for SQuAD the paragraphs), the settings in `INDEX_SETTINGS` and the source of the modules that write the
index. A cache entry counts only once its `meta.json` is written, so an interrupted build is redone, never reused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

import assistant
from assistant.app import Assistant, sample_path
from assistant.evaluation.sets import EvalSet
from assistant.ingest.loaders import LoadFailure, expand
from assistant.settings import Settings

# Settings that change what ingest writes; configs differing only in other settings share one index.
INDEX_SETTINGS = ("model", "passage_chars", "passage_overlap_sentences", "collection")
CACHE_FORMAT = 1


class CorpusError(ValueError):
    """The documents a set needs are missing, unreadable, or do not match its gold evidence."""


@dataclass(frozen=True)
class PreparedIndex:
    index_dir: Path
    # Seconds to ingest the corpus: measured now, or recorded when the cached index was built.
    index_seconds: float
    cached: bool
    key: str | None
    files: tuple[Path, ...]


def bundled_dir() -> Path:
    return sample_path().parent


def corpus_files(eval_set: EvalSet, corpus: Sequence[Path], cache_root: Path, index_given: bool) -> list[Path]:
    """The files to ingest: the set's own documents, `--corpus`, or else the bundled articles the set names."""
    files = [Path(p) for p in corpus]
    if eval_set.documents:
        files.insert(0, write_contexts(eval_set, cache_root))
    elif not files:
        names = eval_set.referenced_docs()
        bundled = [bundled_dir() / n for n in names]
        if names and all(p.is_file() for p in bundled):
            files = bundled
        elif not index_given:
            missing = ", ".join(n for n, p in zip(names, bundled, strict=True) if not p.is_file()) or "(none named)"
            raise CorpusError(
                f"the set's documents are not bundled ({missing}): pass --corpus PATH with them, or --index DIR"
            )
    expanded: list[Path] = []
    for item in expand(files):
        if isinstance(item, LoadFailure):
            raise CorpusError(f"corpus {item.source}: {item.reason}")
        expanded.append(item)
    return expanded


def write_contexts(eval_set: EvalSet, cache_root: Path) -> Path:
    """The set's paragraphs as a jsonl corpus, one document per line (its evidence names them `file#line`)."""
    folder = cache_root / "corpus" / eval_set.content_hash[:16]
    path = folder / eval_set.contexts_file
    lines = [json.dumps({"text": d.text, "title": d.title}, ensure_ascii=True) for d in eval_set.documents]
    content = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != content:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)
    return path


def index_key(files: Sequence[Path], settings: Settings) -> str:
    digest = hashlib.sha256()
    payload = {
        "format": CACHE_FORMAT,
        "version": assistant.__version__,
        "settings": {name: str(getattr(settings, name)) for name in INDEX_SETTINGS},
        "corpus": [[str(f), hashlib.sha256(f.read_bytes()).hexdigest()] for f in sorted(files)],
    }
    digest.update(json.dumps(payload, sort_keys=True).encode())
    package = Path(assistant.__file__).parent
    # The index's BM25 terms come from text.py's words.
    for source in sorted([*(package / "store").glob("*.py"), *(package / "ingest").glob("*.py"), package / "text.py"]):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:24]


def ingest(settings: Settings, files: Sequence[Path], progress: bool) -> float:
    """Ingest `files` into `settings.index_dir`; returns the seconds it took. Any failed file is an error."""
    started = time.perf_counter()
    report = Assistant(settings=settings).ingest(files, progress=progress)
    seconds = time.perf_counter() - started
    if report.failed:
        source, reason = report.failed[0]
        raise CorpusError(f"could not ingest {source}: {reason} ({len(report.failed)} failed)")
    return seconds


def prepare_index(
    settings: Settings, files: Sequence[Path], index_dir: Path | None, progress: bool = False
) -> PreparedIndex:
    """An index holding `files`: `index_dir` (ingested into now), or the cached one for these files and settings."""
    if index_dir is not None:
        seconds = ingest(settings.replace(index_dir=index_dir), files, progress) if files else 0.0
        return PreparedIndex(index_dir, seconds, False, None, tuple(files))
    root = settings.eval_cache_dir.expanduser()
    key = index_key(files, settings)
    folder = root / key
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{key}.lock")):
        meta = read_meta(folder)
        if meta is None:
            shutil.rmtree(folder, ignore_errors=True)
            seconds = ingest(settings.replace(index_dir=folder / "index"), files, progress)
            meta = {"key": key, "index_seconds": seconds, "files": [str(f) for f in files]}
            write_meta(folder, meta)
            return PreparedIndex(folder / "index", seconds, False, key, tuple(files))
    return PreparedIndex(folder / "index", float(meta["index_seconds"]), True, key, tuple(files))


def read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tmp.replace(folder / "meta.json")


def cached_step(prepared: PreparedIndex, step: str, build: Any) -> float:
    """Run `build()` (which returns its seconds) once per cached index, recording its time; always with `--index`."""
    if prepared.key is None:
        return float(build())
    folder = prepared.index_dir.parent
    with FileLock(str(folder.parent / f"{prepared.key}.lock")):
        meta = read_meta(folder) or {}
        if step not in meta:
            meta[step] = float(build())
            write_meta(folder, meta)
        return float(meta[step])
