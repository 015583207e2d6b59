"""Text of Word (.docx), OpenDocument (.odt) and EPUB files: each paragraph, heading and table row a block, in the
document's order. Run in the parser process (assistant.ingest.isolate); each returns (title, text)."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from assistant.ingest.errors import LoadError, failure_reason
from assistant.ingest.html import html_to_text

_DOCX_TITLE_STYLES = ("Title", "Heading 1")
_ODF = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_OPF = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def _row(cells: Iterator[str]) -> str:
    # A merged cell is returned once per grid column it spans (python-docx), so repeats are dropped.
    return " | ".join(dict.fromkeys(" ".join(c.split()) for c in cells))


def _joined(title: str, blocks: list[str]) -> tuple[str, str]:
    return title, "\n\n".join(b for b in (b.strip() for b in blocks) if b)


def docx_text(data: bytes) -> tuple[str, str]:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        title = document.core_properties.title or ""
        blocks: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                blocks.extend(_row(c.text for c in row.cells) for row in block.rows)
                continue
            text = block.text.strip()
            if not title and text and block.style is not None and block.style.name in _DOCX_TITLE_STYLES:
                title = text
            blocks.append(text)
    except Exception as e:  # python-docx fails on malformed files in many ways, as pypdf does
        raise LoadError(f"not a readable Word file ({failure_reason(e)})") from e
    return _joined(title, blocks)


def odt_text(data: bytes) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            content = ElementTree.fromstring(archive.read("content.xml"))
            meta = ElementTree.fromstring(archive.read("meta.xml")) if "meta.xml" in archive.namelist() else None
    except Exception as e:
        raise LoadError(f"not a readable OpenDocument file ({failure_reason(e)})") from e
    body = content.find("office:body/office:text", _ODF)
    if body is None:
        raise LoadError("not an OpenDocument text (no office:text)")
    title_node = meta.find(".//dc:title", _ODF) if meta is not None else None
    title = (title_node.text or "").strip() if title_node is not None else ""
    blocks: list[str] = []
    headings: list[str] = []
    _odt_blocks(body, blocks, headings)
    return _joined(title or next(iter(headings), ""), blocks)


def _odt_blocks(node: ElementTree.Element, blocks: list[str], headings: list[str]) -> None:
    for child in node:
        if child.tag == f"{{{_ODF['table']}}}table-row":
            cells = child.findall("table:table-cell", _ODF)
            blocks.append(_row(" ".join(_odt_inline(p) for p in cell) for cell in cells))
        elif child.tag in (f"{{{_ODF['text']}}}p", f"{{{_ODF['text']}}}h"):
            text = _odt_inline(child)
            blocks.append(text)
            if child.tag.endswith("}h") and text.strip():
                headings.append(text.strip())
        else:  # sections, lists, tables and their rows' containers
            _odt_blocks(child, blocks, headings)


def _odt_inline(node: ElementTree.Element) -> str:
    """A paragraph's text: spans inline; <text:s text:c="n"/> is n spaces, tabs and line breaks are white space."""
    parts = [node.text or ""]
    for child in node:
        name = child.tag.rsplit("}", 1)[-1]
        if name == "s":
            parts.append(" " * int(child.get(f"{{{_ODF['text']}}}c", "1")))
        elif name in ("tab", "line-break"):
            parts.append(" " if name == "tab" else "\n")
        elif name != "note":  # footnotes would interrupt the sentence they are anchored in
            parts.append(_odt_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def epub_text(data: bytes) -> tuple[str, str]:
    """The chapters in reading order (the spine), each XHTML file read as the HTML loader reads a page."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
            rootfile = container.find(".//c:rootfile", _OPF)
            if rootfile is None:
                raise LoadError("not a readable EPUB (no rootfile in META-INF/container.xml)")
            opf_path = rootfile.get("full-path", "")
            opf = ElementTree.fromstring(archive.read(opf_path))
            manifest = {i.get("id"): i.get("href", "") for i in opf.findall("opf:manifest/opf:item", _OPF)}
            folder = posixpath.dirname(opf_path)
            chapters = [
                archive.read(posixpath.normpath(posixpath.join(folder, manifest[ref.get("idref")])))
                for ref in opf.findall("opf:spine/opf:itemref", _OPF)
                if ref.get("idref") in manifest
            ]
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(f"not a readable EPUB ({failure_reason(e)})") from e
    title_node = opf.find("opf:metadata/dc:title", _OPF)
    title = (title_node.text or "").strip() if title_node is not None else ""
    return _joined(title, [html_to_text(c.decode("utf-8", "replace"))[1] for c in chapters])
