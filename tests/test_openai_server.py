"""The `openai` backend against a real OpenAI-compatible server (llama.cpp via xllamacpp) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Answer, Assistant
from tests.conftest import BRIDGE_QUESTION
from tests.test_generate import assert_verified

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.openai_server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip() if proc.stdout else ""
        assert url.startswith("http://127.0.0.1:"), f"the server did not start: {url!r}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=5) as r:
                    if json.load(r).get("status") == "ok":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server never became healthy"
            time.sleep(0.5)
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_openai_backend_streams_then_gives_a_verified_answer(llm_bot: Assistant, server_url: str) -> None:
    bot = Assistant(settings=llm_bot.settings.replace(backend="openai", llm_url=server_url))
    *pieces, answer = list(bot.stream(BRIDGE_QUESTION))
    assert len(pieces) >= 2 and all(isinstance(p, str) for p in pieces)
    assert isinstance(answer, Answer)
    assert answer.backend == "openai" and answer.note is None
    assert answer.citations
    assert_verified(bot, answer)


def test_cli_json_contract_with_the_openai_backend(llm_bot: Assistant, server_url: str) -> None:
    env = {**os.environ, "ASSISTANT_LLM_URL": server_url, "ASSISTANT_BACKEND": "openai"}
    index = str(llm_bot.settings.index_dir)
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", BRIDGE_QUESTION, "--index", index, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["backend"] == "openai" and out["citations"]
    for c in out["citations"]:
        assert c["verified"] is True and c["match"] in {"exact", "normalized", "fuzzy"}
        assert llm_bot.document_text(c["doc_id"])[c["start"] : c["end"]] == c["text"]
