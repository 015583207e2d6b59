"""Per-question scoring: predictions, evidence matching, citations and passages."""

import pytest

from assistant.evaluation.runner import doc_matches, prediction_text, score
from assistant.evaluation.sets import Evidence, Question
from assistant.types import Answer, Citation, Passage, ScoredPassage

TEXT = "Intro. Berlin relies on Nord Stream 2 gas. Turkey sells drones. The end."
DOC = "/corpus/a.txt"


def span(text: str) -> tuple[int, int]:
    start = TEXT.index(text)
    return start, start + len(text)


def passage(text: str, score: float = 0.5) -> ScoredPassage:
    a, b = span(text)
    return ScoredPassage(Passage("d1", DOC, a, b, text), score)


def citation(n: int, text: str, source: str = DOC) -> Citation:
    a, b = span(text)
    return Citation(n, source, "d1", a, b, text)


def test_prediction_text() -> None:
    answer = Answer("q", "Nord Stream 2 gas. [1] Turkey sells drones. [2]", abstained=False)
    assert prediction_text(answer) == "Nord Stream 2 gas. Turkey sells drones."
    answer.short_answer = "Nord Stream 2"  # type: ignore[attr-defined]  (what a span-extracting answerer adds)
    assert prediction_text(answer) == "Nord Stream 2"
    assert prediction_text(Answer("q", "The articles do not say.", abstained=True)) == ""


def test_doc_matches_by_file_name_or_jsonl_record() -> None:
    assert doc_matches("/x/y/a.txt", "a.txt")
    assert doc_matches("/x/sb.contexts.jsonl#3", "sb.contexts.jsonl#3")
    assert not doc_matches("/x/sb.contexts.jsonl#13", "sb.contexts.jsonl#3")
    assert not doc_matches("/x/b.txt", "a.txt")
    assert doc_matches("/x/b.txt", "")  # no document named: any


def test_score_with_offset_evidence() -> None:
    gold_a, gold_b = span("Nord Stream 2"), span("drones")
    q = Question(
        "q1",
        "Which pipeline?",
        ("Nord Stream 2",),
        (Evidence("a.txt", *gold_a, "Nord Stream 2"), Evidence("a.txt", *gold_b, "drones")),
        True,
    )
    answer = Answer(
        "Which pipeline?",
        "Berlin relies on Nord Stream 2 gas. [1] The end. [2]",
        abstained=False,
        citations=[citation(1, "Berlin relies on Nord Stream 2 gas."), citation(2, "The end.")],
    )
    passages = [
        passage("Intro."),
        passage("Berlin relies on Nord Stream 2 gas. Turkey sells drones."),
        passage("The end."),
    ]
    row = score(q, answer, passages, {"d1": TEXT}.__getitem__)
    s = row["scores"]
    assert (s["hit@1"], s["hit@3"], s["rr@10"], s["recall@10"]) == (0.0, 1.0, 0.5, 1.0)
    assert row["first_supporting_rank"] == 2
    assert [p["supports"] for p in row["passages"]] == [False, True, False]
    assert set(row["passages"][1]) == {"source", "doc_id", "start", "end", "score", "supports"}
    assert [(c["valid"], c["supports"]) for c in row["citations"]] == [(True, True), (True, False)]
    assert (s["evidence_units"], s["evidence_units_cited"], s["supported"], s["contains_gold"]) == (2, 1, True, True)
    # prediction "Berlin relies on Nord Stream 2 gas. The end." vs "Nord Stream 2": 3 of 8 tokens shared
    assert s["em"] == 0.0
    assert s["f1"] == pytest.approx(2 * (3 / 8) * 1 / (3 / 8 + 1))


def test_invalid_citation_is_caught() -> None:
    q = Question("q1", "Q?", ("drones",), (Evidence("a.txt", *span("drones"), "drones"),), True)
    a, b = span("drones")
    wrong = Citation(1, DOC, "d1", a, b, "drone!")
    row = score(q, Answer("Q?", "drone! [1]", False, citations=[wrong]), [], {"d1": TEXT}.__getitem__)
    assert row["citations"][0]["valid"] is False
    missing = Citation(1, DOC, "nope", a, b, "drones")
    row = score(q, Answer("Q?", "drones [1]", False, citations=[missing]), [], {"d1": TEXT}.__getitem__)
    assert row["citations"][0]["valid"] is False


def test_score_with_answers_only_and_unanswerable() -> None:
    q = Question("c1", "What does Turkey sell?", ("drones",), (Evidence("a.txt"),), True)
    passages = [passage("Intro."), passage("Turkey sells drones.")]
    answer = Answer("q", "Turkey sells drones. [1]", False, citations=[citation(1, "Turkey sells drones.")])
    s = score(q, answer, passages, {"d1": TEXT}.__getitem__)["scores"]
    assert (s["hit@1"], s["hit@3"], s["evidence_units"], s["evidence_units_cited"]) == (0.0, 1.0, 1, 1)
    # The right words in another document do not count.
    other = Question("c2", "What does Turkey sell?", ("drones",), (Evidence("b.txt"),), True)
    assert score(other, answer, passages, {"d1": TEXT}.__getitem__)["scores"]["hit@10"] == 0.0

    none = Question("u1", "Who won the lottery?", (), (), False)
    abstained = score(none, Answer("q", "The articles do not say.", True), passages, {"d1": TEXT}.__getitem__)
    assert (abstained["scores"]["em"], abstained["scores"]["f1"], abstained["scores"]["evidence_units"]) == (
        1.0,
        1.0,
        0,
    )
    answered = score(none, answer, passages, {"d1": TEXT}.__getitem__)
    assert answered["scores"]["f1"] == 0.0 and answered["citations"][0]["supports"] is False
