"""The real chat server, driven by Debian's chromium (Playwright), gradio_client and plain HTTP."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client
from playwright.sync_api import Browser

from assistant import Answer, Assistant
from assistant.app import sample_path
from assistant.models.reader import reader_settings
from assistant.render import answer_html
from assistant.types import IngestReport
from assistant.ui import EMPTY_QUESTION, ChatApp, sample_notice, short_answer_min_margin
from tests.browser import WAIT_MS, Session
from tests.canned_openai import CannedChatServer
from tests.chat_server import REPO, chat_command, clean_env, running_chat
from tests.conftest import BRIDGE_ARTICLE, BRIDGE_QUESTION, SAMPLE_QUESTION, SAMPLE_SENTENCE, write
from tests.news_site import NewsSite

pytestmark = pytest.mark.slow

# The tracked screenshot in docs/chat.md is rewritten only when asked for: ASSISTANT_REFRESH_SCREENSHOT=1.
DOCS_SCREENSHOT = REPO / "docs" / "chat.png"

FESTIVAL = (
    "date 2023-04-02\n"
    "The Zorblat Lantern Festival in Vellmora drew forty thousand visitors this spring.\n\n"
    "The festival moved to the riverside because the old market square was closed for repairs. "
    "Organisers said next year's lanterns will be made from recycled paper."
)
FESTIVAL_QUESTION = "Why did the Zorblat Lantern Festival move to the riverside?"
HOSTILE = (
    "# <img src=x onerror=alert(1)> Quillon harbour news\n\n"
    "The Quillon harbour reopened in March <script>alert(1)</script> after the storm damaged the piers. "
    '<img src=x onerror="window.__pwned=1;alert(1)"> The Quillon harbour master thanked the divers.\n'
)
HOSTILE_QUESTION = "When did the Quillon harbour reopen after the storm?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A chat server on an empty index (it ingests the bundled sample first) and its index folder."""
    index = tmp_path_factory.mktemp("chat") / "index"
    with running_chat(index) as url:
        yield url, index


def test_chat_streams_a_cited_answer_with_the_span_highlighted(
    server: tuple[str, Path], browser: Browser, sample_text: str, tmp_path: Path
) -> None:
    s = Session(browser, server[0])
    # An empty index got the sample, and the chat says so.
    assert s.page.locator("#notice").inner_text() == sample_notice(IngestReport(added=[str(sample_path())]))
    answer = s.ask(SAMPLE_QUESTION)
    # The answer quotes the sentence with its marker before the final stop: "... positions [1]."
    assert SAMPLE_SENTENCE.rstrip(".") in answer and "[1]" in answer
    marks = s.marked()
    assert SAMPLE_SENTENCE in marks
    assert all(m in sample_text for m in marks)
    # The marker links to its source card in the panel, which the page scrolls to and flashes.
    s.page.locator("[data-testid='bot'] a.cite-marker").first.click()
    s.page.wait_for_selector("#src-0-1.flash", timeout=WAIT_MS)
    assert s.page.url.rstrip("/") == server[0]  # no navigation away from the chat
    screenshot = DOCS_SCREENSHOT if os.environ.get("ASSISTANT_REFRESH_SCREENSHOT") == "1" else tmp_path / "chat.png"
    s.page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 0

    # A second question gets its own sources; clicking the first answer brings its sources back.
    s.ask("Who does Turkey support in Libya?")
    s.page.wait_for_selector("#sources [id^='src-1-']", timeout=WAIT_MS)
    s.page.locator("[data-testid='bot']").first.click()
    s.page.wait_for_selector("#src-0-1", timeout=WAIT_MS)
    s.page.locator("[data-testid='bot']").nth(1).click()
    s.page.wait_for_selector("#sources [id^='src-1-']", timeout=WAIT_MS)

    # Every marker of every answer brings up its own source: [1] of the first answer, whose card is no longer
    # in the panel, shows that answer's sources again, with its span highlighted.
    assert s.page.locator("#src-0-1").count() == 0
    s.page.locator("[data-testid='bot']").first.locator("a.cite-marker").first.click()
    s.page.wait_for_selector("#src-0-1.flash", timeout=WAIT_MS)
    assert s.page.locator("#src-0-1 mark").all_inner_texts() == marks[:1]  # citation [1]'s span, again
    assert s.page.locator("#sources [id^='src-1-']").count() == 0
    assert s.page.url.rstrip("/") == server[0]

    # A "who" question: the name it asks for stands out inside the cited sentence.
    s.ask("Who mediated the peace between Erdogan and Putin?")
    assert s.page.locator("[data-testid='bot'] strong.short-answer").last.inner_text() == "Nur Sultan Nazarbayev"
    # A follow-up shows how it was understood.
    s.ask("Is he still in power?")
    assert s.page.locator("[data-testid='bot'] .resolved").last.inner_text() == "Read as: Is Nazarbayev still in power?"
    assert s.outside == [] and s.dialogs == []


