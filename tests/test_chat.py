"""Follow-up questions are resolved against the conversation, without an LLM."""

from __future__ import annotations

from assistant import Assistant
from assistant.chat import _person_like, resolve, turns
from assistant.embeddings import get_ner
from assistant.types import Answer

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
    assert resolve("Who else, in Gdansk?", HISTORY) == "Who else, in Gdansk (Who founded the Vega Institute)?"


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


def test_names_of_organizations_and_acronyms_are_not_people() -> None:
    assert _person_like("Marta Kowal") and _person_like("Kassym-Jomart Tokayev")
    assert _person_like("Brandon Marshall") and _person_like("Vincent Seattle")  # whole words only
    assert not _person_like("NATO") and not _person_like("Collective Security Treaty Organization")


def test_turns_that_name_nobody_are_looked_past() -> None:
    history = [*HISTORY, ("Why?", "Because the old laboratory had closed [1].")]
    assert resolve("What did she study?", history) == "What did Kowal study?"


def test_a_person_is_found_a_few_turns_back_but_a_thing_only_in_the_latest_subject() -> None:
    history = [*HISTORY, ("When did the Orion Bridge open?", "The Orion Bridge opened in May 1998 [1].")]
    assert resolve("Why did she leave?", history) == "Why did Kowal leave?"
    # "it" is the bridge now, not the institute.
    assert resolve("Who paid for it?", history) == "Who paid for Orion Bridge?"


def test_the_assistants_own_answers_give_their_short_answer_and_resolved_question() -> None:
    answer = Answer("Who founded it?", "The institute was founded by Marta Kowal of Gdansk [1].", abstained=False,
                    resolved_question="Who founded the Vega Institute?", short_answer="Marta Kowal")
    history = [("Who founded it?", answer)]
    # By the rules alone "Gdansk" would do as well as "Marta Kowal"; the answer says which it found.
    assert resolve("Where did she study?", history) == "Where did Kowal study?"
    assert resolve("When did it open?", history) == "When did Vega Institute open?"


def test_an_answers_json_object_sent_back_as_history_is_read_like_the_answer() -> None:
    answer = Answer("Who founded it?", "The institute was founded by Marta Kowal of Gdansk [1].", abstained=False,
                    resolved_question="Who founded the Vega Institute?", short_answer="Marta Kowal")
    as_json = [("Who founded it?", answer.to_json())]
    [turn] = turns(as_json)
    assert (turn.answer, turn.resolved, turn.short) == (answer.text, answer.resolved_question, "Marta Kowal")
    assert resolve("Where did she study?", as_json) == resolve("Where did she study?", [("Who founded it?", answer)])


def test_entity_labels_tell_nationalities_and_places_from_things() -> None:
    history = [("When did the Russian jet cross into Turkish airspace?", "On Oct. 25, 2015 [1].")]
    ner = get_ner()
    # "Russian" is not what "it" stands for: the question is carried along instead.
    assert resolve("How long did it last?", history, ner) == (
        "How long did it last (When did the Russian jet cross into Turkish airspace)?"
    )
    assert resolve("How long did it last?", history) == "How long did Russian last?"
    history = [("What drones does Turkey sell to Ukraine?", "Bayraktar TB2 drones [1].")]
    assert resolve("Who else buys from it?", history, ner) == "Who else buys from Turkey?"


def test_what_about_asks_the_same_question_of_a_new_subject() -> None:
    assert resolve("What about the Orion Bridge?", HISTORY) == "Who founded the Orion Bridge?"
    assert resolve("And how about Gdansk?", HISTORY) == "Who founded Gdansk?"
    history = [("What drones does Turkey sell to Ukraine?", "Bayraktar TB2 drones [1]."), ("Why?", "Because [1].")]
    assert resolve("What about Germany?", history, get_ner()) == "What drones does Germany sell to Ukraine?"


def test_they_after_a_question_for_several_things_is_those_things() -> None:
    history = [("What drones does Turkey sell to Ukraine?", "Bayraktar TB2 drones [1].")]
    assert resolve("Where are they made?", history) == "Where are the drones made?"
    # "it" is still the thing named.
    assert resolve("Who governs it?", history) == "Who governs Turkey?"
    # The things counted, after the person a previous answer named.
    history = [("Who is the union spokesperson?", "Union spokesperson Niek Stam said so [1]."),
               ("How many ships were waiting?", "More than 40 container ships were waiting [1].")]
    assert resolve("Where were they waiting?", history) == "Where were the ships waiting?"


def test_what_about_replaces_a_name_of_the_same_kind() -> None:
    history = [("What drones does Turkey sell to Ukraine?", "Bayraktar TB2 drones [1]."),
               ("What does the Kremlin say they could do?", "Destabilize the region [1].")]
    assert resolve("What about Germany?", history, get_ner()) == "What drones does Germany sell to Ukraine?"


def test_an_organization_answering_who_is_not_he() -> None:
    answer = Answer("Who is Erdogan's election ally?",
                    "Erdogan works with his ally, Nationalist Movement Party leader Devlet Bahceli [1].",
                    abstained=False, short_answer="Nationalist Movement Party")
    assert resolve("Which party does he lead?", [("Who is Erdogan's election ally?", answer)]) == (
        "Which party does Bahceli lead?"
    )


def test_an_abstention_names_nobody_a_follow_up_could_mean() -> None:
    declined = Answer("Who invited the Orion engineers?", "The articles do not say. None of the passages found answers "
                      "this question closely enough.", abstained=True)  # fmt: skip
    history = [*HISTORY, ("Who invited the Orion engineers?", declined)]
    assert "None" not in resolve("Why did he leave?", history)
    as_json = [*HISTORY, ("Who invited the Orion engineers?", declined.to_json())]
    assert "None" not in resolve("Why did he leave?", as_json)
