"""SIGKILL `assistant ingest` at random points; after a re-run the index equals a clean ingest."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.types import stable_id

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("ASSISTANT_TEST_KILLS", "4"))
WORDS = (
    "minister council budget harbour strike election drought railway court vaccine summit tariff border "
    "refinery coalition parliament wildfire bridge union pension satellite inflation ceasefire"
).split()


def corpus(folder: Path, n: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    for i in range(n):
        sentences = [
            f"The {rng.choice(WORDS)} report number {i}-{j} mentions the {rng.choice(WORDS)} "
            f"and the {rng.choice(WORDS)} in {rng.randint(1990, 2024)}."
            for j in range(rng.randint(3, 9))
        ]
        (folder / f"{i:03d}.txt").write_text(" ".join(sentences), encoding="utf-8")
    return folder


def snapshot(index: Path) -> dict[str, object]:
    bot = Assistant(index_dir=index)
    docs = bot.documents()
    passages = sorted(pid for pid, _ in bot.store.iter_passages())
    # The lexical index and the stored texts must agree with Chroma, not merely exist.
    assert sorted(bot.lexical.catalog.ids) == passages
    return {
        "documents": sorted((d.doc_id, d.status, d.passages, d.content_hash) for d in docs),
        "texts": sorted(stable_id(bot.document_text(d.doc_id)) for d in docs),
        "passages": passages,
        "lexical": sorted(bot.lexical.catalog.ids),
        "sentences": bot.store.sentences.count(),
        "stats": bot.stats(),
    }


def ingest_process(folder: Path, index: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest", str(folder), "--index", str(index), "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_sigkill_during_ingest_then_rerun_equals_a_clean_ingest(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    folder = corpus(tmp_path / "news", 80)
    clean = tmp_path / "clean"
    assert Assistant(index_dir=clean).ingest([folder], progress=False).ok
    expected = snapshot(clean)

    # How long one whole run takes here, so the kills land anywhere from start-up to the last write.
    started = time.monotonic()
    probe = ingest_process(folder, tmp_path / "probe")
    assert probe.wait(timeout=600) == 0
    full_run = time.monotonic() - started

    crashed = tmp_path / "crashed"
    rng = random.Random(1234)
    killed = 0
    for _ in range(KILLS * 5):  # bounded: a machine fast enough to always finish first still ends
        if killed == KILLS:
            break
        proc = ingest_process(folder, crashed)
        try:
            proc.wait(timeout=rng.uniform(0.2, 0.95) * full_run)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
        else:
            # It finished first: start over, so the next kill has work to interrupt.
            shutil.rmtree(crashed)
    assert killed >= 1

    rerun = ingest_process(folder, crashed)
    assert rerun.wait(timeout=600) == 0
    assert snapshot(crashed) == expected
