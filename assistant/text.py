"""Word-level text helpers shared by lexical retrieval and answer selection."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
# Question words and auxiliaries say what is asked, not what to look for.
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how did does do is are was were has have had can could "
    "would should will may might much many according".split()
)
STOPWORDS = frozenset(STOPWORDS_EN) | QUESTION_WORDS | frozenset("s its it's his her their he she they them".split())
_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower-case without accents, so that "Erdoğan" and "Erdogan" meet."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(fold(word))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def terms(text: str) -> list[str]:
    """Stemmed content words of `text`, in order (stop words and question words left out). A hyphenated word
    gives its parts too, so that "Russia-Turkey" meets "Russia–Turkey" (an en dash) and "Russia"."""
    return [stem(p) for w in words(text) for p in _with_parts(w) if fold(p) not in STOPWORDS]


def _with_parts(word: str) -> list[str]:
    return [word, *word.split("-")] if "-" in word else [word]
