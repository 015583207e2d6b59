"""One loader per format; each turns a file into `Document`s whose text is what offsets index."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

from assistant.ingest import isolate, office
from assistant.ingest.errors import LoadError, LoadFailure, failure_reason
from assistant.types import Document, stable_id

log = logging.getLogger(__name__)

_WESTERN = {"cp1252", "latin_1", "iso8859_15"}
_DATE_HEADER = re.compile(r"\A\s*date[:\s]\s*(\d{4}-\d{2}-\d{2})\b", re.IGNORECASE)
_MD_TITLE = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MD_HEADING = re.compile(r"\A\s{0,3}#{1,6}\s+(.+?)\s*#*\s*\Z")
# A first line this long, or ending like a sentence or a lead-in, is the article's opening, not its headline.
_HEADLINE_CHARS = 120
_NOT_HEADLINE_END = ".,;:"
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_REGULAR = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFDIR: "a folder",
}


@dataclass(frozen=True)
class Limits:
    """What reading one file may cost; a file past a limit fails alone, with a reason naming the limit."""

    # Per file, or per line of a .jsonl file (which holds many articles).
    max_bytes: int = 20 * 2**20
    # The HTML and PDF parsers, in their own process (assistant.ingest.isolate): a legitimate 20 MB page
    # takes a second or two, a long PDF some tens of seconds.
    parse_seconds: float = 60.0
    parse_memory_mb: int = 2048


def decode(data: bytes, name: str = "") -> str:
    """Bytes to text: UTF-8 (with or without BOM) when valid or nearly so, else the detected encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:8192]:
        raise LoadError("binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    valid, invalid = _utf8_counts(data)
    # A stray byte in a UTF-8 article must not turn all of its curly quotes into mojibake ("‚Äôs"): legacy
    # single-byte text has (almost) no valid multi-byte UTF-8 sequences, damaged UTF-8 has many.
    if valid > invalid:
        log.warning("%s: %d byte(s) are not UTF-8; read as UTF-8 with each replaced by U+FFFD", name, invalid)
        return data.decode("utf-8", "replace")
    text, encoding = _legacy(data)
    log.info("%s: not UTF-8; read as %s", name, encoding)
    return text


def _utf8_counts(data: bytes) -> tuple[int, int]:
    """(valid non-ASCII characters, invalid bytes) of `data` read as UTF-8."""
    kept = data.decode("utf-8", "ignore")
    invalid = len(data.decode("utf-8", "surrogateescape")) - len(kept)
    return len(kept) - len(kept.encode("ascii", "ignore")), invalid


def _legacy(data: bytes) -> tuple[str, str]:
    """(text, encoding) of non-UTF-8 bytes, by detection."""
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
        return western, "cp1252"
    return str(best), best.encoding


def header_metadata(text: str) -> dict[str, str]:
    """Metadata from a leading `date YYYY-MM-DD` header (the text itself is left as it is)."""
    m = _DATE_HEADER.match(text)
    return {"date": m.group(1)} if m else {}


def header_end(text: str) -> int:
    """Where the article's own words start: after a leading `date YYYY-MM-DD` header, else 0."""
    m = _DATE_HEADER.match(text)
    return m.end() if m else 0


def _name_bytes(path: str | os.PathLike[str]) -> bytes:
    try:
        return os.fsencode(path)
    except UnicodeEncodeError:  # a str with surrogates that no file system name decodes to
        return os.fspath(path).encode("utf-8", "surrogatepass")


def display_name(path: str | os.PathLike[str]) -> str:
    """`path` as text that can be stored and printed: bytes of a file name that are not UTF-8 (Python keeps
    them as surrogates, which UTF-8 cannot hold) are shown as `\\xff` escapes."""
    return _name_bytes(path).decode("utf-8", "backslashreplace")


def _source(path: Path, line: int | None) -> tuple[str, str]:
    """(document id, source) of a file, or of line `line` of a .jsonl file (`file#line`)."""
    raw = _name_bytes(path) + (f"#{line}".encode() if line is not None else b"")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        # The escaped name could be another file's real name: the id comes from the bytes, which are unique.
        return stable_id(raw), raw.decode("utf-8", "backslashreplace")
    return stable_id(source), source


def _valid_unicode(text: str, source: str) -> str:
    """`text` with lone surrogates (JSON `\\ud800`, some PDF fonts) replaced by U+FFFD: they cannot be
    stored as UTF-8. One character for one keeps every offset."""
    fixed, n = _SURROGATE.subn("\ufffd", text)
    if n:
        log.warning("%s: %d lone surrogate(s) replaced by U+FFFD", source, n)
    return fixed


def _document(path: Path, text: str, line: int | None = None, **metadata: str) -> Document:
    doc_id, source = _source(path, line)
    text = _valid_unicode(text, source)
    if not text[header_end(text) :].strip():
        raise LoadError("no text in it")
    given = {k: _valid_unicode(v, source) for k, v in metadata.items() if v}
    return Document(doc_id=doc_id, source=source, text=text, metadata={**header_metadata(text), **given})


def _open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file: reading a named pipe or a device never ends."""
    # Non-blocking, so that opening a named pipe returns at once instead of waiting for a writer.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise LoadError(f"not a regular file ({_NOT_REGULAR.get(stat.S_IFMT(mode), 'a special file')})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read(path: Path, max_bytes: int) -> bytes:
    with _open_regular(path) as f:
        if (size := os.fstat(f.fileno()).st_size) > max_bytes:
            raise LoadError(too_large(size, max_bytes))
        data = f.read(max_bytes + 1)  # a file that grows while it is read stays bounded
    if len(data) > max_bytes:
        raise LoadError(too_large(len(data), max_bytes))
    return data


def headline(text: str, markdown: bool = False) -> str:
    """The first line of the article's own words (after a `date` header) when it reads like a headline: short,
    not ending like a sentence, and followed by more text; else ""."""
    body = text[header_end(text) :].strip()
    first = body.split("\n", 1)[0].strip()
    if markdown and (m := _MD_HEADING.match(first)):
        first = m.group(1)
    if first == body or len(first) > _HEADLINE_CHARS or first.endswith(tuple(_NOT_HEADLINE_END)):
        return ""
    return first if any(c.isalpha() for c in first) else ""


def load_text(path: Path, limits: Limits) -> Iterator[Document]:
    text = decode(_read(path, limits.max_bytes), display_name(path))
    markdown = path.suffix.lower() in {".md", ".markdown"}
    heading = _MD_TITLE.search(text) if markdown else None
    title = heading.group(1) if heading else headline(text, markdown)
    yield _document(path, text, title=title or display_name(path.stem))


def load_html(path: Path, limits: Limits) -> Iterator[Document]:
    from assistant.ingest.html import html_to_text

    html = decode(_read(path, limits.max_bytes), display_name(path))
    # Parsed in the bounded parser process: lexbor's tree building is quadratic on crafted nesting.
    title, text = isolate.run(html_to_text, html, limits.parse_seconds, limits.parse_memory_mb)
    yield _document(path, text, title=title or headline(text) or display_name(path.stem))


def load_pdf(path: Path, limits: Limits) -> Iterator[Document]:
    data = _read(path, limits.max_bytes)
    title, pages = isolate.run(pdf_pages, data, limits.parse_seconds, limits.parse_memory_mb)
    text = "\n\n".join(p for p in pages if p)
    yield _document(path, text, title=title or headline(text) or display_name(path.stem))


def pdf_pages(data: bytes) -> tuple[str, list[str]]:
    """(title, text of each page) of a PDF; run in the parser process."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except LoadError:
        raise
    # pypdf fails on malformed files in many ways (AttributeError, NotImplementedError for an unknown
    # filter, RecursionError on deep nesting, ...): each is this file's reason.
    except Exception as e:
        raise LoadError(f"not a readable PDF ({failure_reason(e)})") from e
    return str(title or ""), pages


def _load_packaged(parse: Callable[[bytes], tuple[str, str]]) -> Callable[[Path, Limits], Iterator[Document]]:
    """A loader for a zipped format (.docx, .odt, .epub): parsed in the bounded parser process, since a crafted
    archive can inflate without end."""

    def load_file(path: Path, limits: Limits) -> Iterator[Document]:
        title, text = isolate.run(parse, _read(path, limits.max_bytes), limits.parse_seconds, limits.parse_memory_mb)
        yield _document(path, text, title=title or headline(text) or display_name(path.stem))

    return load_file


def load_jsonl(path: Path, limits: Limits) -> Iterator[Document | LoadFailure]:
    """One article per line (`text`, optional `title`, `date`, `url`, `id`); a bad line fails alone."""
    with _open_regular(path) as f:
        for lineno, raw, size in _lines(f, limits.max_bytes):
            if raw is not None and not raw.strip():
                continue
            try:
                if raw is None:
                    raise LoadError(too_large(size, limits.max_bytes))
                yield _record(path, lineno, raw)
            except json.JSONDecodeError as e:
                yield LoadFailure(_source(path, lineno)[1], f"malformed JSON ({e.msg} at column {e.colno})")
            # Also a 5000-digit number (ValueError: the int conversion limit) or 100k nested `[` (RecursionError).
            except Exception as e:
                yield LoadFailure(_source(path, lineno)[1], failure_reason(e))


def _lines(f: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(number, bytes, size) of each line; a line over `max_bytes` is measured, not held (bytes None)."""
    lineno = 0
    while line := f.readline(max_bytes + 1):
        lineno += 1
        if len(line) <= max_bytes:
            yield lineno, line, len(line)
            continue
        size = len(line)
        while not line.endswith(b"\n") and (line := f.readline(2**20)):
            size += len(line)
        yield lineno, None, size


def _record(path: Path, lineno: int, raw: bytes) -> Document:
    record = json.loads(decode(raw, f"{display_name(path)}#{lineno}"))
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise LoadError('each line must be a JSON object with a "text" string')
    meta = {k: str(record[k]) for k in ("title", "date", "url", "id") if record.get(k) is not None}
    meta.setdefault("title", headline(record["text"]))  # an empty title is left out
    return _document(path, record["text"], lineno, **meta)


def too_large(size: int, max_bytes: int) -> str:
    return f"too large ({size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:g} MB, set by ASSISTANT_MAX_FILE_MB)"


LOADERS: dict[str, Callable[[Path, Limits], Iterable[Document | LoadFailure]]] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": _load_packaged(office.docx_text),
    ".odt": _load_packaged(office.odt_text),
    ".epub": _load_packaged(office.epub_text),
    ".jsonl": load_jsonl,
}
SUPPORTED = tuple(LOADERS)


def load(path: Path, limits: Limits = Limits()) -> Iterator[Document | LoadFailure]:
    """Documents of one file, or failures naming the file (or line) and the reason; never raises for a bad file."""
    suffix = path.suffix.lower()
    try:
        if suffix not in LOADERS:
            raise LoadError(f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(SUPPORTED)}")
        yield from LOADERS[suffix](path, limits)
    except LoadError as e:
        yield LoadFailure(display_name(path), str(e))
    except OSError as e:
        yield LoadFailure(display_name(path), e.strerror or str(e))
    # Whatever else a parser raises on a crafted file (MemoryError too) fails this file only; KeyboardInterrupt
    # and SystemExit are not Exceptions and still stop the ingest.
    except Exception as e:
        log.debug("%s: loader failed", display_name(path), exc_info=True)
        yield LoadFailure(display_name(path), failure_reason(e))


def expand(paths: Iterable[str | os.PathLike[str]], skipped: list[str] | None = None) -> Iterator[Path | LoadFailure]:
    """Files named, and supported files below folders (recursively, links to folders not followed); the files of
    other types found in folders are added to `skipped`, so that they can be reported (a named one fails)."""
    seen: set[Path] = set()
    for raw in paths:
        try:
            for item in _expand_one(raw, skipped if skipped is not None else []):
                if isinstance(item, Path):
                    if item in seen:
                        continue
                    seen.add(item)
                yield item
        except Exception as e:  # an unusable path (`~nobody/x`, a NUL byte) fails alone
            yield LoadFailure(display_name(raw), failure_reason(e))


def _expand_one(raw: str | os.PathLike[str], skipped: list[str]) -> Iterator[Path | LoadFailure]:
    path = Path(os.path.abspath(Path(raw).expanduser()))
    if path.is_dir():
        yield from _folder_files(path, skipped)
    elif path.exists():
        yield path  # anything but a regular file is refused by `load`, with the reason
    else:
        yield LoadFailure(display_name(path), "no such file or folder")


def _folder_files(folder: Path, skipped: list[str]) -> Iterator[Path | LoadFailure]:
    """Supported files below `folder`, sorted (the others' names go to `skipped`; hidden ones are passed over
    unremarked); a folder that cannot be listed, or a link to a file outside `folder`, is a failure (a link into
    /etc must not put its target in the index)."""
    unreadable: list[OSError] = []
    inside = os.path.realpath(folder)
    for root, dirs, files in os.walk(folder, onerror=unreadable.append):
        yield from _unreadable(unreadable)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            child = Path(root) / name
            if name.startswith("."):
                continue
            if child.suffix.lower() not in SUPPORTED:
                skipped.append(display_name(child))
                continue
            if child.is_symlink() and not _within(os.path.realpath(child), inside):
                yield LoadFailure(display_name(child), "a symbolic link to a file outside the folder; not followed")
            else:
                yield child
    yield from _unreadable(unreadable)


def _unreadable(errors: list[OSError]) -> Iterator[LoadFailure]:
    for e in errors:
        yield LoadFailure(display_name(e.filename), f"folder not read: {e.strerror or e}")
    errors.clear()


def _within(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive (Windows)
        return False
