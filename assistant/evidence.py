"""How well each sentence supports a question: the signals shared by the default reranker and the answerer.

A sentence's evidence score is its cosine similarity to the question, plus its IDF-weighted coverage of the
question's content words (including whether it denies something, as "did not invite" does), plus a bonus
when it holds a candidate of the type the question asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.answer_types import Kind, QuestionType, has_candidate, names, negated, numbers_in, tokens
from assistant.settings import Settings
from assistant.store import Store
from assistant.store.lexical import LexicalIndex
from assistant.text import terms
from assistant.types import Sentence

# A sentence whose content words are this much inside another's says nothing new: keep one of them.
DUPLICATE_OVERLAP = 0.8
# Sentences whose content words are kept (about the store's cache of their vectors).
_TERM_CACHE = 20000
# Stands for "not/never/no" among a text's content words (which leave stop words out).
NEGATION = "<not>"
# Acronyms ("CSTO", "TDs") are often spelled out in the articles, so an unknown one says nothing.
_ACRONYM = re.compile(r"^[A-Z]{2,}s?$")


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    score: float
    similarity: float
    coverage: float
    # Holds a candidate of the asked-for type (a date for "when", a quantity for "how many", ...).
    typed: bool
    # The score again, but with the question's words that no passage contains counted as missing:
    # what abstention looks at, since "sourdough" being unknown to the index is itself evidence.
    support: float


class EvidenceScorer:
    def __init__(self, store: Store, lexical: LexicalIndex | None, settings: Settings) -> None:
        self.store = store
        self.lexical = lexical
        self.settings = settings

    def _idf(self, term: str) -> float:
        return self.lexical.idf(term) if self.lexical is not None else 1.0

    def term_weights(self, question_terms: list[str], unknown: bool = False) -> dict[str, float]:
        """IDF weight of each of the question's content words, for `coverage`.

        Words no passage contains are left out unless `unknown`: they tell no sentence from another,
        but they do tell how much of the question the index can support at all.
        """
        known = [t for t in question_terms if unknown or self.lexical is None or self.lexical.knows(t)]
        weights = {t: self._idf(t) for t in known}
        if NEGATION in question_terms:
            # Denial is what the question turns on: it weighs as much as its rarest word.
            weights[NEGATION] = max(weights.values(), default=1.0)
        return weights

    @staticmethod
    def coverage(weights: dict[str, float], sentence_terms: frozenset[str]) -> float:
        """IDF-weighted share of the question's content words (`term_weights`) that the sentence contains."""
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in sentence_terms) / total if total else 0.0

    def unknown_numbers(self, question: str) -> list[str]:
        """Numbers in the question ("2023", "10-7") that no passage of the index contains."""
        if self.lexical is None:
            return []
        return sorted(
            n for n in numbers_in(question) if not all(self.lexical.knows(part) for part in re.split(r"\D+", n) if part)
        )

    def unknown_names(self, question: str) -> list[str]:
        """Names in the question ("Biden", "Joe Biden") none of whose words any passage contains, nor one spelt
        almost like it.

        The question's first word is capitalized anyway, and acronyms and names with digits are left to
        the articles' spelled-out forms and to `unknown_numbers`.
        """
        if self.lexical is None:
            return []
        toks = tokens(question)
        found = []
        for a, b in names(toks):
            kept = [t for t in toks[max(a, 1) : b] if t.text[0].isalpha()]
            if not kept or any(_ACRONYM.match(t.text) or any(c.isdigit() for c in t.text) for t in kept):
                continue
            name_terms = [term for t in kept for term in terms(t.text)]
            # A name spelt a letter off ("Tokaev") is still the article's: it is searched, not declined.
            if name_terms and not any(self.lexical.knows_spelling_near(term) for term in name_terms):
                found.append(question[kept[0].start : kept[-1].end])
        return found

    def score(
        self, question: str, vector: np.ndarray, qtype: QuestionType, sentences: list[Sentence]
    ) -> list[ScoredSentence]:
        """The distinct sentences scored against the question, best first (near-duplicates merged)."""
        unique = list({(s.doc_id, s.start, s.end): s for s in sentences}.values())
        if not unique:
            return []
        # The store keeps the vectors of recently seen sentences in memory.
        similarities = self.store.sentence_vectors(unique) @ np.asarray(vector, dtype=np.float32)
        asked = list(dict.fromkeys(terms(question)))
        # "Which organization did he not invite?" is answered by a sentence that says "did not".
        if negated(question):
            asked.append(NEGATION)
        typed_question = qtype.kind not in (Kind.OTHER, Kind.EXPLANATION)
        # The weights depend on the question only: computed once, not per sentence.
        known_weights, all_weights = self.term_weights(asked), self.term_weights(asked, unknown=True)
        scored = []
        for s, sim in zip(unique, similarities, strict=True):
            sentence_terms = term_set(s.text)
            cov = self.coverage(known_weights, sentence_terms)
            typed = typed_question and has_candidate(s.text, question, qtype)
            total = float(sim) + self.settings.lexical_weight * cov + self.settings.type_weight * typed
            unsupported = cov - self.coverage(all_weights, sentence_terms)
            support = total - self.settings.lexical_weight * unsupported
            scored.append(ScoredSentence(s, total, float(sim), cov, typed, support))
        scored.sort(key=lambda x: (-x.score, x.sentence.doc_id, x.sentence.start))
        return merge_duplicates(scored)


