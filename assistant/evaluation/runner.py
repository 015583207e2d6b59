"""Run a question set under one or more configs and score every question (see `metrics` for the definitions).

The prediction scored by EM/F1 is `prediction_text(answer)`: "" when the assistant abstained; else the Answer's
`short_answer` attribute when it has a non-empty one (a precise answer span); else the answer text with its
citation markers (`[1]`) removed. Retrieval is scored on the top `RANK_DEPTH` passages for the question as the
pipeline understood it (`answer.resolved_question` for a follow-up, when set).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

import assistant
from assistant.app import Assistant
from assistant.evaluation.baseline import LangChainBaseline
from assistant.evaluation.configs import Config, ConfigError, load_configs
from assistant.evaluation.indexes import (
    INDEX_SETTINGS,
    CorpusError,
    PreparedIndex,
    cached_step,
    corpus_files,
    prepare_index,
)
from assistant.evaluation.metrics import (
    HIT_KS,
    RANK_DEPTH,
    aggregate,
    best_em_f1,
    contains_answer,
    hit_at_k,
    overlaps,
    recall_at_k,
    reciprocal_rank,
    resolved_as_expected,
)
from assistant.evaluation.sets import EvalSet, Evidence, Question, read_set
from assistant.settings import Settings
from assistant.types import Answer, ScoredPassage

_MARKER = re.compile(r"\s*\[\d+\]")


class EvalRunError(RuntimeError):
    """A question could not be run: the evaluation stops rather than report on part of the set."""


@dataclass
class ConfigRun:
    config: Config
    settings: Settings
    index: PreparedIndex
    index_seconds: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0


@dataclass
class EvalRun:
    eval_set: EvalSet
    runs: list[ConfigRun]
    evaluated: int
    started: str
    finished: str
    machine: dict[str, Any]
    command: str

    @property
    def complete(self) -> bool:
        return self.evaluated == len(self.eval_set.questions)


def prediction_text(answer: Answer) -> str:
    """The string EM/F1 score: "" for an abstention, `short_answer` if present, else the text without markers."""
    if answer.abstained:
        return ""
    short = getattr(answer, "short_answer", None)
    if isinstance(short, str) and short.strip():
        return short.strip()
    return _MARKER.sub("", answer.text).strip()


def doc_matches(source: str, doc: str) -> bool:
    """Whether an indexed `source` (a path, or `file#line`) is the document a set names `doc` (a file name)."""
    return not doc or source == doc or Path(source).name == doc or source.endswith("/" + doc)


class EvidenceMatcher:
    """Which gold evidence units of a question a span (retrieved passage or citation) supports."""

    def __init__(self, question: Question) -> None:
        self.question = question
        self.spans: list[Evidence] = [e for e in question.evidence if e.has_offsets]
        # Without offsets a question has one unit: "a span containing a gold answer" (in the named doc, if any).
        self.answer_doc = question.evidence[0].doc if question.evidence else ""

    @property
    def units(self) -> int:
        if not self.question.answerable:
            return 0
        return len(self.spans) or 1

    def supported(self, source: str, start: int, end: int, text: str) -> set[int]:
        if not self.question.answerable:
            return set()
        if self.spans:
            return {
                i
                for i, e in enumerate(self.spans)
                if doc_matches(source, e.doc) and overlaps(start, end, e.start, e.end)  # type: ignore[arg-type]
            }
        ok = doc_matches(source, self.answer_doc) and contains_answer(text, self.question.answers)
        return {0} if ok else set()


def score(
    question: Question,
    answer: Answer,
    passages: Sequence[ScoredPassage],
    document_text: Callable[[str], str],
) -> dict[str, Any]:
    """One results row: the prediction, citations and passages marked valid/supporting, and per-question scores."""
    matcher = EvidenceMatcher(question)
    covered = [
        matcher.supported(sp.passage.source, sp.passage.start, sp.passage.end, sp.passage.text) for sp in passages
    ]
    supports = [bool(c) for c in covered]
    citations = []
    cited: set[int] = set()
    for c in answer.citations:
        units = matcher.supported(c.source, c.start, c.end, c.text)
        cited |= units
        citations.append(
            {**c.to_json(), "valid": _valid(c.doc_id, c.start, c.end, c.text, document_text), "supports": bool(units)}
        )
    prediction = prediction_text(answer)
    em, f1 = best_em_f1(prediction, question.answers if question.answerable else [])
    scores: dict[str, Any] = {f"hit@{k}": hit_at_k(supports, k) for k in HIT_KS}
    scores["recall@10"] = recall_at_k(covered, matcher.units, RANK_DEPTH)
    scores["rr@10"] = reciprocal_rank(supports, RANK_DEPTH)
    scores.update(em=em, f1=f1)
    scores["supported"] = bool(question.answerable and not answer.abstained and cited)
    answer_text = _MARKER.sub("", answer.text)
    scores["contains_gold"] = bool(
        question.answerable and not answer.abstained and contains_answer(answer_text, question.answers)
    )
    # None for a question that does not say how it should be resolved.
    scores["resolved_as_expected"] = resolved_as_expected(question, answer.resolved_question)
    scores["evidence_units"] = matcher.units
    scores["evidence_units_cited"] = len(cited)
    first = next((rank for rank, ok in enumerate(supports, start=1) if ok), None)
    return {
        "id": question.id,
        "conversation": question.conversation,
        "turn": question.turn,
        "question": question.question,
        "resolved_question": answer.resolved_question,
        "answerable": question.answerable,
        "answers": list(question.answers),
        "evidence": [e.to_json() for e in question.evidence],
        "prediction": prediction,
        "answer": answer.text,
        "abstained": answer.abstained,
        "support": answer.support,
        "margin": answer.margin,
        "citations": citations,
        # Passages by reference (their text is in the index): ten full passages per row would swamp the file.
        "passages": [_passage_ref(sp, ok) for sp, ok in zip(passages, supports, strict=True)],
        "first_supporting_rank": first,
        "scores": scores,
    }


def _passage_ref(sp: ScoredPassage, supports: bool) -> dict[str, Any]:
    ref = {k: v for k, v in sp.to_json().items() if k != "text"}
    return {**ref, "supports": supports}


def _valid(doc_id: str, start: int, end: int, text: str, document_text: Callable[[str], str]) -> bool:
    try:
        return document_text(doc_id)[start:end] == text
    except KeyError:
        return False


def check_evidence(eval_set: EvalSet, bot: Assistant) -> None:
    """Every document the set names is in the index, and every evidence span's text is what is there."""
    docs = bot.documents()
    texts: dict[str, str] = {}
    for name in eval_set.referenced_docs():
        found = [d for d in docs if doc_matches(d.source, name)]
        if not found:
            raise CorpusError(f"the set refers to document {name!r}, which is not in the index (pass --corpus)")
        texts[name] = bot.document_text(found[0].doc_id)
    for q in eval_set.questions:
        for e in q.evidence:
            if e.has_offsets and e.text is not None and texts[e.doc][e.start : e.end] != e.text:
                raise CorpusError(
                    f"question {q.id}: evidence [{e.start}:{e.end}] of {e.doc} is not its stated text "
                    "(the corpus differs from the one the set was written for)"
                )


