"""The combined markdown table of several eval runs."""

import json
from pathlib import Path

import pytest

from assistant.evaluation.table import COLUMNS, combined_table, main


def summary(path: Path, complete: bool = True) -> Path:
    block = {c: 0.5 for c in COLUMNS}
    data = {
        "set": {"name": "tiny", "evaluated": 2, "questions": 2 if complete else 9, "complete": complete},
        "configs": {"default": block, "baseline": block},
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_row_per_set_and_config_with_the_chosen_columns(tmp_path: Path) -> None:
    lines = combined_table([summary(tmp_path / "a.json")], ["hit@1", "em"]).splitlines()
    assert lines[0] == "| set | config | hit@1 | em |"
    assert [line.split(" | ")[1] for line in lines[2:]] == ["default", "baseline"]
    assert all(line.count("|") == 5 for line in lines)
    partial = combined_table([summary(tmp_path / "b.json", complete=False)])
    assert "tiny (2 q) PARTIAL of 9" in partial


def test_unknown_columns_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([str(summary(tmp_path / "a.json")), "--columns", "hit@1,recall@99"])
    assert "unknown column(s) recall@99" in capsys.readouterr().err
