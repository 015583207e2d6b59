"""Follow-up questions are resolved against the conversation, without an LLM (with spaCy's parse)."""

from __future__ import annotations

import re
from pathlib import Path

from assistant import Assistant
from assistant.evaluation.runner import run_eval
from assistant.evaluation.sets import read_set
from assistant.followup import resolve, turns
from assistant.settings import Settings
from assistant.types import Answer

ROOT = Path(__file__).resolve().parents[1]
HISTORY = [("Who founded the Vega Institute?", "The physicist Marta Kowal founded the Vega Institute in 1994 [1].")]


def answer(question: str, text: str, short: str | None = None, resolved: str | None = None) -> Answer:
    """An answer as the assistant keeps it in the chat's history."""
    return Answer(question, text, abstained=False, short_answer=short, resolved_question=resolved)


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
    assert resolve("Why did she found it?", HISTORY) == "Why did Kowal found the Vega Institute?"
    assert resolve("What was her field?", HISTORY) == "What was Kowal's field?"


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


def test_why_takes_the_previous_questions_place_with_its_answer_in_the_slot() -> None:
    history = [
        (
            "Who did he invite to help control protestors?",
            answer(
                "Who did he invite to help control protestors?",
                "Kazakh President Kassym-Jomart Tokayev invited the Russian-led Collective Security Treaty "
                "Organization to help control protestors in the first week of January [1].",
                short="Russian-led Collective Security Treaty Organization",
                resolved="Who did Tokayev invite to help control protestors?",
            ),
        )
    ]
    assert resolve("Why?", history) == (
        "Why did Tokayev invite Russian-led Collective Security Treaty Organization to help control protestors?"
    )
    # A subject "who": the answer becomes the subject, with the auxiliary the question now needs.
    designed = [("Who designed the bridge?", "The bridge was designed by the architect Ingrid Holm [1].")]
    assert resolve("Why?", designed) == "Why did Ingrid Holm design the bridge?"
    # A "when" keeps the question whole.
    called = [("Why was the snap election called?", "Montenegro lost a confidence vote [1].")]
    assert resolve("When?", called) == "When was the snap election called?"


def test_it_after_an_answer_about_a_things_opponents_is_the_thing() -> None:
    history = [
        ("Who opposed the bridge?", "The fishermen's association opposed the bridge [1]."),
        (
            "Why did the fishermen oppose the bridge?",
            "Its piers would sit on the strait's richest mussel beds, the fishermen said [1].",
        ),
    ]
    assert resolve("Who designed it?", history) == "Who designed the bridge?"
    # "it" stays what the previous question called "it".
    history[1] = ("Why did they oppose it?", history[1][1])
    assert resolve("Why did they oppose it?", history[:1]) == "Why did the fishermen's association oppose the bridge?"
    assert resolve("Who designed it?", history) == "Who designed the bridge?"


def test_his_is_the_person_the_previous_answer_named() -> None:
    # The answerer's short answer may be wrong ("Tokayev"): the writer is the subject of the answer's sentence.
    said = answer(
        "Who wrote that Turkey lost track of developments in Kazakhstan?",
        "Prominent Turkish journalist Cengiz Çandarlı commented in a piece published by Al-Monitor on "
        "Jan. 12 that Turkey seems to have lost track of developments in Kazakhstan since Tokayev prefered "
        "the Russian-led military bloc [1].",
        short="Tokayev",
    )
    history = [(said.question, said)]
    assert resolve("Where did his piece appear?", history) == "Where did Çandarlı's piece appear?"
    history.append(("Where did his piece appear?", "In Al-Monitor [1]."))
    assert resolve("When was it published?", history) == "When was Çandarlı's piece published?"


