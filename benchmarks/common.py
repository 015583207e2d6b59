"""Helpers the benchmark scripts share: timing, percentiles, memory, tables, the SQuAD corpus, the cache folder."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# `python benchmarks/x.py` puts benchmarks/ first on the path: make this checkout's `assistant` the one imported.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.settings import Settings  # noqa: E402

CACHE = Path(os.environ.get("ASSISTANT_BENCH_CACHE", ROOT / "benchmarks" / ".cache"))
SQUAD = ROOT / "eval" / "squad_v1_super_bowl_50.json"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The script's docstring as written (with its examples), and every option's default."""


def arguments(doc: str | None, results: str | None = None) -> argparse.ArgumentParser:
    """The script's command line; `results` names its JSON file in benchmarks/results/ (`--out`)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=_HelpFormatter)
    if results:
        parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / results, help="JSON results")
    return parser


def settings(**changes: Any) -> Settings:
    """Settings from the environment with these changes; unknown names (a feature not merged yet) are dropped."""
    known = {f.name for f in fields(Settings)}
    return Settings.from_env().replace(**{k: v for k, v in changes.items() if k in known})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def latencies_ms(funcs: dict[str, Callable[[Any], object]], inputs: list[Any]) -> dict[str, dict[str, float]]:
    """p50/p95 in ms of each function over `inputs` (after one warm-up call each).

    The functions take turns input by input, so that load from other processes on the shared cores falls
    on all of them alike and their ratios stay meaningful.
    """
    for func in funcs.values():
        func(inputs[0])
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for item in inputs:
        for name, func in funcs.items():
            start = time.perf_counter()
            func(item)
            times[name].append((time.perf_counter() - start) * 1000)
    return {
        name: {"p50_ms": round(percentile(t, 50), 2), "p95_ms": round(percentile(t, 95), 2), "n": len(t)}
        for name, t in times.items()
    }


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A fresh folder under the benchmark cache (same disk as the indexes), removed afterwards."""
    CACHE.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=CACHE, prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def timer(into: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        into[key] = into.get(key, 0.0) + time.perf_counter() - start


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children) in MB (Linux reports KB)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def table(title: str, rows: list[dict[str, Any]]) -> None:
    """Print rows as a table (rich when available)."""
    if not rows:
        return
    from rich.console import Console
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for key in rows[0]:
        out.add_column(str(key), justify="right" if isinstance(rows[0][key], (int, float)) else "left")
    for row in rows:
        out.add_row(*(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row.values()))
    Console(width=160).print(out)


def squad_paragraphs_and_questions() -> tuple[list[str], list[tuple[str, int]]]:
    """The SQuAD Super Bowl 50 paragraphs, and each question with the index of its paragraph."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: list[tuple[str, int]] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                questions.append((qa["question"], len(paragraphs)))
            paragraphs.append(para["context"])
    return paragraphs, questions


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
