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
    if any(m.encoding in _WESTERN and m.chaos <= best.chaos for m in matches):
        return data.decode("cp1252", errors="replace")
    return str(best)


def header_metadata(text: str) -> dict[str, str]:
    """Metadata from a leading `date YYYY-MM-DD` header (the text itself is left as it is)."""
    m = _DATE_HEADER.match(text)
    return {"date": m.group(1)} if m else {}


def _document(source: str, text: str, **metadata: str) -> Document:
    if not text.strip():
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


def load_jsonl(path: Path) -> Iterator[Document | LoadFailure]:
    """One article per line (`text`, optional `title`, `date`, `url`, `id`); a bad line fails alone."""
    for lineno, line in enumerate(decode(path.read_bytes()).splitlines(), start=1):
        if not line.strip():
            continue
        source = f"{path}#{lineno}"
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise LoadError('each line must be a JSON object with a "text" string')
            meta = {k: str(record[k]) for k in ("title", "date", "url", "id") if record.get(k) is not None}
            yield _document(source, record["text"], **meta)
        except json.JSONDecodeError as e:
            yield LoadFailure(source, f"malformed JSON ({e.msg} at column {e.colno})")
        except LoadError as e:
            yield LoadFailure(source, str(e))


LOADERS: dict[str, Callable[[Path], Iterable[Document | LoadFailure]]] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".jsonl": load_jsonl,
}


def load(path: Path) -> Iterator[Document | LoadFailure]:
    """Documents of one file, or failures naming the file (or line) and the reason."""
    loader = LOADERS.get(path.suffix.lower())
    try:
        if loader is None:
            raise LoadError(f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(LOADERS)}")
        yield from loader(path)
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
                    if not name.startswith(".") and child.suffix.lower() in LOADERS and child not in seen:
                        seen.add(child)
                        yield child
        elif path.is_file():
            if path not in seen:
                seen.add(path)
                yield path
        else:
            yield LoadFailure(str(path), "no such file or folder")
