"""Chat models that write answers: any OpenAI-compatible server, or a local GGUF model run in-process.

Both stream text pieces; every failure (not installed, unreachable, timed out) becomes one `LLMError`,
so the caller can fall back to the extractive answer instead of crashing.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import threading
from collections.abc import Generator
from typing import Any, Protocol

from assistant.models.gguf import INSTALL_HINT, check_gguf, get_llama_server
from assistant.settings import BACKENDS, Settings

Message = dict[str, str]


class LLMError(RuntimeError):
    """The language model gave no answer: not installed, not reachable, or too slow."""


class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[Message]) -> Generator[str, None, None]:
        """The reply to `messages` in pieces as they are generated."""
        ...


class OpenAIChat:
    """Any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI)."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_url:
            raise LLMError("the openai backend needs a server: set ASSISTANT_LLM_URL, e.g. http://127.0.0.1:11434/v1")
        try:
            from langchain_openai import ChatOpenAI
            from pydantic import SecretStr
        except ImportError:
            raise LLMError('the openai backend needs langchain-openai: pip install -e ".[llm]"') from None
        self.url = settings.llm_url
        # Local servers need no key, but the client insists on one.
        key = settings.llm_api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        self._model = ChatOpenAI(
            base_url=settings.llm_url,
            model=settings.llm_model,
            api_key=SecretStr(key),
            timeout=settings.llm_timeout,
            max_retries=settings.llm_retries,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]  # max_completion_tokens's alias
            streaming=True,
        )

    def stream(self, messages: list[Message]) -> Generator[str, None, None]:
        try:
            for chunk in self._model.stream([(m["role"], m["content"]) for m in messages]):
                if isinstance(chunk.content, str) and chunk.content:
                    yield chunk.content
        except Exception as e:  # openai, httpx and server errors alike: the caller falls back
            raise LLMError(f"the model server at {self.url} did not answer ({type(e).__name__}: {e})") from e


_DONE = object()


class LlamaCppChat:
    """A GGUF model run in-process by llama.cpp (xllamacpp's prebuilt CPU wheel, no compiler needed)."""

    name = "llamacpp"

    def __init__(self, settings: Settings) -> None:
        try:
            self._server = get_llama_server(
                settings.llm_path, settings.cache_dir, settings.llm_context, settings.llm_threads, settings.debug
            )
        except (ImportError, OSError, RuntimeError) as e:
            raise LLMError(f"the local model could not be loaded: {e}") from e
        self.settings = settings

    def stream(self, messages: list[Message]) -> Generator[str, None, None]:
        # xllamacpp calls back with each chunk until the reply ends; a thread turns that into a generator
        # and lets the caller give up after `llm_timeout` seconds of silence.
        pieces: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        request = {
            "messages": messages,
            "max_tokens": self.settings.llm_max_tokens,
            "temperature": self.settings.llm_temperature,
            "stream": True,
        }

        def on_chunk(chunk: Any) -> bool:
            pieces.put(chunk)
            return stop.is_set()  # True asks llama.cpp to stop generating

        def run() -> None:
            try:
                self._server.handle_chat_completions(request, on_chunk)
            except Exception as e:  # reported to the consumer, not lost in the thread
                pieces.put(e)
            finally:
                pieces.put(_DONE)

        threading.Thread(target=run, name="llamacpp-generate", daemon=True).start()
        try:
            while True:
                try:
                    item = pieces.get(timeout=self.settings.llm_timeout)
                except queue.Empty:
                    raise LLMError(f"the local model wrote nothing for {self.settings.llm_timeout:g} s") from None
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise LLMError(f"the local model failed: {item}") from item
                if "error" in item:
                    raise LLMError(f"the local model failed: {item['error']}")
                for choice in item.get("choices", []):
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text
        finally:
            stop.set()


def chat_model(settings: Settings) -> ChatModel:
    """The chat model `settings.backend` names (not for the extractive backend, which needs none)."""
    if settings.backend == "openai":
        return OpenAIChat(settings)
    if settings.backend == "llamacpp":
        return LlamaCppChat(settings)
    raise ValueError(f"backend {settings.backend!r} uses no language model")


def complete(model: ChatModel, messages: list[Message]) -> str:
    """The whole reply at once."""
    return "".join(model.stream(messages))


def backend_problem(settings: Settings, backend: str) -> str | None:
    """Why `backend` cannot work with `settings` (runtime or model missing, no server configured), or None.

    Cheap checks only: nothing is loaded or contacted, so a server that is configured but down still counts
    as usable (its answers then fall back to the extractive one, with a note).
    """
    if backend == "openai":
        if not settings.llm_url:
            return "no server configured (set ASSISTANT_LLM_URL)"
        if importlib.util.find_spec("langchain_openai") is None:
            return 'langchain-openai is not installed (pip install -e ".[llm]")'
    elif backend == "llamacpp":
        if importlib.util.find_spec("xllamacpp") is None:
            return f"xllamacpp is not installed: {INSTALL_HINT}"
        try:
            check_gguf(settings.llm_path)
        except FileNotFoundError as e:
            return str(e)
    return None


def available_backends(settings: Settings) -> list[str]:
    """The backends that can answer here, `extractive` (always) first."""
    return [b for b in BACKENDS if backend_problem(settings, b) is None]
