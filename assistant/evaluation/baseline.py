"""The plain LangChain way, as a yardstick: `Chroma` similarity search, then the top sentence of the top passage.

Same passages and same embedding model as the assistant, but each passage's text is embedded whole through a
LangChain `Embeddings` adapter into a langchain-chroma vector store, retrieval is `similarity_search_with_score`,
and the answer is the passage sentence most similar to the question, cited with its exact offsets. It never
abstains (there is no abstention in the plain recipe) and ignores conversation history.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.answer import ABSTAIN_TEXT, cite
from assistant.app import Assistant, clean_question
from assistant.langchain_adapters import EmbedderEmbeddings
from assistant.store import langchain_vectorstore, passage_from
from assistant.types import Answer, ScoredPassage


class LangChainBaseline:
    """Duck-types the parts of `Assistant` the evaluation runner uses: `retrieve`, `ask`, `document_text`."""

    def __init__(self, bot: Assistant, vectorstore: Any) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.vectorstore = vectorstore

    @staticmethod
    def embeddings(bot: Assistant) -> EmbedderEmbeddings:
        return EmbedderEmbeddings(bot.embedder, bot.settings.embed_batch_size)

    @classmethod
    def build(cls, bot: Assistant) -> float:
        """(Re)build the LangChain collection from the assistant's passages; returns the seconds it took."""
        started = time.perf_counter()
        langchain_vectorstore(bot.store, cls.embeddings(bot), rebuild=True)
        return time.perf_counter() - started

    @classmethod
    def open(cls, bot: Assistant) -> LangChainBaseline:
        return cls(bot, langchain_vectorstore(bot.store, cls.embeddings(bot)))

    def document_text(self, doc_id: str) -> str:
        return self.bot.document_text(doc_id)

    def warm_up(self) -> None:
        self.retrieve("warm up", k=1)

    def retrieve(self, question: str, k: int | None = None) -> list[ScoredPassage]:
        hits = self.vectorstore.similarity_search_with_score(clean_question(question), k=k or self.settings.top_k)
        # The collection uses cosine distance: similarity = 1 - distance.
        return [ScoredPassage(passage_from(doc.page_content, doc.metadata), 1.0 - float(d)) for doc, d in hits]

    def ask(self, question: str, history: Sequence[Any] | None = None) -> Answer:
        passages = self.retrieve(question)
        if not passages:
            return Answer(question, ABSTAIN_TEXT, abstained=True)
        sentences = passages[0].passage.sentences()
        similarities = self.bot.store.sentence_vectors(sentences) @ self.bot.embed_question(question)
        return cite(question, [sentences[int(np.argmax(similarities))]], passages)