def test_upload_then_ask_about_it_then_delete_it(server: tuple[str, Path], browser: Browser, tmp_path: Path) -> None:
    url, index = server
    festival = write(tmp_path / "zorblat.txt", FESTIVAL)
    broken = write(tmp_path / "broken.jsonl", '{"text": "A fine line about the Quillon ferry."}\n{not json\n')
    s = Session(browser, url)
    results = s.upload(festival, broken)
    assert "zorblat.txt\nadded (1 passage)" in results
    assert "broken.jsonl\nadded (1 passage); failed: broken.jsonl#2: malformed JSON" in results
    s.page.wait_for_function("document.querySelector('#library').innerText.includes('zorblat')", timeout=WAIT_MS)
    assert (index / "uploads" / "zorblat.txt").read_text(encoding="utf-8") == FESTIVAL

    answer = s.ask(FESTIVAL_QUESTION)
    assert "old market square was closed for repairs" in answer
    assert "zorblat.txt" in s.page.locator("#sources").inner_text()
    assert s.marked() and all(m in FESTIVAL for m in s.marked())

    s.page.get_by_role("tab", name="Library").click()
    s.page.locator("#delete-doc input").click()
    s.page.get_by_role("option", name="zorblat (zorblat.txt)").click()
    # Deleting asks first; cancelling keeps the article.
    s.page.locator("#delete").click()
    s.page.wait_for_function(
        "document.querySelector('#delete-status').innerText.includes('Delete zorblat (zorblat.txt, 1 passage)')",
        timeout=WAIT_MS,
    )
    s.page.locator("#delete-cancel").click()
    s.page.wait_for_function("document.querySelector('#delete-status').innerText.includes('Nothing')", timeout=WAIT_MS)
    assert not s.page.locator("#delete-confirm").is_visible()
    assert "zorblat" in s.page.locator("#library").inner_text()
    assert (index / "uploads" / "zorblat.txt").exists()
    s.page.locator("#delete").click()
    s.page.locator("#delete-confirm").click()
    s.page.wait_for_function("document.querySelector('#delete-status').innerText.includes('Deleted')", timeout=WAIT_MS)
    s.page.wait_for_function("!document.querySelector('#library').innerText.includes('zorblat')", timeout=WAIT_MS)
    assert not (index / "uploads" / "zorblat.txt").exists()
    assert s.outside == [] and s.dialogs == []


def test_a_web_page_fetched_in_the_library_tab_is_cited(browser: Browser, tmp_path: Path) -> None:
    site = NewsSite(items=[]).start()
    try:
        # This chat may fetch from 127.0.0.1, where the test's news site is; the default refuses (next test).
        with running_chat(tmp_path / "index", ASSISTANT_CHAT_FETCH_PRIVATE="1") as url:
            s = Session(browser, url)
            results = s.fetch(site.url("harbour.html"), "added")
            assert f"{site.url('harbour.html')}\nadded" in results
            s.page.wait_for_function(
                "document.querySelector('#library').innerText.includes('Council approves harbour expansion')",
                timeout=WAIT_MS,
            )
            assert s.page.locator("#url textarea, #url input").first.input_value() == ""
            answer = s.ask("How did the city council vote on the Riverside harbour expansion?")
            assert "voted 9 to 4" in answer
            assert site.url("harbour.html") in s.page.locator("#sources").inner_text()
            assert "voted 9 to 4" in " ".join(s.marked())
            assert s.outside == [] and s.dialogs == []
    finally:
        site.stop()