class _TextCache:
    def __init__(self, read: Callable[[str], str]) -> None:
        self.read = read
        self.texts: dict[str, str] = {}

    def __call__(self, doc_id: str) -> str:
        if doc_id not in self.texts:
            self.texts[doc_id] = self.read(doc_id)
        return self.texts[doc_id]


def run_questions(
    pipeline: Any, questions: Sequence[Question], desc: str = "eval", progress: bool = False
) -> list[dict[str, Any]]:
    """Ask every question (follow-ups with their conversation's earlier turns as history) and score it."""
    texts = _TextCache(pipeline.document_text)
    histories: dict[str, list[tuple[str, Answer]]] = {}
    pipeline.warm_up()  # one-off loads (vector indexes, models) stay out of the latencies
    rows = []
    for q in tqdm(questions, desc=desc, unit="q", disable=not progress, file=sys.stderr, dynamic_ncols=True):
        history = histories.setdefault(q.conversation, []) if q.conversation else []
        try:
            started = time.perf_counter()
            answer = pipeline.ask(q.question, list(history))
            answered = time.perf_counter()
            passages = pipeline.retrieve(answer.resolved_question or q.question, k=RANK_DEPTH)
            retrieved = time.perf_counter()
        except Exception as e:
            raise EvalRunError(f"question {q.id} ({q.question!r}) failed: {type(e).__name__}: {e}") from e
        row = score(q, answer, passages, texts)
        row["latency_ms"] = round((answered - started) * 1000, 3)
        row["retrieval_ms"] = round((retrieved - answered) * 1000, 3)
        rows.append(row)
        if q.conversation:
            # The answer itself, as the chat keeps it: follow-ups may use its short answer and resolved question.
            history.append((q.question, answer))
    return rows


