"""Each metric against values computed by hand."""

import pytest

from assistant.evaluation.metrics import (
    SUMMARY_METRICS,
    aggregate,
    best_em_f1,
    contains_answer,
    exact_match,
    hit_at_k,
    normalize_answer,
    overlaps,
    percentile,
    recall_at_k,
    reciprocal_rank,
    token_f1,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("The Denver Broncos", "denver broncos"),  # article and case
        ("an apple a day", "apple day"),  # every article, as whole words only
        ("Theater another", "theater another"),  # "the"/"an" inside words stay
        ("Santa Clara, California.", "santa clara california"),  # punctuation
        ("  24–10 ,  (final)  ", "24–10 final"),  # whitespace collapsed; the en dash is not ASCII punctuation
        ("Levi's   Stadium\n", "levis stadium"),
        ("", ""),
    ],
)
def test_squad_normalization(raw: str, normalized: str) -> None:
    assert normalize_answer(raw) == normalized


def test_exact_match_ignores_case_articles_and_punctuation() -> None:
    assert exact_match("the Denver Broncos!", "Denver Broncos") == 1.0
    assert exact_match("Denver", "Denver Broncos") == 0.0


def test_token_f1_by_hand() -> None:
    # pred [denver, broncos, won] vs gold [denver, broncos]: 2 shared, P = 2/3, R = 1, F1 = 0.8
    assert token_f1("the Denver Broncos won", "Denver Broncos") == pytest.approx(0.8)
    # pred [a, b, b] (after normalization: [b, b] since "a" is an article) vs gold [b, c]: 1 shared, P=1/2, R=1/2
    assert token_f1("a b b", "b c") == pytest.approx(0.5)
    assert token_f1("Carolina", "Denver Broncos") == 0.0
    # SQuAD v2.0: empty against empty is right, anything else against empty is wrong.
    assert token_f1("", "") == 1.0
    assert token_f1("Denver", "") == 0.0
    assert token_f1("", "Denver") == 0.0


def test_best_over_gold_answers_and_unanswerable_convention() -> None:
    em, f1 = best_em_f1("Levi's Stadium in Santa Clara", ["Santa Clara", "Levi's Stadium"])
    # vs "Santa Clara": pred 5 tokens [levis, stadium, in, santa, clara], 2 shared: P=2/5, R=1, F1=4/7
    assert em == 0.0
    assert f1 == pytest.approx(4 / 7)
    assert best_em_f1("", []) == (1.0, 1.0)  # abstaining on an unanswerable question
    assert best_em_f1("Something", []) == (0.0, 0.0)


def test_contains_answer_matches_whole_normalized_words() -> None:
    assert contains_answer("They flew an estimated 20 planes.", ["20"])
    assert not contains_answer("They flew 200 planes.", ["20"])
    assert contains_answer("The Nord Stream 2 gas pipeline", ["nord stream 2", "missing"])
    assert not contains_answer("anything", [""])


def test_overlaps_is_half_open() -> None:
    assert overlaps(0, 10, 9, 20)
    assert not overlaps(0, 10, 10, 20)
    assert overlaps(5, 6, 0, 100)


def test_rank_metrics_by_hand() -> None:
    supports = [False, False, True, False, True]
    assert [hit_at_k(supports, k) for k in (1, 3, 5, 10)] == [0.0, 1.0, 1.0, 1.0]
    assert reciprocal_rank(supports) == pytest.approx(1 / 3)
    assert reciprocal_rank([False] * 10 + [True]) == 0.0  # beyond depth 10
    # Two gold units; rank 3 covers unit 0, rank 5 covers units 0 and 1.
    covered = [set(), set(), {0}, set(), {0, 1}]
    assert recall_at_k(covered, 2, 3) == 0.5
    assert recall_at_k(covered, 2, 10) == 1.0


def test_percentile_interpolates_linearly() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([], 50) is None


def _row(
    answerable: bool,
    abstained: bool,
    f1: float,
    em: float,
    citations: list[tuple[bool, bool]],
    hits: tuple[float, float, float, float] = (0, 0, 0, 0),
    rr: float = 0.0,
    units: int = 1,
    cited: int = 0,
    latency: float = 100.0,
) -> dict:
    return {
        "answerable": answerable,
        "abstained": abstained,
        "citations": [{"valid": v, "supports": s} for v, s in citations],
        "latency_ms": latency,
        "retrieval_ms": latency / 2,
        "scores": {
            "hit@1": hits[0],
            "hit@3": hits[1],
            "hit@5": hits[2],
            "hit@10": hits[3],
            "recall@10": hits[3],
            "rr@10": rr,
            "em": em,
            "f1": f1,
            "supported": cited > 0,
            "contains_gold": em > 0,
            "evidence_units": units if answerable else 0,
            "evidence_units_cited": cited,
        },
    }


def test_aggregate_by_hand() -> None:
    rows = [
        # answerable, answered with one supporting and one unsupporting citation; first hit at rank 1
        _row(
            True,
            False,
            f1=0.5,
            em=0.0,
            citations=[(True, True), (True, False)],
            hits=(1, 1, 1, 1),
            rr=1.0,
            units=2,
            cited=1,
            latency=100,
        ),
        # answerable, wrongly abstained; first hit at rank 2
        _row(True, True, f1=0.0, em=0.0, citations=[], hits=(0, 1, 1, 1), rr=0.5, units=1, latency=200),
        # unanswerable, rightly abstained (v2 convention: em = f1 = 1)
        _row(False, True, f1=1.0, em=1.0, citations=[], latency=300),
        # unanswerable, answered with an invalid citation
        _row(False, False, f1=0.0, em=0.0, citations=[(False, False)], latency=400),
    ]
    s = aggregate(rows, index_seconds=1.5)
    assert set(SUMMARY_METRICS) <= set(s)
    assert s["hit@1"] == 0.5 and s["hit@3"] == 1.0
    assert s["mrr@10"] == 0.75
    assert s["em"] == 0.25 and s["f1"] == 0.375
    assert s["has_ans_f1"] == 0.25
    assert s["no_ans_accuracy"] == 0.5
    assert s["citation_validity"] == pytest.approx(2 / 3)
    assert s["citation_precision"] == pytest.approx(1 / 3)
    assert s["citation_recall"] == pytest.approx(1 / 3)  # 1 of 3 gold units cited
    assert s["abstain_precision"] == 0.5  # 2 abstentions, 1 on an unanswerable question
    assert s["abstain_recall"] == 0.5  # 2 unanswerable questions, 1 abstained on
    assert s["answer_supported"] == 0.5
    assert s["latency_p50_ms"] == 250.0
    assert s["latency_p95_ms"] == pytest.approx(385.0)
    assert s["index_seconds"] == 1.5


def test_aggregate_without_unanswerable_questions_leaves_abstention_undefined() -> None:
    s = aggregate([_row(True, False, f1=1.0, em=1.0, citations=[(True, True)], cited=1)], index_seconds=None)
    assert s["no_ans_accuracy"] is None and s["abstain_recall"] is None and s["abstain_precision"] is None
    assert s["citation_validity"] == 1.0 and s["em"] == 1.0
