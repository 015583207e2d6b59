"""Why a file (or a record) was not ingested, in one line a person can act on."""

from __future__ import annotations

from dataclasses import dataclass

_MAX_REASON_CHARS = 300


class LoadError(Exception):
    """A file (or record) that cannot be read; the message says why, in one line."""


@dataclass(frozen=True)
class LoadFailure:
    source: str
    reason: str


def failure_reason(error: BaseException) -> str:
    """One line for any exception raised while reading a file: parsers fail on crafted input in many ways."""
    if isinstance(error, LoadError):
        text = str(error)
    elif isinstance(error, RecursionError):
        text = "nested too deeply to parse"
    elif isinstance(error, MemoryError):
        text = "ran out of memory"
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    line = " ".join(text.split())
    return line if len(line) <= _MAX_REASON_CHARS else line[: _MAX_REASON_CHARS - 1] + "…"
