import json
from pathlib import Path

import pytest

from assistant.ingest.loaders import LoadFailure, decode, expand, load
from assistant.types import Document
from tests.conftest import write


def docs(path: Path) -> list[Document]:
    out = list(load(path))
    assert all(isinstance(d, Document) for d in out), out
    return out  # type: ignore[return-value]


def test_txt_text_is_the_file_unchanged_and_date_header_becomes_metadata(tmp_path: Path, sample_text: str) -> None:
    path = write(tmp_path / "a.txt", sample_text)
    [doc] = docs(path)
    assert doc.text == path.read_text(encoding="utf-8")
    assert doc.metadata["date"] == "2022-01-30"
    assert doc.source == str(path)


def test_markdown_title_and_text(tmp_path: Path) -> None:
    [doc] = docs(write(tmp_path / "n.md", "# Big news\n\nSomething happened. Then more.\n"))
    assert doc.metadata["title"] == "Big news"
    assert doc.text.startswith("# Big news")


def test_html_keeps_main_text_without_scripts_or_styles(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Summit ends</title><style>p {color: red}</style></head><body>"
        "<nav>Home | World</nav><script>var secret = 1;</script>"
        "<article><h1>Summit ends</h1><p>Leaders <b>agreed</b> on a plan.</p><p>Talks resume in May.</p></article>"
        "</body></html>"
    )
    [doc] = docs(write(tmp_path / "p.html", html))
    assert doc.metadata["title"] == "Summit ends"
    assert doc.text == "Summit ends\n\nLeaders agreed on a plan.\n\nTalks resume in May."
    assert "secret" not in doc.text and "color" not in doc.text and "Home" not in doc.text


@pytest.mark.parametrize(
    ("name", "content", "title"),
    [
        ("a.txt", "Port strike ends after three days\n\nDock workers returned.", "Port strike ends after three days"),
        ("a.txt", "date 2022-01-05\nWho pays for the new bridge?\nThe council does.", "Who pays for the new bridge?"),
        ("a.txt", "Dock workers returned on Monday.\nThe strike had lasted days.", "a"),  # a sentence: no headline
        ("a.txt", "The mayor said:\nthe strike is over.", "a"),
        ("a.txt", "Dock workers returned on Monday after a strike that lasted three days " * 3 + "\nMore.", "a"),
        ("a.txt", "Only one line and no final stop", "a"),  # the whole article, not its headline
        ("a.md", "Some intro words\n\n# The real heading\n\nText.", "The real heading"),
        ("a.md", "## A second-level heading first\n\nText.", "A second-level heading first"),
    ],
)
def test_a_title_is_the_first_heading_or_a_headline_like_first_line(
    tmp_path: Path, name: str, content: str, title: str
) -> None:
    [doc] = docs(write(tmp_path / name, content))
    assert doc.metadata["title"] == title


def test_an_html_title_is_the_articles_h1_before_the_page_title(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Bridge vote | The Daily Example</title></head><body><nav><h1>The Daily Example</h1></nav>"
        "<article><h1>Council  approves\n the bridge</h1><p>The vote was close.</p></article></body></html>"
    )
    [doc] = docs(write(tmp_path / "p.html", html))
    assert doc.metadata["title"] == "Council approves the bridge"
    page = "<html><head><title>Bridge vote</title></head><body><p>The vote was close.</p></body></html>"
    assert docs(write(tmp_path / "q.html", page))[0].metadata["title"] == "Bridge vote"


def test_the_sample_has_no_headline_so_its_title_is_its_file_name(tmp_path: Path, sample_text: str) -> None:
    [doc] = docs(write(tmp_path / "sample.txt", sample_text))
    assert doc.metadata["title"] == "sample"


def test_pdf_text(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 10, "The council approved the budget on Monday. Critics called it too small.")
    path = tmp_path / "report.pdf"
    pdf.output(str(path))
    [doc] = docs(path)
    assert "council approved the budget" in doc.text


def test_jsonl_records_become_documents_and_bad_lines_fail_alone(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"text": "First story text.", "title": "One", "date": "2021-05-01", "url": "http://x/1", "id": "a1"}
        ),
        "{not json",
        json.dumps({"title": "no text"}),
        "",
        json.dumps({"text": "Second story."}),
        json.dumps({"text": "Floods close the coast road\nThe road reopens on Monday."}),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines))
    out = list(load(path))
    good = [d for d in out if isinstance(d, Document)]
    bad = [d for d in out if isinstance(d, LoadFailure)]
    assert [d.source for d in good] == [f"{path}#1", f"{path}#5", f"{path}#6"]
    assert good[0].metadata == {"title": "One", "date": "2021-05-01", "url": "http://x/1", "id": "a1"}
    assert good[1].metadata == {} and good[2].metadata == {"title": "Floods close the coast road"}
    assert [b.source for b in bad] == [f"{path}#2", f"{path}#3"]
    assert "malformed JSON" in bad[0].reason and '"text"' in bad[1].reason


def test_unsupported_missing_and_empty_files_fail_with_reasons(tmp_path: Path) -> None:
    [unsupported] = list(load(write(tmp_path / "x.rtf", b"{\\rtf1")))
    assert isinstance(unsupported, LoadFailure) and "unsupported file type '.rtf'" in unsupported.reason
    [empty] = list(load(write(tmp_path / "e.txt", "  \n")))
    assert isinstance(empty, LoadFailure) and "no text" in empty.reason
    [missing] = list(expand([tmp_path / "nope.txt"]))
    assert isinstance(missing, LoadFailure) and "no such file" in missing.reason


def test_folders_are_walked_recursively_in_order(tmp_path: Path) -> None:
    write(tmp_path / "b" / "deep" / "c.md", "C.")
    write(tmp_path / "a.txt", "A.")
    write(tmp_path / "b" / "skip.png", b"\x89PNG")
    write(tmp_path / ".hidden" / "h.txt", "H.")
    skipped: list[str] = []
    found = list(expand([tmp_path, tmp_path / "a.txt"], skipped))
    assert found == [tmp_path / "a.txt", tmp_path / "b" / "deep" / "c.md"]
    assert skipped == [str(tmp_path / "b" / "skip.png")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("héllo wörld".encode(), "héllo wörld"),
        (b"\xef\xbb\xbfwith bom", "with bom"),
        (
            "Café crème, déjà vu: naïve façade à la carte.".encode("cp1252"),
            "Café crème, déjà vu: naïve façade à la carte.",
        ),
    ],
)
def test_decode(data: bytes, expected: str) -> None:
    assert decode(data) == expected
