"""The JSON API in-process (FastAPI's TestClient on the real app and index)."""

import pytest
from fastapi.testclient import TestClient

from assistant import Assistant
from assistant.api import create_app
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE

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


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"question": "   "}, "the question is empty"),
        ({"question": "x" * 5000}, "too long"),
        ({"question": SAMPLE_QUESTION, "date_from": "last week"}, "not a date"),
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
