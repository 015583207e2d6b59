"""The Python API as a user meets it: filters that are refused or match nothing, and the README's snippet."""

import re
from pathlib import Path

import pytest

from assistant import Assistant, Filters
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE, write

ROOT = Path(__file__).resolve().parents[1]
NO_MATCH = "The articles do not say. No article matches these filters."


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"date_from": "2022-13-01"}, "date_from: not a date (YYYY-MM-DD): '2022-13-01' (month must be in 1..12)"),
        ({"date_to": "2022-02-30"}, "date_to: not a date (YYYY-MM-DD): '2022-02-30' (day is out of range for month)"),
        ({"date_to": "2022-1-5"}, "date_to: not a date (YYYY-MM-DD): '2022-1-5'"),
        ({"date_from": "2022-03-01", "date_to": "2022-02-01"}, "date_to: 2022-02-01 is before date_from 2022-03-01"),
    ],
)
def test_filters_refuse_a_day_the_calendar_lacks_naming_the_field(fields: dict, error: str) -> None:
    with pytest.raises(ValueError) as refused:
        Filters(**fields)
    assert str(refused.value) == error


def test_filters_take_real_days_and_a_one_day_range() -> None:
    assert Filters(date_from="2024-02-29", date_to="2024-02-29")
    assert Filters(date_from="20220101").date_from == "20220101"


@pytest.mark.parametrize("retrieval", ["hybrid", "dense"])  # dense without reranking: the plain DenseRetriever
@pytest.mark.parametrize(
    "filters", [Filters(date_from="2030-01-01"), Filters(sources=("/elsewhere.txt",))], ids=["date", "source"]
)
def test_filters_that_match_no_article_say_so(sample_bot: Assistant, retrieval: str, filters: Filters) -> None:
    bot = Assistant(settings=sample_bot.settings.replace(retrieval=retrieval, rerank=retrieval == "hybrid"))
    answer = bot.ask(SAMPLE_QUESTION, filters=filters)
    assert answer.abstained and answer.no_matching_articles and answer.text == NO_MATCH
    assert answer.to_json()["no_matching_articles"] is True
    assert answer.citations == [] and answer.passages == []
    assert bot.retrieve(SAMPLE_QUESTION, filters=filters) == []
    dated = bot.ask(SAMPLE_QUESTION, filters=Filters(date_from="2022-01-01", date_to="2022-01-31"))
    assert not dated.abstained and not dated.no_matching_articles


def test_no_model_is_asked_when_no_article_matches(sample_bot: Assistant) -> None:
    # No model server is running: asking one would end in a note that it could not be reached.
    answer = sample_bot.ask(SAMPLE_QUESTION, filters=Filters(date_to="2000-01-01"), backend="openai")
    assert answer.text == NO_MATCH and answer.note is None and answer.no_matching_articles


def readme_python_snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Python API\n+```python\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert match, "the README has a Python API section with a python block"
    return match.group(1)


def test_the_readme_python_snippet_works_where_the_index_holds_other_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A user who ingested their own articles first, then tries the snippet in the same folder.
    articles = write(tmp_path / "articles" / "port.md", "# Port strike\n\nDock workers walked out on Friday.")
    Assistant(index_dir=tmp_path / "index").ingest([articles.parent], progress=False)
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_python_snippet(), "README.md", "exec"), {})
    first, second = capsys.readouterr().out.splitlines()[:2]
    assert SAMPLE_SENTENCE.removesuffix(".") in first and first.endswith(" False")
    assert second.startswith("Nur Sultan Nazarbayev (")
