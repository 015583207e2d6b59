"""The HTML and PDF parsers run in a child process, within a time and a memory limit.

Crafted files make them slow or huge, inside C code that cannot be interrupted: lexbor's tree building is
quadratic in the nesting depth (40k nested <div>s: 2.8 s; a 1.1 MB file of unclosed ones: minutes) and,
with formatting tags of distinct attributes left open, clones them for every later block (25 KB made 200k
elements); pypdf has slow paths of its own. Past a limit the child is killed, so such a file fails alone
with a one-line reason and the write lock is held for a bounded time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from assistant.ingest.errors import LoadError, failure_reason

log = logging.getLogger(__name__)
# Set for the child when the parent logs every library's records (`--debug`).
_DEBUG_ENV = "ASSISTANT_PARSER_DEBUG"
T = TypeVar("T")
R = TypeVar("R")

_READY = "ready"
# Starting the child (a Python, selectolax, pypdf) takes well under a second; this only bounds a stuck start.
_START_SECONDS = 120.0
_CHILD = "from assistant.ingest.isolate import serve; serve()"


class ParserStopped(LoadError):
    """The parser process was stopped at a limit, or died."""


def run(func: Callable[[T], R], arg: T, seconds: float, memory_mb: int) -> R:
    """`func(arg)` in the parser process; LoadError with the reason when it fails or exceeds a limit."""
    global _child
    with _lock:
        if _child is not None and not _child.alive():
            _child.stop()
            _child = None
        if _child is None:
            _child = _Child()
        try:
            ok, value = _child.call(func, arg, seconds, memory_mb)
            if not ok:
                raise LoadError(value)
        except BaseException:
            # Past a limit, after a crash, an interrupt or a failed parse (lexbor kept ~600 MB after refusing a
            # crafted page) the child's state is unknown: the next call starts a new one.
            _child.stop()
            _child = None
            raise
    return value


class _Child:
    def __init__(self) -> None:
        # A fresh interpreter, not a fork: the parent holds models and threads, and `spawn` would re-run the
        # caller's script. It must find this package even when that is on the parent's sys.path only.
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
            _DEBUG_ENV: "1" if logging.getLogger().isEnabledFor(logging.DEBUG) else "",
        }
        self._owner = os.getpid()
        self._process = subprocess.Popen(
            [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._requests: IO[bytes] = self._process.stdin
        self._replies: IO[bytes] = self._process.stdout
        try:
            if self._reply(_START_SECONDS, "start") != _READY:
                raise ParserStopped("the parser process did not start")
        except BaseException:
            self.stop()
            raise

    def alive(self) -> bool:
        # A forked copy of the parent must not share the pipes of its parent's child.
        return self._owner == os.getpid() and self._process.poll() is None

    def call(self, func: Callable[[Any], Any], arg: Any, seconds: float, memory_mb: int) -> tuple[bool, Any]:
        """(True, result) or (False, why func failed); ParserStopped past the time limit or if the child died."""
        try:
            pickle.dump((func, arg, memory_mb), self._requests, protocol=pickle.HIGHEST_PROTOCOL)
            self._requests.flush()
        except OSError:
            raise ParserStopped(self._death()) from None
        return self._reply(seconds, "parse")

    def _reply(self, seconds: float, what: str) -> Any:
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            self._process.kill()

        timer = threading.Timer(seconds, expire)
        timer.start()
        try:
            return pickle.load(self._replies)
        except (EOFError, pickle.UnpicklingError):
            if expired.is_set():
                raise ParserStopped(f"did not {what} within {seconds:g} s (a limit for crafted files)") from None
            raise ParserStopped(self._death()) from None
        finally:
            timer.cancel()

    def _death(self) -> str:
        try:
            code = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # it closed its output but lives on
            self._process.kill()
            code = self._process.wait()
        log.warning("the parser process died with exit code %s", code)
        return f"the parser process died (exit code {code}): a malformed file or too little memory"

    def stop(self) -> None:
        if self._owner == os.getpid():  # a forked copy leaves its parent's child alone
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(OSError):  # unsent bytes of a request to a dead child
            self._requests.close()
        self._replies.close()


_lock = threading.Lock()
_child: _Child | None = None


def stop() -> None:
    """Stop the parser process, if one runs (the next parse starts another)."""
    global _child
    with _lock:
        if _child is not None:
            _child.stop()
            _child = None


def serve() -> None:
    """The child: answer each pickled (func, arg, memory_mb) with (True, result) or (False, a one-line reason)."""
    # Ctrl-C reaches the whole process group; the parent decides, and stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the replies
    # As in the parent (cli.configure_logging): our warnings, other libraries' records (pypdf's "invalid pdf
    # header") only when they are errors, unless the parent logs everything (--debug).
    debug = os.environ.get(_DEBUG_ENV) == "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("assistant").setLevel(logging.DEBUG if debug else logging.WARNING)
    import pypdf  # noqa: F401  (imported now, so that a parse's time limit is spent parsing)

    import assistant.ingest.html  # noqa: F401

    _send(replies, _READY)
    while True:
        try:
            func, arg, memory_mb = pickle.load(requests)
        except EOFError:
            return  # the parent is gone
        _limit_memory(memory_mb)
        try:
            reply = (True, func(arg))
        except MemoryError:
            reply = (False, f"needs more than {memory_mb} MB of memory to parse")
        except Exception as e:
            reply = (False, failure_reason(e))
        _send(replies, reply)


def _send(replies: IO[bytes], reply: object) -> None:
    pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
    replies.flush()


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: only the time limit applies
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_mb * 2**20 if hard == resource.RLIM_INFINITY else min(memory_mb * 2**20, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