def test_he_stays_the_person_the_conversation_is_about() -> None:
    history = [
        (
            "Who mediated between Erdoğan and Putin?",
            answer(
                "Who mediated between Erdoğan and Putin?",
                "However, the main factor behind peace between Erdoğan and Putin was the mediation of "
                "Kazakhstan’s former president, Nur Sultan Nazarbayev [1].",
                short="Nur Sultan Nazarbayev",
            ),
        )
    ]
    assert resolve("What role did he play between Erdoğan and Putin?", history) == (
        "What role did Nazarbayev play between Erdoğan and Putin?"
    )
    history.append(
        (
            "What role did he play between Erdoğan and Putin?",
            "The main factor behind peace between Erdoğan and Putin was the mediation of Nazarbayev [1].",
        )
    )
    assert resolve("Is he still in power?", history) == "Is Nazarbayev still in power?"


def test_and_x_asks_the_previous_question_of_x() -> None:
    history = [("What does the US supply to Ukraine?", "The US is supplying arms and ammunition to Kiev [1].")]
    assert resolve("And Germany?", history) == "What does Germany supply to Ukraine?"
    assert resolve("What about Germany?", history) == "What does Germany supply to Ukraine?"
    seats = [("How many seats did the Democratic Alliance win?", "The Democratic Alliance won 91 seats [1].")]
    assert resolve("And the Socialist Party?", seats) == "How many seats did the Socialist Party win?"


def test_what_about_asks_the_same_question_of_a_new_subject() -> None:
    assert resolve("What about the Orion Bridge?", HISTORY) == "Who founded the Orion Bridge?"
    history = [("What drones does Turkey sell to Ukraine?", "Bayraktar TB2 drones [1]."), ("Why?", "Because [1].")]
    # "Why?" asked about the answer; the question to ask again is the one before it.
    assert resolve("What about Germany?", history) == "What drones does Germany sell to Ukraine?"


def test_a_follow_up_that_makes_no_question_is_left_as_asked() -> None:
    # Nothing to fill "Why?" in with: no "Read as" line with a broken sentence, the question as it was asked.
    history = [("Tell me about the Vega Institute.", "The Vega Institute is a laboratory in Gdansk [1].")]
    assert resolve("Why?", history) == "Why?"
    assert resolve("And after that?", HISTORY) == "And after that?"


def test_every_reading_is_one_question() -> None:
    histories = [
        HISTORY,
        [("What does the US supply to Ukraine?", "The US is supplying arms and ammunition to Kiev [1].")],
        [("Who opposed the bridge?", "The fishermen's association opposed the bridge [1].")],
    ]
    for history in histories:
        for follow in (
            "Why?",
            "When?",
            "And Germany?",
            "Who designed it?",
            "What did they say?",
            "For how long?",
            "What about the Orion Bridge?",
            "Is he still in power?",
            "Who else?",
        ):
            read = resolve(follow, history)
            assert read == follow or re.fullmatch(r"[A-Z][^?()]*\?", read), (follow, history, read)


def test_turns_that_name_nobody_are_looked_past() -> None:
    history = [*HISTORY, ("Why?", "Because the old laboratory had closed [1].")]
    assert resolve("What did she study?", history) == "What did Kowal study?"


def test_a_person_is_found_a_few_turns_back_but_a_thing_in_the_latest_turn() -> None:
    history = [*HISTORY, ("When did the Orion Bridge open?", "The Orion Bridge opened in May 1998 [1].")]
    assert resolve("Why did she leave?", history) == "Why did Kowal leave?"
    # "it" is the bridge now, not the institute.
    assert resolve("Who paid for it?", history) == "Who paid for the Orion Bridge?"


def test_a_person_called_he_is_not_she() -> None:
    history = [
        ("Who leads the union?", "Union leader Piet Smit said the strike would go on [1]."),
        ("What did he demand?", "Smit demanded talks with transport minister Anna Berg [1]."),
    ]
    assert resolve("What did she answer?", history) == "What did Berg answer?"


def test_the_assistants_own_answers_give_their_short_answer_and_resolved_question() -> None:
    said = answer(
        "Who founded it?",
        "The institute was founded by Marta Kowal of Gdansk [1].",
        resolved="Who founded the Vega Institute?",
        short="Marta Kowal",
    )
    history = [("Who founded it?", said)]
    assert resolve("Where did she study?", history) == "Where did Kowal study?"
    assert resolve("When did it open?", history) == "When did the Vega Institute open?"


