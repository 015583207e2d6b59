"""Start the real `assistant chat` in a subprocess on a free 127.0.0.1 port, for server and browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
# A bound on how long start-up may take (loading the model, ingesting the sample), not a speed check.
START_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chat_command(index_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "assistant", "chat", "--index", str(index_dir), *args]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ASSISTANT_AUTH*, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_AUTH")}
    env.update(extra)
    return env


@contextmanager
def running_chat(
    index_dir: Path, *args: str, wrap: Callable[[list[str]], list[str]] = lambda c: c, **env: str
) -> Iterator[str]:
    """The URL of a chat server that answers HTTP; the server is stopped afterwards.

    `wrap` may rewrite the command line (e.g. to run it under a network guard).
    """
    port = free_port()
    log = index_dir.parent / f"chat-{port}.log"
    with log.open("w") as out:
        # A session of its own: a wrapper (strace, unshare) may leave the server running when it is stopped
        # itself, so the whole group is stopped.
        proc = subprocess.Popen(
            wrap(chat_command(index_dir, "--port", str(port), *args)),
            cwd=REPO,
            env=clean_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"assistant chat exited with {proc.returncode}:\n{log.read_text()}")
            try:
                httpx.get(url + "/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"assistant chat did not start:\n{log.read_text()}") from None
                time.sleep(0.5)
        yield url
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, then SIGKILL if it has not ended within 20 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # what a wrapper left behind in the group
        os.killpg(proc.pid, signal.SIGKILL)
