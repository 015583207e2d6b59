"""Answers by a language model, kept honest: only citations verified against the sources are shown.

Two modes (`Settings.llm_mode`):
- reader: the model sees the question and the top candidate sentences and copies the shortest answer. The copy
  must be found verbatim in a candidate; that sentence is cited and the copy is the short answer.
- writer: the model sees the retrieved passages numbered 1..N and is asked to quote its evidence verbatim.
  Whatever it writes, `verify_answer` locates each quote in the cited passage's document and cites the exact
  source text; anything it cannot verify is marked unsupported.
When nothing verifies, or the model cannot be reached, the extractive answer is returned instead, with a note
saying so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from assistant import prompts
from assistant.answer import ABSTAIN_TEXT, answer_pieces, cite, set_short_answer
from assistant.followup import turns
from assistant.llm import ChatModel, LLMError, Message, chat_model, complete
from assistant.settings import Settings
from assistant.types import Answer, ScoredPassage, Sentence
from assistant.verify import is_abstention, verify_answer

# A reader copies a few words; anything longer than this is no short answer (and not worth waiting for).
READ_MAX_CHARS = 300
_LABEL = re.compile(r"^\s*(?:standalone question|rewritten question|question)\s*:\s*", re.IGNORECASE)


def format_passages(passages: Sequence[ScoredPassage]) -> str:
    """The passages as the model sees them, numbered from 1: `[n] text`."""
    return "\n\n".join(f"[{n}] {' '.join(sp.passage.text.split())}" for n, sp in enumerate(passages, start=1))


def answer_messages(question: str, passages: Sequence[ScoredPassage]) -> list[Message]:
    return prompts.render("answer_with_citations", question=question, passages=format_passages(passages))


def candidate_sentences(extractive: Answer, passages: Sequence[ScoredPassage], n: int) -> list[Sentence]:
    """The `n` sentences a reader sees: those the extractive answer cites (its best), then the sentences of the
    retrieved passages in retrieval order, each once."""
    cited = [Sentence(c.doc_id, c.source, c.start, c.end, c.text) for c in extractive.citations]
    seen: set[tuple[str, int]] = set()
    out: list[Sentence] = []
    for s in [*cited, *(s for sp in passages for s in sp.passage.sentences())]:
        if (s.doc_id, s.start) not in seen and s.text.strip():
            seen.add((s.doc_id, s.start))
            out.append(s)
    return out[:n]


def read_messages(question: str, sentences: Sequence[Sentence]) -> list[Message]:
    shown = "\n".join(f"{n}. {' '.join(s.text.split())}" for n, s in enumerate(sentences, start=1))
    return prompts.render("read_shortest_answer", question=question, sentences=shown)


def clean_span(reply: str) -> str:
    """The words a reader copied: its first line without surrounding quotes, white space or a final period."""
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    return line.strip().strip("\"“”'`").strip().removesuffix(".").strip()


def locate_span(span: str, sentences: Sequence[Sentence]) -> tuple[Sentence, int, int] | None:
    """The first candidate holding `span` verbatim, and its offsets in that sentence's text."""
    if not span:
        return None
    for s in sentences:
        if (at := s.text.find(span)) >= 0:
            return s, at, at + len(span)
    return None


