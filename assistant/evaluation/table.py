"""One markdown table from several `summary.json` files: `python -m assistant.evaluation.table A/summary.json ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.evaluation.report import fmt

COLUMNS = (
    "hit@1", "hit@5", "mrr@10", "em", "f1", "answer_contains_gold", "no_ans_accuracy",
    "citation_validity", "citation_precision", "citation_recall", "latency_p50_ms", "latency_p95_ms", "index_seconds",
)  # fmt: skip


def combined_table(paths: list[Path]) -> str:
    """A row per (set, config); a partial run (`--limit`) is marked as such."""
    lines = ["| set | config | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 2) + "|"]
    for path in paths:
        summary = json.loads(path.read_text(encoding="utf-8"))
        s = summary["set"]
        label = f"{s['name']} ({s['evaluated']} q)" + ("" if s["complete"] else f" PARTIAL of {s['questions']}")
        for name, block in summary["configs"].items():
            lines.append(f"| {label} | {name} | " + " | ".join(fmt(c, block[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        sys.exit("usage: python -m assistant.evaluation.table REPORT/summary.json ...")
    print(combined_table(paths))


if __name__ == "__main__":
    main()
