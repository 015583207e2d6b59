"""Messy real-world files: each gets a clear one-line reason, the others are ingested, the index stays intact."""

import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant import Assistant
from assistant.app import sample_path
from assistant.cli import main
from assistant.ingest import loaders
from assistant.ingest.loaders import Limits, LoadFailure, decode, load
from assistant.ingest.pipeline import LONG_TEXT_CHARS, Ingestor, encode_batches
from assistant.ingest.splitter import split_document
from assistant.types import Document
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


def tiny_pdf(path: Path, stream_extra: bytes = b"", contents: bytes = b"4 0 R", more: tuple[bytes, ...] = ()) -> Path:
    """A one-page PDF written object by object, with a correct xref table, to be broken in one chosen place."""
    text = b"BT /F1 12 Tf 72 720 Td (Hello world) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents "
        + contents
        + b" >>",
        b"<< /Length %d " % len(text) + stream_extra + b">>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *more,
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return write(path, out)


def fuzzed_pdf(path: Path) -> Path:
    """Four random edits of a good PDF (found by fuzzing) that make pypdf raise an AttributeError."""
    data = bytearray(tiny_pdf(path).read_bytes())
    for at, length, new in [(303, 4, b"-1"), (17, 2, b"0 0 R"), (411, 2, b"/Oops"), (160, 1, b"(")]:
        data[at : at + length] = new
    return write(path, bytes(data))


