"""Web pages and RSS/Atom feeds that the user names: fetched within limits, their article text extracted.

Nothing is fetched unless a URL is given. A page's main text, title, date and author come from trafilatura (run
in the bounded parser process, as the HTML loader's parser is); a feed is read by feedparser from the bytes
fetched here (it never fetches by itself), and each of its entries' pages is fetched in turn.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from tqdm import tqdm

from assistant.ingest import isolate
from assistant.ingest.errors import LoadError, LoadFailure
from assistant.ingest.loaders import Limits
from assistant.settings import Settings
from assistant.types import Document, stable_id

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
_FEED_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)
_MAX_REDIRECTS = 5
# A table row longer than this is a page's layout, not data.
_LAYOUT_CELL_CHARS = 400
_CHUNK = 65536


def canonical(url: str) -> str:
    """The URL a page is stored under: without its #fragment, which names a place in the page, not a page."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def doc_id(url: str) -> str:
    return stable_id(canonical(url))


@dataclass(frozen=True)
class WebLimits:
    """What one fetch may cost, and where it may go."""

    timeout: float
    max_bytes: int
    user_agent: str
    # False for URLs that a chat client names: no loopback, private or link-local address is fetched.
    private_hosts: bool
    # The parser process's limits, as for files (loaders.Limits).
    parse_seconds: float = Limits.parse_seconds
    parse_memory_mb: int = Limits.parse_memory_mb

    @classmethod
    def from_settings(cls, settings: Settings, private_hosts: bool) -> WebLimits:
        return cls(settings.fetch_timeout, int(settings.fetch_max_mb * 2**20), settings.fetch_user_agent, private_hosts)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    body: bytes

    @property
    def is_html(self) -> bool:
        return self.content_type in _HTML_TYPES or not self.content_type

    @property
    def is_feed(self) -> bool:
        if self.is_html or self.content_type.startswith("image/"):
            return False
        return self.content_type in _FEED_TYPES or bool(_FEED_START.match(self.body[:4096]))


@dataclass(frozen=True)
class Entry:
    """A page to ingest: named by the user, or an entry of a feed (with what the feed says of it)."""

    url: str
    fetched: Fetched | None = None  # already fetched (a page named directly)
    title: str = ""
    date: str = ""
    author: str = ""
    summary: str = ""  # the feed's own text of the entry: ingested when its page cannot be had
    feed: str = ""


