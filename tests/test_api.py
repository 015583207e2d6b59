"""The JSON API in-process (FastAPI's TestClient on the real app and index), and the Gradio API's checks."""

import time
from pathlib import Path

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from assistant import Assistant
from assistant.api import MAX_HISTORY_CHARS, MAX_HISTORY_ENTRIES, create_app
from assistant.ui import ChatApp
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE, write

ANSWER_KEYS = {"question", "answer", "abstained", "citations", "passages"}
CITATION_KEYS = {"n", "source", "doc_id", "start", "end", "text", "verified", "match"}
PASSAGE_KEYS = {"source", "doc_id", "start", "end", "score", "text"}


@pytest.fixture(scope="module")
def client(sample_bot: Assistant) -> TestClient:
    return TestClient(create_app(sample_bot, []))


def test_ask_returns_the_ask_json_contract(client: TestClient, sample_bot: Assistant) -> None:
    response = client.post("/api/ask", json={"question": SAMPLE_QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= ANSWER_KEYS and body["question"] == SAMPLE_QUESTION and not body["abstained"]
    assert SAMPLE_SENTENCE in [c["text"] for c in body["citations"]]
    for c in body["citations"]:
        assert set(c) >= CITATION_KEYS and c["verified"] is True
        assert sample_bot.document_text(c["doc_id"])[c["start"] : c["end"]] == c["text"]
    assert all(set(p) == PASSAGE_KEYS for p in body["passages"])


def test_ask_accepts_history_pairs_and_messages(client: TestClient) -> None:
    for history in (
        [[SAMPLE_QUESTION, SAMPLE_SENTENCE]],
        [{"role": "user", "content": SAMPLE_QUESTION}, {"role": "assistant", "content": SAMPLE_SENTENCE}],
    ):
        response = client.post("/api/ask", json={"question": "why did he prefer it?", "history": history})
        assert response.status_code == 200
        assert response.json()["question"] == "why did he prefer it?"


def test_ask_takes_the_backend_per_request(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": SAMPLE_QUESTION, "backend": "extractive"}).json()
    assert body["backend"] == "extractive" and SAMPLE_SENTENCE in [c["text"] for c in body["citations"]]


def test_retrieve_returns_k_passages_best_first(client: TestClient, sample_bot: Assistant) -> None:
    body = client.post("/api/retrieve", json={"question": SAMPLE_QUESTION, "k": 3}).json()
    passages = body["passages"]
    assert len(passages) == 3
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    for p in passages:
        assert set(p) == PASSAGE_KEYS
        assert sample_bot.document_text(p["doc_id"])[p["start"] : p["end"]] == p["text"]


def test_filters_narrow_retrieval(client: TestClient) -> None:
    later = client.post("/api/retrieve", json={"question": SAMPLE_QUESTION, "date_from": "2030-01-01"}).json()
    assert later["passages"] == []
    other = client.post("/api/retrieve", json={"question": SAMPLE_QUESTION, "sources": ["/nowhere.txt"]}).json()
    assert other["passages"] == []


@pytest.mark.parametrize("filters", [{"date_from": "2030-01-01"}, {"date_to": "2000-12-31"}, {"sources": ["/x.txt"]}])
def test_filters_that_match_no_article_say_so(client: TestClient, filters: dict) -> None:
    response = client.post("/api/ask", json={"question": SAMPLE_QUESTION, **filters})
    assert response.status_code == 200
    body = response.json()
    assert body["abstained"] is True and body["no_matching_articles"] is True
    assert body["answer"] == "The articles do not say. No article matches these filters."
    assert body["citations"] == [] and body["passages"] == []


def test_an_answer_from_matching_articles_is_not_flagged(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": SAMPLE_QUESTION, "date_from": "2022-01-30"}).json()
    assert not body["abstained"] and "no_matching_articles" not in body


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"question": "   "}, "the question is empty"),
        ({"question": "x" * 5000}, "too long"),
        ({"question": SAMPLE_QUESTION, "date_from": "last week"}, "date_from: not a date"),
        ({"question": SAMPLE_QUESTION, "date_from": "2022-13-01"}, "date_from: not a date (YYYY-MM-DD): '2022-13-01'"),
        ({"question": SAMPLE_QUESTION, "date_to": "2022-02-30"}, "date_to: not a date (YYYY-MM-DD): '2022-02-30'"),
        (
            {"question": SAMPLE_QUESTION, "date_from": "2022-03-01", "date_to": "2022-02-01"},
            "date_to: 2022-02-01 is before date_from 2022-03-01",
        ),
        ({"question": SAMPLE_QUESTION, "backend": "gpt-9"}, "backend 'gpt-9' is not one of extractive, llamacpp"),
    ],
)
def test_bad_requests_get_400_with_the_reason(client: TestClient, payload: dict, reason: str) -> None:
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 400
    assert reason in response.json()["detail"]


def test_with_logins_every_route_needs_credentials(sample_bot: Assistant) -> None:
    client = TestClient(create_app(sample_bot, [("ann", "pw")]))
    payload = {"question": SAMPLE_QUESTION}
    assert client.post("/api/ask", json=payload).status_code == 401
    assert client.post("/api/retrieve", json=payload, auth=("ann", "wrong")).status_code == 401
    assert client.post("/api/retrieve", json=payload, auth=("ann", "pw")).status_code == 200


