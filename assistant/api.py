"""The HTTP API for other apps: `POST /api/ask` and `POST /api/retrieve`, JSON in and out.

The same two operations are also Gradio endpoints `/ask` and `/retrieve` (see ui.py); both check their
arguments with the request models and call the functions here, so the two APIs cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.app import MAX_QUESTION_CHARS, Assistant
from assistant.auth import Credentials, LoginThrottle, allowed
from assistant.followup import turns
from assistant.types import Filters

MAX_K = 100
# Reading a conversation for what its pronouns stand for costs time with its size (half a minute of CPU for a
# million characters), so it is bounded like the question; only its last few turns are used anyway.
MAX_HISTORY_ENTRIES = 100
MAX_HISTORY_CHARS = 20 * MAX_QUESTION_CHARS
# What a turn's question or answer may be: text, text parts, or an answer's JSON object (what /api/ask returned).
_CONTENT = (str, list, dict, type(None))


def make_filters(sources: Sequence[str] | None, date_from: str | None, date_to: str | None) -> Filters:
    return Filters(tuple(sources or ()), date_from or None, date_to or None)


class _Query(BaseModel):
    question: str
    k: int | None = Field(default=None, ge=1, le=MAX_K)
    sources: list[str] = []
    date_from: str | None = None
    date_to: str | None = None


class AskRequest(_Query):
    # (question, answer) pairs or {"role": ..., "content": ...} messages, oldest first.
    history: list[Any] = []
    # extractive, llamacpp or openai; None: the server's setting.
    backend: str | None = None

    @field_validator("history")
    @classmethod
    def _usable_history(cls, history: list[Any]) -> list[Any]:
        return checked_history(history)


class RetrieveRequest(_Query):
    pass


def checked_history(history: list[Any]) -> list[Any]:
    """The conversation as sent, if it is pairs or messages and small enough to read quickly."""
    if len(history) > MAX_HISTORY_ENTRIES:
        raise _bad_history(f"{len(history)} entries; the limit is {MAX_HISTORY_ENTRIES}")
    for i, entry in enumerate(history):
        if not _is_turn(entry):
            raise _bad_history(f'entry {i} is neither a [question, answer] pair nor a {{"role", "content"}} message')
    size = sum(len(text or "") for turn in turns(history) for text in astuple(turn))
    if size > MAX_HISTORY_CHARS:
        raise _bad_history(f"{size:,} characters; the limit is {MAX_HISTORY_CHARS:,}")
    return history


def _is_turn(entry: Any) -> bool:
    if isinstance(entry, Mapping):
        return isinstance(entry.get("role"), str) and isinstance(entry.get("content"), _CONTENT)
    return isinstance(entry, (list, tuple)) and len(entry) == 2 and all(isinstance(part, _CONTENT) for part in entry)


def _bad_history(problem: str) -> PydanticCustomError:
    # The problem goes in as a value, not as the template: its braces are text.
    return PydanticCustomError("history", "{problem}", {"problem": problem})


_Request = TypeVar("_Request", bound=_Query)


def parse_request(model: type[_Request], **fields: Any) -> _Request:
    """A request from the Gradio API's arguments, checked exactly as the HTTP API checks its JSON (ValueError: which
    field is wrong and why). None stands for a field left out."""
    try:
        return model.model_validate({name: value for name, value in fields.items() if value is not None})
    except ValidationError as e:
        raise ValueError(describe_errors(e.errors())) from None


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """Validation errors as one line naming each field ("k: Input should be a finite number"), without the values
    given: a NaN cannot even be written in a JSON reply."""
    return "; ".join(f"{_field(error['loc'])}: {error['msg']}" for error in errors)


def _field(loc: Sequence[str | int]) -> str:
    """`history.3` for FastAPI's ("body", "history", 3); the request body when no field is to blame."""
    path = loc[1:] if loc[:1] == ("body",) else loc
    return ".".join(map(str, path)) if path and isinstance(path[0], str) else "request body"


def ask_payload(bot: Assistant, request: AskRequest) -> dict[str, Any]:
    """The `ask --json` object for the question asked after the history (by the backend, default the server's)."""
    filters = make_filters(request.sources, request.date_from, request.date_to)
    return bot.ask(request.question, request.history, k=request.k, filters=filters, backend=request.backend).to_json()


def retrieve_payload(bot: Assistant, request: RetrieveRequest) -> dict[str, Any]:
    """The passages most likely to answer the question, best first, with source, offsets and score."""
    found = bot.retrieve(request.question, request.k, make_filters(request.sources, request.date_from, request.date_to))
    return {"question": request.question, "passages": [sp.to_json() for sp in found]}


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
        return _client_errors(lambda: ask_payload(bot, request))

    @router.post("/retrieve")
    def retrieve(request: RetrieveRequest) -> dict[str, Any]:
        return _client_errors(lambda: retrieve_payload(bot, request))

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
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.include_router(api_router(bot, logins))
    if logins:
        app.add_middleware(_LoginThrottling, throttle=LoginThrottle())
    return app


async def _bad_request(request: Request, error: Exception) -> JSONResponse:
    """A malformed request is a 400 naming the field, like every other refusal here (FastAPI's own 422 echoes
    the values given, and a NaN among them turns that into a 500)."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": describe_errors(error.errors())}, status_code=400)


class _LoginThrottling:
    """Refuses logins, on Gradio's form (mounted at /) or to the API, from an address that keeps failing.

    Plain ASGI, so every other request (Gradio's event streams, uploads) passes through untouched.
    """

    def __init__(self, app: ASGIApp, throttle: LoginThrottle) -> None:
        self.app, self.throttle = app, throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = _refusal_status(Request(scope)) if scope["type"] == "http" else None
        if refused is None:
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else ""
        wait = self.throttle.retry_after(client)
        if wait:
            detail = f"too many failed logins; try again in {wait} s"
            await JSONResponse({"detail": detail}, status_code=429, headers={"Retry-After": str(wait)})(
                scope, receive, send
            )
            return

        async def noting_the_outcome(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == refused:
                    self.throttle.failed(client)
                else:
                    self.throttle.succeeded(client)
            await send(message)

        await self.app(scope, receive, noting_the_outcome)


def _refusal_status(request: Request) -> int | None:
    """How wrong credentials in this request are answered: 400 by Gradio's login form, 401 by the API; None for a
    request that tries none."""
    if request.method == "POST" and request.url.path.rstrip("/") == "/login":
        return 400
    if request.url.path.startswith("/api/") and "authorization" in request.headers:
        return 401
    return None