@dataclass
class Fetcher:
    """HTTP GET within the limits; each failure is a LoadError with a one-line reason."""

    limits: WebLimits
    requests: int = 0
    _client: httpx.Client | None = field(default=None, repr=False)

    def __enter__(self) -> Fetcher:
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.limits.timeout),
            headers={
                "User-Agent": self.limits.user_agent,
                "Accept": "text/html,application/xhtml+xml,"
                "application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5",
            },
            follow_redirects=False,
            trust_env=False,  # no proxy or .netrc from the environment: the request goes where the user said
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(self, url: str) -> Fetched:
        assert self._client is not None, "use the Fetcher in a with block"
        deadline = time.monotonic() + self.limits.timeout
        for _ in range(_MAX_REDIRECTS + 1):
            self._check_host(url)
            self.requests += 1
            try:
                with self._client.stream("GET", url) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise LoadError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
                    return Fetched(str(response.url), _content_type(response), self._body(response, deadline))
            except httpx.TimeoutException:
                raise LoadError(f"no answer within {self.limits.timeout:g} s (ASSISTANT_FETCH_TIMEOUT)") from None
            except httpx.HTTPError as e:
                raise LoadError(f"could not fetch it ({type(e).__name__}: {e})") from None
        raise LoadError(f"more than {_MAX_REDIRECTS} redirects")

    def _body(self, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise LoadError(_too_large(int(declared), self.limits.max_bytes))
        chunks: list[bytes] = []
        size = 0
        # The read timeout bounds each wait; the deadline bounds a server that sends a byte at a time.
        for chunk in response.iter_bytes(_CHUNK):
            size += len(chunk)
            if size > self.limits.max_bytes:
                raise LoadError(_too_large(size, self.limits.max_bytes))
            if time.monotonic() > deadline:
                raise LoadError(f"not received within {self.limits.timeout:g} s (ASSISTANT_FETCH_TIMEOUT)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_host(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LoadError(f"not an http(s) URL: {url}")
        if self.limits.private_hosts:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        except socket.gaierror as e:
            raise LoadError(f"unknown host {parts.hostname} ({e.strerror})") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise LoadError(f"{parts.hostname} is a local or private address; the chat fetches public pages only")


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _too_large(size: int, max_bytes: int) -> str:
    return f"too large ({_size(size)}; the limit is {_size(max_bytes)}, set by ASSISTANT_FETCH_MAX_MB)"


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


def documents(
    urls: Iterable[str], limits: WebLimits, known: Callable[[list[str]], set[str]], progress: bool = False
) -> Iterator[tuple[str, Document | LoadFailure | None, str]]:
    """(URL, its document or why it failed, a note) for each page named and each entry of each feed named. Feed
    entries whose URL `known` returns (already ingested) give no document and are not fetched again."""
    with Fetcher(limits) as fetcher:
        entries: dict[str, Entry] = {}  # a page listed twice (or named and in a feed) is read once
        for url in urls:
            try:
                for entry in _entries(url, fetcher):
                    entries.setdefault(entry.url, entry)
            except LoadError as e:
                yield canonical(url), LoadFailure(canonical(url), str(e)), ""
        seen = known([e.url for e in entries.values() if e.feed])
        for entry in tqdm(entries.values(), desc="fetch", unit="page", disable=not progress, file=sys.stderr):
            if entry.url in seen:
                yield entry.url, None, "already ingested"
                continue
            try:
                doc, note = load_entry(entry, fetcher)
                yield entry.url, doc, note
            except LoadError as e:
                yield entry.url, LoadFailure(entry.url, str(e)), ""


def _entries(url: str, fetcher: Fetcher) -> list[Entry]:
    """The page a URL names, or the entries of the feed it names."""
    fetched = fetcher.get(url)
    if fetched.is_feed:
        return list(feed_entries(fetched, fetcher.limits))
    if fetched.is_html:
        return [Entry(canonical(url), fetched)]
    raise LoadError(f"not a web page or a feed (content type {fetched.content_type})")


def feed_entries(fetched: Fetched, limits: WebLimits) -> Iterator[Entry]:
    parsed = isolate.run(parse_feed, fetched.body, limits.parse_seconds, limits.parse_memory_mb)
    if not parsed["entries"] and parsed["error"]:
        raise LoadError(f"not a readable feed ({parsed['error']})")
    for item in parsed["entries"]:
        if item["link"]:
            yield Entry(
                canonical(urljoin(fetched.url, item["link"])),
                feed=canonical(fetched.url),
                **{k: item[k] for k in ("title", "date", "author", "summary")},
            )


def parse_feed(body: bytes) -> dict[str, Any]:
    """The entries of an RSS or Atom feed, as plain values; run in the parser process."""
    import feedparser

    from assistant.ingest.html import html_to_text

    parsed = feedparser.parse(body)
    entries = []
    for e in parsed.entries:
        when = e.get("published_parsed") or e.get("updated_parsed")
        summary = e.get("summary", "")
        entries.append(
            {
                "link": e.get("link", ""),
                "title": e.get("title", ""),
                "date": time.strftime("%Y-%m-%d", when) if when else "",
                "author": e.get("author", ""),
                "summary": html_to_text(f"<body>{summary}</body>")[1] if summary else "",
            }
        )
    error = parsed.get("bozo_exception")
    return {"entries": entries, "error": f"{type(error).__name__}: {error}" if error else ""}


def extract_page(args: tuple[bytes, str]) -> dict[str, str]:
    """Main text, title, date and author of a news page; run in the parser process."""
    import trafilatura
    from trafilatura.settings import use_config

    body, url = args
    config = use_config()
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # the parser process has its own time limit

    def extract(tables: bool) -> Any:
        return trafilatura.bare_extraction(
            body, url=url, with_metadata=True, include_comments=False, include_tables=tables, config=config
        )

    doc = extract(tables=True)
    # A page laid out in a table (older sites) comes out as one table row holding the whole article; without
    # tables trafilatura finds its paragraphs (tests/data/web/election.html, docs/web.md).
    if doc is not None and any(
        line.startswith("|") and len(line) > _LAYOUT_CELL_CHARS for line in (doc.text or "").splitlines()
    ):
        doc = extract(tables=False)
    if doc is None:
        return {"text": "", "title": "", "date": "", "author": ""}
    return {
        "text": paragraphs(doc.text or ""),
        "title": doc.title or "",
        "date": doc.date or "",
        "author": doc.author or "",
    }


def paragraphs(text: str) -> str:
    """trafilatura's lines (one per paragraph, heading, list item or table row) as blank-line-separated blocks,
    the shape every loader gives the splitter."""
    lines = (line.rstrip() for line in text.splitlines())
    return "\n\n".join(line for line in lines if line.strip() and not _TABLE_RULE.match(line))


_TABLE_RULE = re.compile(r"\A\|(?:\s*:?-+:?\s*\|)+\Z")


def load_entry(entry: Entry, fetcher: Fetcher) -> tuple[Document, str]:
    """The document of one page, and a note on how it was read: a page that cannot be had gives the feed's summary,
    if the feed has one."""
    note = ""
    try:
        fetched = entry.fetched or fetcher.get(entry.url)
        if not fetched.is_html:
            raise LoadError(f"not a web page (content type {fetched.content_type})")
        limits = fetcher.limits
        page = isolate.run(extract_page, (fetched.body, fetched.url), limits.parse_seconds, limits.parse_memory_mb)
        if not page["text"].strip():
            raise LoadError("no article text found in the page")
    except LoadError as e:
        if not entry.summary.strip():
            raise
        page = {"text": entry.summary, "title": "", "date": "", "author": "", "text_from": "feed summary"}
        note = f"from the feed's summary: the page failed ({e})"
    metadata = {
        "title": page["title"] or entry.title,
        "date": page["date"] or entry.date,
        "author": page["author"] or entry.author,
        "url": entry.url,
        "feed": entry.feed,
        "text_from": page.get("text_from", ""),
        # Feeds list one story under several URLs (tracking parameters, mirrors): the same text is skipped.
        "text_hash": text_hash(page["text"]),
    }
    return Document(doc_id(entry.url), entry.url, page["text"], {k: v for k, v in metadata.items() if v}), note


def text_hash(text: str) -> str:
    return stable_id(" ".join(text.split()), length=32)