def history_turns(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """The conversation as (role, text) pairs, from (question, answer) pairs or `{"role", "content"}` messages."""
    out: list[tuple[str, str]] = []
    for turn in turns(history):
        out.append(("user", turn.question))
        if turn.answer:
            out.append(("assistant", turn.answer))
    return out


def condense_messages(question: str, history: Sequence[Any], turns: int) -> list[Message]:
    recent = history_turns(history)[-2 * turns :]
    lines = "\n".join(f"{'User' if role == 'user' else 'Assistant'}: {text}" for role, text in recent)
    return prompts.render("condense_question", history=lines, question=question)


def clean_condensed(reply: str) -> str | None:
    """The question in the model's reply (first line, without a "Standalone question:" label or quotes);
    None if that is no question (small models tend to answer instead of rewriting)."""
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip("\"“”'").strip()
    return line if line.endswith("?") else None


class GenerativeAnswerer:
    """Reads or writes answers with the configured chat model and verifies every citation it makes."""

    def __init__(self, settings: Settings, document_text: Callable[[str], str]) -> None:
        self.settings = settings
        self.document_text = document_text
        self._model: ChatModel | None = None
        # A chat UI asks from several threads; the model must be loaded once.
        self._lock = threading.Lock()

    def model(self) -> ChatModel:
        """The chat model, created on first use (loading a local model takes seconds)."""
        with self._lock:
            if self._model is None:
                self._model = chat_model(self.settings)
            return self._model

    def condense(self, question: str, history: Sequence[Any] | None) -> str | None:
        """The follow-up `question` rewritten to stand alone, or None without history or when the model fails."""
        if not history_turns(history):
            return None
        try:
            reply = complete(self.model(), condense_messages(question, history or (), self.settings.llm_history_turns))
        except LLMError:
            return None
        return clean_condensed(reply)

    def stream(self, question: str, passages: list[ScoredPassage], extractive: Answer) -> Iterator[str | Answer]:
        """The model's raw text in pieces, then the verified `Answer` (or `extractive`, with a note why)."""
        if self.settings.llm_mode == "reader" and not extractive.abstained:
            yield from self._read(question, passages, extractive)
        else:
            yield from self._write(question, passages, extractive)

    def _read(self, question: str, passages: list[ScoredPassage], extractive: Answer) -> Iterator[str | Answer]:
        """Reader mode: the model copies the shortest answer from the candidates; its sentence is cited."""
        candidates = candidate_sentences(extractive, passages, self.settings.llm_candidates)
        pieces: list[str] = []
        try:
            model = self.model()
            # Closing the stream stops the model: the answer is one line of a few words, not worth a ramble.
            with contextlib.closing(model.stream(read_messages(question, candidates))) as stream:
                for piece in stream:
                    pieces.append(piece)
                    yield piece
                    if "\n" in "".join(pieces).strip() or sum(map(len, pieces)) > READ_MAX_CHARS:
                        break
        except LLMError as e:
            yield dataclasses.replace(extractive, note=f"{e}; showing the extractive answer instead.")
            return
        span = clean_span("".join(pieces))
        found = locate_span(span, candidates)
        if found is None:
            yield dataclasses.replace(
                extractive,
                note=f"The {model.name} model's answer {span[:80]!r} is not found word for word in the "
                f"top {len(candidates)} sentences; showing the extractive answer instead.",
            )
            return
        sentence, start, end = found
        answer = cite(question, [sentence], passages)
        set_short_answer(answer, sentence, start, end)
        answer.resolved_question, answer.backend, answer.support = (
            extractive.resolved_question,
            model.name,
            extractive.support,
        )
        yield answer

    def _write(self, question: str, passages: list[ScoredPassage], extractive: Answer) -> Iterator[str | Answer]:
        """Writer mode: a fluent answer from quotes, each verified to exact offsets."""
        if extractive.abstained:
            # Retrieval found nothing close enough: a model would only be tempted to make an answer up.
            fallback = dataclasses.replace(
                extractive, note="No passage answers closely enough, so the model was not asked."
            )
            yield from answer_pieces(fallback)
            yield fallback
            return
        pieces: list[str] = []
        try:
            model = self.model()
            for piece in model.stream(answer_messages(question, passages)):
                pieces.append(piece)
                yield piece
        except LLMError as e:
            yield dataclasses.replace(extractive, note=f"{e}; showing the extractive answer instead.")
            return
        draft = "".join(pieces)
        if is_abstention(draft):
            yield Answer(
                question,
                ABSTAIN_TEXT,
                abstained=True,
                passages=passages,
                resolved_question=extractive.resolved_question,
                backend=model.name,
            )
            return
        verified = verify_answer(
            draft,
            passages,
            self.document_text,
            min_score=self.settings.quote_min_score,
            min_chars=self.settings.quote_min_chars,
        )
        if not verified.citations:
            yield dataclasses.replace(
                extractive,
                note=f"No citation in the {model.name} model's answer could be verified against the articles; "
                "showing the extractive answer instead.",
            )
            return
        yield Answer(
            question,
            verified.text,
            abstained=False,
            citations=verified.citations,
            passages=passages,
            resolved_question=extractive.resolved_question,
            backend=model.name,
            unsupported=verified.unsupported,
        )
