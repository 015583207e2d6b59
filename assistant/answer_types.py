"""What kind of thing a question asks for, and where such things are in a sentence (rule-based, no model).

`question_type` reads the question's wording (who, when, how many, which <noun>, ...); `locate` returns the
short answer span inside a sentence: a candidate of the expected type that is not part of the question,
nearest to the question's words in the sentence (the classic sliding-window reading heuristic).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from assistant.text import STOPWORDS, fold, stem

MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion "
    "trillion dozen dozens hundreds thousands millions billions half once twice".split()
)
_TIME_UNITS = frozenset(
    "seconds second minutes minute hours hour days day weeks week months month years year decades decade "
    "centuries century".split()
)
_LENGTH_UNITS = frozenset("miles mile km kilometres kilometers metres meters feet foot yards yard".split())
_CURRENCIES = frozenset(
    "dollars dollar euros euro pounds cents pence crowns crown kronor krona kroner yen yuan rupees rupee francs "
    "franc pesos peso rubles roubles ruble rouble lira rand".split()
)
_SHARES = frozenset("percent per cent %".split())
# Words that complete a quantity ("17 seconds", "$1.2 billion", "40 percent").
UNITS = (
    _SHARES
    | _TIME_UNITS
    | _LENGTH_UNITS
    | _CURRENCIES
    | frozenset("points point tons tonnes people times million billion trillion thousand hundred".split())
)
# Offices whose holder "who is the ...?" asks for.
_ROLES = frozenset(
    "president minister chancellor king queen senator governor mayor secretary chairman chairwoman spokesperson "
    "spokesman spokeswoman ambassador director executive ceo coach manager captain commissioner editor founder "
    "owner judge pope premier general".split()
)
# Leading words of a name that are titles or roles, not the name asked for.
TITLES = frozenset(
    "president minister prime foreign chancellor king queen prince princess senator governor mayor general "
    "secretary chairman chairwoman leader spokesperson spokesman spokeswoman dr mr mrs ms sir lord judge "
    "coach quarterback pope former head chief".split()
)
_TOKEN = re.compile(r"[$€£]?\d[\d,.:/–-]*\d%?|[$€£]?\d%?|\w+(?:[-'’.]\w+)*\.?|\S")
_ORDINALS = frozenset("first second third fourth fifth sixth seventh eighth ninth tenth".split())
# What "the 12th ..." of a match is a time of: a "when" answer.
_MATCH_TIMES = frozenset("minute lap round inning innings".split())
# The units of a length ("how deep") and of a span of time or space ("how long").
_LENGTHS = _LENGTH_UNITS | frozenset("kilometre kilometer metre meter m inches inch cm".split())
_SPANS = _LENGTHS | _TIME_UNITS
_SCALES = frozenset("thousand million billion trillion".split())
_CLOCK = frozenset({"a.m.", "p.m.", "a.m", "p.m", "am", "pm"})
_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)s?$")
# Model designations: "Su-24", "F-16s", "S-400", "TB2", "A320".
_DESIGNATION = re.compile(r"^[A-Z][A-Za-z]{0,4}-?\d[\dA-Za-z]*$")
_NUMBER = re.compile(r"^[$€£]?\d[\d,.:/–-]*%?$")


class Kind(Enum):
    PERSON = "person"
    DATE = "date"
    NUMBER = "number"
    PLACE = "place"
    # "which/what <noun>": a name or phrase whose head is that noun.
    THING = "thing"
    # Why/how questions are answered with sentences, not a span.
    EXPLANATION = "explanation"
    OTHER = "other"


@dataclass(frozen=True)
class QuestionType:
    kind: Kind
    # The noun of "which <noun>" / "what <noun>" questions (stemmed), if any.
    head: str | None = None
    # The office of "who is the <role>?" ("president", as written): only a sentence naming someone in it answers.
    role: str | None = None

    @property
    def needs_span_type(self) -> bool:
        """Questions whose answer must be a date, a quantity or the holder of an office: a sentence without one
        cannot answer them."""
        return self.kind in (Kind.DATE, Kind.NUMBER) or self.role is not None


class Token(NamedTuple):
    # A tuple, not a frozen dataclass: each candidate sentence makes dozens, and tuples are made twice as fast.
    text: str
    start: int
    end: int

    @property
    def folded(self) -> str:
        return _folded(self.text)

    @property
    def stemmed(self) -> str:
        """The stem without a full stop: a sentence's last word ("people.") is the question's too."""
        return stem(self.folded)


def _folded(word: str) -> str:
    return fold(word.rstrip("."))


@lru_cache(maxsize=8192)
def tokens(text: str) -> list[Token]:
    """Words, numbers and punctuation with their offsets (cached: callers must not modify the list)."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


