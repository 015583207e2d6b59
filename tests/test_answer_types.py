"""Question types and short-answer location, on sentences written for these tests."""

from __future__ import annotations

import pytest

from assistant.answer_types import Kind, asked_things, has_candidate, locate, numbers_in, question_type


def located(sentence: str, question: str, entities: list[tuple[int, int, str]] | None = None) -> str | None:
    """The short answer `locate` finds in the sentence, as text."""
    found = locate(sentence, question, question_type(question), entities=entities)
    return sentence[found.start : found.end] if found else None


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who founded the museum?", Kind.PERSON),
        ("When did the bridge open?", Kind.DATE),
        ("In what year was the bridge opened?", Kind.DATE),
        ("How many bridges cross the river?", Kind.NUMBER),
        ("How long did the strike last?", Kind.NUMBER),
        ("Where was the treaty signed?", Kind.PLACE),
        ("Why did the council resign?", Kind.EXPLANATION),
        ("How did the town recover?", Kind.EXPLANATION),
        ("Which river floods every spring?", Kind.THING),
        ("What is a levee?", Kind.OTHER),
        # The question word after a clause, and the noun after "what is/was the".
        ("Along with the mayor, who opened the bridge?", Kind.PERSON),
        ("Before the flood, when was the levee last raised?", Kind.DATE),
        ("What was the average cost of a ticket?", Kind.NUMBER),
        ("What was the museum's attendance last year?", Kind.NUMBER),
        ("What is the name of the bridge that collapsed?", Kind.THING),
        # Definitions and aims are answered with sentences, not a name.
        ("What is the Danube Arts Centre?", Kind.OTHER),
        ("What is the council's main concern?", Kind.OTHER),
        # An event or its cause is told in sentences too; a thing that did something is a name.
        ("What happened at the bridge in 2015?", Kind.EXPLANATION),
        ("What led to the council's resignation?", Kind.EXPLANATION),
        ("What opened on the riverbank in May?", Kind.THING),
        ("What helped the museum's profit?", Kind.EXPLANATION),
        ("What was the museum's net profit?", Kind.NUMBER),
        # Who someone named is, is told in sentences; who holds a role is a name.
        ("Who is Anna Varga?", Kind.OTHER),
        ("Who was Anna Varga's deputy?", Kind.PERSON),
        ("Who is the museum director?", Kind.PERSON),
    ],
)
def test_question_type(question: str, kind: Kind) -> None:
    assert question_type(question).kind is kind


@pytest.mark.parametrize(
    ("sentence", "question", "expected"),
    [
        ("The bridge opened on May 4, 1998 after years of delays.", "When did the bridge open?", "May 4, 1998"),
        ("Workers struck for 46 days before the deal.", "How long did the workers strike?", "46 days"),
        ("Museum director Anna Varga said the roof leaked.", "Who is the museum director?", "Anna Varga"),
        ("Mayor Tom Reyes opened the Danube Arts Centre in June.", "Who opened the Danube Arts Centre?", "Tom Reyes"),
        (
            "The city bought Volta X2 electric buses from a Swiss firm.",
            "What buses did the city buy?",
            "Volta X2 electric buses",
        ),
        ("The team won the cup in 2019 under coach Lea Brandt.", "In what year did the team win the cup?", "2019"),
        # A number joined to its unit is a quantity, however the tokenizer cuts it.
        ("Workers ended a nine-day strike after a 6.5 percent pay rise.", "How long did the strike last?", "nine-day"),
        ("The commercial ran in 30-second slots.", "How long was the commercial?", "30-second"),
        ("A week-long fair opened at the convention centre.", "How long will the fair last?", "week-long"),
        # "How many days" counts the days of a "nine-day" strike.
        (
            "Workers ended a nine-day strike after a 6.5 percent pay rise.",
            "How many days did the strike last?",
            "nine-day",
        ),
        # "How much" takes money and shares, which "how many" does not count.
        ("The fair cost $2 million, 40 percent more than planned.", "How much did the fair cost?", "$2 million"),
        ("The union, with 4,000 members, won a 6.5 percent rise.", "How many members does the union have?", "4,000"),
        # A magnitude is no count; a count in millions is.
        ("A magnitude 8.8 quake killed more than 500 people.", "How many people did the quake kill?", "500"),
        ("The city has 2.5 million people.", "How many people live in the city?", "2.5 million"),
        # "How deep" is a length, found beside the depth; the sentence's full stop is not the unit's.
        (
            "The quake hit at 3:42 a.m. about 40 kilometres from Talca, at a depth of 35 km.",
            "How deep was the quake?",
            "35 km",
        ),
        # A price is a sum of money, not the share it rose by; a rank is no amount.
        (
            "Shares rose 4.2 percent to 187 crowns, their highest since March.",
            "What was the share price?",
            "187 crowns",
        ),
        (
            "The second-largest utility earned 2.3 billion crowns.",
            "How much did the utility earn?",
            "2.3 billion crowns",
        ),
        # A time of day answers "when".
        ("The quake hit at 3:42 a.m. local time.", "When did the quake hit?", "3:42 a.m."),
        ("Talks ended at noon on the pier.", "When did the talks end?", "noon"),
        # A match's "12th minute" is a time; it counts no goals, which "twice" does.
        ("Boniface opened the scoring in the 12th minute.", "When did Boniface open the scoring?", "12th minute"),
        ("Boniface scored twice, the first in the 12th minute.", "How many goals did Boniface score?", "twice"),
    ],
)
def test_locate_short_answer(sentence: str, question: str, expected: str) -> None:
    assert located(sentence, question) == expected


