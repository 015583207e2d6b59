"""How exact match of the short answer varies with the reader's margin, from an `assistant eval` results.jsonl:
the measurement behind `short_answer_min_margin` in the reader's reader.json (the margin from which the chat shows
the short answer in bold).

    assistant eval eval/tydiqa_open_dev.json --out /tmp/tydiqa
    python -m training.short_answer_margin /tmp/tydiqa/results.jsonl --target-em 0.6
    python -m training.short_answer_margin eval/reports/readme/tydiqa_open_dev/results.jsonl   # after eval/results.sh
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

_MARKER = re.compile(r"\s*\[\d+\]")
THRESHOLDS = [x / 2 for x in range(-2, 25)]


def short_answer_rows(results: Path, config: str = "default") -> list[dict[str, Any]]:
    """One configuration's answered, answerable rows whose prediction is a short answer (not the cited sentences)."""
    rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        r
        for r in rows
        if r["config"] == config
        and r["answerable"]
        and not r["abstained"]
        and r["margin"] is not None
        and r["prediction"] != _MARKER.sub("", r["answer"]).strip()
    ]


def curve(rows: list[dict[str, Any]]) -> list[tuple[float, int, float, float]]:
    """(threshold, short answers at or above it, their EM, their F1) for each threshold that leaves any."""
    points = []
    for t in THRESHOLDS:
        bold = [r for r in rows if r["margin"] >= t]
        if bold:
            em = sum(r["scores"]["em"] for r in bold) / len(bold)
            f1 = sum(r["scores"]["f1"] for r in bold) / len(bold)
            points.append((t, len(bold), em, f1))
    return points


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="an `assistant eval` results.jsonl")
    parser.add_argument("--config", default="default", help="the configuration whose rows are read (default: default)")
    parser.add_argument("--target-em", type=float, default=0.6, help="the EM the bolded short answers must reach")
    args = parser.parse_args(argv)
    rows = short_answer_rows(args.results, args.config)
    points = curve(rows)
    print(f"{len(rows)} short answers\nthreshold  bolded  share  EM     F1")
    for t, n, em, f1 in points:
        print(f"{t:9.1f}  {n:6d}  {n / len(rows):5.2f}  {em:.3f}  {f1:.3f}")
    chosen = next((t for t, _, em, _ in points if em >= args.target_em), None)
    print(f"lowest threshold with EM >= {args.target_em}: {chosen}")


if __name__ == "__main__":
    main()
