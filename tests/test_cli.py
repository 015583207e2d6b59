import json
import os
import re
import socket
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from assistant.app import sample_path
from assistant.cli import main
from tests.chat_server import running_chat
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE, write

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command's code path (`python -m assistant` runs the same `main` as the console script)."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_console_script_is_the_click_main() -> None:
    [script] = [e for e in entry_points(group="console_scripts") if e.name == "assistant"]
    assert script.load() is main


def test_ask_on_an_empty_index_ingests_the_sample_and_prints_the_json_contract(tmp_path: Path) -> None:
    result = run("ask", SAMPLE_QUESTION, "--index", str(tmp_path / "index"), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"question", "answer", "abstained", "citations", "passages"}
    assert out["question"] == SAMPLE_QUESTION and out["abstained"] is False
    text = sample_path().read_text(encoding="utf-8")
    for c in out["citations"]:
        assert set(c) == {"n", "source", "doc_id", "start", "end", "text", "verified", "match"}
        assert c["verified"] is True
        assert c["source"] == str(sample_path())
        assert text[c["start"] : c["end"]] == c["text"]
    assert SAMPLE_SENTENCE in [c["text"] for c in out["citations"]]
    for p in out["passages"]:
        assert set(p) == {"source", "doc_id", "start", "end", "score", "text"}
        assert text[p["start"] : p["end"]] == p["text"]
    assert "Traceback" not in result.stderr
    assert "the bundled sample article was ingested" in result.stderr
    again = CliRunner().invoke(main, ["ask", SAMPLE_QUESTION, "--index", str(tmp_path / "index"), "--json"])
    assert again.exit_code == 0 and "sample" not in again.stderr


