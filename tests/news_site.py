"""A real HTTP server on 127.0.0.1 serving saved news pages and an RSS feed of them, with failing pages too."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

PAGES = Path(__file__).parent / "data" / "web"
# Seconds the /slow page waits before answering: longer than the fetch timeout the tests set.
SLOW_SECONDS = 3.0


@dataclass
class FeedItem:
    path: str
    title: str
    date: str  # YYYY-MM-DD
    summary: str = ""


@dataclass
class NewsSite:
    items: list[FeedItem] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    pages: dict[str, bytes] = field(default_factory=dict)  # extra pages by path
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def rss(self) -> bytes:
        entries = "".join(
            f"<item><title>{escape(i.title)}</title><link>{self.url(i.path)}</link>"
            f"<pubDate>{format_datetime(datetime.fromisoformat(i.date).replace(tzinfo=UTC))}</pubDate>"
            + (f"<description>{escape(i.summary)}</description>" if i.summary else "")
            + "</item>"
            for i in self.items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test news</title>'
            f"<link>{self.base}/</link><description>Saved pages</description>{entries}</channel></rss>"
        ).encode()

    def start(self) -> NewsSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                site.requests[path] += 1
                if path == "/feed.xml":
                    return self._send(200, "application/rss+xml; charset=utf-8", site.rss())
                if path == "/slow.html":
                    time.sleep(SLOW_SECONDS)
                    return self._send(200, "text/html", (PAGES / "quake.html").read_bytes())
                if path == "/logo.png":
                    return self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64))
                if path == "/moved.html":
                    self.send_response(301)
                    self.send_header("Location", "/harbour.html")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if path in site.pages:
                    return self._send(200, "text/html; charset=utf-8", site.pages[path])
                page = PAGES / path.lstrip("/")
                if path.endswith(".html") and page.is_file():
                    return self._send(200, "text/html; charset=utf-8", page.read_bytes())
                return self._send(404, "text/plain", b"not found")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
