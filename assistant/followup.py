"""Follow-up questions without an LLM: made self-contained with spaCy's parse of the conversation.

- A pronoun stands for the most salient earlier mention that agrees with it: "he"/"she" a person, "it" one
  thing, "they" several things, a group (an organization, a nationality) or two people named together. Salience
  is centering's: the latest turns first, and within a turn the subject before the object before the rest, with
  the previous answer in the slot its question asked for. After "Who wrote that Turkey lost track ...?",
  answered "Cengiz Çandarlı commented ...", the writer is Çandarlı, so "his piece" is his. A pronoun the
  conversation already used keeps its referent ("it" stays the bridge), a person called "he" is not "she", and a
  pronoun never stands for a name of its own question.
- A fragment without a verb is an ellipsis of an earlier question. A wh-fragment ("Why?", "For how long?") takes
  the wh-phrase's place in the previous question, whose slot gets the previous answer: "Who did Tokayev invite to
  help control protestors?" answered "the CSTO" makes "Why?" "Why did Tokayev invite the CSTO to help control
  protestors?". A noun phrase ("And Germany?", "What about Chega?") takes the place of the earlier question's
  name of the same kind: "What does Germany supply to Ukraine?".
- What cannot be made into a sentence is left as it was asked: the chat shows how it read a follow-up only when
  that reading is a question of its own.

The pronouns and what they agree with are data (`assistant/data/pronouns.json`); the rest comes from the parse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from assistant.models.spacy_pipeline import Parse, Word, get_parser

# How many turns back a pronoun may find what it stands for, and a "What about X?" the question to ask again.
LOOKBACK = 3
# Dependency labels (spaCy's ClearNLP scheme) by salience: subjects, then objects; anything else comes after.
SUBJECT_DEPS = {"nsubj", "nsubjpass", "csubj"}
OBJECT_DEPS = {"dobj", "attr", "dative", "oprd"}
# Entity labels of names that are never a person, and of groups, which "they" (or "it") may stand for.
NOT_PERSON_LABELS = {"ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "LAW", "WORK_OF_ART", "LANGUAGE"}
GROUP_LABELS = {"ORG", "NORP"}
# The auxiliary a question needs when a subject takes the wh-word's place ("Who designed it?" -> "Why did Holm
# design it?"), by the Penn tag of the verb.
DO_SUPPORT = {"VBD": "did", "VBZ": "does", "VBP": "do"}
# Penn tags of wh-words and of nouns.
WH_TAGS = {"WP", "WDT", "WRB", "WP$"}
NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
_WHAT_ABOUT = re.compile(r"^(?:what|how)\s+about\s+", re.IGNORECASE)

Parser = Callable[[str], Parse]


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
        short = None if _abstained(answer) else _text_attribute(answer, "short_answer")
        return cls(_content(question), said, _text_attribute(answer, "resolved_question"), short)


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


def _strip_markers(answer: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", answer)


# -- what a pronoun agrees with ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pronoun:
    family: str  # he, she, it or they: what it agrees with, and what a later pronoun of the family continues
    possessive: bool


@cache
def pronouns() -> dict[str, Pronoun]:
    raw = json.loads((resources.files("assistant") / "data" / "pronouns.json").read_text(encoding="utf-8"))
    return {word: Pronoun(**entry) for word, entry in raw.items()}


@dataclass(frozen=True)
class Mention:
    """Something a turn named, as it was written, with what a pronoun needs to agree with it."""

    text: str
    person: bool = False
    plural: bool = False
    group: bool = False
    # Salience within its turn: 0 subject, 1 object, 2 anything else, 3 named only in the answer.
    rank: int = 2
    # Where it is in the turn's (resolved) question; None for the answer's mentions.
    span: tuple[int, int] | None = None
    label: str = ""

    @property
    def key(self) -> str:
        """What identifies it across turns: "the Kessock Strait bridge" is "Kessock Strait bridge"."""
        return re.sub(r"^(?:the|a|an)\s+", "", self.text, flags=re.IGNORECASE).casefold()

    def written(self, possessive: bool) -> str:
        # After the first mention, news text calls a person by surname ("Tokayev"), so that finds more.
        text = self.text.split()[-1] if self.person and " and " not in self.text else self.text
        return text + "'s" if possessive else text

    def agrees(self, family: str, groups: bool = True) -> bool:
        """Whether a pronoun of `family` may stand for it; "they" for a group only when `groups`."""
        if family in ("he", "she"):
            return self.person
        if family == "it":
            return not self.person and not self.plural
        return self.plural or groups and self.group


@dataclass(frozen=True)
class Reading:
    """A past turn as the conversation understood it."""

    question: str  # as resolved
    parse: Parse
    mentions: tuple[Mention, ...]
    # What each pronoun family of the turn stood for.
    bound: dict[str, Mention] = field(default_factory=dict)
    # Whether the turn's own question was a wh-fragment ("Why?"): it asked about an answer, not a new subject.
    elaboration: bool = False
    # The previous answer in the question's wh-slot.
    filler: Mention | None = None


def resolve(question: str, history: Sequence[Any] | None, parser: Parser | None = None) -> str:
    """The question made self-contained using the conversation (unchanged when it already is, or when no
    self-contained question can be made of it)."""
    past = [t for t in turns(history) if t.question.strip()]
    if not past:
        return question
    parse = parser or get_parser()
    return _resolve(question, _read(past, parse), parse)[0]


def _read(past: list[Turn], parse: Parser) -> list[Reading]:
    """Each past turn read in order, with what its own follow-ups resolved to."""
    readings: list[Reading] = []
    for turn in past:
        text, bound, elaboration = _resolve(turn.question, readings, parse)
        # The question as the assistant reported resolving it wins (a language model may have rewritten it).
        resolved = turn.resolved or text
        parsed = parse(resolved)
        filler = _filler(parsed, resolved, turn, parse)
        # Whom the conversation already took for a person stays one, whatever the recognizer says of a
        # question's single word ("Nazarbayev" as an organization).
        people = {m.key.split()[-1] for r in readings for m in r.mentions if m.person}
        people |= {m.key.split()[-1] for m in bound.values() if m.person}
        mentions = _mentions(parsed, resolved, turn, parse, filler, people)
        readings.append(Reading(resolved, parsed, mentions, bound, elaboration, filler))
    return readings


def _resolve(question: str, earlier: list[Reading], parse: Parser) -> tuple[str, dict[str, Mention], bool]:
    """(the question resolved, what its pronouns stood for, whether it was a wh-fragment)."""
    if not earlier:
        return question, {}, False
    parsed = parse(question)
    if not any(w.tag.startswith("VB") or w.tag == "MD" for w in parsed.words):
        words = _fragment(parsed)
        if not _WHAT_ABOUT.match(_span(question, words)) and any(w.tag in WH_TAGS for w in words):
            return _wh_ellipsis(question, words, earlier) or question, {}, True
        return _noun_ellipsis(question, words, earlier, parse) or question, {}, False
    return (*_replace_pronouns(question, parsed, earlier), False)


def _replace_pronouns(question: str, parsed: Parse, earlier: list[Reading]) -> tuple[str, dict[str, Mention]]:
    table = pronouns()
    own = {_key(question[a:b]) for a, b, _ in parsed.entities}
    used: set[str] = set()
    bound: dict[str, Mention] = {}
    out: list[str] = []
    pos = 0
    for word in parsed.words:
        pronoun = table.get(word.text.lower())
        if pronoun is None or word.tag not in ("PRP", "PRP$"):
            continue
        if pronoun.family in bound:
            continue  # "What did he say he would do?": named once, the second "he" reads as it is
        found = _antecedent(pronoun.family, earlier, own | used)
        if found is None:
            continue
        used.add(found.key)
        bound[pronoun.family] = found
        text = found.written(pronoun.possessive or word.tag == "PRP$")
        text = text[0].upper() + text[1:] if word.start == 0 else _lower_article(text)
        out.append(question[pos : word.start] + text)
        pos = word.end
    out.append(question[pos:])
    return "".join(out), bound


def _key(text: str) -> str:
    return Mention(text).key


def _antecedent(family: str, earlier: list[Reading], excluded: set[str]) -> Mention | None:
    """The mention a pronoun of `family` stands for: the one a pronoun of the family stood for in the previous
    question, else the most salient agreeing mention of the latest turn that has one."""
    window = earlier[-LOOKBACK:][::-1]
    # Centering's "continue": what the previous question called "it" is still "it".
    if (kept := window[0].bound.get(family)) is not None and kept.key not in excluded:
        return kept
    # A person already called "he" is not "she" (and the other way round).
    other = {"he": "she", "she": "he"}.get(family)
    gendered = {m.key for r in earlier for f, m in r.bound.items() if f == other}
    # "Nazarbayev" of the question is "Nur Sultan Nazarbayev" of an answer: a pronoun does not stand for either.
    surnames = {k.split()[-1] for k in excluded if k}

    def free(m: Mention) -> bool:
        return m.key not in excluded and m.key.split()[-1] not in surnames and m.key not in gendered

    # "they" is several things or two people before it is an organization ("the two of them" after a question
    # about a man and his ally).
    for groups in (False, True) if family == "they" else (True,):
        for reading in window:
            fits = [m for m in reading.mentions if free(m) and m.agrees(family, groups)]
            if fits:
                return fits[0]
            people = list({m.key.split()[-1]: m for m in reading.mentions if m.person and free(m)}.values())
            if family == "they" and len(people) >= 2:
                return Mention(f"{people[0].written(False)} and {people[1].written(False)}", plural=True)
    return None


# -- what a turn named ------------------------------------------------------------------------------


def _rank(dep: str) -> int:
    return 0 if dep in SUBJECT_DEPS else 1 if dep in OBJECT_DEPS else 2


def _plural(parsed: Parse, root: int) -> bool:
    return parsed.words[root].tag in ("NNS", "NNPS") or any(w.dep == "conj" and w.head == root for w in parsed.words)


def _label(parsed: Parse, start: int, end: int) -> str:
    """The label of the entity that holds the last word within [start, end) (the head of a noun phrase), or "":
    "Çandarlı's piece" is no person."""
    last = next((w for w in reversed(parsed.words) if w.start >= start and w.end <= end), None)
    if last is None:
        return ""
    label = next((label for a, b, label in parsed.entities if a <= last.start and last.end <= b), "")
    # A person is named by proper nouns: "Bayraktar TB2 drones" is no person, whatever the recognizer says.
    return "" if label == "PERSON" and last.tag not in ("NNP", "NNPS") else label


def _chunk_mentions(parsed: Parse, text: str, skip: tuple[int, int] | None, rank_offset: int = 0) -> list[Mention]:
    """The noun phrases and names of a parsed text (none inside `skip`, the wh-phrase), ranked by their role."""
    found: list[Mention] = []
    for first, last in parsed.chunks:
        words = parsed.words[first : last + 1]
        root = parsed.words[last]
        if skip and skip[0] <= first <= skip[1] or root.tag == "PRP" or any(w.tag in WH_TAGS for w in words):
            continue
        if _misread_verb(parsed, last) and last > first and parsed.words[last - 1].tag in NOUN_TAGS:
            last -= 1  # "the Russian jet cross": the noun phrase is "the Russian jet"
            words = parsed.words[first : last + 1]
        start, end = words[0].start, words[-1].end
        label = _label(parsed, start, end)
        found.append(
            Mention(
                text[start:end],
                label == "PERSON",
                _plural(parsed, last),
                label in GROUP_LABELS,
                min(_rank(root.dep) + rank_offset, 3),
                (start, end),
                label,
            )
        )
    covered = [m.span for m in found if m.span]
    for a, b, label in parsed.entities:
        inside = [w for w in parsed.words if w.start >= a and w.end <= b]
        if (
            not inside
            or inside[-1].dep == "amod"
            or skip
            and parsed.words.index(inside[0]) <= skip[1]
            and (parsed.words.index(inside[0]) >= skip[0])
        ):
            continue  # "Russian jet": a nationality as an adjective stands for nothing
        if (a, b) in covered or label not in NOT_PERSON_LABELS | {"PERSON"}:
            continue
        found.append(
            Mention(
                text[a:b],
                label == "PERSON",
                False,
                label in GROUP_LABELS,
                min(_rank(inside[-1].dep) + rank_offset, 3),
                (a, b),
                label,
            )
        )
    return found


def _misread_verb(parsed: Parse, i: int) -> bool:
    """Whether word i is the verb of a do-question that the tagger read as a noun ("How many seats did the
    Socialist Party win?" parsed with "did" as its main verb and "the Socialist Party win" as its object)."""
    head = parsed.words[parsed.words[i].head]
    return head.lemma == "do" and head.dep == "ROOT" and not any(w.tag == "VB" for w in parsed.words)


def _mentions(
    parsed: Parse, question: str, turn: Turn, parse: Parser, filler: Mention | None, known: set[str]
) -> tuple[Mention, ...]:
    """What the turn named, most salient first: the question's mentions with the answer in its wh-slot, then the
    answer's names. A name the article calls a person anywhere in the turn is a person."""
    slot = _wh_phrase(parsed)
    answer = _strip_markers(turn.answer)
    said_parse = parse(answer)
    # The article's sentence tells a name's kind better than a short question does ("Chega" is no person).
    kinds = {_key(answer[a:b]): label for a, b, label in said_parse.entities}
    own = [_kind(m, kinds.get(m.key, m.label)) for m in _chunk_mentions(parsed, question, slot)]
    said = _chunk_mentions(said_parse, answer, None, rank_offset=3) if answer else []
    said = [m for m in said if m.label == "PERSON"]
    people = {m.key.split()[-1] for m in (*own, *said) if m.person}
    mentions = [*([filler] if filler else []), *own, *said]
    seen: set[str] = set()
    out = []
    for m in sorted(mentions, key=lambda m: (m.rank, m.span[0] if m.span else -1)):
        if m.key in seen:
            continue
        seen.add(m.key)
        surname = m.key.split()[-1] if m.key else ""
        not_person = m.label in NOT_PERSON_LABELS and m is not filler
        person = m.person or surname in known or surname in people and not not_person
        out.append(replace(m, person=person, group=m.group and not person))
    return tuple(out)


def _kind(m: Mention, label: str) -> Mention:
    return replace(m, label=label, person=label == "PERSON", group=label in GROUP_LABELS) if label else m


def _wh_phrase(parsed: Parse) -> tuple[int, int] | None:
    """The first and last word of the question's wh-phrase ("Which organization", "How many seats", "For how
    long"), or None."""
    words = parsed.words
    at = next((i for i, w in enumerate(words) if w.tag in WH_TAGS), None)
    if at is None:
        return None
    first = at - 1 if at > 0 and words[at - 1].tag in ("IN", "TO") else at
    last = at
    while last + 1 < len(words) and words[last + 1].tag in ("JJ", "RB", "JJR", "RBR"):
        last += 1
    if last + 1 < len(words) and words[last + 1].tag in NOUN_TAGS:
        last += 1
    return first, last


def _filler(parsed: Parse, question: str, turn: Turn, parse: Parser) -> Mention | None:
    """The answer in the question's wh-slot, as a mention with the slot's salience."""
    slot = _wh_phrase(parsed)
    answer = _strip_markers(turn.answer)
    if slot is None or not answer:
        return None
    words = parsed.words
    head = words[slot[1]]
    wh = next(w for w in words[slot[0] : slot[1] + 1] if w.tag in WH_TAGS)
    noun = head if head.tag in NOUN_TAGS else None
    rank = _rank(head.dep)
    said = parse(answer)
    if wh.lemma in ("who", "whom"):
        text = _answer_subject(said, answer) if head.dep in SUBJECT_DEPS else None
        # A "who" asks for a person: a short answer the recognizer calls an organization is passed over.
        short = turn.short if turn.short and _whole_label(said, answer, turn.short) not in NOT_PERSON_LABELS else None
        text = text or short or _first_person(said, answer, question) or turn.short
        if text is None:
            return None
        label = _whole_label(said, answer, text) or _whole_label(parse(text), text, text)
        # Who answered a "who" is a person when named like one, else a group of people ("the fishermen's
        # association"): "they", or "it".
        person = label == "PERSON" or not label and any(w.tag in ("NNP", "NNPS") for w in parse(text).words)
        return Mention(text, person, False, not person, rank, None, label)
    if noun is not None:
        # "Which organization ...?": the answer's name of an organization ("the Organization of Turkic States"),
        # else its noun phrase that says which ("Turkish drones"), else its short answer.
        lemma = noun.lemma.casefold()
        named = [
            answer[a:b]
            for a, b, _ in said.entities
            if any(w.lemma.casefold() == lemma and w.start >= a and w.end <= b for w in said.words)
        ]
        named += [
            answer[said.words[a].start : said.words[b].end]
            for a, b in said.chunks
            if said.words[b].lemma.casefold() == lemma and any(w.tag != "DT" for w in said.words[a:b])
        ]
        named = [n for n in named if _key(n) not in question.casefold()]
        text = named[0] if named else turn.short
        if text is None:
            return None
        if named and not any(w.tag in ("NNP", "NNPS") for w in parse(text).words[-1:]):
            # Things with no name of their own are "the drones" again, as the question called them, rather than
            # the answer's words ("Turkish Bayraktar TB2 combat drones"), which would only find the answer again.
            text = f"the {noun.text}"
        if wh.tag == "WRB" and noun.text.casefold() not in text.casefold():
            text = f"{text} {noun.text}"  # "How many seats": "91 seats"
        label = _whole_label(said, answer, text)
        return Mention(text, False, noun.tag in ("NNS", "NNPS"), label in GROUP_LABELS, rank, None, label)
    if turn.short is None:
        return None
    label = _whole_label(said, answer, turn.short)
    # A "where"/"when" answer is an adjunct: less salient than what the question was about.
    return Mention(
        turn.short, label == "PERSON", False, label in GROUP_LABELS, 2 if wh.tag == "WRB" else rank, None, label
    )


def _whole_label(parsed: Parse, text: str, part: str) -> str:
    """The label of the entity that `part` of `text` is (give or take "the"), or ""."""
    return next((label for a, b, label in parsed.entities if _key(text[a:b]) == _key(part)), "")


def _answer_subject(said: Parse, answer: str) -> str | None:
    """The subject of the answer's first sentence, or its agent when passive ("The bridge was designed by Ingrid
    Holm"), as a name if it has one ("Its chairman, Callum Reid, said"): who did what a subject "who" asked
    about."""
    words = said.words
    root = next((i for i, w in enumerate(words) if w.dep == "ROOT"), None)
    if root is None or words[root].lemma == "be":
        return None  # "The main factor ... was the mediation of Nazarbayev": the subject is no doer
    agents = [j for j, w in enumerate(words) if w.head == root and w.dep == "agent"]
    subjects = [i for i, w in enumerate(words) if w.head == root and w.dep in SUBJECT_DEPS and i != root]
    heads = [j for a in agents for j, w in enumerate(words) if w.head == a and w.dep == "pobj"] or subjects
    heads += [j for h in heads for j, w in enumerate(words) if w.head == h and w.dep == "appos"]
    phrases = [(a, b) for a, b in said.chunks if b in heads]
    # The phrase with a proper noun: "Marta Kowal", not "The physicist", of "The physicist Marta Kowal".
    phrases.sort(key=lambda c: not any(w.tag in ("NNP", "NNPS") for w in words[c[0] : c[1] + 1]))
    for a, b in phrases[:1]:
        start, end = words[a].start, words[b].end
        person = next(((x, y) for x, y, label in said.entities if label == "PERSON" and start <= x and y <= end), None)
        return answer[person[0] : person[1]] if person else _lower_article(answer[start:end])
    return None


def _first_person(said: Parse, answer: str, question: str) -> str | None:
    return next(
        (
            answer[a:b]
            for a, b, label in said.entities
            if label == "PERSON" and _key(answer[a:b]) not in question.casefold()
        ),
        None,
    )


# -- ellipsis ---------------------------------------------------------------------------------------


def _fragment(parsed: Parse) -> list[Word]:
    """The fragment's own words: without a leading "and"/"but" and the final punctuation."""
    words = [w for w in parsed.words if w.tag not in (".", ",")]
    while words and words[0].tag == "CC":
        words = words[1:]
    return words


def _wh_ellipsis(question: str, fragment: list[Word], earlier: list[Reading]) -> str | None:
    """ "Why?" after "Who did Tokayev invite ...?" answered "the CSTO": "Why did Tokayev invite the CSTO ...?"."""
    latest = earlier[-1]
    new = question[fragment[0].start : fragment[-1].end]
    new = new[0].upper() + new[1:]
    words, text = latest.parse.words, latest.question
    body = [w for w in words if w.tag != "."]
    if not body:
        return None
    slot = _wh_phrase(latest.parse)
    if slot is None:
        # A yes/no question ("Is he still in power?"): "Why is Nazarbayev still in power?"
        if body[0].tag == "MD" or body[0].lemma in ("be", "do", "have"):
            return f"{new} {_lower_first(body[0], text[body[0].start : body[-1].end])}?"
        return None
    first, last = slot
    rest = body[last + 1 :]
    wh = next(w for w in words[first : last + 1] if w.tag in WH_TAGS)
    own_wh = next(w for w in fragment if w.tag in WH_TAGS)
    if own_wh.lemma == wh.lemma and len(fragment) > 1:
        # "Who else?" after "Who invited the CSTO?": "Who else invited the CSTO?"
        return f"{new} {_span(text, rest)}?" if rest else None
    head = words[last]
    adverbial = wh.tag == "WRB" and head.tag not in NOUN_TAGS
    if adverbial:
        return f"{new} {_span(text, rest)}?" if rest else None
    filler = latest.filler
    if filler is None or not rest:
        return None
    fill = _lower_article(filler.text)
    aux = rest[0]
    if aux.tag == "MD" or aux.lemma in ("be", "do", "have") and aux.dep in ("aux", "auxpass", "ROOT"):
        if aux.lemma != "do" and (head.dep in SUBJECT_DEPS or aux.dep == "ROOT"):
            # "Who is Erdoğan's ally?" / "Who has been purging ...?": the answer right after the auxiliary.
            return f"{new} {aux.text} {fill} {_span(text, rest[1:])}?".replace("  ", " ")
        # An object: after the main verb ("Why did Tokayev invite the CSTO to help ...?").
        at = _object_position(words, rest, last)
        return f"{new} {_span(text, rest[: at + 1])} {fill}" + (
            f" {_span(text, rest[at + 1 :])}?" if rest[at + 1 :] else "?"
        )
    if aux.tag in DO_SUPPORT:
        # "Who designed the bridge?": "Why did Ingrid Holm design the bridge?"
        tail = f" {_span(text, rest[1:])}" if rest[1:] else ""
        return f"{new} {DO_SUPPORT[aux.tag]} {fill} {aux.lemma}{tail}?"
    return None


def _object_position(words: tuple[Word, ...], rest: list[Word], slot_end: int) -> int:
    """Where in `rest` (the question after its wh-phrase) the object goes: after the main verb and its particle,
    else after the wh-phrase's head, else at the end."""
    verb = next((i for i, w in enumerate(rest) if w.tag == "VB"), None)
    if verb is None:
        head = words[words[slot_end].head]
        verb = next((i for i, w in enumerate(rest) if w is head and i > 0), len(rest) - 1)
    while verb + 1 < len(rest) and rest[verb + 1].tag == "RP":
        verb += 1
    return verb


def _span(text: str, words: Sequence[Word]) -> str:
    return text[words[0].start : words[-1].end] if words else ""


def _lower_first(word: Word, text: str) -> str:
    return text if word.tag in ("NNP", "NNPS") else text[0].lower() + text[1:]


def _lower_article(text: str) -> str:
    return re.sub(r"^The\b", "the", text)


def _noun_ellipsis(question: str, fragment: list[Word], earlier: list[Reading], parse: Parser) -> str | None:
    """ "And Germany?" after "What does the US supply to Ukraine?": "What does Germany supply to Ukraine?"."""
    if not fragment:
        return None
    subject = question[fragment[0].start : fragment[-1].end]
    subject = _WHAT_ABOUT.sub("", subject).strip()
    if not subject or subject.casefold() in pronouns():
        return None  # "What about him?": nothing new to ask about
    parsed = parse(subject)
    if not any(w.dep == "ROOT" and w.tag in NOUN_TAGS for w in parsed.words):
        return None  # "And after that?": no noun phrase to ask about
    kinds = {label for _, _, label in parsed.entities}
    asked = [r for r in earlier[-LOOKBACK:][::-1] if not r.elaboration]
    for reading in asked:
        same = [m for m in reading.mentions if m.span and m.label in kinds and m.key != _key(subject)]
        if same:
            return _replaced(reading.question, same[0], subject)
    if not asked:
        return None
    # Else its most salient name, one the recognizer found before a noun phrase that only holds a proper noun.
    named = [m for m in asked[0].mentions if m.span and m.label] or [
        m for m in asked[0].mentions if m.span and _proper(asked[0].parse, m)
    ]
    return _replaced(asked[0].question, named[0], subject) if named else None


def _proper(parsed: Parse, m: Mention) -> bool:
    assert m.span is not None
    return any(w.tag in ("NNP", "NNPS") for w in parsed.words if w.start >= m.span[0] and w.end <= m.span[1])


def _replaced(question: str, named: Mention, subject: str) -> str:
    """The question with `subject` in place of `named`, and of the article that goes with it ("the US" ->
    "Germany")."""
    assert named.span is not None
    a, b = named.span
    a = a - 4 if question[max(a - 4, 0) : a].lower() == "the " else a
    return question[:a] + subject + question[b:]
