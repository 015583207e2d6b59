"""Word, OpenDocument and EPUB files: paragraphs, headings and tables in the document's order; offsets index the
stored text."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from assistant import Assistant
from assistant.ingest.loaders import Limits, load
from assistant.types import Document


def _statement(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Élection municipale: statement of the Québec city clerk", 0)
    document.add_paragraph("Issued on 4 November 2025.")
    document.add_heading("Résultats", 1)
    document.add_paragraph("The Green Party of Zoë Brûlé won 12 of the 21 seats on the city council.")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("Party", "Seats"), ("Green", "12"), ("Libéral", "9")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_heading("Next steps", 2)
    document.add_paragraph("The new council will sit for the first time on 1 December, in the Hôtel de Ville.")
    document.save(path)
    return path


def test_a_word_file_keeps_headings_paragraphs_and_table_rows_in_order(tmp_path: Path) -> None:
    [doc] = load(_statement(tmp_path / "communiqué.docx"), Limits())
    assert isinstance(doc, Document)
    assert doc.metadata["title"] == "Élection municipale: statement of the Québec city clerk"
    assert doc.text.split("\n\n") == [
        "Élection municipale: statement of the Québec city clerk",
        "Issued on 4 November 2025.",
        "Résultats",
        "The Green Party of Zoë Brûlé won 12 of the 21 seats on the city council.",
        "Party | Seats",
        "Green | 12",
        "Libéral | 9",
        "Next steps",
        "The new council will sit for the first time on 1 December, in the Hôtel de Ville.",
    ]


def test_a_word_file_is_cited_with_exact_offsets(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    report = bot.ingest([_statement(tmp_path / "communiqué.docx")], progress=False)
    assert report.ok and len(report.added) == 1
    text = bot.document_text(bot.documents()[0].doc_id)
    for question, cited in [
        ("When will the new council sit for the first time?", "on 1 December, in the Hôtel de Ville"),
        ("How many seats did the Green Party of Zoë Brûlé win?", "12"),
    ]:
        [first, *_] = bot.ask(question).citations
        assert text[first.start : first.end] == first.text and cited in first.text


def test_a_file_named_docx_that_is_not_one_fails_alone(tmp_path: Path) -> None:
    (tmp_path / "fake.docx").write_bytes(b"PK\x03\x04 not really a zip")
    [failure] = load(tmp_path / "fake.docx", Limits())
    assert failure.reason.startswith("not a readable Word file (")


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">
<office:body><office:text>
<text:h text:outline-level="1">Harbour report for Ålesund</text:h>
<text:p>The harbour handled <text:span>1,204</text:span> ships in 2025,<text:s text:c="2"/>a record.<text:note
><text:note-body><text:p>Provisional.</text:p></text:note-body></text:note></text:p>
<table:table><table:table-row><table:table-cell><text:p>Quarter</text:p></table:table-cell><table:table-cell><text:p>Ships</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell><text:p>Q1</text:p></table:table-cell><table:table-cell><text:p>281</text:p></table:table-cell></table:table-row></table:table>
<text:list><text:list-item><text:p>New crane in March.</text:p></text:list-item></text:list>
</office:text></office:body></office:document-content>"""


def test_an_opendocument_text_keeps_its_blocks_in_order(tmp_path: Path) -> None:
    path = tmp_path / "report.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", ODT_CONTENT)
    [doc] = load(path, Limits())
    assert isinstance(doc, Document) and doc.metadata["title"] == "Harbour report for Ålesund"
    assert doc.text.split("\n\n") == [
        "Harbour report for Ålesund",
        "The harbour handled 1,204 ships in 2025,  a record.",
        "Quarter | Ships",
        "Q1 | 281",
        "New crane in March.",
    ]


def _epub(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr(
            "META-INF/container.xml",
            """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>""",
        )
        archive.writestr(
            "OEBPS/book.opf",
            """<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>Chronicle of the Fjord Ferries</dc:title></metadata>
<manifest><item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/>
<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>""",
        )
        archive.writestr(
            "OEBPS/text/one.xhtml",
            "<html><body><h1>1. Beginnings</h1><p>The first ferry sailed in 1854.</p></body></html>",
        )
        archive.writestr(
            "OEBPS/text/two.xhtml", "<html><body><h1>2. Steam</h1><p>Steam came to the fjord in 1871.</p></body></html>"
        )
    return path


def test_an_epub_is_read_in_spine_order(tmp_path: Path) -> None:
    [doc] = load(_epub(tmp_path / "ferries.epub"), Limits())
    assert isinstance(doc, Document) and doc.metadata["title"] == "Chronicle of the Fjord Ferries"
    assert (
        doc.text == "1. Beginnings\n\nThe first ferry sailed in 1854.\n\n2. Steam\n\nSteam came to the fjord in 1871."
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("fake.odt", "not a readable OpenDocument file ("),
        ("fake.epub", "not a readable EPUB ("),
    ],
)
def test_a_broken_archive_fails_alone(tmp_path: Path, name: str, reason: str) -> None:
    (tmp_path / name).write_bytes(b"PK\x03\x04 not really a zip")
    [failure] = load(tmp_path / name, Limits())
    assert failure.reason.startswith(reason)
