"""Cold start and memory: `assistant ask`, `assistant stats` and `assistant chat` (until it serves) on an index.

    python benchmarks/startup.py [--sizes 1000 100000] [--runs 3]

Each run is a new process (`python -m assistant ...`), timed from launch to exit (ask) or to the first
HTTP 200 (chat); its peak resident memory is read from the kernel's accounting of the finished child.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from common import ROOT, arguments, load_average, table, write_json

from benchmarks.query import questions

MODEL_MODULES = ("onnxruntime", "torch", "sentence_transformers", "tokenizers", "spacy")


def _env(*paths: Path) -> dict[str, str]:
    """This environment with the repository (then `paths`) as a child's import path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (ROOT, *paths))}


def _run(command: list[str], ready_url: str | None = None, timeout: float = 300) -> tuple[float, float, int]:
    """(seconds until exit or until `ready_url` answers, peak RSS in MB, exit status)."""
    env = _env()
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


def model_modules(command: list[str]) -> str:
    """The model libraries a command imports (`python -X importtime` names every module it imports)."""
    traced = [command[0], "-X", "importtime", *command[1:]]
    done = subprocess.run(traced, cwd=ROOT, env=_env(), capture_output=True, text=True)
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return ", ".join(sorted(names & set(MODEL_MODULES))) or "none"


def measure(size: int, runs: int) -> list[dict[str, Any]]:
    # Built in a child: a process forked from one holding a built 100k index reports its pages as its own peak.
    build = f"from benchmarks.indexes import index_folder; print(index_folder({size})[0])"
    env = _env(ROOT / "benchmarks")
    index = subprocess.run([sys.executable, "-c", build], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    index_dir = index.stdout.strip().splitlines()[-1]
    passages = json.loads((Path(index_dir) / "built.json").read_text())["passages"]
    rows = []
    question = questions(1)[0]
    commands = {
        "assistant ask (cold process, to exit)": ["ask", question, "--index", index_dir, "--json"],
        # Counting opens the index only: no model is loaded (the last column; tests/test_app.py checks it too).
        "assistant stats (cold process, to exit)": ["stats", "--index", index_dir, "--json"],
    }
    for what, args in commands.items():
        command = [sys.executable, "-m", "assistant", *args]
        results = [_run(command) for _ in range(runs)]
        if any(code != 0 for *_, code in results):
            raise RuntimeError(f"{' '.join(command[2:4])} failed on {index_dir}")
        rows.append(_row(passages, what, results, model_modules(command)))
    if has_chat():
        port = _free_port()
        chat = [sys.executable, "-m", "assistant", "chat", "--index", index_dir, "--port", str(port)]
        results = [_run(chat, ready_url=f"http://127.0.0.1:{port}/") for _ in range(runs)]
        rows.append(_row(passages, "assistant chat (cold process, until it serves)", results, "-"))
    return rows


def _row(passages: int, what: str, results: list[tuple[float, float, int]], models: str) -> dict[str, Any]:
    return {
        "passages": passages,
        "what": what,
        "median_s": round(statistics.median(r[0] for r in results), 2),
        "max_s": round(max(r[0] for r in results), 2),
        "peak_rss_mb": max(r[1] for r in results),
        "model_libraries_imported": models,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__, "startup.json")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000], help="index sizes (passages)")
    parser.add_argument("--runs", type=int, default=3, help="cold starts a size")
    args = parser.parse_args(argv)
    rows = [r for size in args.sizes for r in measure(size, args.runs)]
    table(f"Cold start and peak memory ({args.runs} runs; load {load_average()})", rows)
    payload = {"load": load_average(), "runs": args.runs, "rows": rows}
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