def test_nothing_located_when_the_type_is_absent_or_only_in_the_question() -> None:
    assert (
        locate(
            "The bridge was repaired by volunteers.",
            "When was the bridge repaired?",
            question_type("When was the bridge repaired?"),
        )
        is None
    )
    q = "How many goals did Line 2 score?"
    assert locate("Line 2 scored in the final.", q, question_type(q)) is None


def test_numbers_in() -> None:
    assert numbers_in("In 2023, 1,200 people and Model TB2 came.") == {"2023", "1200"}


def test_named_entities_are_the_candidates_when_given() -> None:
    sentence = "The award went to Lina Ortiz of the Verde Group on Friday."
    question = "Who received the award?"
    entities = [(18, 28, "PERSON"), (32, 47, "ORG"), (51, 57, "DATE")]
    assert located(sentence, question, entities) == "Lina Ortiz"
    # No entity of a fitting label: the rules still find one.
    assert located(sentence, question, [(51, 57, "DATE")]) in {"Lina Ortiz", "Verde Group"}


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        # A share, a sum of money or a duration counts no workers.
        ("Workers ended a nine-day strike after a 6.5 percent pay rise.", "How many workers went on strike?"),
        ("The strike cost the port $20 million.", "How many ships did the strike delay?"),
        # A count of other things: seats are no votes.
        ("The far-right party came third with 60 seats.", "How many votes did the far-right party receive?"),
        # "How long" is a span of time or space, not a share.
        ("The union cited inflation of 3.8 percent last year.", "How long did the strike last?"),
    ],
)
def test_quantities_that_do_not_fit_the_question_are_no_answer(sentence: str, question: str) -> None:
    assert located(sentence, question) is None


def test_what_tells_the_asked_for_thing_apart_in_a_phrase_of_its_noun() -> None:
    sentence = "Dockworkers ended the strike after accepting a 6.5 percent pay rise, the Dutch port authority said."
    dutch = sentence.index("Dutch")
    # Not the nationality the recognizer found: the number that tells this pay rise apart.
    assert located(sentence, "What pay rise did they accept?", [(dutch, dutch + 5, "NORP")]) == "6.5 percent"
    # A nationality only describes the thing, and a sentence's last word ("system.") is the question's word too.
    sentence = "Ankara then ordered a Russian S-400 air defence system."
    russian = sentence.index("Russian")
    assert located(sentence, "Which air defence system did Ankara order?", [(russian, russian + 7, "NORP")]) == "S-400"
    # A capitalized noun is part of the name.
    sentence = "Matlin, who won an Academy Award in 1987, signed the anthem."
    assert located(sentence, "What award has Matlin won?", [(31, 35, "DATE")]) == "Academy Award"
    # Words that are neither names nor numbers tell nothing: the recognizer's entity answers.
    sentence = "The halftime show was headlined by the British rock group Coldplay."
    coldplay, british = sentence.index("Coldplay"), sentence.index("British")
    entities = [(british, british + 7, "NORP"), (coldplay, coldplay + 8, "ORG")]
    assert located(sentence, "Which group headlined the halftime show?", entities) == "Coldplay"


def test_who_is_the_holder_of_an_office_needs_a_name_with_that_title() -> None:
    assert question_type("Who is the Dutch prime minister?").role == "minister"
    assert question_type("Who is Dortmund's coach?").role == "coach"
    assert question_type("Who is the general manager of the club?").role == "manager"
    assert question_type("Who scored the goal?").role is None
    assert question_type("Who was the Most Valuable Player?").role is None  # a player holds no office
    q = "Who is the president of Portugal?"
    assert question_type(q).needs_span_type
    assert has_candidate("Voters re-elected President Ana Lopes on Sunday.", q, question_type(q))
    assert has_candidate("Ana Lopes, who won in May, is the country's president.", q, question_type(q))
    # A prime minister is no president, and a name without a title tells nothing.
    assert not has_candidate("Voters re-elected Prime Minister Luís Montenegro.", q, question_type(q))
    assert not has_candidate("Economists at ING expect growth in Portugal.", q, question_type(q))


