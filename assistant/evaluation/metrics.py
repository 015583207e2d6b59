"""Evaluation metrics with their standard definitions; `aggregate` turns per-question rows into `summary.json`.

Definitions (also printed in every report, see `DEFINITIONS`):
- A retrieved passage (or a citation) *supports* a gold evidence span when it is in the same document and their
  character ranges overlap; for sets without offsets (CSV, JSONL with answers only) it supports the question's
  single evidence unit when its SQuAD-normalized text contains a normalized gold answer (and, when the set names
  a source, comes from that document).
- hit@k: 1 if any of the top k passages supports some gold evidence, else 0; mean over answerable questions.
- recall@k: share of the question's distinct gold evidence units supported by the top k passages; mean.
- mrr@10: 1/rank of the first supporting passage within the top 10 (0 if none); mean.
- em / f1: SQuAD exact match and token F1 of the prediction against each gold answer, max over gold answers, after
  SQuAD normalization (lower case, punctuation and the articles a/an/the removed, whitespace collapsed). SQuAD v2
  convention: an unanswerable question's only gold answer is "", so abstaining (prediction "") scores 1. `em`/`f1`
  are over all questions, `has_ans_em`/`has_ans_f1` over answerable ones.
- no_ans_accuracy: share of unanswerable questions on which the assistant abstained.
- citation_validity: share of citations whose `text` equals the document text at `[start, end)`.
- citation_precision: share of citations (over all questions) that support a gold evidence unit.
- citation_recall: share of gold evidence units (over answerable questions) supported by some citation.
- answer_supported: share of answerable questions answered with at least one supporting citation.
- answer_contains_gold: share of answerable questions whose answer text contains a normalized gold answer.
- abstain_precision / abstain_recall: of the abstentions, the share on unanswerable questions / of the unanswerable
  questions, the share abstained on.
- resolution_accuracy: share of follow-ups with `resolves_to` words whose resolved question (the question itself
  when the assistant reports none) holds every one of them (case-insensitive).
- latency_p50_ms / latency_p95_ms: percentiles (linear interpolation) of the full answer time per question;
  retrieval_p50_ms / retrieval_p95_ms the same for retrieving the top 10 passages; index_seconds: building the index.
A metric with nothing to measure (e.g. abstain_recall on a set without unanswerable questions) is null.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from assistant.evaluation.sets import Question

HIT_KS = (1, 3, 5, 10)
RANK_DEPTH = 10

SUMMARY_METRICS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "recall@10",
    "mrr@10",
    "em",
    "f1",
    "has_ans_f1",
    "no_ans_accuracy",
    "citation_validity",
    "citation_precision",
    "citation_recall",
    "abstain_precision",
    "abstain_recall",
    "latency_p50_ms",
    "latency_p95_ms",
    "index_seconds",
)
EXTRA_METRICS = (
    "has_ans_em",
    "answer_supported",
    "answer_contains_gold",
    "resolution_accuracy",
    "retrieval_p50_ms",
    "retrieval_p95_ms",
)

DEFINITIONS: dict[str, str] = {
    "hit@k": "1 if any of the top k retrieved passages overlaps a gold evidence span "
    "(or contains a gold answer, for sets without offsets); mean over answerable questions",
    "recall@10": "share of a question's distinct gold evidence spans overlapped by the top 10 passages; mean",
    "mrr@10": "1/rank of the first passage overlapping gold evidence within the top 10, else 0; mean",
    "em": "SQuAD exact match after normalization (lower case; punctuation, a/an/the removed; whitespace collapsed), "
    'max over gold answers; unanswerable questions have the gold answer "" (abstaining is correct)',
    "f1": "SQuAD token F1 after the same normalization, max over gold answers, same v2.0 convention",
    "has_ans_f1": "f1 over answerable questions only",
    "no_ans_accuracy": "share of unanswerable questions on which the assistant abstained",
    "citation_validity": "share of citations whose text equals the source text at its offsets (must be 100%)",
    "citation_precision": "share of citations that overlap gold evidence",
    "citation_recall": "share of gold evidence spans overlapped by some citation",
    "answer_supported": "share of answerable questions answered with at least one citation overlapping gold evidence",
    "answer_contains_gold": "share of answerable questions whose answer text contains a gold answer (normalized)",
    "resolution_accuracy": "share of follow-ups whose resolved question holds all the words the set expects "
    "(`resolves_to`, case-insensitive)",
    "abstain_precision": "of the abstentions, the share on unanswerable questions",
    "abstain_recall": "of the unanswerable questions, the share abstained on",
    "latency_p50_ms / latency_p95_ms": "median / 95th percentile of the full answer time per question",
    "retrieval_p50_ms / retrieval_p95_ms": "median / 95th percentile of the time to retrieve the top 10 passages",
    "index_seconds": "time to build the index of the set's documents (from scratch; recorded with a cached index)",
}

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's official normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD v2.0 token F1: if either side has no tokens, 1 when both have none, else 0."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_em_f1(prediction: str, golds: Sequence[str]) -> tuple[float, float]:
    """Max EM and max F1 over the gold answers; no gold answers means the question is unanswerable (gold "")."""
    golds = list(golds) or [""]
    return max(exact_match(prediction, g) for g in golds), max(token_f1(prediction, g) for g in golds)


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether `text` contains one of `answers` as whole normalized words."""
    haystack = f" {normalize_answer(text)} "
    return any((needle := normalize_answer(a)) and f" {needle} " in haystack for a in answers)


