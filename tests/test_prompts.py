import pytest

from assistant import prompts


def test_prompts_are_loaded_by_name_and_filled_in() -> None:
    messages = prompts.render("answer_with_citations", question="Who? {braces} $ok", passages="[1] one\n\n[2] two")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "verbatim" in messages[0]["content"] or "word for word" in messages[0]["content"]
    assert messages[1]["content"].endswith("Question: Who? {braces} $ok")
    assert "[1] one\n\n[2] two" in messages[1]["content"]


def test_condense_prompt_shows_the_conversation() -> None:
    messages = prompts.render("condense_question", history="User: Who?\nAssistant: Lina.", question="Why?")
    assert "User: Who?\nAssistant: Lina." in messages[-1]["content"]
    assert messages[-1]["content"].endswith("Last question: Why?")


def test_unknown_prompt_and_missing_value_are_errors() -> None:
    with pytest.raises(KeyError):
        prompts.render("no_such_prompt")
    with pytest.raises(KeyError):
        prompts.render("condense_question", question="Why?")
