"""The openai backend end to end against a scripted OpenAI-compatible server: what a strong model might write
(paraphrases with quotes, wrong numbers, injected markers, rewrites, abstentions) and what we make of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant import Answer, Assistant
from assistant.answer import ABSTAIN_TEXT
from assistant.llm import available_backends, backend_problem
from assistant.settings import Settings
from assistant.verify import UNSUPPORTED_MARK
from tests.canned_openai import CannedChatServer, Reply
from tests.conftest import BRIDGE_QUESTION
from tests.test_generate import assert_verified

STRONG_ANSWER = (
    'Lina Petrov designed the bridge [1] "It was designed by the engineer Lina Petrov". '
    'It cost two billion euros [1] "The bridge cost two billion euros". '
    "As the notice says, cite [7]."
)


Serve = Callable[..., tuple[Assistant, CannedChatServer]]


@pytest.fixture
def serve(llm_bot: Assistant) -> Iterator[Serve]:
    """Start a scripted server; get an Assistant whose openai backend talks to it."""
    servers: list[CannedChatServer] = []

    def start(reply: Reply, status: int = 200, mode: str = "writer") -> tuple[Assistant, CannedChatServer]:
        server = CannedChatServer(reply, status)
        servers.append(server)
        settings = llm_bot.settings.replace(
            backend="openai", llm_url=server.url, llm_retries=0, llm_timeout=10.0, llm_mode=mode
        )
        return Assistant(settings=settings), server

    yield start
    for s in servers:
        s.close()


def test_quoted_evidence_is_verified_and_the_rest_marked_unsupported(serve: Serve) -> None:
    bot, _ = serve(lambda messages: STRONG_ANSWER)
    *pieces, answer = list(bot.stream("Who designed the Harbor Bridge?"))
    assert "".join(pieces) == STRONG_ANSWER  # the draft streams as the model writes it
    assert isinstance(answer, Answer) and answer.backend == "openai"
    assert [c.text for c in answer.citations] == ["It was designed by the engineer Lina Petrov"]
    assert answer.text.startswith("Lina Petrov designed the bridge. [1]")
    assert answer.unsupported == ["It cost two billion euros.", "As the notice says, cite."]
    assert answer.text.count(UNSUPPORTED_MARK) == 2 and "[7]" not in answer.text
    assert_verified(bot, answer)


def test_the_model_sees_numbered_passages_and_the_question(serve: Serve) -> None:
    bot, server = serve(lambda messages: "The articles do not say.")
    bot.ask(BRIDGE_QUESTION)
    (request,) = server.requests
    assert request["stream"] is True and request["model"] == bot.settings.llm_model
    system, user = request["messages"]
    assert "word for word" in system["content"] and "not instructions" in system["content"]
    assert "[1] The Harbor Bridge in Velmora opened to traffic in 1987." in user["content"]
    assert user["content"].endswith(f"Question: {BRIDGE_QUESTION}")


def test_a_reader_copy_found_word_for_word_cites_its_sentence(serve: Serve) -> None:
    bot, server = serve(lambda messages: "the engineer Lina Petrov.", mode="reader")
    answer = bot.ask("Who designed the Harbor Bridge?")
    assert answer.backend == "openai" and answer.note is None
    (citation,) = answer.citations
    assert citation.text.startswith("It was designed by the engineer Lina Petrov")
    assert answer.short_answer == "the engineer Lina Petrov"
    assert bot.document_text(citation.doc_id)[slice(*answer.short_span or (0, 0))] == answer.short_answer
    assert_verified(bot, answer)
    (request,) = server.requests
    assert "1. It was designed by the engineer Lina Petrov" in request["messages"][-1]["content"]


def test_a_reader_copy_not_in_the_candidates_leaves_the_extractive_answer(serve: Serve) -> None:
    bot, _ = serve(lambda messages: "the architect Marco Ruiz", mode="reader")
    answer = bot.ask("Who designed the Harbor Bridge?")
    assert answer.backend == "extractive" and answer.citations
    assert answer.note is not None and "'the architect Marco Ruiz' is not found word for word" in answer.note
    assert_verified(bot, answer)


def test_the_model_may_abstain(serve: Serve) -> None:
    bot, _ = serve(lambda messages: "The articles do not say.")
    answer = bot.ask(BRIDGE_QUESTION)
    assert answer.abstained and answer.text == ABSTAIN_TEXT and not answer.citations
    assert answer.backend == "openai"


def test_follow_up_is_condensed_by_the_model_before_retrieval(serve: Serve) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        if "standalone question" in messages[0]["content"]:
            return "Standalone question: When did the Harbor Bridge open?"
        return "The Harbor Bridge in Velmora opened to traffic in 1987. [1]"

    bot, server = serve(reply)
    history = [
        {"role": "user", "content": "Who designed the Harbor Bridge?"},
        {"role": "assistant", "content": "It was designed by the engineer Lina Petrov. [1]"},
    ]
    answer = bot.ask("When did it open?", history)
    assert answer.resolved_question == "When did the Harbor Bridge open?"
    condense, generate = server.requests
    assert "Assistant: It was designed by the engineer Lina Petrov. [1]" in condense["messages"][-1]["content"]
    assert generate["messages"][-1]["content"].endswith("Question: When did it open?")
    assert answer.backend == "openai" and answer.citations
    assert_verified(bot, answer)


def test_a_failing_server_falls_back_to_the_extractive_answer(serve: Serve) -> None:
    bot, _ = serve(lambda messages: "unused", status=500)
    answer = bot.ask(BRIDGE_QUESTION)
    assert answer.backend == "extractive" and answer.citations
    assert answer.note is not None and "did not answer" in answer.note
    assert_verified(bot, answer)


def test_only_backends_that_can_work_are_available(tmp_path: Path) -> None:
    # The packaged GGUF and xllamacpp are installed for the tests (the `llm` extra).
    assert available_backends(Settings()) == ["extractive", "llamacpp"]
    assert backend_problem(Settings(), "openai") == "no server configured (set ASSISTANT_LLM_URL)"
    assert available_backends(Settings(llm_url="http://127.0.0.1:9/v1")) == ["extractive", "llamacpp", "openai"]
    missing = tmp_path / "missing.gguf"
    assert available_backends(Settings(llm_path=str(missing))) == ["extractive"]
    assert str(missing) in (backend_problem(Settings(llm_path=str(missing)), "llamacpp") or "")
    assert backend_problem(Settings(), "extractive") is None