def open_pipeline(config: Config, bot: Assistant, prepared: PreparedIndex) -> tuple[Any, float]:
    """The pipeline a config runs, and the seconds its index took (ingest, plus the LangChain store if any)."""
    if config.pipeline == "baseline":
        extra = cached_step(prepared, "langchain_seconds", lambda: LangChainBaseline.build(bot))
        return LangChainBaseline.open(bot), prepared.index_seconds + extra
    return bot, prepared.index_seconds


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "assistant": assistant.__version__,
    }
    try:
        root = Path(assistant.__file__).parent.parent
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        info["commit"] = commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_eval(
    set_path: str | Path,
    corpus: Sequence[Path] = (),
    index_dir: Path | None = None,
    configs: Sequence[str] = (),
    limit: int | None = None,
    progress: bool = False,
    settings: Settings | None = None,
    command: str = "",
) -> EvalRun:
    """Evaluate a set under each config; raises on an invalid set, config or corpus, or a failing question."""
    eval_set = read_set(set_path)
    chosen = load_configs(list(configs))
    base = settings or Settings.from_env()
    if index_dir is not None:
        for c in chosen:
            changed = [k for k in INDEX_SETTINGS if k in c.overrides and c.overrides[k] != getattr(base, k)]
            if changed:
                raise ConfigError(
                    f"config {c.name!r} changes {', '.join(changed)}, which need their own index: drop --index "
                    "(eval then builds and caches one per config)"
                )
    questions = eval_set.questions[:limit] if limit else eval_set.questions
    files = corpus_files(eval_set, corpus, base.eval_cache_dir.expanduser(), index_dir is not None)
    started = dt.datetime.now(dt.UTC)
    machine = {**machine_info(), "load_start": _load()}
    runs: list[ConfigRun] = []
    checked: set[Path] = set()
    for config in chosen:
        config_settings = config.settings(base)
        prepared = prepare_index(config_settings, files, index_dir, progress)
        bot = Assistant(settings=config_settings.replace(index_dir=prepared.index_dir))
        if prepared.index_dir not in checked:
            check_evidence(eval_set, bot)
            checked.add(prepared.index_dir)
        pipeline, index_seconds = open_pipeline(config, bot, prepared)
        run = ConfigRun(config, config_settings, prepared, index_seconds)
        clock = time.perf_counter()
        run.rows = run_questions(pipeline, questions, desc=config.name, progress=progress)
        run.wall_seconds = time.perf_counter() - clock
        run.summary = aggregate(run.rows, index_seconds)
        runs.append(run)
    machine["load_end"] = _load()
    finished = dt.datetime.now(dt.UTC)
    return EvalRun(
        eval_set,
        runs,
        len(questions),
        started.isoformat(timespec="seconds"),
        finished.isoformat(timespec="seconds"),
        machine,
        command,
    )
