"""Follow-up questions without an LLM: resolve pronouns against the conversation so retrieval has names.

"Who invited the CSTO into Kazakhstan?" then "Why did he prefer it over the Turkic organization?"
becomes "Why did Tokayev prefer CSTO over the Turkic organization?": "he" is the person the
last answer named (for a "who" question, its short answer), "it" the last thing the previous question named.
Turns that name no one ("Why?") are looked past, back to the latest that does. When the history holds the
assistant's own `Answer`s, their resolved questions and short answers are used as they are; with a
named-entity recognizer (spaCy's, `ASSISTANT_NER=spacy`), people and things are told apart by its labels.
A follow-up with (almost) no words of its own ("Why?", "And after that?"), or with a pronoun that nothing
said stands for, carries the latest question with a topic along.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answer_types import Kind, QuestionType, Token, asked_things, locate, names, question_type, tokens
from assistant.embeddings import Entity
from assistant.text import STOPWORDS, stem, terms

# A named-entity recognizer: (start, end, label) of each entity in a text.
Ner = Callable[[str], list[Entity]]

PERSON_PRONOUNS = {"he": "", "she": "", "him": "", "her": "", "his": "'s", "hers": "'s", "himself": "", "herself": ""}
THING_PRONOUNS = {"it": "", "its": "'s", "itself": "", "they": "", "them": "", "their": "'s", "theirs": "'s"}
# These may stand for people too ("they" for a couple named in the last answer); "it" never does.
PLURAL_PRONOUNS = {"they", "them", "their", "theirs"}
DEMONSTRATIVES = {"that", "this", "these", "those", "there", "then"}
# Words of a follow-up that only point back at the conversation ("What about Germany?", "Who else?"), stemmed
# as `terms` gives them.
BACK_POINTERS = frozenset(stem(w) for w in DEMONSTRATIVES | {"about", "else", "also", "too"})
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<subject>[^?]+?)\s*\??\s*$", re.IGNORECASE)
# How many turns back a "he"/"she" may find its person, and "What about Germany?" the question to ask again.
LOOKBACK = 3
# Words in a name that mark an organization or place rather than a person; so does an acronym ("NATO").
_NOT_PERSON = re.compile(
    r"organi[sz]ation|council|party|treaty|union|ministry|bank|company|inc|ltd|group|states?|republic|"
    r"kingdom|nations|agency|army|forces|parliament|government|league|association|committee|institute|"
    r"university|college|school|museum|hospital|church|cent(?:er|re)|stadium|airport|station|port|bridge|"
    r"street|road|square|park|tower|hall|river|lake|sea|ocean|island|mountains?|city|county|province|region",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"^[A-Z]{2,}$")


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    # From an `Answer` in the history: the question as it was resolved, and the short answer it found.
    resolved: str | None = None
    short: str | None = None

    @classmethod
    def of(cls, question: Any, answer: Any) -> Turn:
        # An abstention names nothing a follow-up could mean ("None of the passages found ..." is no person).
        said = "" if _abstained(answer) else _content(answer)
        return cls(_content(question), said, _text_attribute(answer, "resolved_question"),
                   _text_attribute(answer, "short_answer"))  # fmt: skip


def turns(history: Sequence[Any] | None) -> list[Turn]:
    """The conversation as (question, answer) turns, from pairs or `{"role", "content"}` messages."""
    out: list[Turn] = []
    pending: Any = None
    for item in history or ():
        if isinstance(item, Mapping):
            role, content = str(item.get("role", "")), item.get("content")
            if role == "user":
                if pending is not None:
                    out.append(Turn.of(pending, ""))
                pending = content
            elif role == "assistant" and pending is not None:
                out.append(Turn.of(pending, content))
                pending = None
        else:
            question, answer = item
            out.append(Turn.of(question, answer))
    if pending is not None:
        out.append(Turn.of(pending, ""))
    return out


def _text_attribute(value: Any, name: str) -> str | None:
    """A text field of an `Answer`, or of its `--json` object (what the HTTP API returned, sent back)."""
    found = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
    return found if isinstance(found, str) and found.strip() else None


def _abstained(value: Any) -> bool:
    """Whether an `Answer` (or its `--json` object) says the articles do not answer."""
    found = value.get("abstained") if isinstance(value, Mapping) else getattr(value, "abstained", False)
    return found is True


def _content(value: Any) -> str:
    """Message content as text: a string, an `Answer`-like object with `.text`, an answer's `--json` object, or a
    list of text parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "text") and isinstance(value.text, str):
        return value.text
    if isinstance(value, Mapping) and isinstance(value.get("answer"), str):
        return value["answer"]
    if isinstance(value, list):
        return " ".join(_content(v.get("text") if isinstance(v, Mapping) else v) for v in value)
    return str(value)