_QUANTITY_AFTER_HOW = {
    "many",
    "much",
    "long",
    "old",
    "far",
    "big",
    "large",
    "tall",
    "high",
    "often",
    "fast",
    "deep",
    "wide",
    "heavy",
}
# "How deep/wide/tall": a length.
_LENGTH_AFTER_HOW = {"deep", "wide", "tall"}
# The noun of each "how <adjective>" quantity.
_DIMENSIONS = {
    "deep": "depth",
    "wide": "width",
    "tall": "height",
    "high": "height",
    "long": "length",
    "old": "age",
    "far": "distance",
    "heavy": "weight",
    "big": "size",
    "large": "size",
}
_DATE_NOUNS = {"year", "date", "day", "month", "decade", "century", "time"}
_PLACE_NOUNS = {"city", "country", "countries", "state", "place", "region", "town", "province", "stadium", "venue"}
_PERSON_NOUNS = {"person", "player", "man", "woman", "people", "president", "leader", "team", "company"}
# Nouns whose value is a quantity: "what was the average cost", "what was his passer rating".
_NUMBER_NOUNS = {
    "number",
    "amount",
    "percentage",
    "percent",
    "score",
    "age",
    "cost",
    "price",
    "rating",
    "total",
    "sum",
    "population",
    "count",
    "rate",
    "salary",
    "budget",
    "revenue",
    "distance",
    "length",
    "height",
    "weight",
    "margin",
    "temperature",
    "attendance",
    "worth",
    "fee",
    "fine",
    "toll",
    "tally",
    "profit",
    "profits",
    "loss",
    "losses",
    "earnings",
    "sales",
    "income",
    "turnover",
    "dividend",
    "wage",
    "wages",
    "debt",
    "deficit",
    "surplus",
    "inflation",
    "unemployment",
    "growth",
    "turnout",
}
# Number nouns whose value is a sum of money, never a share: "what was the share price" is not "4.2 percent".
_MONEY_NOUNS = {
    "cost",
    "price",
    "salary",
    "budget",
    "revenue",
    "worth",
    "fee",
    "fine",
    "profit",
    "profits",
    "loss",
    "losses",
    "earnings",
    "sales",
    "income",
    "turnover",
    "dividend",
    "wage",
    "wages",
}
# Verbs that make "what <verb> ..." ask for an event or its cause, told in sentences: "What happened in 2015?",
# "What led to the crisis?".
_EVENT_VERBS = {
    "happen",
    "happens",
    "happened",
    "cause",
    "causes",
    "caused",
    "led",
    "leads",
    "prompted",
    "prompts",
    "triggered",
    "triggers",
    "sparked",
    "sparks",
    "motivated",
    "motivates",
    "helped",
    "helps",
    "drove",
    "drives",
    "boosted",
    "boosts",
    "hurt",
    "hurts",
    "fuelled",
    "fueled",
}
# Nouns that only introduce what is asked for: "what is the name of the trophy" asks for a trophy.
_NAMING_NOUNS = {"name", "title", "term", "nickname"}
_WH_WORDS = {"who", "whom", "whose", "when", "where", "why", "how", "which", "what"}
_COPULAS = {"is", "was", "are", "were", "'s", "be"}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those"}


