"""Keep feeds and folders current: ingest them again on a schedule, and a folder as soon as its files change."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import watchfiles

from assistant.ingest.loaders import SUPPORTED
from assistant.types import IngestReport, is_url

log = logging.getLogger(__name__)
_INTERVAL = re.compile(r"\A\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*\Z", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# How often the folder watcher looks up from waiting, to see whether a scheduled run is due or it was stopped.
_TICK_MS = 500


class Ingests(Protocol):
    def ingest(self, paths: Sequence[str], progress: bool | None = None) -> IngestReport: ...
    def delete(self, source: str) -> int: ...


def parse_interval(text: str) -> float:
    """Seconds in "90", "30s", "15m", "2h" or "1d"."""
    m = _INTERVAL.match(text)
    if m is None or float(m.group(1)) <= 0:
        raise ValueError(f"{text!r} is not an interval such as 30s, 15m or 2h")
    return float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]


def watch(
    bot: Ingests,
    targets: Sequence[str],
    every: float,
    on_run: Callable[[IngestReport, list[str]], None],
    stop: threading.Event | None = None,
) -> None:
    """Ingest `targets` now and then every `every` seconds until `stop` is set; a folder's changes are ingested
    when they happen (a deleted file's documents are removed). `on_run(report, removed)` follows each run."""
    stop = stop or threading.Event()
    folders = [t for t in targets if not is_url(t) and Path(t).is_dir()]
    on_run(bot.ingest(list(targets), progress=False), [])
    due = time.monotonic() + every
    if not folders:
        while not stop.wait(max(0.0, due - time.monotonic())):
            on_run(bot.ingest(list(targets), progress=False), [])
            due = time.monotonic() + every
        return
    changes_seen = watchfiles.watch(
        *folders, stop_event=stop, rust_timeout=_TICK_MS, yield_on_timeout=True, raise_interrupt=False
    )
    for changes in changes_seen:
        if time.monotonic() >= due:
            on_run(bot.ingest(list(targets), progress=False), _removed(bot, changes))
            due = time.monotonic() + every
        elif changes:
            on_run(bot.ingest(folders, progress=False), _removed(bot, changes))


def _removed(bot: Ingests, changes: set[tuple[watchfiles.Change, str]]) -> list[str]:
    """Remove the documents of the supported files that were deleted; their paths."""
    gone = sorted(
        path
        for change, path in changes
        if change == watchfiles.Change.deleted and Path(path).suffix.lower() in SUPPORTED and not Path(path).exists()
    )
    return [path for path in gone if bot.delete(path)]
