"""The reader: span decoding, the shipped int8 ONNX model read offline, and the no-answer score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.models.reader import PACKAGED_READER, PACKAGED_READER_DIR, Window, best_span, decode, get_reader

ARTICLE = (
    "Police arrested 40 protesters outside the parliament in Vellmora on Tuesday. "
    "The protest began after the government raised fuel prices by a third."
)


def test_best_span_is_the_highest_allowed_pair_in_order_and_short_enough() -> None:
    starts = np.array([9.0, 1.0, 0.0, 3.0, 0.0])
    ends = np.array([0.0, 0.0, 5.0, 0.0, 8.0])
    allowed = np.array([False, True, True, True, True])  # token 0 is the question's
    assert best_span(starts, ends, allowed, max_tokens=5) == (3, 4, 11.0)
    # Too long a span is not an answer: token 1 to 4 spans 4 tokens.
    assert best_span(starts, ends, allowed, max_tokens=2) == (3, 4, 11.0)
    assert best_span(starts, ends, allowed, max_tokens=1) == (4, 4, 8.0)
    assert best_span(starts, ends, np.zeros(5, dtype=bool), max_tokens=5) is None


def test_a_context_keeps_its_best_window_and_its_lowest_no_answer_score() -> None:
    allowed = np.array([False, True, True])
    offsets = [(0, 0), (0, 4), (5, 9)]
    windows = [Window(c, [], [], allowed, offsets) for c in (0, 0, 1)]
    starts = [np.array([2.0, 1.0, 0.0]), np.array([5.0, 0.0, 4.0]), np.array([0.0, 3.0, 0.0])]
    ends = [np.array([2.0, 1.0, 0.0]), np.array([5.0, 0.0, 4.0]), np.array([0.0, 3.0, 0.0])]
    spans = decode(windows, starts, ends, max_tokens=5)
    # Context 1: span 6 against no answer 0; context 0: span 8 (second window) against its lowest no answer, 4.
    assert [(s.context, s.start, s.end, s.score, s.null) for s in spans] == [(1, 0, 4, 6.0, 0.0), (0, 5, 9, 8.0, 4.0)]
    assert spans[0].margin == 6.0


def test_a_folder_that_is_not_a_reader_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a local question-answering model"):
        get_reader(str(tmp_path))


def test_the_shipped_reader_has_its_card_and_calibration() -> None:
    card = (PACKAGED_READER_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "all-MiniLM-L6-v2" in card and "python -m training.train_reader" in card
    assert (PACKAGED_READER_DIR / "model.onnx").stat().st_size < 40_000_000
    assert "min_margin" in get_reader(PACKAGED_READER).settings  # type: ignore[attr-defined]


def test_the_shipped_reader_finds_the_answer_with_exact_offsets() -> None:
    reader = get_reader(PACKAGED_READER)
    other = "The festival moved to the riverside because the old market square was closed for repairs."
    spans = reader.read("How many people were arrested?", [other, ARTICLE])
    top = spans[0]
    assert top.context == 1 and ARTICLE[top.start : top.end] == "40"
    assert top.margin > spans[1].margin


def test_the_shipped_reader_prefers_no_answer_when_the_text_has_none() -> None:
    reader = get_reader(PACKAGED_READER)
    threshold = reader.settings["min_margin"]  # type: ignore[attr-defined]
    [answered] = reader.read("Why did the protest begin?", [ARTICLE])
    [declined] = reader.read("Which company built the harbour crane?", [ARTICLE])
    assert answered.margin >= threshold > declined.margin
