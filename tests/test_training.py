"""training/: the reader's training script runs end to end on a tiny slice (CI trains nothing more)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.models.reader import PACKAGED_READER_DIR, OnnxReader
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
        # Distilled from the shipped reader too, beside the gold spans.
        "--teacher",
        str(PACKAGED_READER_DIR),
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


def test_the_held_out_curve_keeps_off_topic_and_on_topic_unanswerable_apart() -> None:
    from training import card
    from training.held_out_curve import curve

    def row(answerable: bool, margin: float | None, gold: bool = True, abstained: bool = False) -> dict:
        return {"answerable": answerable, "margin": margin, "abstained": abstained, "scores": {"contains_gold": gold}}

    rows = {
        "answerable": [row(True, 5.0), row(True, -2.0), row(True, 3.0, gold=False), row(True, None, abstained=True)],
        "off_topic": [row(False, None, abstained=True), row(False, -3.0)],
        "unanswerable": [row(False, 1.0)],
    }
    at = {p["threshold"]: p for p in curve(rows)}
    assert at[-4.0] == {
        "threshold": -4.0,
        "answered_correctly": 0.5,
        "abstained_wrongly": 0.25,
        "off_topic_declined": 0.5,
        "unanswerable_declined": 0.0,
    }
    assert at[2.0]["answered_correctly"] == 0.25 and at[2.0]["off_topic_declined"] == 1.0
    assert at[2.0]["unanswerable_declined"] == 1.0 and at[2.0]["abstained_wrongly"] == 0.5
    shown = card.held_out(
        {
            "min_margin": 2.0,
            "held_out": {"counts": {"answerable": 4, "off_topic": 2, "unanswerable": 1}, "curve": list(at.values())},
        }
    )
    assert "| **2.0** | **0.250** | **0.500** | **1.000** | **1.000** |" in shown


def test_an_ensemble_reads_with_every_graph_and_averages_their_logits(tmp_path: Path) -> None:
    from training import card, ensemble

    single = tmp_path / "single"
    single.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        (single / name).write_bytes((PACKAGED_READER_DIR / name).read_bytes())
    (single / "reader.json").write_text(json.dumps({"max_length": 192, "stride": 64, "trained": {"steps": 1}}))
    ensemble.combine(tmp_path / "pair", [single, single])
    pair = OnnxReader(tmp_path / "pair")
    assert pair.settings["models"] == ["model.onnx", "model-2.onnx"] and len(pair._sessions) == 2
    assert pair.settings["members"] == [{"steps": 1}, {"steps": 1}]
    # Two copies of one graph average to that graph: the same spans, the same margins.
    question, contexts = "How many people were arrested?", ["Police arrested 40 protesters on Tuesday.", "Rain fell."]
    alone, both = OnnxReader(single).read(question, contexts), pair.read(question, contexts)
    assert [(s.context, s.start, s.end) for s in both] == [(s.context, s.start, s.end) for s in alone]
    assert [s.margin for s in both] == pytest.approx([s.margin for s in alone], abs=1e-4)
    # An ensemble of an ensemble flattens; the card names every graph's run.
    ensemble.combine(tmp_path / "pair", [tmp_path / "pair", single])
    assert card.recorded(tmp_path / "pair")["models"] == ["model.onnx", "model-2.onnx", "model-3.onnx"]
    card.write(tmp_path / "pair")
    assert "An ensemble of 3 readers" in (tmp_path / "pair" / "MODEL_CARD.md").read_text(encoding="utf-8")
    # Readers of other windows cannot be averaged token by token.
    (single / "reader.json").write_text(json.dumps({"max_length": 256, "stride": 64}))
    with pytest.raises(SystemExit, match="different windows"):
        ensemble.combine(tmp_path / "other", [tmp_path / "pair", single])


def test_the_recorded_command_gives_the_flags_as_typed() -> None:
    from training.train_reader import Config, command_flags

    assert command_flags(Config()) == ""
    assert command_flags(Config(seed=29, bf16=True, out="/tmp/x")) == " --seed 29 --bf16"


def test_every_training_option_is_explained_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    from training.train_reader import main

    with pytest.raises(SystemExit):
        main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--teacher TEACHER exported readers (comma-separated) to distil from" in shown
    assert "--seed SEED sampling of the mix, order and head initialisation (default: 13)" in shown
    assert "--bf16, --no-bf16 matrix products in bfloat16" in shown


def test_the_distillation_loss_is_zero_only_where_the_student_matches_its_teacher() -> None:
    import torch

    from training.train_reader import distill_loss

    teacher = torch.tensor([[2.0, 0.0, 1.0, 9.0]])
    mask = torch.tensor([[1, 1, 1, 0]])  # the last token is padding: its logit counts for neither
    same = torch.tensor([[2.0, 0.0, 1.0, -9.0]])
    assert distill_loss(same, teacher, mask, temperature=2.0).item() == pytest.approx(0.0, abs=1e-6)
    assert distill_loss(torch.tensor([[0.0, 2.0, 1.0, 9.0]]), teacher, mask, temperature=2.0).item() > 0.1


def test_the_bold_margin_reads_one_configuration_and_only_its_short_answers(tmp_path: Path) -> None:
    from training.short_answer_margin import curve, short_answer_rows

    def row(config: str, prediction: str, margin: float, em: float) -> dict:
        return {
            "config": config,
            "answerable": True,
            "abstained": False,
            "margin": margin,
            "answer": "Police arrested 40 protesters. [1]",
            "prediction": prediction,
            "scores": {"em": em, "f1": em},
        }

    rows = [
        row("default", "40", 9.0, 1.0),
        row("default", "protesters", 2.0, 0.0),
        row("default", "Police arrested 40 protesters.", 9.0, 0.0),  # the sentence itself: no short answer
        row("rules", "40", 9.0, 0.0),
    ]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert [r["prediction"] for r in short_answer_rows(results)] == ["40", "protesters"]
    assert len(short_answer_rows(results, "rules")) == 1
    points = {t: (n, em) for t, n, em, _ in curve(short_answer_rows(results))}
    assert points[2.0] == (2, 0.5) and points[9.0] == (1, 1.0) and 9.5 not in points