def test_an_answers_json_object_sent_back_as_history_is_read_like_the_answer() -> None:
    said = answer(
        "Who founded it?",
        "The institute was founded by Marta Kowal of Gdansk [1].",
        resolved="Who founded the Vega Institute?",
        short="Marta Kowal",
    )
    as_json = [("Who founded it?", said.to_json())]
    [turn] = turns(as_json)
    assert (turn.answer, turn.resolved, turn.short) == (said.text, said.resolved_question, "Marta Kowal")
    assert resolve("Where did she study?", as_json) == resolve("Where did she study?", [("Who founded it?", said)])


def test_a_nationality_is_not_what_it_stands_for() -> None:
    history = [("When did the Russian jet cross into Turkish airspace?", "On Oct. 25, 2015 [1].")]
    assert resolve("How long did it stay?", history) == "How long did the Russian jet stay?"
    history = [("What drones does Turkey sell to Ukraine?", "Bayraktar TB2 drones [1].")]
    assert resolve("Who else buys from it?", history) == "Who else buys from Turkey?"


def test_they_after_a_question_for_several_things_is_those_things() -> None:
    history = [("What drones does Turkey sell to Ukraine?", "It sells Bayraktar TB2 drones [1].")]
    # Called what the question called them: the answer's own words would only find the answer again.
    assert resolve("Where are they made?", history) == "Where are the drones made?"
    assert resolve("Who governs it?", history) == "Who governs Turkey?"
    # Two people named together are "they".
    ally = answer(
        "Who is Erdoğan's election ally?",
        "Erdoğan is pursuing Turkic unity together with his election ally, Nationalist Movement Party "
        "leader Devlet Bahçeli [1].",
        short="Devlet Bahçeli",
    )
    assert resolve("What are they pursuing?", [(ally.question, ally)]) == "What are Bahçeli and Erdoğan pursuing?"


def test_an_organization_answering_who_is_not_he() -> None:
    said = answer(
        "Who is Erdogan's election ally?",
        "Erdogan works with his ally, Nationalist Movement Party leader Devlet Bahceli [1].",
        short="Nationalist Movement Party",
    )
    assert resolve("Which party does he lead?", [("Who is Erdogan's election ally?", said)]) == (
        "Which party does Bahceli lead?"
    )


def test_an_abstention_names_nobody_a_follow_up_could_mean() -> None:
    declined = Answer(
        "Who invited the Orion engineers?",
        "The articles do not say. None of the passages found answers this question closely enough.",
        abstained=True,
    )
    history = [*HISTORY, ("Who invited the Orion engineers?", declined)]
    assert "None" not in resolve("Why did he leave?", history)
    as_json = [*HISTORY, ("Who invited the Orion engineers?", declined.to_json())]
    assert "None" not in resolve("Why did he leave?", as_json)


def test_the_follow_up_conversation_set_runs(tmp_path: Path) -> None:
    path = ROOT / "eval" / "followup_conversations.jsonl"
    shipped = read_set(path)
    follow_ups = [q for q in shipped.questions if q.turn > 0]
    assert len(follow_ups) >= 30 and len(shipped.referenced_docs()) >= 3
    corpus = [
        ROOT / "assistant" / "data" / "000_d4614d5e4eabd9fe.txt",
        ROOT / "eval" / "news",
        ROOT / "eval" / "followup_articles",
    ]
    # The first two conversations (9 turns): asked in order, each with its history, resolution scored.
    run = run_eval(
        path,
        corpus,
        index_dir=tmp_path / "index",
        limit=9,
        settings=Settings.from_env().replace(eval_cache_dir=tmp_path / "cache"),
    )
    [config] = run.runs
    assert [r["turn"] for r in config.rows] == [0, 1, 2, 3, 4, 0, 1, 2, 3]
    assert all(r["resolved_question"] for r in config.rows if r["turn"] > 0)
    assert config.summary["citation_validity"] == 1.0
    assert config.summary["resolution_accuracy"] is not None and config.summary["resolution_accuracy"] >= 0.75
