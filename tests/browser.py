"""A real browser (Debian's chromium driven by Playwright) on the chat, for UI tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Bounds on waiting for the page (model work happens server-side), not speed checks.
WAIT_MS = 90_000


class Session:
    """One browser tab on the chat, recording dialogs and any request that would leave the machine."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(url, wait_until="load")
        self.page.locator("textarea[data-testid='textbox']").first.wait_for(timeout=WAIT_MS)

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def ask(self, question: str) -> str:
        """Ask in the chat and return the final text of the new answer bubble (once its sources are shown)."""
        page = self.page
        answers = page.locator("[data-testid='bot']")
        before = answers.count()
        page.get_by_role("tab", name="Chat").click()
        box = page.locator("textarea[data-testid='textbox']").first
        box.fill(question)
        box.press("Enter")
        turn = before
        # The final answer replaces the stream and the sources panel switches to this turn (or abstains).
        page.wait_for_function(
            """([n, turn]) => document.querySelectorAll("[data-testid='bot']").length > n &&
                 (document.querySelector(`#sources [id^='src-${turn}-']`) ||
                  document.querySelector('#sources .abstained-sources'))""",
            arg=[before, turn],
            timeout=WAIT_MS,
        )
        return answers.nth(before).inner_text()

    def upload(self, *paths: Path) -> str:
        """Upload files in the Library tab; the per-file results table's text once every file has a row."""
        page = self.page
        page.get_by_role("tab", name="Library").click()
        page.locator("#upload input[type=file]").set_input_files([str(p) for p in paths])
        rows = json.dumps([rf"{re.escape(p.name)}\n(added|already|failed|refused)" for p in paths])
        page.wait_for_function(
            f"{rows}.every(r => new RegExp(r).test(document.querySelector('#results').innerText))", timeout=WAIT_MS
        )
        return page.locator("#results").inner_text()

    def fetch(self, url: str, expect: str) -> str:
        """Type a URL in the Library tab and fetch it; the results table's text once it holds `expect`."""
        page = self.page
        page.get_by_role("tab", name="Library").click()
        page.locator("#url textarea, #url input").first.fill(url)
        page.locator("#fetch").click()
        page.wait_for_function(
            "e => document.querySelector('#results').innerText.includes(e)", arg=expect, timeout=WAIT_MS
        )
        return page.locator("#results").inner_text()

    def marked(self) -> list[str]:
        return self.page.locator("#sources mark").all_inner_texts()