def question_type(question: str) -> QuestionType:
    ws = [fold(t.text) for t in tokens(question) if t.text[0].isalnum()]
    # The question word may come after a preposition or a clause: "In which year ...", "Along with X, who ...".
    i = next((i for i, w in enumerate(ws) if w in _WH_WORDS), None)
    if i is None:
        return QuestionType(Kind.OTHER)
    w, nxt = ws[i], ws[i + 1] if i + 1 < len(ws) else ""
    if w in ("who", "whom", "whose"):
        # "Who is Leo Adams?" asks what the article says of him, not for a name.
        if nxt in _COPULAS and _only_a_name(question, i + 2):
            return QuestionType(Kind.OTHER)
        return QuestionType(Kind.PERSON, role=_role(ws[i + 2 :]) if nxt in _COPULAS else None)
    if w == "when":
        return QuestionType(Kind.DATE)
    if w == "where":
        return QuestionType(Kind.PLACE)
    if w == "why":
        return QuestionType(Kind.EXPLANATION)
    if w == "how":
        # The word after "how" stays: "how many" counts things, which a percentage or a sum of money does not.
        return QuestionType(Kind.NUMBER, nxt) if nxt in _QUANTITY_AFTER_HOW else QuestionType(Kind.EXPLANATION)
    if w == "what" and nxt in _EVENT_VERBS:
        return QuestionType(Kind.EXPLANATION)
    return _typed_by_noun(ws[i + 1 :])


def _role(rest: list[str]) -> str | None:
    """The office in "the (Dutch prime) minister (of ...)", "Dortmund's coach": what "who is ..." asks the holder of."""
    if rest[:1] and rest[0] in _DETERMINERS or rest[:1] and rest[0].endswith(("'s", "’s")):
        rest = rest[1:]
    # The last one: "general manager" is a manager.
    return next((w for w in reversed(_noun_phrase(rest)) if w in _ROLES), None)


def _only_a_name(question: str, first: int) -> bool:
    """The question's words from the `first` on are one name (and nothing else follows)."""
    words = [t for t in tokens(question) if t.text[0].isalnum()][first:]
    return bool(words) and names(words) == [(0, len(words))]


def _typed_by_noun(rest: list[str]) -> QuestionType:
    """`what`/`which` followed by a noun phrase (or "what is/was the <noun phrase>"): its noun says what is wanted."""
    if rest[:2] in (["percentage", "of"], ["percent", "of"]):
        return QuestionType(Kind.NUMBER)
    copula = bool(rest) and rest[0] in _COPULAS
    if copula:
        # "what was the average cost of ...": the noun phrase after the copula, when one follows.
        after = rest[2:] if rest[1:2] and rest[1] in _DETERMINERS else rest[1:]
        if not after or after[0] in STOPWORDS:
            return QuestionType(Kind.OTHER)
        rest = after
    elif not rest or rest[0] in STOPWORDS:
        # "what did X say": no noun after the question word.
        return QuestionType(Kind.OTHER)
    phrase = _noun_phrase(rest)
    head = phrase[-1] if phrase else rest[0]
    named = head in _NAMING_NOUNS and len(phrase) < len(rest) and rest[len(phrase)] == "of"
    if named:
        # "the name of the trophy": the thing named is what is asked for.
        inner = rest[len(phrase) + 1 :]
        inner = _noun_phrase(inner[1:] if inner[:1] and inner[0] in _DETERMINERS else inner)
        head = inner[-1] if inner else head
    if head in _DATE_NOUNS:
        return QuestionType(Kind.DATE, stem(head))
    if head in _NUMBER_NOUNS:
        return QuestionType(Kind.NUMBER, "money" if head in _MONEY_NOUNS else None)
    if head in _PLACE_NOUNS:
        return QuestionType(Kind.PLACE, stem(head))
    if head in _PERSON_NOUNS:
        return QuestionType(Kind.PERSON, stem(head))
    if copula and not named:
        # "What is TurkStream?", "what is Putin's main concern?": a definition or an explanation, not a name.
        return QuestionType(Kind.OTHER)
    return QuestionType(Kind.THING, stem(head))