def test_ask_prints_the_short_answer_before_the_cited_sentences(tmp_path: Path) -> None:
    question = "Who mediated the peace between Erdogan and Putin?"
    result = CliRunner().invoke(main, ["ask", question, "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Short answer: Nur Sultan Nazarbayev"
    assert lines[1].endswith("Nur Sultan Nazarbayev [1].") and lines[3].startswith("[1] ")


def test_ingest_stats_show_delete(tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    good = write(tmp_path / "docs" / "a.md", "# Port strike\n\nDock workers walked out on Friday.")
    write(tmp_path / "docs" / "bad.txt", b"\x00\x00binary")
    runner = CliRunner()

    result = runner.invoke(main, ["ingest", str(tmp_path / "docs"), "--index", index])
    assert result.exit_code == 1
    assert "1 added, 0 unchanged, 1 failed" in result.output
    assert "bad.txt: binary content" in result.output

    result = runner.invoke(main, ["ingest", str(good), "--index", index])
    assert result.exit_code == 0 and "0 added, 1 unchanged, 0 failed" in result.output

    result = runner.invoke(main, ["stats", "--index", index, "--json"])
    assert json.loads(result.output) == {"documents": 1, "passages": 1}
    assert runner.invoke(main, ["stats", "--index", index]).output == "1 document, 1 passage\n"

    result = runner.invoke(main, ["show", str(good), "--index", index])
    assert result.exit_code == 0 and result.output == good.read_text(encoding="utf-8") + "\n"

    assert runner.invoke(main, ["delete", str(good), "--index", index]).output == "deleted 1 document\n"
    result = runner.invoke(main, ["delete", str(good), "--index", index])
    assert result.exit_code == 1 and "no document" in result.output
    assert json.loads(runner.invoke(main, ["stats", "--index", index, "--json"]).output)["documents"] == 0


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = run("ask", "   ", "--index", str(tmp_path / "index"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: the question is empty"
    assert "Traceback" not in result.stderr


def test_help_lists_commands_with_examples() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "ask", "stats", "delete", "show"):
        assert command in result.output
    for command in main.commands:
        shown = CliRunner().invoke(main, [command, "--help"]).output
        assert "Example" in shown and f"assistant {command} " in shown, command


def test_a_folder_ingest_reports_the_files_of_unsupported_types(tmp_path: Path) -> None:
    write(tmp_path / "docs" / "a.md", "# Port strike\n\nDock workers walked out on Friday.")
    write(tmp_path / "docs" / "letter.rtf", b"PK\x03\x04")
    write(tmp_path / "docs" / "deep" / "data.XYZ", "?")
    write(tmp_path / "docs" / "notes.rtf", b"PK\x03\x04")
    write(tmp_path / "docs" / ".DS_Store", b"\x00")  # hidden files are nobody's articles: not reported
    runner, index = CliRunner(), str(tmp_path / "index")
    result = runner.invoke(main, ["ingest", str(tmp_path / "docs"), "--index", index])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "1 added, 0 unchanged, 0 failed (1 passage added); skipped 3 files of unsupported types (.rtf, .xyz)\n"
    )
    report = json.loads(runner.invoke(main, ["ingest", str(tmp_path / "docs"), "--index", index, "--json"]).output)
    assert sorted(Path(s).name for s in report["skipped"]) == ["data.XYZ", "letter.rtf", "notes.rtf"]
    assert report["summary"].endswith("; skipped 3 files of unsupported types (.rtf, .xyz)")


NOT_A_DATE = "not a date (YYYY-MM-DD)"


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--date-from", "2022-13-01"], f"--date-from: {NOT_A_DATE}: '2022-13-01' (month must be in 1..12)"),
        (["--date-to", "2022-02-30"], f"--date-to: {NOT_A_DATE}: '2022-02-30' (day is out of range for month)"),
        (["--date-from", "last week"], f"--date-from: {NOT_A_DATE}: 'last week'"),
        (
            ["--date-from", "2022-03-01", "--date-to", "2022-02-01"],
            "--date-to: 2022-02-01 is before --date-from 2022-03-01",
        ),
    ],
)
def test_a_bad_date_is_a_one_line_usage_error_naming_the_flag(tmp_path: Path, flags: list[str], error: str) -> None:
    result = CliRunner().invoke(main, ["ask", SAMPLE_QUESTION, "--index", str(tmp_path / "index"), *flags])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {error}\n" and result.stdout == ""
    assert not (tmp_path / "index").exists()  # refused before anything was opened


def test_filters_that_match_no_article_say_so(tmp_path: Path) -> None:
    runner, index = CliRunner(), str(tmp_path / "index")
    result = runner.invoke(main, ["ask", SAMPLE_QUESTION, "--index", index, "--date-from", "2030-01-01", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["abstained"] is True and out["no_matching_articles"] is True
    assert out["answer"] == "The articles do not say. No article matches these filters."
    assert out["citations"] == [] and out["passages"] == []
    result = runner.invoke(main, ["ask", SAMPLE_QUESTION, "--index", index, "--source", "elsewhere.txt"])
    assert result.exit_code == 0 and "No article matches these filters." in result.stdout
    # The sample itself, named by its path, relative or not, and dated inside the range, is found.
    relative = os.path.relpath(sample_path())
    result = runner.invoke(
        main, ["ask", SAMPLE_QUESTION, "--index", index, "--source", relative, "--date-to", "2022-01-31", "--json"]
    )
    assert SAMPLE_SENTENCE in [c["text"] for c in json.loads(result.stdout)["citations"]]


def test_a_busy_port_suggests_another_in_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["chat", "--index", str(tmp_path / "index"), "--port", str(port)])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ") and "--port" in line
    assert "Traceback" not in result.output


# A log line of another library ("WARNING:root:Please consider ...", "DEBUG:bm25s:Building index from IDs") or a
# parser's complaint; our own diagnostics are logging records of `assistant.*`, shown only with --debug.
THIRD_PARTY_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):(?!assistant)|invalid pdf header", re.I | re.M)


@pytest.mark.slow
def test_ingest_ask_and_chat_print_no_third_party_log_lines(tmp_path: Path) -> None:
    # A fresh cache: the first run derives the int8 graph, which is when onnxruntime's quantizer warns.
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"), "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "sample.txt").write_text(sample_path().read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"this is not a pdf at all")
    outputs = []
    for args in (["ingest", str(folder)], ["ask", SAMPLE_QUESTION]):
        done = subprocess.run(
            [sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        outputs.append(done.stderr)
    with running_chat(tmp_path / "index", ASSISTANT_CACHE_DIR=str(tmp_path / "cache")) as url:
        assert httpx.post(url + "/api/ask", json={"question": SAMPLE_QUESTION}, timeout=120).status_code == 200
    outputs += [p.read_text() for p in tmp_path.glob("chat-*.log")]
    assert "broken.pdf" in outputs[0]  # the failure is reported, as our own one line
    for text in outputs:
        assert not THIRD_PARTY_LINE.search(text), text