def test_the_chat_refuses_urls_of_its_own_network_and_what_is_no_url(sample_bot: Assistant) -> None:
    site = NewsSite(items=[]).start()
    try:
        app = ChatApp(sample_bot)
        rows, box = app.add_url(site.url("harbour.html"))
        assert rows == [
            [
                site.url("harbour.html"),
                "failed: 127.0.0.1 is a local or private address; the chat fetches public pages only",
            ]
        ]
        assert box == site.url("harbour.html")  # kept, to be corrected
        assert app.add_url("file:///etc/passwd")[0] == [
            ["file:///etc/passwd", "refused: give a web address starting with http:// or https://"]
        ]
        assert site.requests == {}
    finally:
        site.stop()


def test_an_empty_question_gets_a_message_and_the_console_says_the_sample_was_added(
    server: tuple[str, Path], browser: Browser
) -> None:
    url, index = server
    s = Session(browser, url)
    s.page.locator("textarea[data-testid='textbox']").first.fill("   ")
    s.page.get_by_role("button", name="Ask").click()
    s.page.get_by_text(EMPTY_QUESTION).wait_for(timeout=WAIT_MS)
    assert s.page.locator("[data-testid='user']").count() == 0  # nothing was asked
    log = (index.parent / f"chat-{url.rsplit(':', 1)[1]}.log").read_text()
    assert log.splitlines().count(sample_notice(IngestReport(added=[str(sample_path())]))) == 1


def test_hostile_article_shows_as_text_and_runs_nothing(
    server: tuple[str, Path], browser: Browser, tmp_path: Path
) -> None:
    hostile = write(tmp_path / "quillon.md", HOSTILE)
    s = Session(browser, server[0])
    assert "quillon.md\nadded" in s.upload(hostile)
    s.page.wait_for_function("document.querySelector('#library').innerText.includes('Quillon')", timeout=WAIT_MS)
    assert "<img src=x onerror=alert(1)> Quillon harbour news" in s.page.locator("#library").inner_text()

    answer = s.ask("<img src=x onerror=alert(2)> " + HOSTILE_QUESTION)
    assert "<script>alert(1)</script>" in answer
    assert "<img src=x onerror=alert(2)>" in s.page.locator("[data-testid='user']").last.inner_text()
    sources = s.page.locator("#sources").inner_text()
    assert "<script>alert(1)</script>" in sources
    assert s.marked() and all(m in HOSTILE for m in s.marked())
    s.page.wait_for_timeout(500)  # give any injected handler the chance to fire before checking it did not
    assert s.dialogs == []
    assert s.page.evaluate("window.__pwned") is None
    assert s.page.locator("img[src='x']").count() == 0
    assert s.page.locator("#sources script, #chat script").count() == 0


def test_the_local_model_answers_when_chosen_in_the_settings(
    server: tuple[str, Path], browser: Browser, tmp_path: Path
) -> None:
    s = Session(browser, server[0])
    assert "bridge.txt\nadded" in s.upload(write(tmp_path / "bridge.txt", BRIDGE_ARTICLE))
    s.page.get_by_role("tab", name="Chat").click()
    s.page.locator("#chat-settings .label-wrap").click()
    s.page.locator("#backend input").click()
    s.page.get_by_role("option", name="Local model (llama.cpp)").click()
    # Only the bridge article, as the tiny model answers it reliably when it sees no other passages.
    s.page.locator("#only input").click()
    s.page.get_by_role("option", name="bridge (bridge.txt)").click()
    s.page.keyboard.press("Escape")
    # Remember whether the model's unverified draft was ever on screen before the final answer replaced it.
    s.page.evaluate(
        """() => new MutationObserver(() => {
             if (document.querySelector("[data-testid='bot'] .draft-label")) window.__sawDraft = true;
           }).observe(document.body, {childList: true, subtree: true, characterData: true})"""
    )
    s.ask(BRIDGE_QUESTION)
    bubble = s.page.locator("[data-testid='bot']").last
    assert s.marked() and all(m in BRIDGE_ARTICLE for m in s.marked())
    assert bubble.locator(".draft-label").count() == 0  # the draft is gone
    if bubble.locator(".answer-note").count():  # a clearly noted fallback to the extractive answer
        assert "extractive answer" in bubble.locator(".answer-note").inner_text()
    else:
        assert bubble.locator(".backend").inner_text().lower() == "written by llamacpp"
        assert "1987" in " ".join(s.marked())
        assert s.page.evaluate("window.__sawDraft") is True
    assert s.outside == [] and s.dialogs == []


