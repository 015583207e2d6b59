"""Eight clients ask at once while an upload is being ingested: no errors, no mixed-up answers."""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tests.browser import Session
from tests.chat_server import running_chat
from tests.conftest import SAMPLE_QUESTION

pytestmark = pytest.mark.slow

CLIENTS = 8
ROUNDS = 3
# Questions whose answers come from the sample article; the upload is about something else entirely.
QUESTIONS = [
    SAMPLE_QUESTION,
    "Which gas pipeline ties Germany economically to Russia?",
    "Who mediated the peace between Erdoğan and Putin?",
    "What type of Russian aircraft did Turkey shoot down?",
]
SPORTS = "goalkeeper striker referee penalty stadium league coach transfer midfielder derby".split()


def sports_feed(path: Path, n: int = 200) -> Path:
    rng = random.Random(3)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            words = " ".join(rng.choice(SPORTS) for _ in range(12))
            text = f"Match report {i}. The {rng.choice(SPORTS)} praised the {words}. Fans sang until late."
            out.write(json.dumps({"text": text, "title": f"Match {i}"}) + "\n")
    return path


def test_eight_clients_during_an_upload(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    with running_chat(tmp_path / "index") as url:
        expected = {q: httpx.post(f"{url}/api/ask", json={"question": q}, timeout=120).json() for q in QUESTIONS}
        latencies: list[float] = []
        errors: list[str] = []
        uploading = threading.Event()

        def client(i: int) -> None:
            gradio = Client(url + "/", verbose=False) if i % 2 else None
            uploading.wait(timeout=120)
            for r in range(ROUNDS):
                q = QUESTIONS[(i + r) % len(QUESTIONS)]
                history = [[f"client {i} round {r}", "noted"]]
                started = time.perf_counter()
                try:
                    if gradio is not None:
                        got = gradio.predict(q, history, api_name="/ask")
                    else:
                        got = httpx.post(f"{url}/api/ask", json={"question": q, "history": history}, timeout=120)
                        got.raise_for_status()
                        got = got.json()
                except Exception as e:  # noqa: BLE001  (every failure is collected and reported)
                    errors.append(f"client {i}: {e!r}")
                    continue
                latencies.append(time.perf_counter() - started)
                if got["question"] != q or got["citations"] != expected[q]["citations"]:
                    errors.append(f"client {i} got another answer for {q!r}: {got['answer']!r}")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        session = Session(browser, url)
        feed = sports_feed(tmp_path / "sports.jsonl")
        page = session.page
        page.get_by_role("tab", name="Library").click()
        page.locator("#upload input[type=file]").set_input_files([str(feed)])
        uploading.set()
        for t in threads:
            t.join(timeout=600)
        page.wait_for_function(
            "/sports.jsonl\\n(added|already)/.test(document.querySelector('#results').innerText)", timeout=600_000
        )
        results = page.locator("#results").inner_text()

    assert not errors, errors
    assert len(latencies) == CLIENTS * ROUNDS
    assert "added" in results
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(
        f"\n{len(latencies)} answers under load: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms"
    )
