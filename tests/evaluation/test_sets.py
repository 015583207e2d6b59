"""Each set format's reader on small fixtures, and clear errors for invalid sets."""

import json
from pathlib import Path

import pytest

from assistant.evaluation.sets import Evidence, SetError, read_set
from tests.conftest import write

QUESTION = {
    "id": "q1",
    "question": "Which pipeline?",
    "answers": ["Nord Stream 2"],
    "evidence": [{"doc": "a.txt", "start": 5, "end": 17, "text": "Nord Stream 2"}],
    "answerable": True,
}
UNANSWERABLE = {"id": "q2", "question": "Who won the lottery?", "answers": [], "evidence": [], "answerable": False}


def squad(paragraphs: list[dict], version: str | None = None) -> str:
    data: dict = {"data": [{"title": "T", "paragraphs": paragraphs}]}
    if version:
        data["version"] = version
    return json.dumps(data)


def test_our_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path / "set.jsonl", json.dumps(QUESTION) + "\n\n" + json.dumps(UNANSWERABLE) + "\n")
    s = read_set(path)
    assert s.format == "jsonl"
    assert [q.id for q in s.questions] == ["q1", "q2"]
    assert s.questions[0].evidence == (Evidence("a.txt", 5, 17, "Nord Stream 2"),)
    assert s.questions[0].answerable and not s.questions[1].answerable
    assert s.referenced_docs() == ["a.txt"]
    assert not s.documents


def test_jsonl_defaults_id_and_answerable(tmp_path: Path) -> None:
    s = read_set(write(tmp_path / "mine.jsonl", json.dumps({"question": "Q?", "answers": ["x"]}) + "\n"))
    q = s.questions[0]
    assert q.id == "mine-1" and q.answerable and q.evidence == ()


def test_conversations(tmp_path: Path) -> None:
    conv = {"id": "c1", "turns": [QUESTION, {**QUESTION, "id": "q1b", "question": "Why that one?"}]}
    s = read_set(write(tmp_path / "conv.jsonl", json.dumps(conv) + "\n" + json.dumps(UNANSWERABLE) + "\n"))
    assert s.format == "conversations"
    assert [(q.id, q.conversation, q.turn) for q in s.questions] == [("q1", "c1", 0), ("q1b", "c1", 1), ("q2", None, 0)]


def test_csv(tmp_path: Path) -> None:
    text = 'question,answer,source\n"Which pipeline, exactly?",Nord Stream 2,a.txt\nWho won the lottery?,,\n'
    s = read_set(write(tmp_path / "set.csv", text))
    assert s.format == "csv"
    first, second = s.questions
    assert first.question == "Which pipeline, exactly?" and first.answers == ("Nord Stream 2",)
    assert first.evidence == (Evidence("a.txt"),) and first.answerable
    assert not second.answerable and second.answers == ()
    assert read_set(write(tmp_path / "two.csv", "question,answer\nQ?,A\n")).questions[0].evidence == (Evidence(""),)


def test_squad_v1(tmp_path: Path) -> None:
    context = "Super Bowl 50 was won by the Denver Broncos."
    paragraphs = [
        {
            "context": context,
            "qas": [
                {
                    "id": "s1",
                    "question": "Who won?",
                    "answers": [
                        {"answer_start": 29, "text": "Denver Broncos"},
                        {"answer_start": 25, "text": "the Denver Broncos"},
                        {"answer_start": 29, "text": "Denver Broncos"},
                    ],
                }
            ],
        },
        {"context": "Second paragraph.", "qas": []},
    ]
    s = read_set(write(tmp_path / "sb.json", squad(paragraphs)))
    assert s.format == "squad-v1.1"
    assert [d.name for d in s.documents] == ["sb.contexts.jsonl#1", "sb.contexts.jsonl#2"]
    assert s.documents[0].text == context
    q = s.questions[0]
    assert q.answers == ("Denver Broncos", "the Denver Broncos", "Denver Broncos")
    # Distinct spans only; each is exactly the context at its offsets.
    assert [(e.start, e.end) for e in q.evidence] == [(29, 43), (25, 43)]
    assert all(context[e.start : e.end] == e.text for e in q.evidence)