def scripted_answer(messages: list[dict[str, str]]) -> str:
    """What a stronger model might write: one quoted, checkable claim, and one claim (with markup) that is not."""
    n = re.search(r"\[(\d+)\] The Harbor Bridge", messages[-1]["content"])
    return (
        f'Lina Petrov designed the bridge [{n[1] if n else 1}] "It was designed by the engineer Lina Petrov". '
        "It cost <img src=x onerror=window.__pwned=1;alert(1)> two billion euros [9]."
    )


def test_unsupported_sentences_and_the_backend_show_in_the_chat(browser: Browser, tmp_path: Path) -> None:
    model = CannedChatServer(scripted_answer)
    try:
        # Writer mode: the model writes the answer, and what it cannot quote is shown as unsupported.
        with running_chat(
            tmp_path / "index", "--backend", "openai", ASSISTANT_LLM_URL=model.url, ASSISTANT_LLM_MODE="writer"
        ) as url:
            s = Session(browser, url)
            assert "bridge.txt\nadded" in s.upload(write(tmp_path / "bridge.txt", BRIDGE_ARTICLE))
            s.page.get_by_role("tab", name="Chat").click()
            s.page.locator("#chat-settings .label-wrap").click()
            assert s.page.locator("#backend input").input_value() == "Model server (OpenAI-compatible)"
            s.ask("Who designed the Harbor Bridge?")
    finally:
        model.close()
    bubble = s.page.locator("[data-testid='bot']").last
    assert bubble.locator(".backend").inner_text().lower() == "written by openai"
    assert s.marked() == ["It was designed by the engineer Lina Petrov"]
    unsupported = bubble.locator(".unsupported")
    assert unsupported.count() == 1
    assert unsupported.inner_text().startswith("It cost <img src=x onerror=window.__pwned=1;alert(1)> two billion")
    assert unsupported.locator(".unsupported-label").inner_text().lower() == "unsupported"
    assert "[9]" not in bubble.inner_text()
    s.page.wait_for_timeout(500)  # give any injected handler the chance to fire before checking it did not
    assert s.page.evaluate("window.__pwned") is None and s.dialogs == [] and s.outside == []


def test_the_api_takes_a_backend_per_question(server: tuple[str, Path], sample_text: str) -> None:
    url = server[0]
    answer = httpx.post(f"{url}/api/ask", json={"question": SAMPLE_QUESTION, "backend": "llamacpp"}, timeout=300).json()
    # The tiny model may answer, abstain, or write nothing verifiable (then the extractive answer, noted).
    assert answer["backend"] == "llamacpp" or "extractive answer" in answer["note"]
    for c in answer["citations"]:
        assert c["verified"] is True and sample_text[c["start"] : c["end"]] == c["text"]
    bad = httpx.post(f"{url}/api/ask", json={"question": SAMPLE_QUESTION, "backend": "gpt-9"}, timeout=60)
    assert bad.status_code == 400 and "not one of" in bad.json()["detail"]
    client = Client(url + "/", verbose=False)
    extractive = client.predict(SAMPLE_QUESTION, backend="extractive", api_name="/ask")
    assert extractive["backend"] == "extractive" and SAMPLE_SENTENCE in [c["text"] for c in extractive["citations"]]


def test_respond_streams_the_draft_then_the_verified_answer(llm_bot: Assistant) -> None:
    chat = ChatApp(llm_bot)
    assert chat.backends == ["extractive", "llamacpp"] and chat.default_backend == "llamacpp"
    updates = list(chat.respond(BRIDGE_QUESTION, [], 5, None, "", "", "llamacpp"))
    shown = [messages[-1]["content"] for messages, *_ in updates]
    assert any(html.startswith('<span class="draft-label">') for html in shown[1:-1])
    (answer,) = updates[-1][3]
    assert isinstance(answer, Answer) and shown[-1] == answer_html(answer, 0, chat.bold_min_margin)
    assert "draft-label" not in shown[-1]
    assert answer.backend == "llamacpp" or answer.note