def _noun_phrase(words: list[str]) -> list[str]:
    """The leading words up to the first stop word ("average cost" in "average cost of ..."); "type of" is skipped."""
    phrase: list[str] = []
    for w in words:
        if phrase in (["type"], ["kind"], ["sort"]) and w == "of":
            phrase = []  # "what type of numeral": the numeral is asked for
            continue
        # "attendance last year": a time phrase starts after the noun.
        if w in STOPWORDS and w not in ("type", "kind", "sort") or phrase and w in ("last", "next", "previous"):
            break
        phrase.append(w)
    return phrase


# -- candidates in a sentence -----------------------------------------------------------------


def _is_name_word(tok: Token, first: bool) -> bool:
    t = tok.text
    if not t[0].isalpha() or not (t[0].isupper() or any(c.isupper() for c in t[1:])):
        return bool(re.match(r"^[A-Z]*\d[\w-]*$", t)) and not _NUMBER.match(t)  # model names like "TB2", "S-400"
    return not (first and tok.folded in STOPWORDS)


def names(toks: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of capitalized runs ("Organization of Turkic States", "Su-24"), titles trimmed."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        if not _is_name_word(toks[i], i == 0):
            i += 1
            continue
        j = i + 1
        while j < len(toks):
            if _is_name_word(toks[j], False):
                j += 1
            elif (
                toks[j].folded in ("of", "de", "the", "and") and j + 1 < len(toks) and _is_name_word(toks[j + 1], False)
            ):
                j += 2
            else:
                break
        # "Kazakh President Kassym-Jomart Tokayev": the name is what follows the last title.
        titles = [m for m in range(i, j - 1) if toks[m].folded in TITLES]
        a = titles[-1] + 1 if titles else i
        out.append((a, j))
        i = j
    return out


def _is_number(tok: Token) -> bool:
    return bool(_NUMBER.match(tok.text)) or tok.folded in NUMBER_WORDS or _is_compound_quantity(tok)


def _is_compound_quantity(tok: Token) -> bool:
    """A number joined to its unit ("nine-day", "two-year-old"), or a unit's span ("week-long")."""
    parts = tok.folded.split("-")
    if len(parts) == 2 and parts[1] == "long" and parts[0] in _SPANS:
        return True
    return len(parts) > 1 and (parts[0] in NUMBER_WORDS or parts[0].isdigit()) and any(p in UNITS for p in parts[1:])


def _fitting_quantities(
    toks: list[Token], question: str, qtype: QuestionType, found: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The quantities that can answer the question: no rank ("second-largest") answers how many or how much; "how
    many" counts things, which a percentage, a sum of money, a fraction ("magnitude 8.8"), a "nine-day" strike
    (unless days are counted) or a count of other things ("60 seats" for "how many votes") does not; a price or
    a profit is no percentage; "how long" wants a span of time or space, "how deep" a length."""
    if qtype.kind is not Kind.NUMBER or qtype.head not in ("many", "much", "money", "long", *_LENGTH_AFTER_HOW):
        return found
    asked = _asked(question)[0]
    kept = []
    for a, b in found:
        words = [part for t in toks[a:b] for part in t.folded.split("-")]
        # "Norway's second-largest utility" is a rank, not an amount.
        if words[0] in _ORDINALS or _ordinal_at(toks, a):
            continue
        share = any(w in ("percent", "%") or w.endswith("%") for w in words)
        if qtype.head in ("much", "money"):
            if qtype.head == "much" or not share:
                kept.append((a, b))
            continue
        if qtype.head != "many":
            if any(w in (_SPANS if qtype.head == "long" else _LENGTHS) for w in words):
                kept.append((a, b))
            continue
        money = share or toks[a].text[0] in "$€£" or any(w in _SHARES or w in _CURRENCIES for w in words)
        fraction = any(re.match(r"^\d*\.\d+$", w) for w in words) and not any(w in _SCALES for w in words)
        compound = any(_is_compound_quantity(t) for t in toks[a:b])
        # "60 seats" is no number of votes.
        nxt = toks[b] if b < len(toks) else None
        other = (
            nxt is not None
            and nxt.folded.isalpha()
            and nxt.text.islower()
            and nxt.folded.endswith("s")
            and nxt.folded not in STOPWORDS
            and nxt.folded not in UNITS
            and nxt.stemmed not in asked
        )
        if not money and not fraction and not other and not (compound and not any(stem(w) in asked for w in words)):
            kept.append((a, b))
    return kept


def quantities(toks: list[Token]) -> list[tuple[int, int]]:
    in_dates = {i for a, b in dates(toks) for i in range(a, b)}
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        if not _is_number(toks[i]) or i in in_dates and not _followed_by_unit(toks, i) or _ordinal_at(toks, i):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and (
            _is_number(toks[j]) or toks[j].folded in ("and", "to") and j + 1 < len(toks) and _is_number(toks[j + 1])
        ):
            j += 1
        if j < len(toks) and toks[j].folded in UNITS:
            j += 1
        elif j + 1 < len(toks) and toks[j].text == "-" and toks[j + 1].folded in UNITS:
            j += 2  # "30-second": the tokenizer keeps a number's digits apart from its hyphen
        out.append((i, j))
        i = j
    return out


def _ordinal_end(toks: list[Token], i: int) -> int:
    """Where the ordinal that starts at token i ends ("third"; "12th", which the tokenizer cuts into "12" and
    "th"), or i when none does."""
    if toks[i].folded in _ORDINALS:
        return i + 1
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    suffixed = nxt is not None and nxt.start == toks[i].end and nxt.folded in ("st", "nd", "rd", "th")
    return i + 2 if toks[i].text.isdigit() and suffixed else i


def _ordinal_at(toks: list[Token], i: int) -> bool:
    return _ordinal_end(toks, i) > i


def _followed_by_unit(toks: list[Token], i: int) -> bool:
    return i + 1 < len(toks) and toks[i + 1].folded in UNITS


def dates(toks: list[Token]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        w = toks[i].folded.rstrip(".")
        if w in MONTHS and (w != "may" or toks[i].text[0] == "M") or w in WEEKDAYS:
            j = i + 1
            # "Oct. 25, 2015", "February 7, 2016", "January 2016"
            while j < len(toks) and (re.match(r"^\d{1,4}$", toks[j].text) or toks[j].text == ","):
                j += 1
            while j > i + 1 and toks[j - 1].text == ",":
                j -= 1
            out.append((i, j))
            i = j
        elif _YEAR.match(toks[i].text):
            out.append((i, i + 1))
            i += 1
        elif re.match(r"^\d{1,2}(:\d\d)?$", toks[i].text) and i + 1 < len(toks) and toks[i + 1].folded in _CLOCK:
            out.append((i, i + 2))  # "3:42 a.m."
            i += 2
        elif w in ("noon", "midnight"):
            out.append((i, i + 1))
            i += 1
        elif (m := _ordinal_end(toks, i)) < len(toks) and m > i and toks[m].folded in _MATCH_TIMES:
            out.append((i, m + 1))  # "the 12th minute" of a match
            i = m + 1
        else:
            i += 1
    return out


def _phrase_with_head(toks: list[Token], head: str) -> list[tuple[int, int]]:
    """The head noun with its modifiers: "Bayraktar TB2 combat drones", "Organization of Turkic States"."""
    out: list[tuple[int, int]] = []
    for k, tok in enumerate(toks):
        if tok.stemmed != head:
            continue
        a = k
        while a > 0 and toks[a - 1].text[0].isalnum() and toks[a - 1].folded not in STOPWORDS and k - a < 4:
            a -= 1
        # The phrase starts at a name or number: "bought Volta X2 electric buses" is "Volta X2 electric buses".
        while a < k and not _is_name_word(toks[a], False) and not toks[a].text[0].isdigit():
            a += 1
        b = k + 1
        if b + 1 < len(toks) and toks[b].folded == "of" and _is_name_word(toks[b + 1], False):
            b += 1
            while b < len(toks) and (_is_name_word(toks[b], False) or toks[b].folded in ("of", "the")):
                b += 1
        if (a, b) != (k, k + 1):
            out.append((a, b))
    return out


def _telling_modifiers(
    toks: list[Token], head: str, question: str, entities: list[tuple[int, int, str]]
) -> list[tuple[int, int]]:
    """What tells the asked-for thing apart in a phrase of its noun, for "what pay rise": "6.5 percent" in "a 6.5
    percent pay rise"; names and numbers only, one of them new to the question and no nationality. A capitalized
    noun is part of the name ("the Academy Award")."""
    asked = _asked(question)[0]
    nationalities = {i for i, t in enumerate(toks) for a, b, label in entities if label == "NORP" and a <= t.start < b}
    out = []
    for a, b in _phrase_with_head(toks, head):
        k = next(i for i in range(a, b) if toks[i].stemmed == head)
        end = k + 1 if toks[k].text[0].isupper() else k
        while end > a and not toks[end - 1].text[0].isupper() and toks[end - 1].stemmed in asked:
            end -= 1
        while a < end and a in nationalities:
            a += 1  # "the Russian S-400": the nationality only describes it
        words = range(a, end)
        plain = all(
            toks[i].text[0].isdigit() or toks[i].folded in UNITS or _is_name_word(toks[i], False) for i in words
        )
        new = any(i not in nationalities and toks[i].stemmed not in asked for i in words)
        if words and plain and new:
            out.append((a, end))
    return out


def candidates(toks: list[Token], qtype: QuestionType) -> list[tuple[int, int]]:
    """Token ranges that could be the short answer to a question of this type."""
    if qtype.kind is Kind.DATE:
        return dates(toks)
    if qtype.kind is Kind.NUMBER:
        return quantities(toks)
    if qtype.kind in (Kind.PERSON, Kind.PLACE):
        return names(toks)
    if qtype.kind is Kind.THING:
        return (_phrase_with_head(toks, qtype.head) if qtype.head else []) + names(toks) + quantities(toks)
    return []


def typed_candidates(toks: list[Token], qtype: QuestionType) -> list[tuple[int, int]]:
    """Candidates that show the sentence holds the asked-for kind of answer (for "which <noun>": the noun
    with modifiers the question does not have, and for "who is the president": a name with that title; any name
    would not tell)."""
    if qtype.kind is Kind.THING:
        return _phrase_with_head(toks, qtype.head) if qtype.head else []
    if qtype.role is not None:
        # The title may stand far from the name ("John Elway, who ... is Denver's General Manager").
        return names(toks) if any(t.folded == qtype.role for t in toks) else []
    return candidates(toks, qtype)


@dataclass(frozen=True)
class AnswerSpan:
    """A short answer inside a sentence: character offsets relative to the sentence text."""

    start: int
    end: int


# Entity labels (spaCy's OntoNotes scheme) that can answer each kind of question.
ENTITY_LABELS = {
    Kind.PERSON: {"PERSON"},
    Kind.NUMBER: {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"},
    Kind.PLACE: {"GPE", "LOC", "FAC", "ORG"},
    Kind.THING: {"ORG", "PRODUCT", "WORK_OF_ART", "EVENT", "PERSON", "GPE", "NORP", "LAW", "FAC", "CARDINAL"},
}


# Labels that answer a kind of question only when no entity of its own labels does, in this order: "who" is a
# person before an organization ("CBS"), and an organization before a nationality ("the Swiss").
FALLBACK_LABELS = {Kind.PERSON: ({"ORG"}, {"NORP"})}


def entity_candidates(
    toks: list[Token], entities: list[tuple[int, int, str]], labels: set[str]
) -> list[tuple[int, int]]:
    """Token ranges of the named entities with one of these labels (dates stay with the rules, which measured
    better on them)."""
    out = []
    for start, end, label in entities:
        if label in labels:
            # Overlapping, not inside: a sentence's last word carries its full stop ("San Francisco.").
            inside = [i for i, t in enumerate(toks) if t.start < end and t.end > start]
            if inside:
                out.append((inside[0], inside[-1] + 1))
    return out


def locate(
    sentence: str,
    question: str,
    qtype: QuestionType,
    typed_only: bool = False,
    entities: list[tuple[int, int, str]] | None = None,
) -> AnswerSpan | None:
    """The short answer in `sentence`: a typed candidate not in the question, closest to the question's words.

    With `entities` (from a named-entity recognizer) those are the candidates, the rules the fallback
    (also when every entity is one the question names).
    """
    toks = tokens(sentence)
    pools = []
    if entities and qtype.kind in ENTITY_LABELS:
        found = entity_candidates(toks, entities, ENTITY_LABELS[qtype.kind])
        if qtype.kind is Kind.THING:
            # The small NER model misses model designations ("the Russian Su-24"), which are things too.
            found += [(i, i + 1) for i, t in enumerate(toks) if _DESIGNATION.match(t.text)]
            if qtype.head:
                pools.append(_telling_modifiers(toks, qtype.head, question, entities))
        pools.append(found)
        pools += [entity_candidates(toks, entities, labels) for labels in FALLBACK_LABELS.get(qtype.kind, ())]
    pools.append(typed_candidates(toks, qtype) if typed_only else candidates(toks, qtype))
    pools = [_fitting_quantities(toks, question, qtype, pool) for pool in pools]
    for pool in pools:
        if best := _closest(toks, question, qtype, pool):
            break
    else:
        return None
    a, b = _coordinated(toks, best, pool) if _plural(question) else best
    if qtype.kind is Kind.DATE and qtype.head == "year":
        # "In what year ...": the year of "June 4, 2014".
        a, b = next(((i, i + 1) for i in range(a, b) if _YEAR.match(toks[i].text)), (a, b))
    last = toks[b - 1]
    end = last.end
    if re.search(r"\w['’]s$", last.text):
        end -= 2  # "Manning's problems": the name, not its possessive ending
    elif b == len(toks) and (re.search(r"\w{3}\.$", last.text) or last.text[:-1].lower() in _SPANS | UNITS):
        end -= 1  # the sentence's full stop, not an abbreviation's ("Jr."), also after a unit ("35 km.")
    return AnswerSpan(toks[a].start, end)


def asked_things(question: str) -> str | None:
    """The plural noun phrase of a "which/what/how many <nouns>" question, as written: "drones" in "What drones
    does Turkey sell?", "ships" in "How many ships were waiting?" (what a following "they" stands for)."""
    words = [t for t in tokens(question) if t.text[0].isalnum()]
    folded = [fold(t.text) for t in words]
    asking = ("which", "what")
    i = next((i for i, w in enumerate(folded) if w in asking or w == "many" and folded[i - 1 : i] == ["how"]), None)
    if i is None:
        return None
    phrase = _noun_phrase(folded[i + 1 :])
    if not phrase or not re.search(r"[^su]s$", phrase[-1]):
        return None
    # Skipped words ("type of") come first: the phrase is the last words before where it stops.
    end = folded.index(phrase[-1], i + 1) + 1
    return question[words[end - len(phrase)].start : words[end - 1].end]


@lru_cache(maxsize=256)
def _plural(question: str) -> bool:
    """The question asks for several: "Who were the guests?", "In which countries ...?" (cached: `locate` runs
    per candidate sentence)."""
    if question_type(question).kind is Kind.NUMBER:
        return False  # "How many ships were waiting?" asks for one number
    ws = [fold(t.text) for t in tokens(question) if t.text[0].isalnum()]
    return any(w in ("were", "are") for w in ws[:6]) or asked_things(question) is not None


def _coordinated(toks: list[Token], best: tuple[int, int], pool: list[tuple[int, int]]) -> tuple[int, int]:
    """The candidate with those coordinated after it: "Beyoncé and Bruno Mars", "Fletcher, Boiman and Brady"."""
    a, b = best
    starts = {start: end for start, end in pool}
    ends = {end: start for start, end in pool}
    while b + 1 < len(toks) and toks[b].text in (",", "and"):
        nxt = b + 2 if toks[b].text == "," and toks[b + 1].text == "and" else b + 1
        if nxt not in starts:
            break
        b = starts[nxt]
    while a >= 2 and toks[a - 1].text in (",", "and"):
        prev = a - 2 if toks[a - 1].text == "and" and toks[a - 2].text == "," else a - 1
        if prev not in ends:
            break
        a = ends[prev]
    return a, b


def _closest(
    toks: list[Token], question: str, qtype: QuestionType, found: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """Of the candidate token ranges, the one with words the question lacks that is nearest the question's words.

    Some candidates are second choices, taken only when no first choice is there: a name that shares a word
    with the question ("Mike Tolbert" for "Tolbert's fumble"), which is most likely who the question is
    about; a number that does not count what a "how many" question counts.
    """
    asked, asked_raw = _asked(question)
    anchors = [i for i, t in enumerate(toks) if t.stemmed in asked]
    names_asked = qtype.kind in (Kind.PERSON, Kind.PLACE)
    best: tuple[bool, float, tuple[int, int]] | None = None
    for a, b in found:
        content = [t for t in toks[a:b] if t.text[0].isalnum() and t.folded not in STOPWORDS]
        new = [t for t in content if t.stemmed not in asked and t.folded not in asked_raw]
        if not new:
            continue  # the question already says it: it cannot be the answer
        # Trim words the question already has from the edges ("Kremlin spokesperson Dmitry Peskov").
        while a < b - 1 and names_asked and (toks[a].stemmed in asked or toks[a].folded in STOPWORDS):
            a += 1
        second = names_asked and len(new) < len(content)
        if qtype.kind is Kind.NUMBER:
            # "How many tackles": a quantity of tackles ("five solo tackles") before any other number.
            second = not any(t.stemmed in asked for t in toks[a + 1 : b + 3])
            # The unit the question already names is not part of the answer: "27" punts, not "27 punts".
            while b - 1 > a and toks[b - 1].stemmed in asked:
                b -= 1
        distance = min((abs(i - j) for i in anchors for j in (a, b - 1)), default=len(toks))
        cost = distance - 0.5 * (len(new) / max(len(content), 1))
        if best is None or (second, cost) < best[:2]:
            best = (second, cost, (a, b))
    return best[2] if best else None


@lru_cache(maxsize=256)
def _asked(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """The question's stemmed content words, and all its folded words with the acronyms of its names ("MVP" for
    "Most Valuable Player"): `locate` runs per candidate sentence."""
    toks = tokens(question)
    asked = {t.stemmed for t in toks if t.text[0].isalnum() and t.folded not in STOPWORDS}
    # "How deep ...?" is answered beside "a depth of 35 km".
    after_how = [b.folded for a, b in itertools.pairwise(toks) if a.folded == "how"]
    asked |= {stem(_DIMENSIONS[w]) for w in after_how if w in _DIMENSIONS}
    acronyms = {
        "".join(t.text[0] for t in toks[a:b] if t.text[0].isupper()).lower() for a, b in names(toks) if b - a > 1
    }
    return frozenset(asked), frozenset(t.folded for t in toks) | acronyms


def has_candidate(sentence: str, question: str, qtype: QuestionType) -> bool:
    return locate(sentence, question, qtype, typed_only=True) is not None


NEGATIONS = frozenset({"not", "no", "never", "n't", "without", "neither", "nor"})


def negated(text: str) -> bool:
    """The text denies something ("did not invite", "never"), which a matching answer must too."""
    # On the bare words: it runs on every candidate sentence, where making `Token`s cost more than the check.
    return any(w in NEGATIONS or w.endswith("n't") for w in map(_folded, _TOKEN.findall(text)))


def numbers_in(text: str) -> set[str]:
    """The numbers a text states ("2023", "17"), as written without separators."""
    return {t.text.replace(",", "") for t in tokens(text) if _NUMBER.match(t.text) and t.text[0].isdigit()}
