"""Cited answers without an LLM: the sentences that best answer the question, and the short answer inside.

1. Every sentence of the retrieved passages gets an evidence score (`assistant.evidence`).
2. A number or a name the question states that no article mentions means the articles do not cover it.
   A question that asks for a date or a quantity can only be answered by a sentence holding one; when no
   well-supported sentence does, the assistant abstains rather than cite something beside the point.
3. Below `Settings.min_score` the assistant abstains too ("the articles do not say").
4. Why/how questions get up to `max_answer_sentences` sentences, in document order; others get one,
   plus the short answer span located inside it (`Answer.short_answer`, a substring of citation [1]).
   With a local reader model (`Settings.reader`), the reader's best span among the passages decides both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from assistant.answer_types import ENTITY_LABELS, AnswerSpan, Kind, QuestionType, locate, question_type
from assistant.evidence import EvidenceScorer, ScoredSentence
from assistant.models.reader import ReaderModel, get_reader, reader_settings, uses_reader
from assistant.models.spacy_pipeline import Entity, get_ner
from assistant.settings import Settings
from assistant.types import NOT_SAID, Answer, Citation, ScoredPassage, Sentence

EntityRecognizer = Callable[[str], list[Entity]]
ABSTAIN_TEXT = f"{NOT_SAID} None of the passages found answers this question closely enough."
ABSTAIN_TYPE_TEXT = NOT_SAID + " The passages found do not state the {what} this question asks for."
ABSTAIN_MENTION_TEXT = NOT_SAID + " None of them mentions {what}."
ABSTAIN_ROLE_TEXT = NOT_SAID + " The passages found name no {role}."
# Extra sentences join an explanation only when they score almost as well as the best one.
EXTRA_SENTENCE_MARGIN = 0.2
# A sentence holding the asked-for kind of answer may stand in for a better-scoring one this close to it.
TYPED_MARGIN = 0.15


class ExtractiveAnswerer:
    def __init__(self, scorer: EvidenceScorer, settings: Settings) -> None:
        self.scorer = scorer
        self.settings = settings
        if settings.ner not in ("spacy", "rules"):
            raise ValueError(f"ner must be spacy or rules, not {settings.ner!r}")
        self.ner: EntityRecognizer | None = _ner_on_first_use if settings.ner == "spacy" else None
        self._reader_path = settings.reader if uses_reader(settings) else None
        self.min_margin = reader_min_margin(settings)

    @property
    def reader(self) -> ReaderModel | None:
        """The reader, loaded when an answer first needs it (not for `assistant stats`)."""
        return get_reader(self._reader_path) if self._reader_path else None

    def warm_up(self) -> None:
        """Load the model the first answer needs: the reader, or (answering by the rules) spaCy's recognizer."""
        if self._reader_path:
            get_reader(self._reader_path)
        elif self.ner is not None:
            get_ner()

    def answer(self, question: str, vector: np.ndarray, passages: list[ScoredPassage]) -> Answer:
        qtype = question_type(question)
        ranked = self.scorer.score(question, vector, qtype, [s for sp in passages for s in sp.passage.sentences()])
        best = _best(qtype, ranked)
        answer = self._choose(question, qtype, ranked, best, passages)
        # What `min_score` is compared with: the support of the sentence the answer cites (or would cite).
        answer.support = (best or ranked[0]).support if ranked else None
        return answer

    def _choose(
        self,
        question: str,
        qtype: QuestionType,
        ranked: list[ScoredSentence],
        best: ScoredSentence | None,
        passages: list[ScoredPassage],
    ) -> Answer:
        """The answer from the scored sentences, or an abstention saying why there is none."""
        if not ranked or (best or ranked[0]).support < self.settings.min_score:
            return Answer(question, ABSTAIN_TEXT, abstained=True, passages=passages)
        # A number ("in 2023") or a name ("Biden") the question states that no article mentions cannot be
        # answered about.
        if unmet := self.scorer.unknown_numbers(question) or self.scorer.unknown_names(question):
            return Answer(question, ABSTAIN_MENTION_TEXT.format(what=unmet[0]), abstained=True, passages=passages)
        if self.reader is not None:
            read = self._read(question, passages)
            answer = self._with_reader(question, qtype, ranked, best, read, passages)
            answer.margin = read.margin if read is not None else None
            return answer
        return self._with_rules(question, qtype, ranked, best, passages)

    def _with_rules(
        self,
        question: str,
        qtype: QuestionType,
        ranked: list[ScoredSentence],
        best: ScoredSentence | None,
        passages: list[ScoredPassage],
    ) -> Answer:
        """The best sentence by the evidence scores, the short answer located by the question's type."""
        if best is None:
            if qtype.role:
                text = ABSTAIN_ROLE_TEXT.format(role=qtype.role)
            else:
                text = ABSTAIN_TYPE_TEXT.format(what="date" if qtype.kind is Kind.DATE else "number")
            return Answer(question, text, abstained=True, passages=passages)
        if qtype.kind is Kind.EXPLANATION:
            chosen = [
                r.sentence
                for r in ranked[: self.settings.max_answer_sentences]
                if r.score >= best.score - EXTRA_SENTENCE_MARGIN
            ]
            return cite(question, chosen, passages)
        answer = cite(question, [best.sentence], passages)
        if found := short_answer(best.sentence, question, qtype, self.ner):
            set_short_answer(answer, best.sentence, found.start, found.end)
        return answer

    def _with_reader(
        self,
        question: str,
        qtype: QuestionType,
        ranked: list[ScoredSentence],
        best: ScoredSentence | None,
        read: Read | None,
        passages: list[ScoredPassage],
    ) -> Answer:
        """The reader's span as the short answer, cited by its sentence; a why/how question also gets the
        sentences the evidence scores almost as well as the reader's, up to `max_answer_sentences`. Below
        `reader_min_margin` the reader declines; a reader never calibrated leaves that to the rules."""
        if read is None or (self.min_margin is not None and read.margin < self.min_margin):
            if self.min_margin is None:
                return self._with_rules(question, qtype, ranked, best, passages)
            return Answer(question, ABSTAIN_TEXT, abstained=True, passages=passages)
        sentence, start, end = read.sentence, read.start, read.end
        if qtype.kind is Kind.EXPLANATION:
            own = next((r.score for r in ranked if r.sentence == sentence), ranked[0].score)
            others = [r.sentence for r in ranked if r.sentence != sentence and r.score >= own - EXTRA_SENTENCE_MARGIN]
            return cite(question, [sentence, *others[: self.settings.max_answer_sentences - 1]], passages)
        answer = cite(question, [sentence], passages)
        set_short_answer(answer, sentence, start - sentence.start, min(end, sentence.end) - sentence.start)
        return answer

    def _read(self, question: str, passages: list[ScoredPassage]) -> Read | None:
        """The reader's best span among the first `reader_passages` passages and the sentence it starts in
        (None: it found no span).

        A reader scores each passage on its own, so its margins do not rank passages well against each other;
        the retrieval score, weighted by `reader_retrieval_weight`, ranks them with it (docs/reader.md)."""
        assert self.reader is not None
        read = passages[: self.settings.reader_passages]
        spans = self.reader.read(question, [sp.passage.text for sp in read])
        weight = self.settings.reader_retrieval_weight
        top = max(spans, key=lambda s: s.margin + weight * read[s.context].score, default=None)
        if top is None:
            return None
        passage = read[top.context].passage
        start, end = passage.start + top.start, passage.start + top.end
        # The sentence the span starts in (or, for a span starting in the space between two, the next one).
        sentence = next((s for s in passage.sentences() if start < s.end), None)
        if sentence is None:
            return None
        start = max(start, sentence.start)
        # A sentence the article repeats (a reprinted paragraph) is cited where it is first told.
        tellings = [
            s
            for sp in passages
            for s in sp.passage.sentences()
            if s.doc_id == sentence.doc_id and s.text == sentence.text
        ]
        first = min(tellings, key=lambda s: s.start)
        shift = first.start - sentence.start
        return Read(first, start + shift, end + shift, top.margin)


