"""Main-text extraction of web pages: trafilatura (what `assistant ingest URL` uses) against the tag-based
extraction of the HTML file loader, on the saved pages of different layouts in tests/data/web/.

    python benchmarks/extraction.py

For each page: the share of its article's sentences kept, the boilerplate strings that leaked in (navigation,
sidebars, comments, footers), and the metadata found. docs/web.md keeps the figures.
"""

from __future__ import annotations

import json
import time

from common import ROOT, table

from assistant.ingest.html import html_to_text
from assistant.ingest.web import extract_page

PAGES = ROOT / "tests" / "data" / "web"


def main() -> None:
    expected = json.loads((PAGES / "pages.json").read_text(encoding="utf-8"))
    rows = []
    for name, want in sorted(expected.items()):
        body = (PAGES / name).read_bytes()
        started = time.perf_counter()
        page = extract_page((body, f"http://127.0.0.1/{name}"))
        extract_ms = (time.perf_counter() - started) * 1000
        title, text = html_to_text(body.decode("utf-8"))
        for label, got, meta in (
            ("trafilatura", page["text"], {k: page[k] for k in ("title", "date", "author")}),
            ("html loader", text, {"title": title, "date": "", "author": ""}),
        ):
            kept = sum(s in got for s in want["article"])
            leaked = [b for b in want["boilerplate"] if b in got]
            found = sum(bool(meta[k]) and meta[k] == v for k, v in want["metadata"].items() if v)
            rows.append(
                {
                    "page": name,
                    "extractor": label,
                    "article sentences kept": f"{kept}/{len(want['article'])}",
                    "boilerplate leaked": f"{len(leaked)}/{len(want['boilerplate'])}",
                    "title, date, author found": f"{found}/{sum(bool(v) for v in want['metadata'].values())}",
                    "ms": f"{extract_ms:.0f}" if label == "trafilatura" else "",
                }
            )
    table("Main-text extraction of the saved pages", rows)


if __name__ == "__main__":
    main()
