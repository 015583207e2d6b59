"""Writing an evaluation: results.jsonl, summary.json, report.md and a self-contained report.html with plots."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import DEFINITIONS, EXTRA_METRICS, HIT_KS, SUMMARY_METRICS
from assistant.evaluation.runner import ConfigRun, EvalRun
from assistant.types import counted

WORST = 10
_PLOTS = {"hit_at_k.png": "hit@k per config", "latency.png": "full answer latency per question"}


def write_report(run: EvalRun, out: Path) -> dict[str, Path]:
    """Write every output file of `run` into `out`; returns them by name."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("results.jsonl", "summary.json", "report.md", "report.html", *_PLOTS)}
    with paths["results.jsonl"].open("w", encoding="utf-8") as f:
        for r in run.runs:
            for row in r.rows:
                f.write(json.dumps({"config": r.config.name, **row}, ensure_ascii=False) + "\n")
    paths["summary.json"].write_text(json.dumps(summary(run), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_hits(run, paths["hit_at_k.png"])
    plot_latency(run, paths["latency.png"])
    markdown = report_markdown(run)
    paths["report.md"].write_text(markdown, encoding="utf-8")
    paths["report.html"].write_text(report_html(markdown, out), encoding="utf-8")
    return paths


def summary(run: EvalRun) -> dict[str, Any]:
    s = run.eval_set
    return {
        "set": {
            "name": s.name,
            "path": str(s.path),
            "format": s.format,
            "questions": len(s.questions),
            "evaluated": run.evaluated,
            "complete": run.complete,
        },
        "started": run.started,
        "finished": run.finished,
        "machine": run.machine,
        "command": run.command,
        "configs": {r.config.name: config_block(r) for r in run.runs},
    }


def config_block(r: ConfigRun) -> dict[str, Any]:
    block = {name: _round(r.summary[name]) for name in (*SUMMARY_METRICS, *EXTRA_METRICS)}
    counts = {k: r.summary[k] for k in ("questions", "answerable", "unanswerable", "abstained", "citations")}
    return {
        **block,
        "counts": counts,
        "wall_seconds": round(r.wall_seconds, 3),
        "index_cached": r.index.cached,
        "config": r.config.to_json(),
    }


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


# -- plots --------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_hits(run: EvalRun, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    for r in run.runs:
        values = [r.summary[f"hit@{k}"] for k in HIT_KS]
        if all(v is not None for v in values):
            ax.plot(HIT_KS, [100 * v for v in values], marker="o", label=r.config.name)
    ax.set_xticks(HIT_KS)
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("hit@k (%)")
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
    ax.set_title(f"hit@k, {run.eval_set.name}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_latency(run: EvalRun, path: Path) -> None:
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    everything = [row["latency_ms"] for r in run.runs for row in r.rows]
    bins = 30 if everything else 1
    span = (0.0, max(everything, default=1.0))
    for r in run.runs:
        ax.hist(
            [row["latency_ms"] for row in r.rows],
            bins=bins,
            range=span,
            histtype="step",
            linewidth=1.6,
            label=f"{r.config.name} (p50 {_fmt_ms(r.summary['latency_p50_ms'])})",
        )
    ax.set_xlabel("full answer latency per question (ms)")
    ax.set_ylabel("questions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# -- markdown and html --------------------------------------------------------------------------


def _fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def fmt(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name.endswith("_ms"):
        return f"{value:.1f}"
    if name.endswith("_seconds"):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{100 * value:.1f}%"
    return str(value)


def _cell(text: Any, limit: int = 140) -> str:
    s = " ".join(str(text).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("|", "\\|")


def results_table(run: EvalRun) -> str:
    names = [r.config.name for r in run.runs]
    lines = ["| metric | " + " | ".join(_cell(n, 60) for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for metric in (*SUMMARY_METRICS, *EXTRA_METRICS):
        cells = []
        for r in run.runs:
            cell = fmt(metric, r.summary[metric])
            if metric == "index_seconds" and r.index.cached:
                cell += " (cached)"
            cells.append(cell)
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    for label, key in (
        ("questions", "questions"),
        ("answerable / unanswerable", None),
        ("abstained", "abstained"),
        ("citations", "citations"),
    ):
        if key is None:
            cells = [f"{r.summary['answerable']} / {r.summary['unanswerable']}" for r in run.runs]
        else:
            cells = [str(r.summary[key]) for r in run.runs]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| wall seconds (questions) | " + " | ".join(f"{r.wall_seconds:.1f}" for r in run.runs) + " |")
    return "\n".join(lines)


def worst_rows(rows: list[dict[str, Any]], n: int = WORST) -> list[dict[str, Any]]:
    """The questions most worth a look: lowest F1 first, then unsupported answers, then a late first hit."""
    wrong = [r for r in rows if r["scores"]["f1"] < 1.0 or (r["answerable"] and not r["scores"]["supported"])]
    return sorted(wrong, key=lambda r: (r["scores"]["f1"], r["scores"]["supported"], r["scores"]["rr@10"], r["id"]))[:n]


def worst_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| id | question | gold | prediction | F1 | supported | first hit |", "|---|---|---|---|---|---|---|"]
    for r in worst_rows(rows):
        gold = " / ".join(dict.fromkeys(r["answers"])) if r["answerable"] else "(unanswerable)"
        prediction = "(abstained)" if r["abstained"] else r["prediction"]
        rank = r["first_supporting_rank"] or "–"
        lines.append(
            f"| {_cell(r['id'], 40)} | {_cell(r['question'], 90)} | {_cell(gold, 60)} | {_cell(prediction)} "
            f"| {r['scores']['f1']:.2f} | {'yes' if r['scores']['supported'] else 'no'} | {rank} |"
        )
    return "\n".join(lines)


def report_markdown(run: EvalRun) -> str:
    s, m = run.eval_set, run.machine
    load = f"{m['load_start'][0]} at start, {m['load_end'][0]} at end (1-minute load average)"
    out = [
        f"# Evaluation of `{s.name}`",
        "",
        f"- Set: `{s.path}` ({s.format}, {counted(len(s.questions), 'question')}"
        + (f", {counted(len(s.documents), 'document')}" if s.documents else "")
        + ")",
        f"- Date: {run.started} to {run.finished} (UTC)",
        f"- Machine: {m['platform']}, {m['cpus']} CPU cores, Python {m['python']}; load {load}",
        f"- Code: assistant {m['assistant']}" + (f", commit {m['commit']}" if "commit" in m else ""),
    ]
    if run.command:
        out.append(f"- Command: `{run.command}`")
    if not run.complete:
        out += [
            "",
            f"> **Partial run: only the first {run.evaluated} of {len(s.questions)} questions were asked "
            "(`--limit`). These numbers are not a result for the whole set.**",
        ]
    out += ["", "## Results", "", results_table(run), "", "## Configs", ""]
    for r in run.runs:
        overrides = ", ".join(f"`{k}={v}`" for k, v in r.config.to_json()["overrides"].items()) or "no overrides"
        index = f"index `{r.index.index_dir}`" + (" (cached)" if r.index.cached else "")
        out.append(f"- **{r.config.name}**: pipeline `{r.config.pipeline}`, {overrides}; {index}")
    out += ["", "## Plots", ""]
    out += [f"![{title}]({name})" for name, title in _PLOTS.items()]
    for r in run.runs:
        out += ["", f"## Worst questions: {r.config.name}", "", worst_table(r.rows)]
    out += ["", "## Definitions", ""]
    out += [f"- **{name}**: {text}" for name, text in DEFINITIONS.items()]
    out += [
        "- **prediction**: what EM/F1 score: empty when the assistant abstained, else the answer's `short_answer` "
        "when it has one, else the answer text without its citation markers.",
        "",
    ]
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 48%; margin-right: 1%; } code { background: #f4f4f4; padding: 0 3px; }
blockquote { border-left: 4px solid #c33; margin: 1em 0; padding: 0.2em 1em; background: #fff3f3; }
"""


def report_html(markdown: str, folder: Path) -> str:
    """report.md as one self-contained page: the plots are embedded, so the file can be mailed or attached."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    for name in _PLOTS:
        data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
        body = body.replace(f'src="{name}"', f'src="data:image/png;base64,{data}"')
    title = html.escape(markdown.splitlines()[0].lstrip("# ").strip())
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_CSS}</style></head>\n<body>\n{body}</body></html>\n"
    )
