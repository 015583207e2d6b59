"""Shared fixtures: real Chroma indexes in temp folders, the real packaged model, the bundled article."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.app import sample_path

SAMPLE_QUESTION = "why did Tokayev prefer the CSTO?"
SAMPLE_SENTENCE = "Tokayev preferred Russia over Turkey and has been purging Nazarbayev’s loyalists in key positions."


@pytest.fixture(scope="session")
def sample_text() -> str:
    return sample_path().read_text(encoding="utf-8")


@pytest.fixture
def make_assistant(tmp_path: Path) -> Callable[..., Assistant]:
    """A fresh Assistant on its own index folder under tmp_path; keyword args override settings."""

    def make(name: str = "index", **overrides: object) -> Assistant:
        return Assistant(index_dir=tmp_path / name, **overrides)

    return make


@pytest.fixture(scope="session")
def sample_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """One Assistant with the bundled sample ingested, shared by read-only tests."""
    bot = Assistant(index_dir=tmp_path_factory.mktemp("sample") / "index")
    report = bot.ingest([sample_path()], progress=False)
    assert report.ok and report.added
    return bot


def write(path: Path, content: str | bytes) -> Path:
    """Write a small real file for a test (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


class ChromaServer:
    """A real `chroma run` on 127.0.0.1 on a free port, persisting to `path`; start, stop, restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        command = [str(chroma) if chroma.exists() else "chroma"]
        command += ["run", "--path", str(self.path), "--port", str(self.port), "--host", "127.0.0.1"]
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.log = (self.path.parent / f"chroma-{self.port}.log").open("ab")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.log.close()

    def restart(self) -> None:
        self.stop()
        self.start()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A Chroma server of this test's own, stopped afterwards."""
    server = ChromaServer(tmp_path / "chroma-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()