def test_the_chat_bolds_a_short_answer_only_when_the_reader_is_confident(sample_bot: Assistant) -> None:
    chat = ChatApp(sample_bot)
    threshold = chat.bold_min_margin
    assert threshold is not None and threshold == reader_settings("packaged")["short_answer_min_margin"]
    sure = sample_bot.ask("Who mediated the peace between Erdogan and Putin?")
    unsure = sample_bot.ask("Who does Turkey support in Libya?")  # the reader's span is "the countries"
    assert sure.margin is not None and sure.margin >= threshold
    assert unsure.short_answer and unsure.margin is not None and unsure.margin < threshold
    shown = [html["content"] for html in chat.messages([sure, unsure])[1::2]]
    assert '<strong class="short-answer" title="the short answer">Nur Sultan Nazarbayev</strong>' in shown[0]
    assert "<strong" not in shown[1]
    # Without a reader there is no margin to trust: nothing is bold.
    assert short_answer_min_margin(sample_bot.settings.replace(reader="none")) is None


def test_an_unusable_backend_is_not_offered(llm_bot: Assistant, tmp_path: Path) -> None:
    bot = Assistant(settings=llm_bot.settings.replace(llm_path=str(tmp_path / "missing.gguf")))
    chat = ChatApp(bot)
    assert chat.backends == ["extractive"] and chat.default_backend == "extractive"


def test_two_sessions_at_once_get_their_own_conversations(server: tuple[str, Path], browser: Browser) -> None:
    url = server[0]
    first, second = Session(browser, url), Session(browser, url)
    questions = {first: SAMPLE_QUESTION, second: "Why does Germany avoid provoking Russia?"}
    for s, q in questions.items():
        box = s.page.locator("textarea[data-testid='textbox']").first
        box.fill(q)
    for s in questions:  # both are in flight before either answer arrives
        s.page.locator("textarea[data-testid='textbox']").first.press("Enter")
    for s in questions:
        s.page.wait_for_selector("#sources [id^='src-0-'], #sources .abstained-sources", timeout=WAIT_MS)
    assert SAMPLE_SENTENCE.rstrip(".") in first.page.locator("[data-testid='bot']").first.inner_text()
    assert first.page.locator("[data-testid='user']").all_inner_texts() == [SAMPLE_QUESTION]
    assert second.page.locator("[data-testid='user']").all_inner_texts() == [questions[second]]
    assert SAMPLE_SENTENCE.rstrip(".") not in second.page.locator("[data-testid='bot']").first.inner_text()


