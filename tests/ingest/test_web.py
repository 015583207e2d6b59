"""Web pages and feeds from a real HTTP server on 127.0.0.1: extraction, the feed's entries, failures, re-runs."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant import Assistant
from assistant.cli import main
from assistant.ingest.web import canonical, extract_page, paragraphs
from assistant.types import IngestReport
from assistant.watch import parse_interval, watch
from tests.news_site import PAGES, FeedItem, NewsSite

# What each saved page's article says, and boilerplate of its layout that must not be stored.
LAYOUTS = json.loads((PAGES / "pages.json").read_text(encoding="utf-8"))
THREE = [
    FeedItem("quake.html", "Quake damages port town", "2024-03-05"),
    FeedItem("harbour.html", "Harbour expansion approved", "2024-04-18"),
    FeedItem("election.html", "Turnout record", "2024-05-02"),
]
BROKEN = [
    FeedItem("gone.html", "A page that was taken down", "2024-05-03"),
    FeedItem("logo.png", "Not a page", "2024-05-04"),
    FeedItem("slow.html", "A server that does not answer", "2024-05-05"),
]


@pytest.fixture
def site() -> Iterator[NewsSite]:
    served = NewsSite(items=list(THREE)).start()
    yield served
    served.stop()


@pytest.fixture
def web_bot(make_assistant: Callable[..., Assistant]) -> Assistant:
    return make_assistant(fetch_timeout=1.0)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_the_article_text_and_metadata_of_each_layout_are_extracted(name: str) -> None:
    expected = LAYOUTS[name]
    page = extract_page(((PAGES / name).read_bytes(), f"http://127.0.0.1/{name}"))
    for sentence in expected["article"]:
        assert sentence in page["text"]
    for boilerplate in expected["boilerplate"]:
        assert boilerplate not in page["text"]
    assert {k: page[k] for k in ("title", "date", "author")} == expected["metadata"]


def test_paragraphs_become_blocks_and_table_rules_go() -> None:
    assert paragraphs("Title\nOne.\n| a | b |\n|---|---|\n| 1 | 2 |\n\n") == "Title\n\nOne.\n\n| a | b |\n\n| 1 | 2 |"


def test_canonical_drops_the_fragment_only() -> None:
    assert canonical("HTTPS://Example.ORG/a/b?x=1#comments") == "https://example.org/a/b?x=1"
    assert canonical("http://example.org") == "http://example.org/"


def test_a_feed_is_ingested_entry_by_entry_with_title_date_and_url(web_bot: Assistant, site: NewsSite) -> None:
    site.items += BROKEN
    report = web_bot.ingest([site.url("feed.xml")], progress=False)
    assert sorted(report.added) == sorted(site.url(i.path) for i in THREE)
    reasons = dict(report.failed)
    assert reasons[site.url("gone.html")] == "HTTP 404 Not Found"
    assert reasons[site.url("logo.png")] == "not a web page (content type image/png)"
    assert reasons[site.url("slow.html")] == "no answer within 1 s (ASSISTANT_FETCH_TIMEOUT)"
    docs = {d.source: d for d in web_bot.documents()}
    quake = docs[site.url("quake.html")].metadata
    assert quake["title"] == "Quake damages port town of Veltra"  # the page's own headline, not the feed's
    assert (quake["date"], quake["author"], quake["url"]) == ("2024-03-05", "Jane Roe", site.url("quake.html"))
    assert quake["feed"] == site.url("feed.xml")
    assert docs[site.url("election.html")].metadata["date"] == "2024-05-02"

    answer = web_bot.ask("How many people did the mayor of Veltra say were treated for injuries?")
    [first, *_] = answer.citations
    assert first.source == site.url("quake.html")
    assert web_bot.document_text(first.doc_id)[first.start : first.end] == first.text
    assert "40 people were treated for injuries" in first.text


def test_a_second_run_fetches_only_new_entries(web_bot: Assistant, site: NewsSite) -> None:
    web_bot.ingest([site.url("feed.xml")], progress=False)
    before = web_bot.stats()
    again = web_bot.ingest([site.url("feed.xml")], progress=False)
    assert again.added == [] and again.ok and len(again.unchanged) == 3
    assert {again.notes[u] for u in again.unchanged} == {"already ingested"}
    assert web_bot.stats() == before
    assert site.requests["/quake.html"] == 1  # not fetched again

    site.items.append(FeedItem("fourth.html", "Ferry strike ends", "2024-05-06"))
    site.pages["/fourth.html"] = _page("Ferry strike ends", "The ferry workers of Kallio ended their strike on Monday.")
    third = web_bot.ingest([site.url("feed.xml")], progress=False)
    assert third.added == [site.url("fourth.html")] and len(third.unchanged) == 3


def test_a_page_that_cannot_be_had_gives_the_feeds_summary(web_bot: Assistant, site: NewsSite) -> None:
    site.items = [
        FeedItem("gone.html", "Dam opens", "2024-06-01", summary="<p>The new dam at Orsk opened on Friday.</p>")
    ]
    report = web_bot.ingest([site.url("feed.xml")], progress=False)
    assert report.added == [site.url("gone.html")]
    assert report.notes[site.url("gone.html")] == "from the feed's summary: the page failed (HTTP 404 Not Found)"
    [doc] = web_bot.documents()
    assert web_bot.document_text(doc.doc_id) == "The new dam at Orsk opened on Friday."
    assert doc.metadata["text_from"] == "feed summary" and doc.metadata["title"] == "Dam opens"


def test_the_same_story_under_another_url_is_not_stored_twice(web_bot: Assistant, site: NewsSite) -> None:
    web_bot.ingest([site.url("harbour.html")], progress=False)
    site.items = [FeedItem("harbour.html?utm_source=rss", "Harbour", "2024-04-18")]
    report = web_bot.ingest([site.url("feed.xml")], progress=False)
    assert report.added == [] and report.unchanged == [site.url("harbour.html?utm_source=rss")]
    assert report.notes[report.unchanged[0]] == f"the same text as {site.url('harbour.html')}"
    assert web_bot.stats()["documents"] == 1


def test_a_page_named_directly_follows_redirects_and_is_updated(web_bot: Assistant, site: NewsSite) -> None:
    first = web_bot.ingest([site.url("moved.html")], progress=False)
    assert first.added == [site.url("moved.html")] and first.ok
    assert web_bot.ingest([site.url("moved.html")], progress=False).unchanged == [site.url("moved.html")]
    assert site.requests["/moved.html"] == 2  # a page named is always fetched again: it may have changed


def test_limits_and_refusals_fail_alone(make_assistant: Callable[..., Assistant], site: NewsSite) -> None:
    bot = make_assistant(fetch_max_mb=0.001)
    report = bot.ingest([site.url("quake.html"), site.url("nothing-here.html"), "http://127.0.0.1:1/"], progress=False)
    reasons = dict(report.failed)
    assert reasons[site.url("quake.html")] == "too large (2 KB; the limit is 1 KB, set by ASSISTANT_FETCH_MAX_MB)"
    assert reasons[site.url("nothing-here.html")] == "HTTP 404 Not Found"
    assert reasons["http://127.0.0.1:1/"].startswith("could not fetch it (ConnectError")
    private = bot.ingest([site.url("harbour.html")], progress=False, private_hosts=False)
    assert dict(private.failed) == {
        site.url("harbour.html"): "127.0.0.1 is a local or private address; the chat fetches public pages only"
    }
    assert bot.stats()["documents"] == 0


def test_the_cli_prints_a_line_per_entry_and_a_json_report(tmp_path: Path, site: NewsSite) -> None:
    site.items += BROKEN[:1]
    index = ["--index", str(tmp_path / "index")]
    out = CliRunner().invoke(main, ["ingest", site.url("feed.xml"), *index])
    assert out.exit_code == 1  # one entry failed
    lines = out.output.splitlines()
    assert f"added: {site.url('quake.html')}" in lines
    assert f"failed: {site.url('gone.html')}: HTTP 404 Not Found" in lines
    assert lines[-1].startswith("3 added, 0 unchanged, 1 failed (")
    again = CliRunner().invoke(main, ["ingest", site.url("feed.xml"), "--json", *index])
    report = json.loads(again.output)
    assert report["added"] == [] and len(report["unchanged"]) == 3
    assert report["notes"][site.url("quake.html")] == "already ingested"
    shown = CliRunner().invoke(main, ["show", site.url("harbour.html"), *index])
    assert "The city council voted 9 to 4 on Thursday" in shown.output
    asked = CliRunner().invoke(
        main, ["ask", "What did the council approve?", "--source", site.url("harbour.html"), "--json", *index]
    )
    assert {c["source"] for c in json.loads(asked.output)["citations"]} == {site.url("harbour.html")}


def test_the_watch_command_prints_each_run_until_ctrl_c(tmp_path: Path, site: NewsSite) -> None:
    command = [sys.executable, "-m", "assistant", "watch", site.url("feed.xml"), "--every", "1s"]
    proc = subprocess.Popen(
        [*command, "--index", str(tmp_path / "index")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    try:
        _read_until(lines, "3 added, 0 unchanged, 0 failed")
        site.items.append(FeedItem("fourth.html", "Ferry strike ends", "2024-05-06"))
        site.pages["/fourth.html"] = _page("Ferry strike ends", "The ferry workers of Kallio ended their strike.")
        assert _read_until(lines, f"added: {site.url('fourth.html')}")[9:] == f"added: {site.url('fourth.html')}"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    # Ctrl-C lets the run under way finish, then stops.
    assert proc.returncode == 0 and err.splitlines()[-2:] == [
        "Stopping after this run (Ctrl-C again stops now).",
        "Stopped.",
    ]


def test_watch_picks_up_a_new_entry(web_bot: Assistant, site: NewsSite) -> None:
    runs: list[IngestReport] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch, args=(web_bot, [site.url("feed.xml")], 0.3, lambda r, _: runs.append(r), stop)
    )
    thread.start()
    try:
        _wait(lambda: len(runs) >= 2)
        assert len(runs[0].added) == 3 and runs[1].added == []
        site.items.append(FeedItem("fourth.html", "Ferry strike ends", "2024-05-06"))
        site.pages["/fourth.html"] = _page("Ferry strike ends", "The ferry workers of Kallio ended their strike.")
        _wait(lambda: any(r.added == [site.url("fourth.html")] for r in runs))
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert web_bot.stats()["documents"] == 4


def test_watch_ingests_a_folders_changes_as_they_happen(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.txt").write_text("The lighthouse at Brenn was repainted in June.", encoding="utf-8")
    bot = make_assistant()
    runs: list[tuple[IngestReport, list[str]]] = []
    stop = threading.Event()
    # A schedule of an hour: what follows can only come from the folder's changes.
    thread = threading.Thread(target=watch, args=(bot, [str(folder)], 3600.0, lambda r, g: runs.append((r, g)), stop))
    thread.start()
    try:
        _wait(lambda: len(runs) == 1)
        (folder / "b.txt").write_text("The ferry to Osk now sails twice a day.", encoding="utf-8")
        _wait(lambda: any(str(folder / "b.txt") in r.added for r, _ in runs))
        (folder / "a.txt").unlink()
        _wait(lambda: any(str(folder / "a.txt") in gone for _, gone in runs))
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert [d.source for d in bot.documents()] == [str(folder / "b.txt")]


def test_intervals() -> None:
    assert [parse_interval(t) for t in ("90", "30s", "15m", "2h", "1d", "0.5s")] == [90, 30, 900, 7200, 86400, 0.5]
    for bad in ("", "0", "15 minutes", "-1m"):
        with pytest.raises(ValueError, match="is not an interval"):
            parse_interval(bad)


def _page(title: str, text: str) -> bytes:
    head = f"<html><head><title>{title}</title></head>"
    return f"{head}<body><article><h1>{title}</h1><p>{text}</p></article></body></html>".encode()


def _read_until(lines: queue.Queue[str], text: str, seconds: float = 120.0) -> str:
    """The first line holding `text` (each line starts with the run's time, HH:MM:SS)."""
    deadline = time.monotonic() + seconds
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic())).rstrip("\n")
        if text in line:
            return line


def _wait(done: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
