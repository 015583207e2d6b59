"""One loader per format; each turns a file into `Document`s whose text is what offsets index."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from assistant.types import Document, stable_id


class LoadError(Exception):
    """A file (or record) that cannot be read; the message says why, in one line."""


@dataclass(frozen=True)
class LoadFailure:
    source: str
    reason: str


_WESTERN = {"cp1252", "latin_1", "iso8859_15"}
_DATE_HEADER = re.compile(r"\A\s*date[:\s]\s*(\d{4}-\d{2}-\d{2})\b", re.IGNORECASE)
_MD_TITLE = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) when valid, else the detected encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:8192]:
        raise LoadError("binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise LoadError("binary content or unknown text encoding")
    # Short texts fit several single-byte code pages equally well; among equals, prefer the
    # Western one, by far the most common legacy encoding of English-language news.
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    equals = [m for m in matches if m.chaos <= best.chaos]
    if western is not None and any(m.encoding in _WESTERN or str(m) == western for m in equals):
        return western
    return str(best)


def header_metadata(text: str) -> dict[str, str]:
    """Metadata from a leading `date YYYY-MM-DD` header (the text itself is left as it is)."""
    m = _DATE_HEADER.match(text)
    return {"date": m.group(1)} if m else {}


def header_end(text: str) -> int:
    """Where the article's own words start: after a leading `date YYYY-MM-DD` header, else 0."""
    m = _DATE_HEADER.match(text)
    return m.end() if m else 0


def _document(source: str, text: str, **metadata: str) -> Document:
    if not text[header_end(text) :].strip():
        raise LoadError("no text in it")
    meta = {**header_metadata(text), **{k: v for k, v in metadata.items() if v}}
    return Document(doc_id=stable_id(source), source=source, text=text, metadata=meta)


def load_text(path: Path) -> Iterator[Document]:
    text = decode(path.read_bytes())
    title = ""
    if path.suffix.lower() in {".md", ".markdown"}:
        m = _MD_TITLE.search(text)
        title = m.group(1) if m else ""
    yield _document(str(path), text, title=title or path.stem)


def load_html(path: Path) -> Iterator[Document]:
    from assistant.ingest.html import html_to_text

    title, text = html_to_text(decode(path.read_bytes()))
    yield _document(str(path), text, title=title or path.stem)


def load_pdf(path: Path) -> Iterator[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or path.stem
    except LoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as e:
        raise LoadError(f"not a readable PDF ({type(e).__name__}: {e})") from e
    yield _document(str(path), "\n\n".join(p for p in pages if p), title=str(title))


def load_jsonl(path: Path, max_bytes: int) -> Iterator[Document | LoadFailure]:
    """One article per line (`text`, optional `title`, `date`, `url`, `id`); a bad line fails alone."""
    with path.open("rb") as lines:
        for lineno, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            source = f"{path}#{lineno}"
            try:
                if len(raw) > max_bytes:
                    raise LoadError(too_large(len(raw), max_bytes))
                record = json.loads(decode(raw))
                if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                    raise LoadError('each line must be a JSON object with a "text" string')
                meta = {k: str(record[k]) for k in ("title", "date", "url", "id") if record.get(k) is not None}
                yield _document(source, record["text"], **meta)
            except json.JSONDecodeError as e:
                yield LoadFailure(source, f"malformed JSON ({e.msg} at column {e.colno})")
            except LoadError as e:
                yield LoadFailure(source, str(e))


def too_large(size: int, max_bytes: int) -> str:
    return f"too large ({size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:g} MB, set by ASSISTANT_MAX_FILE_MB)"


LOADERS: dict[str, Callable[[Path], Iterable[Document | LoadFailure]]] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}
# A .jsonl file holds many articles: the size limit applies to each line, not to the file.
STREAMED: dict[str, Callable[[Path, int], Iterable[Document | LoadFailure]]] = {".jsonl": load_jsonl}
SUPPORTED = (*LOADERS, *STREAMED)


def load(path: Path, max_bytes: int = 20 * 2**20) -> Iterator[Document | LoadFailure]:
    """Documents of one file, or failures naming the file (or line) and the reason."""
    suffix = path.suffix.lower()
    try:
        if suffix in STREAMED:
            yield from STREAMED[suffix](path, max_bytes)
            return
        if suffix not in LOADERS:
            raise LoadError(f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(SUPPORTED)}")
        if (size := path.stat().st_size) > max_bytes:
            raise LoadError(too_large(size, max_bytes))
        yield from LOADERS[suffix](path)
    except LoadError as e:
        yield LoadFailure(str(path), str(e))
    except OSError as e:
        yield LoadFailure(str(path), e.strerror or str(e))


def expand(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path | LoadFailure]:
    """Files named, and supported files below folders (recursively, links to folders not followed)."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(os.path.abspath(Path(raw).expanduser()))
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    child = Path(root) / name
                    if not name.startswith(".") and child.suffix.lower() in SUPPORTED and child not in seen:
                        seen.add(child)
                        yield child
        elif path.is_file():
            if path not in seen:
                seen.add(path)
                yield path
        else:
            yield LoadFailure(str(path), "no such file or folder")