def test_gradio_client_ask_and_retrieve(server: tuple[str, Path], sample_text: str) -> None:
    client = Client(server[0] + "/", verbose=False)
    answer = client.predict(SAMPLE_QUESTION, api_name="/ask")
    assert {"question", "answer", "abstained", "citations", "passages"} <= set(answer)
    assert SAMPLE_SENTENCE in [c["text"] for c in answer["citations"]]
    for c in answer["citations"]:
        assert sample_text[c["start"] : c["end"]] == c["text"]
    followup = client.predict("why did he prefer it?", [[SAMPLE_QUESTION, answer["answer"]]], api_name="/ask")
    assert followup["question"] == "why did he prefer it?"

    found = client.predict(SAMPLE_QUESTION, 2, api_name="/retrieve")["passages"]
    assert len(found) == 2 and found[0]["score"] >= found[1]["score"]
    for p in found:
        assert set(p) == {"source", "doc_id", "start", "end", "score", "text"}
        assert sample_text[p["start"] : p["end"]] == p["text"]
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def test_concurrent_api_clients_get_their_own_answers(server: tuple[str, Path]) -> None:
    url = server[0]
    questions = [SAMPLE_QUESTION, "Who does Turkey support in Libya?", "Why does Germany avoid provoking Russia?"]
    expected = {q: httpx.post(f"{url}/api/ask", json={"question": q}, timeout=60).json() for q in questions}
    got: dict[tuple[int, str], dict] = {}
    start = threading.Barrier(2 * len(questions))

    def ask(i: int, q: str) -> None:
        start.wait()
        if i % 2:
            got[i, q] = Client(url + "/", verbose=False).predict(q, api_name="/ask")
        else:
            got[i, q] = httpx.post(f"{url}/api/ask", json={"question": q}, timeout=60).json()

    threads = [threading.Thread(target=ask, args=(i, q)) for i in range(2) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(threads)
    for (_, q), answer in got.items():
        assert answer == expected[q]


def test_non_local_bind_without_credentials_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run(
        chat_command(tmp_path / "index", "--host", "0.0.0.0", "--port", "0"),
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "refusing to serve on 0.0.0.0 without a password" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "index").exists()  # refused before touching anything


def test_with_credentials_unauthenticated_requests_are_rejected(tmp_path: Path) -> None:
    with running_chat(tmp_path / "index", ASSISTANT_AUTH="ann:s3cret") as url:
        payload = {"question": SAMPLE_QUESTION}
        assert httpx.post(f"{url}/api/ask", json=payload).status_code == 401
        assert httpx.post(f"{url}/api/ask", json=payload, auth=("ann", "wrong")).status_code == 401
        assert httpx.get(f"{url}/config").status_code == 401
        assert httpx.get(f"{url}/gradio_api/info").status_code == 401
        with pytest.raises(Exception, match="credentials"):
            Client(url + "/", verbose=False)
        assert httpx.post(f"{url}/api/ask", json=payload, auth=("ann", "s3cret"), timeout=60).status_code == 200
        answer = Client(url + "/", auth=("ann", "s3cret"), verbose=False).predict(SAMPLE_QUESTION, api_name="/ask")
        assert SAMPLE_SENTENCE in [c["text"] for c in answer["citations"]]


def _queue_call(url: str, dependency: int, trigger: int, data: list[Any]) -> dict[str, Any]:
    """Run one event through Gradio's queue as any HTTP client can: the final message."""
    session = "attacker"
    joined = httpx.post(
        f"{url}/gradio_api/queue/join",
        json={
            "data": data,
            "event_data": None,
            "fn_index": dependency,
            "trigger_id": trigger,
            "session_hash": session,
        },
    )
    joined.raise_for_status()
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=60) as s:
        for line in s.iter_lines():
            if line.startswith("data:") and (message := json.loads(line[5:])).get("msg") == "process_completed":
                return message
    raise AssertionError("the queue closed without completing the event")


def test_the_upload_event_refuses_a_server_path_a_client_names(server: tuple[str, Path], tmp_path: Path) -> None:
    """Issue 20.1: posting the upload event with a server-side path must not ingest that file, nor tell whether
    it exists."""
    url, index = server
    secret = write(tmp_path / "vault.md", "The Quillon vault code is 4321, the harbour master said.")
    config = httpx.get(f"{url}/config").json()
    upload = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "upload")
    event = next(i for i, d in enumerate(config["dependencies"]) if [upload, "upload"] in d["targets"])
    replies = [
        _queue_call(url, event, upload, [[{"path": str(path), "meta": {"_type": "gradio.FileData"}}]])
        for path in (secret, tmp_path / "missing.md")
    ]
    for reply, path in zip(replies, (secret, tmp_path / "missing.md"), strict=True):
        assert reply["success"] is False
        assert reply["output"]["error"] == replies[0]["output"]["error"].replace(str(secret), str(path))
        assert "Errno" not in reply["output"]["error"]
    assert not (index / "uploads" / "vault.md").exists()
    answer = httpx.post(f"{url}/api/ask", json={"question": "What is the Quillon vault code?"}, timeout=60).json()
    assert "4321" not in json.dumps(answer)


def test_a_bad_date_in_the_chat_names_the_box_it_was_typed_in(sample_bot: Assistant) -> None:
    updates = list(ChatApp(sample_bot).respond(SAMPLE_QUESTION, [], 5, None, "2022-13-01", "", "extractive"))
    shown = html.unescape(updates[-1][0][-1]["content"])
    assert "From date: not a date" in shown and "date_from" not in shown
