"""Every benchmark in one go: embedding backends, ingest, query latency and its breakdown, cold start and memory.

    python benchmarks/run.py            # the figures in docs/benchmarks.md (about 15-20 minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller corpus and indexes, a few minutes

Each part runs in a process of its own (so memory figures are its own), prints its tables and writes
benchmarks/results/<part>.json; this script then prints the summary against the targets and writes
benchmarks/results/summary.json. Built indexes and cached vectors stay in benchmarks/.cache/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import ROOT, load_average, table, write_json

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def part(script: str, *args: str) -> dict[str, Any]:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / script), *args], cwd=ROOT, check=True)
    print(f"[{script}: {time.perf_counter() - start:.0f} s]\n", flush=True)
    return json.loads((RESULTS / script.replace(".py", ".json")).read_text())


def summary(ingest: dict[str, Any], query: dict[str, Any], startup: dict[str, Any]) -> list[dict[str, Any]]:
    largest = max(r["passages"] for r in query["rows"])
    at = {r["what"]: r for r in query["rows"] if r["passages"] == largest}
    floor = at["floor: embed + raw Chroma query"]["p50_ms"]
    best = next((at[w] for w in ("retrieve (hybrid)", "retrieve (dense)") if w in at), None)
    ask = next(r for w, r in at.items() if w.startswith("ask"))
    rows = [
        {"target": "ingest >= 0.85x raw encode", "measured": f"{ingest['ratio']}x", "met": ingest["ratio"] >= 0.85},
    ]
    if best:
        ratio = best["p50_ms"] / floor
        rows.append(
            {
                "target": f"{best['what']} p50 <= 1.5x floor at {largest}",
                "measured": f"{ratio:.2f}x ({best['p50_ms']} vs {floor} ms)",
                "met": ratio <= 1.5,
            }
        )
    rows.append(
        {"target": f"ask p50 <= 300 ms at {largest}", "measured": f"{ask['p50_ms']} ms", "met": ask["p50_ms"] <= 300}
    )
    for r in startup["rows"]:
        if r["passages"] == max(x["passages"] for x in startup["rows"]):
            limit = 10.0 if "chat" in r["what"] else None
            rows.append(
                {
                    "target": f"{r['what']} at {r['passages']}" + (f" < {limit:.0f} s" if limit else ""),
                    "measured": f"{r['median_s']} s, {r['peak_rss_mb']} MB peak",
                    "met": r["median_s"] < limit if limit else "-",
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k/10k indexes, 600-passage ingest, fewer rounds")
    args = parser.parse_args()
    start = time.perf_counter()
    sizes = ["1000", "10000"] if args.quick else ["1000", "10000", "100000"]
    embedders = part("embedders.py", *(["--sentences", "300", "--rounds", "1"] if args.quick else []))
    ingest = part("ingest.py", "--passages", "600" if args.quick else "2000")
    query = part("query.py", "--sizes", *sizes)
    part("breakdown.py", "--size", sizes[-1])
    startup = part("startup.py", "--sizes", sizes[0], sizes[-1])
    rows = summary(ingest, query, startup)
    table(f"Summary against the targets (load {load_average()})", rows)
    minutes = (time.perf_counter() - start) / 60
    print(f"all benchmarks: {minutes:.1f} minutes")
    write_json(
        RESULTS / "summary.json",
        {"minutes": round(minutes, 1), "load": load_average(), "targets": rows, "embedders": embedders["rows"]},
    )


if __name__ == "__main__":
    main()
