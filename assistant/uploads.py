"""Uploaded files into the managed upload folder: safe names, a size limit, supported types only."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.ingest.loaders import SUPPORTED

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ]+")


class UploadError(ValueError):
    """An upload that is refused before it is read (too large, unsupported type)."""


@dataclass(frozen=True)
class SavedUpload:
    name: str  # the name the user gave the file
    path: Path  # where it now lives, inside the upload folder


def safe_filename(name: str) -> str:
    """A plain file name from whatever a client sent: no folders, no `..`, no control or odd characters."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name))[-1]
    base = _UNSAFE.sub("_", "".join(c for c in base if c.isprintable())).strip(" .")
    stem, ext = os.path.splitext(base)
    stem = stem[: MAX_NAME_CHARS - len(ext)] or "upload"
    return stem + ext.lower()


def save_upload(source: str | os.PathLike[str], name: str, folder: Path, max_bytes: int) -> SavedUpload:
    """Copy an uploaded file into `folder` under a safe version of `name`; a same-named upload is replaced."""
    filename = safe_filename(name)
    suffix = Path(filename).suffix
    if suffix not in SUPPORTED:
        raise UploadError(f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED)}")
    size = os.path.getsize(source)
    if size > max_bytes:
        raise UploadError(
            f"too large ({file_size(size)}); the limit is {file_size(max_bytes)}, set by ASSISTANT_MAX_UPLOAD_MB"
        )
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    target = (root / filename).resolve()
    if target.parent != root:  # safe_filename makes this impossible; a symlink planted in the folder does not
        raise UploadError(f"refusing to write {name!r} outside the upload folder")
    shutil.copyfile(source, target)
    return SavedUpload(name, target)


def file_size(n: int) -> str:
    """`n` bytes for people: 12 bytes, 3.4 KB, 56.7 MB."""
    if n < 1000:
        return f"{n} bytes"
    return f"{n / 1000:.1f} KB" if n < 1_000_000 else f"{n / 1_000_000:.1f} MB"
