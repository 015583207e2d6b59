"""Word files: paragraphs, headings and tables in the document's order; offsets index the stored text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx

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