def resolved_as_expected(question: Question, resolved: str | None) -> bool | None:
    """Whether the question as resolved holds every `resolves_to` word of the set; None when it names none."""
    if not question.resolves_to:
        return None
    text = (resolved or question.question).casefold()
    return all(word.casefold() in text for word in question.resolves_to)


def overlaps(start: int, end: int, other_start: int, other_end: int) -> bool:
    """Half-open ranges [start, end) and [other_start, other_end) share at least one character."""
    return start < other_end and other_start < end


def hit_at_k(supports: Sequence[bool], k: int) -> float:
    """`supports[i]`: whether the passage at rank i+1 supports gold evidence."""
    return float(any(supports[:k]))


def reciprocal_rank(supports: Sequence[bool], depth: int = RANK_DEPTH) -> float:
    for rank, ok in enumerate(supports[:depth], start=1):
        if ok:
            return 1.0 / rank
    return 0.0


def recall_at_k(covered: Sequence[Iterable[int]], units: int, k: int) -> float:
    """Share of `units` gold evidence units covered by the top k; `covered[i]` lists the units rank i+1 covers."""
    if units <= 0:
        return 0.0
    found: set[int] = set()
    for c in covered[:k]:
        found.update(c)
    return len(found) / units


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def aggregate(rows: Sequence[dict[str, Any]], index_seconds: float | None) -> dict[str, Any]:
    """The summary block of one config from its per-question rows (see `runner.score` for the row fields)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    citations = [c for r in rows for c in r["citations"]]
    abstained = [r for r in rows if r["abstained"]]
    units = sum(r["scores"]["evidence_units"] for r in answerable)
    covered = sum(r["scores"]["evidence_units_cited"] for r in answerable)
    out: dict[str, Any] = {}
    for k in HIT_KS:
        out[f"hit@{k}"] = _mean([r["scores"][f"hit@{k}"] for r in answerable])
    out["recall@10"] = _mean([r["scores"]["recall@10"] for r in answerable])
    out["mrr@10"] = _mean([r["scores"]["rr@10"] for r in answerable])
    out["em"] = _mean([r["scores"]["em"] for r in rows])
    out["f1"] = _mean([r["scores"]["f1"] for r in rows])
    out["has_ans_f1"] = _mean([r["scores"]["f1"] for r in answerable])
    out["no_ans_accuracy"] = _mean([float(r["abstained"]) for r in unanswerable])
    out["citation_validity"] = ratio(sum(c["valid"] for c in citations), len(citations))
    out["citation_precision"] = ratio(sum(c["supports"] for c in citations), len(citations))
    out["citation_recall"] = ratio(covered, units)
    out["abstain_precision"] = ratio(sum(not r["answerable"] for r in abstained), len(abstained))
    out["abstain_recall"] = ratio(sum(r["abstained"] for r in unanswerable), len(unanswerable))
    out["latency_p50_ms"] = percentile([r["latency_ms"] for r in rows], 50)
    out["latency_p95_ms"] = percentile([r["latency_ms"] for r in rows], 95)
    out["index_seconds"] = index_seconds
    out["has_ans_em"] = _mean([r["scores"]["em"] for r in answerable])
    out["answer_supported"] = _mean([float(r["scores"]["supported"]) for r in answerable])
    out["answer_contains_gold"] = _mean([float(r["scores"]["contains_gold"]) for r in answerable])
    judged = [r["scores"]["resolved_as_expected"] for r in rows if r["scores"].get("resolved_as_expected") is not None]
    out["resolution_accuracy"] = _mean([float(ok) for ok in judged])
    out["retrieval_p50_ms"] = percentile([r["retrieval_ms"] for r in rows], 50)
    out["retrieval_p95_ms"] = percentile([r["retrieval_ms"] for r in rows], 95)
    out["questions"] = len(rows)
    out["answerable"] = len(answerable)
    out["unanswerable"] = len(unanswerable)
    out["abstained"] = len(abstained)
    out["citations"] = len(citations)
    return out
