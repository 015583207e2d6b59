"""`assistant eval` end to end on tiny sets: real index, real model, real report files."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assistant.cli import main
from assistant.evaluation.metrics import SUMMARY_METRICS
from tests.conftest import write

DOC = "000_d4614d5e4eabd9fe.txt"
PREFERENCE = "Tokayev preferred Russia over Turkey and has been purging Nazarbayev’s loyalists in key positions."
SEED = [
    {
        "id": "t1",
        "question": "why did Tokayev prefer the CSTO?",
        "answers": ["Tokayev preferred Russia over Turkey"],
        "evidence": [{"doc": DOC, "start": 4337, "end": 4435, "text": PREFERENCE}],
        "answerable": True,
    },
    {
        "id": "t2",
        "question": "What drones is Turkey supplying to Ukraine?",
        "answers": ["Bayraktar TB2"],
        "evidence": [
            {
                "doc": DOC,
                "start": 762,
                "end": 835,
                "text": "is ironically fully backing Kiev with Turkish Bayraktar TB2 combat drones",
            }
        ],
        "answerable": True,
    },
    {
        "id": "t3",
        "question": "What is the boiling point of mercury?",
        "answers": [],
        "evidence": [],
        "answerable": False,
    },
]
PARAGRAPHS = [
    {
        "context": "The Denver Broncos defeated the Carolina Panthers 24–10 to win Super Bowl 50.",
        "qas": [
            {
                "id": "s1",
                "question": "Who won Super Bowl 50?",
                "answers": [{"answer_start": 4, "text": "Denver Broncos"}],
            },
            {"id": "s2", "question": "What was the final score?", "answers": [{"answer_start": 50, "text": "24–10"}]},
        ],
    },
    {
        "context": "The game was played at Levi's Stadium in Santa Clara, California, in February 2016.",
        "qas": [
            {
                "id": "s3",
                "question": "Where was the game played?",
                "answers": [{"answer_start": 23, "text": "Levi's Stadium"}],
            }
        ],
    },
]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("ASSISTANT_EVAL_CACHE_DIR", str(tmp_path / "cache"))

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["eval", *args], catch_exceptions=False)

    return invoke


def jsonl(path: Path, records: list[dict]) -> Path:
    return write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def test_seed_style_set_on_the_bundled_article_with_two_configs(tmp_path: Path, run) -> None:  # noqa: ANN001
    out = tmp_path / "report"
    result = run(
        str(jsonl(tmp_path / "tiny.jsonl", SEED)), "--config", "default", "--config", "baseline", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "| hit@1 |" in result.output and "report.md" in result.output

    summary = json.loads((out / "summary.json").read_text())
    assert summary["set"] == {
        "name": "tiny",
        "path": str(tmp_path / "tiny.jsonl"),
        "format": "jsonl",
        "questions": 3,
        "evaluated": 3,
        "complete": True,
    }
    assert list(summary["configs"]) == ["default", "baseline"]
    for block in summary["configs"].values():
        assert set(SUMMARY_METRICS) <= set(block)
        assert block["citation_validity"] == 1.0
        assert block["counts"]["questions"] == 3 and block["index_seconds"] > 0
    # The plain recipe never abstains, so it answers the unanswerable question.
    assert summary["configs"]["baseline"]["no_ans_accuracy"] == 0.0
    assert summary["machine"]["cpus"] >= 1

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["config"], r["id"]) for r in rows] == [
        (c, i) for c in ("default", "baseline") for i in ("t1", "t2", "t3")
    ]
    first = rows[0]
    assert {"prediction", "citations", "passages", "scores", "latency_ms", "retrieval_ms"} <= set(first)
    assert len(first["passages"]) == 10 and first["scores"]["hit@10"] == 1.0

    md = (out / "report.md").read_text()
    assert "| metric | default | baseline |" in md and "## Worst questions: baseline" in md and "t3" in md
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2 and "<table>" in page
    assert (out / "hit_at_k.png").read_bytes()[:4] == b"\x89PNG"


def test_squad_set_builds_and_caches_its_own_index(tmp_path: Path, run) -> None:  # noqa: ANN001
    squad = write(
        tmp_path / "sb.json", json.dumps({"version": "1.1", "data": [{"title": "SB", "paragraphs": PARAGRAPHS}]})
    )
    first = run(str(squad), "--out", str(tmp_path / "one"))
    second = run(str(squad), "--out", str(tmp_path / "two"))
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    one = json.loads((tmp_path / "one" / "summary.json").read_text())["configs"]["default"]
    two = json.loads((tmp_path / "two" / "summary.json").read_text())["configs"]["default"]
    assert (one["index_cached"], two["index_cached"]) == (False, True)
    assert two["index_seconds"] == one["index_seconds"]
    # Each paragraph is its own document, and the gold spans map onto them: with 2 documents, every question's
    # paragraph is among the top 10, and the only passage of the other paragraph can push it to rank 2 at worst.
    assert one["hit@10"] == 1.0 and one["mrr@10"] >= 0.5 and one["citation_validity"] == 1.0

    def stable(folder: str) -> list[dict]:
        rows = [json.loads(line) for line in (tmp_path / folder / "results.jsonl").read_text().splitlines()]
        return [{k: v for k, v in r.items() if not k.endswith("_ms")} for r in rows]

    assert stable("one") == stable("two")  # deterministic on the same index and settings


def test_limit_marks_the_run_partial(tmp_path: Path, run) -> None:  # noqa: ANN001
    squad = write(tmp_path / "sb.json", json.dumps({"data": [{"title": "SB", "paragraphs": PARAGRAPHS}]}))
    result = run(str(squad), "--limit", "2", "--out", str(tmp_path / "part"))
    assert result.exit_code == 0
    assert "partial run: 2 of 3" in result.output
    summary = json.loads((tmp_path / "part" / "summary.json").read_text())
    assert summary["set"]["complete"] is False and summary["configs"]["default"]["counts"]["questions"] == 2
    assert "Partial run" in (tmp_path / "part" / "report.md").read_text()


def test_csv_set_with_a_corpus_and_conversations(tmp_path: Path, run) -> None:  # noqa: ANN001
    corpus = write(
        tmp_path / "docs" / "pets.txt", "Rex is a dog who lives in Oslo. Tom is a cat. Tom eats fish every day."
    )
    csv = write(
        tmp_path / "pets.csv", "question,answer,source\nWhere does Rex live?,Oslo,pets.txt\nWhat does Tom eat?,fish,\n"
    )
    result = run(
        str(csv), "--corpus", str(tmp_path / "docs"), "--config", "min_score=0", "--out", str(tmp_path / "csv")
    )
    assert result.exit_code == 0, result.output
    block = json.loads((tmp_path / "csv" / "summary.json").read_text())["configs"]["min_score=0"]
    assert (
        block["hit@1"] == 1.0
        and block["answer_contains_gold"] == 1.0
        and block["config"]["overrides"] == {"min_score": 0.0}
    )
    assert corpus.exists()

    conv = jsonl(tmp_path / "conv.jsonl", [{"id": "c", "turns": SEED[:2]}])
    result = run(str(conv), "--out", str(tmp_path / "conv"))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "conv" / "results.jsonl").read_text().splitlines()]
    assert [(r["conversation"], r["turn"]) for r in rows] == [("c", 0), ("c", 1)]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ('{"question": "Q?", "answers": 3}\n', [], '"answers" must be a list of strings'),
        (
            '{"question": "Q?", "evidence": [{"doc": "other.txt", "start": 0, "end": 3}]}\n',
            [],
            "not bundled (other.txt): pass --corpus",
        ),
        (
            '{"question": "Q?", "evidence": [{"doc": "' + DOC + '", "start": 0, "end": 9, "text": "not this"}]}\n',
            [],
            "is not its stated text",
        ),
        ('{"question": "Q?", "answers": ["x"]}\n', ["--config", "top_k=lots"], "top_k='lots' is not a valid int"),
    ],
)
def test_invalid_input_fails_clearly_without_a_report(
    tmp_path: Path,
    run,
    content: str,
    args: list[str],
    message: str,  # noqa: ANN001
) -> None:
    result = run(str(write(tmp_path / "bad.jsonl", content)), *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_given_index_is_ingested_into_and_used(tmp_path: Path, run) -> None:  # noqa: ANN001
    from assistant import Assistant

    index = tmp_path / "my-index"
    args = [str(jsonl(tmp_path / "tiny.jsonl", SEED[:1])), "--index", str(index)]
    result = run(*args, "--config", "baseline", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    block = json.loads((tmp_path / "r" / "summary.json").read_text())["configs"]["baseline"]
    assert block["index_cached"] is False and block["citation_validity"] == 1.0
    assert [Path(d.source).name for d in Assistant(index_dir=index).documents()] == [DOC]
    # A config that would need differently split passages cannot share a given index.
    result = run(*args, "--config", "passage_chars=300", "--out", str(tmp_path / "r2"))
    assert result.exit_code == 1 and "need their own index" in result.output
