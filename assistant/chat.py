"""Follow-up questions without an LLM: resolve pronouns against the conversation so retrieval has names.

"Who invited the CSTO into Kazakhstan?" then "Why did he prefer it over the Turkic organization?"
becomes "Why did Tokayev prefer CSTO over the Turkic organization?": "he" is the person the
last answer named (for a "who" question, its short answer), "it" the last thing the previous question named.
A follow-up with (almost) no words of its own ("Why?", "And after that?") carries the previous question along.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answer_types import Kind, Token, locate, names, question_type, tokens
from assistant.text import STOPWORDS, terms

PERSON_PRONOUNS = {"he": "", "she": "", "him": "", "her": "", "his": "'s", "hers": "'s", "himself": "", "herself": ""}
THING_PRONOUNS = {"it": "", "its": "'s", "itself": "", "they": "", "them": "", "their": "'s", "theirs": "'s"}
DEMONSTRATIVES = {"that", "this", "these", "those", "there", "then"}
# Words in a name that mark an organization or place rather than a person.
_NOT_PERSON = re.compile(
    r"organi[sz]ation|council|party|treaty|union|ministry|bank|company|inc|ltd|group|states?|republic|"
    r"kingdom|nations|agency|army|forces|parliament|government|league|association|committee|[A-Z]{2,}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


def turns(history: Sequence[Any] | None) -> list[Turn]:
    """The conversation as (question, answer) turns, from pairs or `{"role", "content"}` messages."""
    out: list[Turn] = []
    pending: str | None = None
    for item in history or ():
        if isinstance(item, Mapping):
            role, content = str(item.get("role", "")), _content(item.get("content"))
            if role == "user":
                if pending is not None:
                    out.append(Turn(pending, ""))
                pending = content
            elif role == "assistant" and pending is not None:
                out.append(Turn(pending, content))
                pending = None
        else:
            question, answer = item
            out.append(Turn(_content(question), _content(answer)))
    if pending is not None:
        out.append(Turn(pending, ""))
    return out


def _content(value: Any) -> str:
    """Message content as text: a string, an `Answer`-like object with `.text`, or a list of text parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "text") and isinstance(value.text, str):
        return value.text
    if isinstance(value, list):
        return " ".join(_content(v.get("text") if isinstance(v, Mapping) else v) for v in value)
    return str(value)


def _span(toks: list[Token], text: str, rng: tuple[int, int]) -> str:
    return text[toks[rng[0]].start : toks[rng[1] - 1].end]


def _person_like(name: str) -> bool:
    return not any(_NOT_PERSON.search(w) for w in name.split())


def referents(turn: Turn) -> tuple[str | None, str | None]:
    """(the person, the thing) the turn was about, as they are written."""
    q_toks, a_toks = tokens(turn.question), tokens(_strip_markers(turn.answer))
    q_names = [_span(q_toks, turn.question, r) for r in names(q_toks)]
    answer = _strip_markers(turn.answer)
    a_names = [_span(a_toks, answer, r) for r in names(a_toks)]
    person = None
    qtype = question_type(turn.question)
    if qtype.kind is Kind.PERSON and answer:
        found = locate(answer, turn.question, qtype)
        person = answer[found.start : found.end] if found else None
    if person is None:
        person = next((n for n in q_names + a_names if _person_like(n)), None)
    thing = next((n for n in q_names if n != person and not _person_like(n)), None)
    thing = thing or next((n for n in q_names if n != person), None)
    return person, thing


def _strip_markers(answer: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", answer)


def resolve(question: str, history: Sequence[Any] | None) -> str:
    """The question made self-contained using the conversation (unchanged when it already is)."""
    past = [t for t in turns(history) if t.question.strip()]
    if not past:
        return question
    last = past[-1]
    person, thing = referents(last)
    toks = tokens(question)
    out: list[str] = []
    pos = 0
    changed = False
    for i, tok in enumerate(toks):
        low = tok.text.lower()
        replacement = None
        if low in PERSON_PRONOUNS and person:
            # After the first mention, news text calls a person by surname ("Tokayev"), so that finds more.
            suffix = PERSON_PRONOUNS[low]
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if low == "her" and nxt is not None and nxt.text[0].isalpha() and nxt.folded not in STOPWORDS:
                suffix = "'s"  # "her plan": possessive
            replacement = person.split()[-1] + suffix
        elif low in THING_PRONOUNS and (thing or person):
            replacement = (thing or person) + THING_PRONOUNS[low]  # type: ignore[operator]
        if replacement is not None:
            out.append(question[pos : tok.start] + replacement)
            pos = tok.end
            changed = True
    out.append(question[pos:])
    resolved = "".join(out)
    own = [t for t in terms(question) if t not in DEMONSTRATIVES]
    if len(own) <= 1 and not changed:
        # Too little of its own to search with: carry the previous question's topic along.
        resolved = f"{resolved.rstrip(' ?.!')} ({last.question.rstrip(' ?.!')})?"
    return resolved
