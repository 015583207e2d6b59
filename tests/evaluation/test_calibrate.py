"""The abstention curve: swept from one threshold-free run, it matches what each threshold really does."""

import json
from pathlib import Path

import pytest

from assistant.evaluation.calibrate import (
    NO_THRESHOLD,
    Point,
    calibrate,
    calibration_runs,
    declines,
    sweep,
    table,
)
from assistant.evaluation.runner import run_eval
from assistant.evaluation.sets import read_set
from assistant.settings import Settings
from tests.evaluation.test_cli_eval import PARAGRAPHS, SEED, jsonl


def row(answerable: bool, support: float | None, abstained: bool = False, gold: bool = True) -> dict:
    return {"answerable": answerable, "support": support, "abstained": abstained, "scores": {"contains_gold": gold}}


def test_sweep_counts_what_each_threshold_would_decline() -> None:
    rows = [
        row(True, 0.9),  # answered well at every threshold here
        row(True, 0.4, gold=False),  # answered, but without a gold answer
        row(True, 0.5, abstained=True),  # a rule declined it: declined at every threshold
        row(False, 0.3),
        row(False, None),  # nothing retrieved: always declined
    ]
    assert sweep(rows, [0.2, 0.45, 1.0]) == [
        Point(0.2, answered_correctly=0.333, abstained_wrongly=0.333, abstained_rightly=0.5),
        Point(0.45, answered_correctly=0.333, abstained_wrongly=0.667, abstained_rightly=1.0),
        Point(1.0, answered_correctly=0.0, abstained_wrongly=1.0, abstained_rightly=1.0),
    ]
    assert declines(row(True, 0.35), 0.35) is False and declines(row(True, 0.349), 0.35) is True


def test_table_marks_the_default() -> None:
    out = table(
        [Point(NO_THRESHOLD, 0.7, 0.0, 0.5), Point(0.3, 0.7, 0.01, 0.9), Point(0.35, 0.7, 0.01, 0.95)], default=0.35
    )
    assert "| none (the rules only) | 0.700 | 0.000 | 0.500 |" in out
    assert "| 0.30 | 0.700 | 0.010 | 0.900 |" in out
    assert "| **0.35 (default)** | **0.700** | **0.010** | **0.950** |" in out


@pytest.fixture
def sets(tmp_path: Path) -> Path:
    folder = tmp_path / "eval"
    jsonl(folder / "seed_questions.jsonl", SEED)
    squad = {"version": "1.1", "data": [{"title": "Super_Bowl_50", "paragraphs": PARAGRAPHS}]}
    (folder / "squad_v1_super_bowl_50.json").write_text(json.dumps(squad), encoding="utf-8")
    unanswerable = [{"question": "Who is the Turkish ambassador to Russia?", "answers": []}]
    jsonl(folder / "sample_unanswerable.jsonl", unanswerable)
    return folder


def test_each_set_is_also_asked_of_the_other_documents(sets: Path, tmp_path: Path) -> None:
    settings = Settings(eval_cache_dir=tmp_path / "cache")
    runs = calibration_runs(settings, sets)
    assert [p.name for p, _ in runs[:2]] == ["seed_questions.jsonl", "squad_v1_super_bowl_50.json"]
    seed_off, squad_off = read_set(runs[2][0]), read_set(runs[3][0])
    assert [q.question for q in seed_off.questions] == [q["question"] for q in SEED]
    assert len(squad_off.questions) == 3
    assert not any(q.answerable for q in [*seed_off.questions, *squad_off.questions])
    # Off-topic questions go to the other set's documents.
    assert runs[2][1][0].name.endswith(".contexts.jsonl") and runs[3][1][0].name == SEED[0]["evidence"][0]["doc"]
    # The on-topic questions the seed article does not answer are asked of it.
    assert runs[4][0].name == "sample_unanswerable.jsonl" and runs[4][1] == runs[3][1]


def test_the_swept_curve_is_what_the_threshold_does(sets: Path, tmp_path: Path) -> None:
    settings = Settings(eval_cache_dir=tmp_path / "cache")
    default = settings.min_score
    rules_only, swept = calibrate(settings, sets, [default])
    assert rules_only.threshold == NO_THRESHOLD and rules_only.abstained_rightly <= swept.abstained_rightly
    rows = []
    for set_path, corpus in calibration_runs(settings, sets):
        rows += run_eval(set_path, corpus=corpus, configs=["default"], settings=settings).runs[0].rows
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    assert unanswerable and answerable
    assert swept.abstained_rightly == round(sum(r["abstained"] for r in unanswerable) / len(unanswerable), 3)
    assert swept.abstained_wrongly == round(sum(r["abstained"] for r in answerable) / len(answerable), 3)
    correct = sum(r["scores"]["contains_gold"] for r in answerable)
    assert swept.answered_correctly == round(correct / len(answerable), 3)
