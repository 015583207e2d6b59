import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from click.testing import CliRunner

from assistant.app import sample_path
from assistant.cli import main
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


def test_ask_prints_the_short_answer_before_the_cited_sentences(tmp_path: Path) -> None:
    question = "Who mediated the peace between Erdogan and Putin?"
    result = CliRunner().invoke(main, ["ask", question, "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
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

    result = runner.invoke(main, ["show", str(good), "--index", index])
    assert result.exit_code == 0 and result.output == good.read_text(encoding="utf-8") + "\n"

    assert runner.invoke(main, ["delete", str(good), "--index", index]).exit_code == 0
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
    assert "Example" in CliRunner().invoke(main, ["ask", "--help"]).output
