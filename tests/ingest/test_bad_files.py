"""Messy real-world files: each gets a clear one-line reason, the others are ingested, the index stays intact."""

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.app import sample_path
from tests.conftest import SAMPLE_QUESTION, write


def encrypted_pdf(path: Path) -> Path:
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    plain = FPDF()
    plain.add_page()
    plain.set_font("Helvetica", size=12)
    plain.multi_cell(0, 10, "Secret minutes of the board meeting.")
    plain.output(str(path.with_suffix(".plain")))
    writer = PdfWriter()
    for page in PdfReader(path.with_suffix(".plain")).pages:
        writer.add_page(page)
    writer.encrypt(user_password="s3cret", owner_password="owner")
    with path.open("wb") as f:
        writer.write(f)
    return path


def big_file(path: Path, mb: int) -> Path:
    line = b"The committee met again and discussed the same budget line once more.\n"
    with path.open("wb") as f:
        f.write(line * (mb * 2**20 // len(line) + 1))
    return path


BAD: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (lambda d: write(d / "empty.txt", ""), "no text in it"),
    "header only": (lambda d: write(d / "dated.txt", "date 2022-01-30\n"), "no text in it"),
    "binary": (lambda d: write(d / "image.txt", bytes(range(256)) * 64), "binary content"),
    "big": (lambda d: big_file(d / "big.txt", 50), "too large (50.0 MB; the limit is 20 MB"),
    "malformed pdf": (lambda d: write(d / "broken.pdf", b"%PDF-1.4\n1 0 obj <<\ngarbage"), "not a readable PDF"),
    "encrypted pdf": (lambda d: encrypted_pdf(d / "locked.pdf"), "the PDF is encrypted"),
    "scripts only": (lambda d: write(d / "s.html", "<script>alert(1)</script><style>p{}</style>"), "no text in it"),
    "unsupported": (lambda d: write(d / "slides.pptx", b"PK\x03\x04"), "unsupported file type '.pptx'"),
    "missing": (lambda d: d / "nowhere.md", "no such file or folder"),
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assistant, dict, str]:
    bot = Assistant(index_dir=tmp_path_factory.mktemp("bad") / "index")
    bot.ingest([sample_path()], progress=False)
    return bot, bot.stats(), bot.ask(SAMPLE_QUESTION).text


@pytest.mark.parametrize("kind", BAD)
def test_bad_file_fails_alone_and_leaves_the_index_intact(
    kind: str, baseline: tuple[Assistant, dict, str], tmp_path: Path
) -> None:
    bot, counts, answer = baseline
    make, reason = BAD[kind]
    bad = make(tmp_path)
    good = write(tmp_path / f"good-{kind.replace(' ', '-')}.txt", "Ferry services resumed after the storm.")
    report = bot.ingest([bad, good], progress=False)
    assert report.added == [str(good)]
    [(source, why)] = report.failed
    assert source == str(bad)
    assert reason in why and "\n" not in why
    bot.delete(str(good))
    assert bot.stats() == counts
    assert bot.ask(SAMPLE_QUESTION).text == answer


def test_legacy_encodings_bom_and_crlf_keep_offsets_exact(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    text = "Müller said the café reopened.\r\nThe mayor’s office – not the council – paid for it.\r\n"
    files = {
        write(
            tmp_path / "latin.txt", "Müller said the café reopened. The façade was repainted in May.".encode("cp1252")
        ):
            "Müller said the café reopened. The façade was repainted in May.",
        write(tmp_path / "bom.md", b"\xef\xbb\xbf" + text.encode()): text,
        write(tmp_path / "crlf.txt", text.encode()): text,
    }
    report = bot.ingest(list(files), progress=False)
    assert report.ok and len(report.added) == 3
    for path, expected in files.items():
        [doc] = bot.find(str(path))
        assert bot.document_text(doc.doc_id) == expected
    answer = bot.ask("Who paid for the reopening of the café?")
    for c in answer.citations:
        assert bot.document_text(c.doc_id)[c.start : c.end] == c.text


def test_jsonl_with_malformed_lines_keeps_the_good_records(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    path = write(
        tmp_path / "feed.jsonl",
        "\n".join([json.dumps({"text": "Wheat prices rose sharply."}), "{oops", json.dumps([1, 2]),
                   json.dumps({"text": "Rice harvest was poor."})]),
    )
    report = bot.ingest([path], progress=False)
    assert report.added == [f"{path}#1", f"{path}#4"]
    assert [s for s, _ in report.failed] == [f"{path}#2", f"{path}#3"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks are a POSIX feature")
def test_symlink_loops_in_a_folder_do_not_hang(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    folder = tmp_path / "news"
    write(folder / "a.txt", "Bus drivers went on strike.")
    os.symlink(folder, folder / "again")  # a folder loop
    os.symlink(folder / "x.txt", folder / "y.txt")  # a file loop
    os.symlink(folder / "y.txt", folder / "x.txt")
    report = make_assistant().ingest([folder], progress=False)
    assert report.added == [str(folder / "a.txt")]
    assert sorted(s for s, _ in report.failed) == [str(folder / "x.txt"), str(folder / "y.txt")]
    assert all("symbolic links" in why for _, why in report.failed)
