"""Answers written by a language model, kept honest: only citations verified against the sources are shown.

The model sees the retrieved passages numbered 1..N and is asked to quote its evidence verbatim. Whatever it
writes, `verify_answer` locates each quote in the cited passage's document and cites the exact source text;
anything it cannot verify is marked unsupported. When nothing verifies, or the model cannot be reached, the
extractive answer is returned instead, with a note saying so.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from assistant import prompts
from assistant.answer import ABSTAIN_TEXT, answer_pieces
from assistant.chat import turns
from assistant.llm import ChatModel, LLMError, Message, chat_model, complete
from assistant.settings import Settings
from assistant.types import Answer, ScoredPassage
from assistant.verify import is_abstention, verify_answer

_LABEL = re.compile(r"^\s*(?:standalone question|rewritten question|question)\s*:\s*", re.IGNORECASE)


def format_passages(passages: Sequence[ScoredPassage]) -> str:
    """The passages as the model sees them, numbered from 1: `[n] text`."""
    return "\n\n".join(f"[{n}] {' '.join(sp.passage.text.split())}" for n, sp in enumerate(passages, start=1))


def answer_messages(question: str, passages: Sequence[ScoredPassage]) -> list[Message]:
    return prompts.render("answer_with_citations", question=question, passages=format_passages(passages))


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
    """Writes answers with the configured chat model and verifies every citation it makes."""

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
            yield Answer(question, ABSTAIN_TEXT, abstained=True, passages=passages,
                         resolved_question=extractive.resolved_question, backend=model.name)
            return
        verified = verify_answer(
            draft, passages, self.document_text,
            min_score=self.settings.quote_min_score, min_chars=self.settings.quote_min_chars,
        )
        if not verified.citations:
            yield dataclasses.replace(
                extractive,
                note=f"No citation in the {model.name} model's answer could be verified against the articles; "
                "showing the extractive answer instead.",
            )
            return
        yield Answer(
            question, verified.text, abstained=False, citations=verified.citations, passages=passages,
            resolved_question=extractive.resolved_question, backend=model.name, unsupported=verified.unsupported,
        )