def test_model_designations_are_things_beside_named_entities() -> None:
    sentence = "Norway's purchase of the German Leo-2A7 was the largest order in decades."
    question = "Which German tank did Norway purchase?"
    # The recognizer found only the countries: the designation next to the question's words is the thing asked.
    assert located(sentence, question, [(0, 6, "GPE"), (25, 31, "NORP")]) == "Leo-2A7"


@pytest.mark.parametrize(
    ("sentence", "question", "expected"),
    [
        # The quantity of what is counted comes first, without the unit the question names.
        ("Six players scored, and Ortiz made five solo saves in the final.", "How many saves did Ortiz make?", "five"),
        ("Volunteers filled 4,000 sandbags in 12 hours.", "How many sandbags did volunteers fill?", "4,000"),
        # Not the possessive ending, nor the sentence's full stop.
        ("The delay was blamed on Varga's team.", "Whose team was blamed for the delay?", "Varga"),
        ("The new bridge was designed in Rotterdam.", "Where was the new bridge designed?", "Rotterdam"),
    ],
)
def test_short_answer_edges(sentence: str, question: str, expected: str) -> None:
    assert located(sentence, question) == expected


def test_a_name_sharing_a_word_with_the_question_is_who_it_is_about() -> None:
    sentence = "Mike Tolbert fumbled, and Dan Reyes recovered the ball."
    question = "Who recovered Tolbert's fumble?"
    assert located(sentence, question) == "Dan Reyes"


def test_the_rules_take_over_when_every_entity_is_in_the_question() -> None:
    sentence = "Lina Ortiz, who coached the Verde Rovers, retired in May."
    question = "Which club did Lina Ortiz coach?"
    assert located(sentence, question, [(0, 10, "PERSON")]) == "Verde Rovers"


def test_several_asked_for_are_given_together() -> None:
    sentence = "The show was opened by Lina Ortiz and Dan Reyes, with Mia Holt closing it."
    question = "Who were the opening acts of the show?"
    assert located(sentence, question) == "Lina Ortiz and Dan Reyes"
    # A plural noun asks for several too, and the names before the nearest one count.
    hosts = "France and Spain hosted the talks, which took place in spring."
    entities = [(0, 6, "GPE"), (11, 16, "GPE")]
    assert located(hosts, "In which countries did the talks take place?", entities) == "France and Spain"
    assert located(hosts, "In which country did the talks take place?", entities) == "Spain"
    question = "Who was the closing act of the show?"
    assert located(sentence, question) in {"Lina Ortiz", "Dan Reyes", "Mia Holt"}


def test_a_nationality_answers_who_only_when_no_person_or_organization_does() -> None:
    sentence = "The Swiss engineer Karl Brunner designed the Danube Arts Centre."
    question = "Who designed the Danube Arts Centre?"
    entities = [(4, 9, "NORP"), (19, 31, "PERSON"), (45, 63, "ORG")]
    assert located(sentence, question, entities) == "Karl Brunner"
    assert located(sentence, question, [(4, 9, "NORP")]) == "Swiss"


def test_a_year_question_gets_the_year_of_a_full_date() -> None:
    sentence = "The law passed on June 4, 2014 after a long debate."
    assert located(sentence, "In what year did the law pass?") == "2014"
    assert located(sentence, "When did the law pass?") == "June 4, 2014"


def test_who_is_a_person_before_an_organization() -> None:
    sentence = "Her ally, Green Party leader Ana Sola, spoke first."
    question = "Who is her ally?"
    entities = [(10, 21, "ORG"), (29, 37, "PERSON")]
    assert located(sentence, question, entities) == "Ana Sola"
    assert located(sentence, question, [(10, 21, "ORG")]) == "Green Party"


def test_asked_things_is_the_plural_noun_phrase() -> None:
    assert asked_things("What drones does Turkey sell?") == "drones"
    assert asked_things("Which air defence systems did Turkey order?") == "air defence systems"
    assert asked_things("What type of buses did the city buy?") == "buses"
    assert asked_things("How many ships were waiting?") == "ships"
    assert asked_things("Which country did it invade?") is None and asked_things("Who sold it?") is None


def test_an_acronym_of_the_questions_words_is_in_the_question() -> None:
    sentence = "Cam Newton was named MVP of the season."
    question = "Who was the Most Valuable Player of the season?"
    assert located(sentence, question) == "Cam Newton"
