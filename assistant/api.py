"""The HTTP API for other apps: `POST /api/ask` and `POST /api/retrieve`, JSON in and out.

The same two operations are also Gradio endpoints `/ask` and `/retrieve` (see ui.py); both call the
functions here, so the two APIs cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from assistant.app import Assistant
from assistant.auth import Credentials, allowed
from assistant.types import Filters


def make_filters(sources: Sequence[str] | None, date_from: str | None, date_to: str | None) -> Filters:
    return Filters(tuple(sources or ()), date_from or None, date_to or None)


def ask_payload(
    bot: Assistant,
    question: str,
    history: Sequence[Any] | None = None,
    k: int | None = None,
    sources: Sequence[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    backend: str | None = None,
) -> dict[str, Any]:
    """The `ask --json` object for `question` asked after `history` (by `backend`, default the server's)."""
    filters = make_filters(sources, date_from, date_to)
    return bot.ask(question, list(history or []), k=k, filters=filters, backend=backend).to_json()


def retrieve_payload(
    bot: Assistant,
    question: str,
    k: int | None = None,
    sources: Sequence[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any]:
    """The passages most likely to answer `question`, best first, with source, offsets and score."""
    found = bot.retrieve(question, k, make_filters(sources, date_from, date_to))
    return {"question": question, "passages": [sp.to_json() for sp in found]}


class _Query(BaseModel):
    question: str
    k: int | None = Field(default=None, ge=1, le=100)
    sources: list[str] = []
    date_from: str | None = None
    date_to: str | None = None


class AskRequest(_Query):
    # (question, answer) pairs or {"role": ..., "content": ...} messages, oldest first.
    history: list[Any] = []
    # extractive, llamacpp or openai; None: the server's setting.
    backend: str | None = None


class RetrieveRequest(_Query):
    pass


def api_router(bot: Assistant, logins: Credentials) -> APIRouter:
    """Routes under /api; with `logins`, every request must carry HTTP Basic credentials."""
    basic = HTTPBasic(auto_error=False, realm="assistant")

    def authorize(given: HTTPBasicCredentials | None = Depends(basic)) -> None:  # noqa: B008 (FastAPI's idiom)
        if logins and (given is None or not allowed(logins, given.username, given.password)):
            raise HTTPException(401, "valid credentials required", headers={"WWW-Authenticate": "Basic"})

    router = APIRouter(prefix="/api", dependencies=[Depends(authorize)])

    # Plain `def` routes run in FastAPI's thread pool, so concurrent requests do not wait for each other.
    @router.post("/ask")
    def ask(request: AskRequest) -> dict[str, Any]:
        return _client_errors(lambda: ask_payload(bot, **request.model_dump()))

    @router.post("/retrieve")
    def retrieve(request: RetrieveRequest) -> dict[str, Any]:
        return _client_errors(lambda: retrieve_payload(bot, **request.model_dump()))

    return router


def _client_errors(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A bad question or filter is the client's error (400 with the reason), not a server crash."""
    try:
        return call()
    except ValueError as e:  # QuestionError, or a filter date that is not YYYY-MM-DD
        raise HTTPException(400, str(e)) from None


def create_app(bot: Assistant, logins: Credentials) -> FastAPI:
    # No Swagger/ReDoc pages: they load their scripts from a CDN, and nothing here may fetch from outside.
    app = FastAPI(title="assistant", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.include_router(api_router(bot, logins))
    return app
