"""Follow-up questions are resolved against the conversation, without an LLM."""

from __future__ import annotations

from assistant import Assistant
from assistant.chat import resolve, turns

HISTORY = [("Who founded the Vega Institute?", "The physicist Marta Kowal founded the Vega Institute in 1994 [1].")]


def test_turns_from_pairs_and_messages() -> None:
    messages = [
        {"role": "user", "content": "Who founded the Vega Institute?"},
        {"role": "assistant", "content": "Marta Kowal [1]."},
        {"role": "user", "content": "When?"},
    ]
    assert [(t.question, t.answer) for t in turns(messages)] == [
        ("Who founded the Vega Institute?", "Marta Kowal [1]."),
        ("When?", ""),
    ]
    assert turns(HISTORY)[0].answer.startswith("The physicist")


def test_person_and_thing_pronouns_are_resolved() -> None:
    assert resolve("Why did she found it?", HISTORY) == "Why did Kowal found Vega Institute?"
    assert resolve("What was her field?", HISTORY) == "What was Kowal's field?"


def test_question_without_words_of_its_own_carries_the_topic() -> None:
    assert resolve("And after that?", HISTORY) == "And after that (Who founded the Vega Institute)?"


def test_self_contained_question_is_unchanged() -> None:
    assert resolve("Where is the Vega Institute located?", HISTORY) == "Where is the Vega Institute located?"
    assert resolve("Why did she leave?", None) == "Why did she leave?"


def test_ask_with_history_uses_and_reports_the_resolved_question(sample_bot: Assistant) -> None:
    first = sample_bot.ask("Who invited the Russian-led CSTO into Kazakhstan?")
    history = [("Who invited the Russian-led CSTO into Kazakhstan?", first)]
    follow = sample_bot.ask("What organization did he not invite?", history)
    assert follow.question == "What organization did he not invite?"
    assert follow.resolved_question is not None and "Tokayev" in follow.resolved_question
    assert follow.to_json()["resolved_question"] == follow.resolved_question
    assert any("Organization of Turkic States" in c.text for c in follow.citations)
    assert "resolved_question" not in sample_bot.ask("Who invited the CSTO?").to_json()
