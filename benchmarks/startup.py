"""Cold start and memory: `assistant ask`, `assistant stats` and `assistant chat` (until it serves) on an index.

    python benchmarks/startup.py [--sizes 1000 100000] [--runs 3]

Each run is a new process (`python -m assistant ...`), timed from launch to exit (ask) or to the first
HTTP 200 (chat); its peak resident memory is read from the kernel's accounting of the finished child.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from common import ROOT, load_average, table, write_json

from benchmarks.indexes import cached_index
from benchmarks.query import questions


def _run(command: list[str], ready_url: str | None = None, timeout: float = 300) -> tuple[float, float, int]:
    """(seconds until exit or until `ready_url` answers, peak RSS in MB, exit status)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = float("nan")
    if ready_url:
        while time.perf_counter() - start < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(ready_url, timeout=1):
                    seconds = time.perf_counter() - start
                    break
            except OSError:
                time.sleep(0.1)
        proc.terminate()
    _, status, usage = os.wait4(proc.pid, 0)
    if not ready_url:
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, round(usage.ru_maxrss / 1024, 1), proc.returncode


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def has_chat() -> bool:
    from assistant.cli import main

    return "chat" in main.commands


def measure(size: int, runs: int) -> list[dict[str, Any]]:
    bot, _ = cached_index(size)
    index = str(bot.settings.index_dir)
    passages = bot.stats()["passages"]
    del bot
    rows = []
    question = questions(1)[0]
    ask = [sys.executable, "-m", "assistant", "ask", question, "--index", index, "--json"]
    results = [_run(ask) for _ in range(runs)]
    if any(code != 0 for *_, code in results):
        raise RuntimeError(f"assistant ask failed on {index}")
    rows.append(_row(passages, "assistant ask (cold process, to exit)", results))
    # Counting opens the index only: no model is loaded (tests/test_app.py checks it).
    stats = [sys.executable, "-m", "assistant", "stats", "--index", index, "--json"]
    results = [_run(stats) for _ in range(runs)]
    if any(code != 0 for *_, code in results):
        raise RuntimeError(f"assistant stats failed on {index}")
    rows.append(_row(passages, "assistant stats (cold process, to exit)", results))
    if has_chat():
        port = _free_port()
        chat = [sys.executable, "-m", "assistant", "chat", "--index", index, "--port", str(port)]
        results = [_run(chat, ready_url=f"http://127.0.0.1:{port}/") for _ in range(runs)]
        rows.append(_row(passages, "assistant chat (cold process, until it serves)", results))
    return rows


def _row(passages: int, what: str, results: list[tuple[float, float, int]]) -> dict[str, Any]:
    return {
        "passages": passages,
        "what": what,
        "median_s": round(statistics.median(r[0] for r in results), 2),
        "max_s": round(max(r[0] for r in results), 2),
        "peak_rss_mb": max(r[1] for r in results),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "startup.json")
    args = parser.parse_args(argv)
    rows = [r for size in args.sizes for r in measure(size, args.runs)]
    table(f"Cold start and peak memory ({args.runs} runs; load {load_average()})", rows)
    payload = {"load": load_average(), "runs": args.runs, "rows": rows}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