def _span(toks: list[Token], text: str, rng: tuple[int, int]) -> str:
    return text[toks[rng[0]].start : toks[rng[1] - 1].end]


def _person_like(name: str) -> bool:
    words = [w.strip(".,’'") for w in name.split()]
    return not any(_NOT_PERSON.fullmatch(w) or _ACRONYM.match(w) for w in words)


# Entity labels (spaCy's OntoNotes scheme) of what "it"/"they" can stand for: not people, not "Russian".
THING_LABELS = {"ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "LAW", "WORK_OF_ART"}


def referents(turn: Turn, ner: Ner | None = None) -> tuple[str | None, str | None]:
    """(the person, the thing) the turn was about, as they are written.

    With a named-entity recognizer, people and things are told apart by its labels ("Turkey" is a place);
    by the rules alone, a person is the answer to a "who" question or a name of two words or more that no
    organization word marks, and a thing the first other name in the question.
    """
    question = turn.resolved or turn.question
    answer = _strip_markers(turn.answer)
    q_toks = tokens(question)
    q_names = [_span(q_toks, question, r) for r in names(q_toks)]
    q_ents = ner(question) if ner is not None else []
    a_ents = ner(answer) if ner is not None and answer else []
    person = None
    qtype = question_type(question)
    if qtype.kind is Kind.PERSON:
        person = turn.short or _located(answer, question, qtype, a_ents if ner is not None else None)
        # "Who is his ally?" may be answered by an organization ("Nationalist Movement Party"); "he" is a person.
        # (Not by entity label: the small model calls "Kassym-Jomart Tokayev" an organization.)
        if person is not None and not _person_like(person):
            person = None
    if person is None and ner is not None:
        person = next((text[a:b] for text, ents in ((question, q_ents), (answer, a_ents))
                       for a, b, label in ents if label == "PERSON"), None)  # fmt: skip
    elif person is None:
        a_toks = tokens(answer)
        spoken = q_names + [_span(a_toks, answer, r) for r in names(a_toks)]
        person = next((n for n in spoken if len(n.split()) > 1 and _person_like(n)), None)
    if ner is not None:
        thing = next((question[a:b] for a, b, label in q_ents if label in THING_LABELS and question[a:b] != person),
                     None)  # fmt: skip
        adjectives = {question[a:b] for a, b, label in q_ents if label == "NORP"}
        q_names = [n for n in q_names if n not in adjectives]
    else:
        thing = next((n for n in q_names if n != person and not _person_like(n)), None)
    thing = thing or next((n for n in q_names if n != person), None)
    return _bare(person), _bare(thing)


def _bare(name: str | None) -> str | None:
    """The name without the sentence's full stop its last word may carry ("Bahceli.")."""
    return name.rstrip(".,;:!?") or None if name else None


def _located(answer: str, question: str, qtype: QuestionType, entities: list[Entity] | None) -> str | None:
    found = locate(answer, question, qtype, entities=entities) if answer else None
    return answer[found.start : found.end] if found else None


@dataclass(frozen=True)
class Referents:
    person: str | None = None
    thing: str | None = None
    # What a "they" stands for when the turn asked for several things: "the drones" of "What drones ...?".
    things: str | None = None


def _latest_referents(past: list[Turn], ner: Ner | None) -> Referents:
    """The latest person named in the last few turns, and the thing(s) of the latest turn that names anything.

    "she" may be someone named a few questions ago; "it" is what the latest turn with a subject was about,
    not an older turn's subject (turns that name nothing, like "Why?", are looked past).
    """
    person = thing = things = None
    settled = False
    for turn in list(reversed(past))[:LOOKBACK]:
        p, t = referents(turn, ner)
        person = person or p
        if not settled:
            question = turn.resolved or turn.question
            thing, asked = t, asked_things(question)
            things = f"the {asked}" if asked else None
            settled = bool(p or t or asked or names(tokens(question)))
        if person and settled:
            break
    return Referents(person, thing, things)


def _strip_markers(answer: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", answer)


def resolve(question: str, history: Sequence[Any] | None, ner: Ner | None = None) -> str:
    """The question made self-contained using the conversation (unchanged when it already is)."""
    past = [t for t in turns(history) if t.question.strip()]
    if not past:
        return question
    if (about := _WHAT_ABOUT.match(question)) and (asked := _asked_about(about.group("subject"), past, ner)):
        return asked
    found = _latest_referents(past, ner)
    person, thing = found.person, found.thing
    toks = tokens(question)
    out: list[str] = []
    pos = 0
    changed = unresolved = False
    for i, tok in enumerate(toks):
        low = tok.text.lower()
        replacement = None
        unresolved = unresolved or low in PERSON_PRONOUNS or low in THING_PRONOUNS
        if low in PERSON_PRONOUNS and person:
            # After the first mention, news text calls a person by surname ("Tokayev"), so that finds more.
            suffix = PERSON_PRONOUNS[low]
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if low == "her" and nxt is not None and nxt.text[0].isalpha() and nxt.folded not in STOPWORDS:
                suffix = "'s"  # "her plan": possessive
            replacement = person.split()[-1] + suffix
        elif low in PLURAL_PRONOUNS and (referent := found.things or thing or person):
            replacement = referent + THING_PRONOUNS[low]
        elif low in THING_PRONOUNS and thing:
            replacement = thing + THING_PRONOUNS[low]
        if replacement is not None:
            out.append(question[pos : tok.start] + replacement)
            pos = tok.end
            changed = True
    out.append(question[pos:])
    resolved = "".join(out)
    own = [t for t in terms(question) if t not in BACK_POINTERS]
    if not changed and (len(own) <= 1 or unresolved):
        # Too little of its own to search with, or a pronoun nothing said stands for ("How long did it
        # last?" after a question about a jet): carry the latest question with a topic along.
        resolved = f"{resolved.rstrip(' ?.!')} ({_topic(past).rstrip(' ?.!')})?"
    return resolved


def _topic(past: list[Turn]) -> str:
    """The latest question with more than one word of its own (not "Why?")."""
    return next((q for q in (t.resolved or t.question for t in reversed(past)) if len(terms(q)) > 1),
                past[-1].question)  # fmt: skip


def _asked_about(subject: str, past: list[Turn], ner: Ner | None) -> str | None:
    """"What about Germany?" after "What drones does Turkey supply?": the same question about Germany.

    With entity labels, the question is the latest that names something of the subject's kind (a country for
    a country), and that is what is replaced; otherwise the latest question's subject is.
    """
    subject = subject.strip()
    if subject.lower() in PERSON_PRONOUNS or subject.lower() in THING_PRONOUNS or subject.lower() in DEMONSTRATIVES:
        return None  # "What about it?": a pronoun to resolve, not a new subject
    kinds = {label for _, _, label in ner(subject)} if ner is not None else set()
    for turn in list(reversed(past))[:LOOKBACK]:
        question = turn.resolved or turn.question
        same_kind = [question[a:b] for a, b, label in (ner(question) if kinds else []) if label in kinds]
        if same_kind:
            return _replaced(question, same_kind[0], subject)
    topic = _topic(past)
    person, thing = referents(Turn(topic, ""), ner)
    named = thing if thing and thing in topic else person if person and person in topic else None
    return _replaced(topic, named, subject) if named else None


def _replaced(question: str, named: str, subject: str) -> str:
    """The question with `subject` in place of `named`, and of the article that goes with it ("the Vega
    Institute" -> "Gdansk" or "the Orion Bridge")."""
    at = question.index(named)
    start = at - 4 if question[max(at - 4, 0) : at].lower() == "the " else at
    return question[:start] + subject + question[at + len(named) :]