def test_squad_v2_is_detected_from_content(tmp_path: Path) -> None:
    paragraphs = [
        {
            "context": "Paris is in France.",
            "qas": [
                {
                    "id": "a",
                    "question": "Where is Paris?",
                    "answers": [{"answer_start": 12, "text": "France"}],
                    "is_impossible": False,
                },
                {
                    "id": "b",
                    "question": "Where is Berlin?",
                    "answers": [],
                    "is_impossible": True,
                    "plausible_answers": [{"answer_start": 12, "text": "France"}],
                },
            ],
        }
    ]
    s = read_set(write(tmp_path / "v2.json", squad(paragraphs)))
    assert s.format == "squad-v2.0"
    answerable, impossible = s.questions
    assert answerable.answerable and answerable.evidence[0].start == 12
    assert not impossible.answerable and impossible.answers == () and impossible.evidence == ()


def test_squad_misaligned_offset_is_realigned_to_the_nearest_occurrence(tmp_path: Path) -> None:
    paragraphs = [
        {
            "context": "one two three two",
            "qas": [{"id": "x", "question": "Which?", "answers": [{"answer_start": 12, "text": "two"}]}],
        }
    ]
    assert read_set(write(tmp_path / "m.json", squad(paragraphs))).questions[0].evidence[0].start == 14


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", "  \n", "empty"),
        ("bad.jsonl", '{"question": "Q?", "answers": ["a"]}\n{"question": \n', "bad.jsonl:2: malformed JSON"),
        ("noq.jsonl", '{"answers": ["a"]}\n', 'missing "question"'),
        ("types.jsonl", '{"question": "Q?", "answers": "a"}\n', '"answers" must be a list of strings'),
        (
            "ev.jsonl",
            '{"question": "Q?", "evidence": [{"doc": "a.txt", "start": "5", "end": 9}]}\n',
            '"start" must be a non-negative integer',
        ),
        (
            "order.jsonl",
            '{"question": "Q?", "evidence": [{"doc": "a.txt", "start": 9, "end": 5}]}\n',
            '"end" must be greater',
        ),
        ("gold.jsonl", '{"question": "Q?", "answerable": true}\n', 'needs "answers" or "evidence"'),
        ("flag.jsonl", '{"question": "Q?", "answers": ["a"], "answerable": "yes"}\n', '"answerable" must be'),
        (
            "dup.jsonl",
            '{"id": "a", "question": "Q?", "answers": ["x"]}\n{"id": "a", "question": "R?", "answers": ["y"]}\n',
            "duplicate question ids: a",
        ),
        ("turns.jsonl", '{"id": "c", "turns": []}\n', '"turns" must be a non-empty list'),
        ("list.json", "[1, 2]", "a JSON list is not a question set"),
        ("header.csv", "q,a\nQ?,A\n", "header `question,answer[,source]`"),
        ("cells.csv", "question,answer\nQ?,A,extra\n", "cells.csv:2: more cells than header columns"),
        (
            "squad.json",
            squad([{"context": "c", "qas": [{"id": "z", "question": "Q?", "answers": []}]}]),
            "needs at least one answer",
        ),
        (
            "squad2.json",
            squad(
                [
                    {
                        "context": "abc",
                        "qas": [{"id": "z", "question": "Q?", "answers": [{"answer_start": 0, "text": "xyz"}]}],
                    }
                ]
            ),
            "does not occur in the paragraph",
        ),
        ("squad3.json", '{"data": {"title": "x"}}', '"data" must be a list'),
    ],
)
def test_invalid_sets_fail_clearly(tmp_path: Path, name: str, content: str, message: str) -> None:
    with pytest.raises(SetError, match=message.replace("(", r"\(").replace("[", r"\[").replace("`", ".")):
        read_set(write(tmp_path / name, content))


def test_shipped_sets_read() -> None:
    root = Path(__file__).resolve().parents[2] / "eval"
    seed = read_set(root / "seed_questions.jsonl")
    assert (len(seed.questions), sum(q.answerable for q in seed.questions)) == (25, 22)
    assert read_set(root / "seed_conversations.jsonl").format == "conversations"
    sb = read_set(root / "squad_v1_super_bowl_50.json")
    assert (sb.format, len(sb.questions), len(sb.documents)) == ("squad-v1.1", 810, 54)


def test_our_own_shipped_sets_read_and_their_evidence_is_the_articles_text() -> None:
    root = Path(__file__).resolve().parents[2] / "eval"
    unanswerable = read_set(root / "sample_unanswerable.jsonl")
    assert len(unanswerable.questions) == 12 and not any(q.answerable for q in unanswerable.questions)
    news = read_set(root / "news_questions.jsonl")
    assert (len(news.questions), sum(q.answerable for q in news.questions)) == (18, 15)
    assert news.referenced_docs() == ["001_election.txt"]
    article = (root / "news" / "001_election.txt").read_text(encoding="utf-8")
    for q in news.questions:
        for e in q.evidence:
            assert article[e.start : e.end] == e.text