BAD: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (lambda d: write(d / "empty.txt", ""), "no text in it"),
    "header only": (lambda d: write(d / "dated.txt", "date 2022-01-30\n"), "no text in it"),
    "binary": (lambda d: write(d / "image.txt", bytes(range(256)) * 64), "binary content"),
    "big": (lambda d: big_file(d / "big.txt", 50), "too large (50.0 MB; the limit is 20 MB"),
    "malformed pdf": (lambda d: write(d / "broken.pdf", b"%PDF-1.4\n1 0 obj <<\ngarbage"), "not a readable PDF"),
    "encrypted pdf": (lambda d: encrypted_pdf(d / "locked.pdf"), "the PDF is encrypted"),
    "unknown pdf filter": (lambda d: tiny_pdf(d / "f.pdf", b"/Filter /NoSuchFilter "), "not a readable PDF"),
    "deeply nested pdf": (
        lambda d: tiny_pdf(d / "n.pdf", contents=b"6 0 R", more=(b"[" * 50_000 + b"]" * 50_000,)),
        "not a readable PDF",
    ),
    "fuzzed pdf": (lambda d: fuzzed_pdf(d / "z.pdf"), "not a readable PDF (AttributeError"),
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
        ): "Müller said the café reopened. The façade was repainted in May.",
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
        "\n".join(
            [
                json.dumps({"text": "Wheat prices rose sharply."}),
                "{oops",
                json.dumps([1, 2]),
                json.dumps({"text": "Rice harvest was poor."}),
            ]
        ),
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


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: a regression (a blocking read, a quadratic parse) raises after `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_any_exception_of_a_loader_fails_that_file_alone(
    make_assistant: Callable[..., Assistant], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, limits: Limits) -> Iterator[Document]:
        raise ZeroDivisionError("a parser bug\non two lines")

    monkeypatch.setitem(loaders.LOADERS, ".txt", broken)
    bad, good = write(tmp_path / "bug.txt", "Text."), write(tmp_path / "good.md", "Ferry services resumed.")
    report = make_assistant().ingest([bad, good], progress=False)
    assert report.added == [str(good)]
    assert report.failed == [(str(bad), "ZeroDivisionError: a parser bug on two lines")]


def test_an_interrupt_still_stops_the_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(path: Path, limits: Limits) -> Iterator[Document]:
        raise KeyboardInterrupt

    monkeypatch.setitem(loaders.LOADERS, ".txt", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list(load(write(tmp_path / "a.txt", "Text.")))


def test_jsonl_lines_that_break_the_json_parser_fail_alone(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    lines = [
        "[" * 100_000,  # RecursionError in the json module
        '{"text": "Big number.", "n": ' + "9" * 5000 + "}",  # ValueError: past the int conversion limit
        json.dumps({"text": "A lone surrogate \ud800 from a JSON escape."}),
        json.dumps({"text": "Rice harvest was poor."}),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines))
    bot = make_assistant()
    report = bot.ingest([path], progress=False)
    assert report.added == [f"{path}#3", f"{path}#4"]
    assert report.failed[0] == (f"{path}#1", "nested too deeply to parse")
    assert report.failed[1][0] == f"{path}#2" and "4300 digits" in report.failed[1][1]
    [doc] = bot.find(f"{path}#3")
    assert bot.document_text(doc.doc_id) == "A lone surrogate \ufffd from a JSON escape."


def test_a_jsonl_line_over_the_limit_is_not_held_in_memory(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.jsonl", json.dumps({"text": "x" * 3000}) + "\n" + json.dumps({"text": "Short."}))
    too_big, short = load(path, Limits(max_bytes=1000))
    assert isinstance(too_big, LoadFailure) and too_big.reason.startswith("too large")
    assert isinstance(short, Document) and short.text == "Short."


def test_a_file_name_that_is_not_utf8_is_ingested_under_an_escaped_name(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"bad\xff.txt"), "wb") as f:
        f.write(b"The harbour reopened on Monday.")
    good = write(folder / "good.txt", "Ferry services resumed after the storm.")
    index = str(tmp_path / "index")
    result = CliRunner().invoke(main, ["ingest", str(folder), "--index", index, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["added"] == [f"{folder}/bad\\xff.txt", str(good)] and report["failed"] == []
    again = CliRunner().invoke(main, ["ingest", str(folder), "--index", index, "--json"])
    assert json.loads(again.output)["unchanged"] == report["added"]  # the id of the odd name is stable


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_a_named_pipe_is_refused_and_does_not_hang(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    folder = tmp_path / "news"
    good = write(folder / "good.txt", "Ferry services resumed after the storm.")
    os.mkfifo(folder / "pipe.txt")  # nobody ever writes to it: reading it would wait forever
    bot = make_assistant()
    with deadline(60):
        in_folder = bot.ingest([folder], progress=False)
        named = bot.ingest([folder / "pipe.txt"], progress=False)
    assert in_folder.added == [str(good)]
    assert in_folder.failed == named.failed == [(str(folder / "pipe.txt"), "not a regular file (a named pipe)")]


def test_deeply_nested_html_is_ingested(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    path = write(tmp_path / "deep.html", "<div>" * 20_000 + "Deep inside, the vote passed." + "</div>" * 20_000)
    bot = make_assistant()
    with deadline(60):
        report = bot.ingest([path], progress=False)
    assert report.ok and report.added == [str(path)]
    [doc] = bot.find(str(path))
    assert bot.document_text(doc.doc_id) == "Deep inside, the vote passed."


def test_an_html_parse_past_its_time_limit_fails_alone(tmp_path: Path) -> None:
    # lexbor's tree building is quadratic in the depth: 80k unclosed <div>s take it many seconds.
    slow = write(tmp_path / "slow.html", "<div>" * 80_000 + "text")
    with deadline(60):
        [failure] = load(slow, Limits(parse_seconds=0.5))
    assert isinstance(failure, LoadFailure) and failure.reason.startswith("did not parse within 0.5 s")
    [doc] = load(write(tmp_path / "ok.html", "<p>The parser is back.</p>"))  # a new parser process
    assert isinstance(doc, Document) and doc.text == "The parser is back."


@pytest.mark.skipif(sys.platform != "linux", reason="the memory limit is RLIMIT_AS, enforced by Linux")
def test_an_html_parse_past_its_memory_limit_fails_alone(tmp_path: Path) -> None:
    # Formatting tags of distinct attributes left open in a block are cloned into every later block:
    # ~700 KB make lexbor build 18M elements.
    bomb = "<div>" + "".join(f"<em class={i}>" for i in range(300)) + "</div>" + "<div>x</div>" * 60_000
    with deadline(60):
        [failure] = load(write(tmp_path / "bomb.html", bomb), Limits(parse_memory_mb=800))
    assert isinstance(failure, LoadFailure) and "\n" not in failure.reason


def test_a_long_single_line_text_splits_in_linear_time() -> None:
    text = "The committee met again and discussed the budget. " * 40_000  # 2 MB, one line
    with deadline(60):
        sentences, passages = split_document(Document("d", "s", text, {}))
    assert len(sentences) == 40_000
    spans = [(s.start, s.end) for s in sentences]
    for p in passages[:: len(passages) // 20]:  # each passage holds exactly the sentences inside it
        assert p.sentence_spans == tuple(s for s in spans if p.start <= s[0] and s[1] <= p.end)


def test_long_sentences_are_encoded_in_smaller_batches() -> None:
    lengths = [50] * 100 + [1000] * 30 + [300] * 10
    batches = encode_batches(lengths, 64)
    assert sorted(i for b in batches for i in b) == list(range(140))
    assert [len(b) for b in batches[:2]] == [64, 46]  # ordinary sentences: the batches of one encode call
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) ** 2 <= 64 * LONG_TEXT_CHARS**2


class RecordingEmbedder:
    """Unit vectors at once, remembering each batch: ingest's batching without the model's time."""

    name, backend, dimension = "recording", "test", 384

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        self.batches.append(texts)
        vectors = np.random.default_rng(len(self.batches)).normal(size=(len(texts), self.dimension))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_a_megabyte_single_line_text_ingests_in_bounded_batches(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    path = write(tmp_path / "one-line.txt", "lorem ipsum dolor sit amet " * 40_000)  # 1 MB, no sentence breaks
    bot = make_assistant()
    embedder = RecordingEmbedder()
    with deadline(60):
        report = Ingestor(bot.index, embedder, bot.settings).ingest([path], progress=False)
    assert report.ok and report.added == [str(path)]
    assert sum(len(b) for b in embedder.batches) > 1000
    assert max(len(b) for b in embedder.batches) <= 64 * LONG_TEXT_CHARS**2 // 1000**2


def test_a_stray_byte_in_utf8_is_replaced_not_read_as_another_encoding(caplog: pytest.LogCaptureFixture) -> None:
    data = "Nazarbayev’s loyalists were purged. It’s over.".encode().replace(b"were", b"were \xff")
    with caplog.at_level(logging.WARNING, logger="assistant.ingest.loaders"):
        text = decode(data, "kz.txt")
    assert text == "Nazarbayev’s loyalists were \ufffd purged. It’s over."
    assert "kz.txt: 1 byte(s) are not UTF-8; read as UTF-8 with each replaced by U+FFFD" in caplog.text
    assert decode("Müller said the café reopened.".encode("cp1252")) == "Müller said the café reopened."


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks are a POSIX feature")
def test_links_to_files_outside_the_folder_are_not_followed(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    good = write(folder / "good.txt", "Ferry services resumed after the storm.")
    secret = write(tmp_path / "private" / "secret.txt", "root:x:0:0:root:/root:/bin/bash")
    os.symlink(secret, folder / "leak.txt")
    os.symlink(good, folder / "alias.txt")  # inside the folder: followed
    report = make_assistant().ingest([folder], progress=False)
    assert report.added == [str(folder / "alias.txt"), str(good)]
    assert report.failed == [(str(folder / "leak.txt"), "a symbolic link to a file outside the folder; not followed")]


def test_an_unreadable_subfolder_is_reported(
    make_assistant: Callable[..., Assistant], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "news"
    good = write(folder / "good.txt", "Ferry services resumed after the storm.")
    write(folder / "locked" / "hidden.txt", "Never read.")
    scandir = os.scandir

    def denied(path: str | os.PathLike[str] = ".") -> object:  # chmod 000 does not stop root, so pretend
        if Path(path) == folder / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    report = make_assistant().ingest([folder], progress=False)
    assert report.added == [str(good)]
    assert report.failed == [(str(folder / "locked"), "folder not read: Permission denied")]