@lru_cache(maxsize=_TERM_CACHE)
def term_set(text: str) -> frozenset[str]:
    """Content words of a sentence, with a marker word when it denies something."""
    found = frozenset(terms(text))
    return found | {NEGATION} if negated(text) else found


def merge_duplicates(ranked: list[ScoredSentence]) -> list[ScoredSentence]:
    """Drop sentences that repeat a better one; within a document, the first telling keeps the score."""
    words = [term_set(s.sentence.text) for s in ranked]
    duplicate = _duplicates(words)
    # Rows kept so far, each compared by its own words (also when a same-document telling replaced it).
    is_kept = np.zeros(len(ranked), dtype=bool)
    kept: dict[int, ScoredSentence] = {}
    for i, s in enumerate(ranked):
        # Kept rows are in rank order: the first kept one it repeats is the smallest such row.
        repeats = np.flatnonzero(duplicate[i] & is_kept)
        if not len(repeats):
            is_kept[i] = True
            kept[i] = s
            continue
        j = int(repeats[0])
        k = kept[j]
        # An earlier telling in the same document that says all the kept one says is cited instead.
        earlier = k.sentence.doc_id == s.sentence.doc_id and s.sentence.start < k.sentence.start
        if earlier and _mostly(len(words[i] & words[j]), words[j]):
            kept[j] = ScoredSentence(s.sentence, k.score, k.similarity, k.coverage, k.typed or s.typed, k.support)
    return list(kept.values())


def _duplicates(words: list[frozenset[str]]) -> np.ndarray:
    """For each pair of word sets, whether their shared words are most of either one (`_mostly`).

    One matrix product instead of a set intersection per pair: a reranker's hundred sentences make
    thousands of pairs.
    """
    vocabulary: dict[str, int] = {}
    rows = [[vocabulary.setdefault(w, len(vocabulary)) for w in ws] for ws in words]
    incidence = np.zeros((len(words), max(len(vocabulary), 1)), dtype=np.float32)
    for i, columns in enumerate(rows):
        incidence[i, columns] = 1.0
    # Counts of shared words are small integers, exact in float32; the ratios are computed in float64
    # exactly as `_mostly` computes them.
    shared = (incidence @ incidence.T).astype(np.float64)
    sizes = np.asarray([len(ws) for ws in words], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mostly = (sizes > 0)[:, None] & (shared / sizes[:, None] >= DUPLICATE_OVERLAP)
    return mostly | mostly.T


def _mostly(shared: int, words: frozenset[str]) -> bool:
    """`shared` of the words are most of them."""
    return bool(words) and shared / len(words) >= DUPLICATE_OVERLAP
