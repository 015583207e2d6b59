"""Shared fixtures: real Chroma indexes in temp folders, the real packaged model, the bundled article."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.app import sample_path
from tests.chat_server import free_port

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def write(path: Path, content: str | bytes) -> Path:
    """Write a small real file for a test (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def save_tiny_bert(folder: Path, head: str, **config: Any) -> Path:
    """A randomly initialised 2-layer BERT with a task head (e.g. "BertForQuestionAnswering"), saved to
    `folder` with the packaged model's tokenizer: a real local model folder, built in a second."""
    import torch
    import transformers

    from assistant.models.embedder import model_path
    from assistant.settings import PACKAGED_MODEL

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_path(PACKAGED_MODEL)), local_files_only=True)
    torch.manual_seed(0)
    bert = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        **config,
    )
    getattr(transformers, head)(bert).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


# A short article the packaged model answers from by copying a span or a sentence.
BRIDGE_ARTICLE = (
    "The Harbor Bridge in Velmora opened to traffic in 1987. It was designed by the engineer Lina Petrov, "
    "who also planned the city's tram network. The bridge is 840 metres long and carries four lanes of traffic.\n\n"
    "Velmora is a port city on the northern coast. Its fish market is the oldest in the region.\n"
)
BRIDGE_QUESTION = "When did the Harbor Bridge open?"


@pytest.fixture(scope="session")
def llm_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """An Assistant answering with the packaged local GGUF model (in-process llama.cpp) over the bridge article."""
    folder = tmp_path_factory.mktemp("bridge")
    write(folder / "articles" / "bridge.txt", BRIDGE_ARTICLE)
    bot = Assistant(index_dir=folder / "index", backend="llamacpp")
    assert bot.ingest([folder / "articles"], progress=False).ok
    return bot


class ChromaServer:
    """A real `chroma run` on 127.0.0.1 on a free port, persisting to `path`; start, stop, restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
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


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A Chroma server of this test's own, stopped afterwards."""
    server = ChromaServer(tmp_path / "chroma-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()