@dataclass(frozen=True)
class Read:
    """The reader's best span: document offsets [start, end), the sentence it starts in, and its margin."""

    sentence: Sentence
    start: int
    end: int
    margin: float


def reader_min_margin(settings: Settings) -> float | None:
    """The reader's no-answer threshold: the setting, else the one calibrated for the reader (its reader.json);
    None for a reader never calibrated (a SQuAD v1 model's no-answer score means nothing): it never declines."""
    if settings.reader_min_margin is not None:
        return settings.reader_min_margin
    calibrated = reader_settings(settings.reader).get("min_margin") if uses_reader(settings) else None
    return float(calibrated) if calibrated is not None else None


def _best(qtype: QuestionType, ranked: list[ScoredSentence]) -> ScoredSentence | None:
    """The sentence to answer with: the best one; for a question that asks for a date or a number, the best one
    that holds such a thing, if it scores close to the best; None when none does (or nothing was found)."""
    if not ranked:
        return None
    best = ranked[0]
    if qtype.needs_span_type and not best.typed:
        return next((r for r in ranked if r.typed and r.score >= best.score - TYPED_MARGIN), None)
    return best


def _ner_on_first_use(text: str) -> list[Entity]:
    """spaCy's recognizer, loaded (seconds) when an answer first needs it rather than when the assistant starts."""
    return get_ner()(text)


def short_answer(
    sentence: Sentence, question: str, qtype: QuestionType, ner: EntityRecognizer | None = None
) -> AnswerSpan | None:
    """Where in the sentence the short answer is (offsets into `sentence.text`)."""
    entities = ner(sentence.text) if ner is not None and qtype.kind in ENTITY_LABELS else None
    return locate(sentence.text, question, qtype, entities=entities)


def set_short_answer(answer: Answer, sentence: Sentence, start: int, end: int) -> None:
    """Give the answer `sentence.text[start:end]` as its short answer, without surrounding white space."""
    text = sentence.text[start:end]
    if not text.strip():
        return
    start += len(text) - len(text.lstrip())
    end -= len(text) - len(text.rstrip())
    answer.short_answer = sentence.text[start:end]
    answer.short_span = (sentence.start + start, sentence.start + end)


def answer_pieces(answer: Answer) -> Iterator[str]:
    """The answer's text cut into word-sized pieces, for streaming; they join back to `answer.text`."""
    yield from re.findall(r"\S+\s*|\s+", answer.text)


def cite(question: str, sentences: list[Sentence], passages: list[ScoredPassage]) -> Answer:
    """An answer made of these sentences in document order, each followed by its citation marker."""
    ordered = sorted(sentences, key=lambda s: (s.source, s.start))
    citations = [Citation(n, s.source, s.doc_id, s.start, s.end, s.text) for n, s in enumerate(ordered, start=1)]
    text = " ".join(marked(c.text, c.n) for c in citations)
    return Answer(question, text, abstained=False, citations=citations, passages=passages)


def marked(sentence: str, n: int) -> str:
    """The sentence with its citation marker before the closing punctuation: "... positions [1]."."""
    body = sentence.rstrip()
    if body and body[-1] in ".!?" and not body.endswith(".."):
        return f"{body[:-1]} [{n}]{body[-1]}"
    return f"{body} [{n}]"