def test_no_docs_page_that_would_load_a_cdn(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 404
    assert client.get("/api/openapi.json").json()["paths"].keys() >= {"/api/ask", "/api/retrieve"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (f'{{"question": "{SAMPLE_QUESTION}", "k": NaN}}', "k: Input should be a finite number"),
        (f'{{"question": "{SAMPLE_QUESTION}", "k": Infinity}}', "k: Input should be a finite number"),
        (f'{{"question": "{SAMPLE_QUESTION}", "k": 0}}', "k: Input should be greater than or equal to 1"),
        (f'{{"question": "{SAMPLE_QUESTION}", "history": [1, 2]}}', "history: entry 0 is neither"),
        (f'{{"question": "{SAMPLE_QUESTION}", "history": [["a", "b", "c"]]}}', "history: entry 0 is neither"),
        (f'{{"question": "{SAMPLE_QUESTION}", "history": 5}}', "history: Input should be a valid list"),
        ('{"question": ', "request body: JSON decode error"),
    ],
)
def test_malformed_fields_get_400_naming_the_field(client: TestClient, body: str, reason: str) -> None:
    response = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert reason in response.json()["detail"]


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        ([[SAMPLE_QUESTION, f"{SAMPLE_SENTENCE} " * 9000]], f"characters; the limit is {MAX_HISTORY_CHARS:,}"),
        ([[SAMPLE_QUESTION, SAMPLE_SENTENCE]] * (MAX_HISTORY_ENTRIES + 1), f"the limit is {MAX_HISTORY_ENTRIES}"),
    ],
)
def test_an_oversized_history_is_refused_before_it_is_read(client: TestClient, history: list, reason: str) -> None:
    started = time.process_time()
    response = client.post("/api/ask", json={"question": "why did he prefer it?", "history": history})
    assert response.status_code == 400 and response.json()["detail"].startswith("history: ")
    assert reason in response.json()["detail"]
    assert time.process_time() - started < 5  # reading the long one took half a minute


@pytest.fixture(scope="module")
def chat(sample_bot: Assistant) -> ChatApp:
    return ChatApp(sample_bot)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"k": -1}, "k: Input should be greater than or equal to 1"),
        ({"k": 10**9}, "k: Input should be less than or equal to 100"),
        ({"k": "abc"}, "k: Input should be a valid integer"),
        ({"history": [1, 2]}, "history: entry 0 is neither"),
        ({"history": [[SAMPLE_QUESTION, "x" * 990_000]]}, "history: 990,"),
        ({"date_from": "2022-13-01"}, "date_from: not a date"),
        ({"date_to": "2022-02-30"}, "date_to: not a date"),
    ],
)
def test_the_gradio_api_checks_fields_like_the_http_api(chat: ChatApp, fields: dict, reason: str) -> None:
    with pytest.raises(gr.Error, match=reason):
        chat.api_ask(SAMPLE_QUESTION, **fields)
    if "history" not in fields:
        with pytest.raises(gr.Error, match=reason):
            chat.api_retrieve(SAMPLE_QUESTION, **fields)


def test_the_gradio_api_answers_a_valid_call(chat: ChatApp) -> None:
    answer = chat.api_ask(SAMPLE_QUESTION, [[SAMPLE_QUESTION, SAMPLE_SENTENCE]], 3)
    assert answer["question"] == SAMPLE_QUESTION and len(chat.api_retrieve(SAMPLE_QUESTION, 2)["passages"]) == 2


def test_a_refused_upload_leaves_no_temporary_copy(
    chat: ChatApp, sample_bot: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setattr(sample_bot, "settings", sample_bot.settings.replace(max_upload_mb=0.001))  # 1 KB
    big = "An article far above the upload limit. " * 100
    copy = write(tmp_path / "gradio" / "0123abcd" / "big.txt", big)  # where Gradio keeps an upload
    elsewhere = write(tmp_path / "mine" / "big.txt", big)
    rows = chat.add_files([str(copy), str(elsewhere)], progress=lambda *args, **kwargs: None)
    assert [row[1].split(" (")[0] for row in rows] == ["refused: too large"] * 2
    assert not copy.exists() and elsewhere.exists()  # only Gradio's own copies are deleted


def test_failed_logins_are_throttled_per_address(sample_bot: Assistant) -> None:
    app = create_app(sample_bot, [("ann", "pw")])
    guesser, other = TestClient(app), TestClient(app, client=("10.0.0.2", 50000))
    payload = {"question": SAMPLE_QUESTION, "k": 1}
    statuses = [guesser.post("/api/retrieve", json=payload, auth=("ann", f"guess{i}")).status_code for i in range(20)]
    assert statuses == [401] * 5 + [429] * 15
    refused = guesser.post("/api/retrieve", json=payload, auth=("ann", "pw"))  # right, but from the guesser
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert other.post("/api/retrieve", json=payload, auth=("ann", "pw")).status_code == 200


def test_failed_logins_on_the_gradio_form_are_throttled_too(chat: ChatApp, sample_bot: Assistant) -> None:
    app = create_app(sample_bot, [("ann", "pw")])
    gr.mount_gradio_app(app, chat.build(), path="/", auth=[("ann", "pw")], ssr_mode=False)
    guesser, other = TestClient(app), TestClient(app, client=("10.0.0.2", 50000))
    statuses = [guesser.post("/login", data={"username": "ann", "password": f"guess{i}"}).status_code for i in range(8)]
    assert statuses == [400] * 5 + [429] * 3
    assert guesser.post("/login", data={"username": "ann", "password": "pw"}).status_code == 429
    assert other.post("/login", data={"username": "ann", "password": "pw"}).json() == {"success": True}
