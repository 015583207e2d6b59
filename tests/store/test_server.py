"""Chroma server mode: the same behaviour as the embedded store, against a real `chroma run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.app import sample_path
from assistant.store import IndexBusyError
from assistant.types import Filters
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE, ChromaServer, write

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_ingest_ask_restart_ask_gives_the_same_answer(chroma_server: ChromaServer, tmp_path: Path) -> None:
    local_index = tmp_path / "local-index"
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(local_index)}
    other = write(tmp_path / "docs" / "ferry.txt", "The ferry to Bergen was cancelled on Monday because of a storm.")
    ingested = cli("ingest", str(sample_path()), str(other), "--chroma-url", chroma_server.url, "--json", env=env)
    assert ingested.returncode == 0, ingested.stderr
    assert len(json.loads(ingested.stdout)["added"]) == 2

    first = cli("ask", SAMPLE_QUESTION, "--chroma-url", chroma_server.url, "--json", env=env)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert not answer["abstained"]
    assert SAMPLE_SENTENCE in [c["text"] for c in answer["citations"]]

    chroma_server.restart()
    again = cli("ask", SAMPLE_QUESTION, "--json", env={**env, "ASSISTANT_CHROMA_URL": chroma_server.url})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == answer

    # Everything, document texts included, lives in the server: nothing was written to the local index folder.
    assert not local_index.exists()
    bot = Assistant(index_dir=local_index, chroma_url=chroma_server.url, cache_dir=tmp_path / "cache")
    ferry = bot.retrieve("ferry", filters=Filters(sources=(str(other),)))
    assert [sp.passage.source for sp in ferry] == [str(other)]
    assert bot.store.local_cache_path("passage-filters.npz").is_relative_to(tmp_path / "cache")
    stats = bot.stats()
    assert stats["documents"] == 2 and stats["passages"] > 2
    for c in answer["citations"]:
        assert bot.document_text(c["doc_id"])[c["start"] : c["end"]] == c["text"]
    again_report = bot.ingest([sample_path(), other], progress=False)
    assert len(again_report.unchanged) == 2 and not again_report.added


@pytest.mark.slow
def test_a_second_writer_waits_then_gets_a_clear_busy_error(chroma_server: ChromaServer, tmp_path: Path) -> None:
    first = Assistant(index_dir=tmp_path / "a", chroma_url=chroma_server.url)
    second = Assistant(index_dir=tmp_path / "b", chroma_url=chroma_server.url, lock_timeout=0.5)
    doc = write(tmp_path / "note.txt", "The night train to Oslo returns in May after a long pause.")
    with first.store.write_lock():
        with pytest.raises(IndexBusyError, match="in use by"):
            second.ingest([doc], progress=False)
        with pytest.raises(IndexBusyError):
            second.delete(str(doc))
    assert second.ingest([doc], progress=False).added == [str(doc)]
    assert first.stats()["documents"] == 1


@pytest.mark.slow
def test_the_lock_of_a_killed_writer_expires_after_its_lease(chroma_server: ChromaServer, tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_CHROMA_URL": chroma_server.url, "ASSISTANT_LOCK_LEASE": "2"}
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from assistant import Assistant; s = Assistant().store\n"
            "with s.write_lock():\n    print('held', flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        waiter = Assistant(index_dir=tmp_path / "w", chroma_url=chroma_server.url, lock_timeout=0.3)
        with pytest.raises(IndexBusyError):
            waiter.ingest([sample_path()], progress=False)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        patient = Assistant(index_dir=tmp_path / "w", chroma_url=chroma_server.url, lock_timeout=30)
        assert patient.ingest([sample_path()], progress=False).added
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
