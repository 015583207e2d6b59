"""One markdown table from several `summary.json` files: `python -m assistant.evaluation.table A/summary.json ...`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation.report import fmt

COLUMNS = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "em",
    "f1",
    "answer_contains_gold",
    "no_ans_accuracy",
    "citation_validity",
    "citation_precision",
    "citation_recall",
    "latency_p50_ms",
    "latency_p95_ms",
    "index_seconds",
)


def combined_table(paths: list[Path], columns: Sequence[str] = COLUMNS) -> str:
    """A row per (set, config); a partial run (`--limit`) is marked as such."""
    lines = ["| set | config | " + " | ".join(columns) + " |", "|---" * (len(columns) + 2) + "|"]
    for path in paths:
        summary = json.loads(path.read_text(encoding="utf-8"))
        s = summary["set"]
        label = f"{s['name']} ({s['evaluated']} q)" + ("" if s["complete"] else f" PARTIAL of {s['questions']}")
        for name, block in summary["configs"].items():
            lines.append(f"| {label} | {name} | " + " | ".join(fmt(c, block[c]) for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.evaluation.table",
        description="One markdown table of several `assistant eval` runs, a row per set and config.",
    )
    parser.add_argument("summaries", nargs="+", type=Path, metavar="REPORT/summary.json")
    parser.add_argument(
        "--columns",
        default=",".join(COLUMNS),
        help="comma-separated summary metrics to show (default: all of %(default)s)",
    )
    args = parser.parse_args(argv)
    columns = [c for c in args.columns.split(",") if c]
    if unknown := sorted(set(columns) - set(COLUMNS)):
        parser.error(f"unknown column(s) {', '.join(unknown)}; choose from {', '.join(COLUMNS)}")
    print(combined_table(args.summaries, columns))


if __name__ == "__main__":
    main()
