"""training/: the reader's training script runs end to end on a tiny slice (CI trains nothing more)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.models.reader import OnnxReader
from tests.chat_server import REPO

pytestmark = pytest.mark.slow

TINY = REPO / "tests" / "data" / "qa"


def test_the_training_script_builds_trains_exports_and_evaluates(tmp_path: Path) -> None:
    out, export = tmp_path / "run", tmp_path / "reader"
    command = [
        sys.executable,
        "-m",
        "training.train_reader",
        "--qa",
        str(TINY),
        "--out",
        str(out),
        "--export",
        str(export),
        "--max-examples",
        "40",
        "--dev-examples",
        "2",
        "--checkpoint-every",
        "1",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    trained = json.loads((out / "train.json").read_text())
    assert trained["questions"] == 40 and trained["steps"] >= 2
    assert (out / "checkpoint.pt").exists()
    scores = json.loads((out / "scores.json").read_text())
    assert scores["tydiqa_goldp_dev"]["questions"] == 2
    assert 0 <= scores["squad_super_bowl_50_gold_paragraph"]["f1"] <= 100
    # What was exported is a reader the package loads: int8 weights, the tokenizer and the window it was trained on.
    reader = OnnxReader(export)
    assert reader.settings["max_length"] == 192 and reader.settings["scores"] == scores
    card = (export / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "python -m training.train_reader --max-examples 40" in card and "SQuADShifts" in card
    [span] = reader.read("Who arrested the protesters?", ["Police arrested 40 protesters on Tuesday."])
    assert 0 <= span.start < span.end <= len("Police arrested 40 protesters on Tuesday.")

    # A second run resumes from the checkpoint: nothing is left to train.
    resumed = subprocess.run([*command, "--resume"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed at step" in resumed.stderr
