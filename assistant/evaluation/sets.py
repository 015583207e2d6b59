"""Question sets for `assistant eval`, read into one shape whatever their format.

Formats, detected from the file's content (not its name):
- our JSONL: one question object per line (`id`, `question`, `answers`, `evidence`, `answerable`);
- conversations JSONL: lines `{"id": ..., "turns": [<question object>, ...]}` (may be mixed with plain questions);
  a turn may add `resolves_to`, the words its resolved question must hold;
- CSV with a header `question,answer[,source]` (an empty answer marks an unanswerable question);
- SQuAD JSON v1.1 and v2.0 (`{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}`; v2.0 adds
  `is_impossible`): each paragraph becomes one document, gold evidence is the answer spans.

An invalid set raises `SetError` naming the file, line or question and the field: never a partial set.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SetError(ValueError):
    """A question set that cannot be evaluated as given (unreadable, missing fields, wrong types)."""


@dataclass(frozen=True)
class Evidence:
    """A gold supporting span `[start, end)` of document `doc` (matched by file name), or, without offsets,
    a document (or any, when `doc` is empty) whose text must contain a gold answer."""

    doc: str
    start: int | None = None
    end: int | None = None
    text: str | None = None

    @property
    def has_offsets(self) -> bool:
        return self.start is not None and self.end is not None

    def to_json(self) -> dict[str, Any]:
        return {"doc": self.doc, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    answerable: bool
    # Turns of one conversation share `conversation` and are asked in `turn` order with the earlier turns as history.
    conversation: str | None = None
    turn: int = 0
    # A follow-up's `resolves_to`: words the question as the assistant resolved it must hold ("Çandarlı" for
    # "Where did his piece appear?"), to score the resolution itself, apart from retrieval and answer.
    resolves_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetDocument:
    """A document a set brings with it (a SQuAD paragraph); `name` is how its evidence refers to it."""

    name: str
    text: str
    title: str


@dataclass(frozen=True)
class EvalSet:
    name: str
    format: str
    path: Path
    questions: tuple[Question, ...]
    # The set's own documents (SQuAD), written one per line to `contexts_file` and ingested; empty otherwise.
    documents: tuple[SetDocument, ...] = ()
    content_hash: str = ""

    @property
    def contexts_file(self) -> str:
        return contexts_file_name(self.path)

    def referenced_docs(self) -> list[str]:
        return sorted({e.doc for q in self.questions for e in q.evidence if e.doc})


def contexts_file_name(path: Path) -> str:
    return f"{path.stem}.contexts.jsonl"


def read_set(path: str | Path) -> EvalSet:
    """Read a question set, detecting its format from its content."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SetError(f"cannot read question set {path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SetError(f"{path}: not UTF-8 text") from None
    if not text.strip():
        raise SetError(f"{path}: the question set is empty")
    content_hash = hashlib.sha256(raw).hexdigest()
    whole = _whole_json(text)
    if isinstance(whole, dict) and "data" in whole:
        fmt, questions, documents = _read_squad(path, whole)
    elif isinstance(whole, list):
        raise SetError(f"{path}: a JSON list is not a question set (expected JSONL, SQuAD JSON or CSV)")
    elif text.lstrip().startswith("{"):
        questions, documents = _read_jsonl(path, text), []
        fmt = "conversations" if any(q.conversation for q in questions) else "jsonl"
    else:
        fmt, questions, documents = "csv", _read_csv(path, text), []
    if not questions:
        raise SetError(f"{path}: no questions in the set")
    ids = [q.id for q in questions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SetError(f"{path}: duplicate question ids: {', '.join(duplicates[:5])}")
    return EvalSet(path.stem, fmt, path, tuple(questions), tuple(documents), content_hash)


def _whole_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


# -- our JSONL and conversations ----------------------------------------------------------------


def _read_jsonl(path: Path, text: str) -> list[Question]:
    out: list[Question] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise SetError(f"{where}: malformed JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(record, dict):
            raise SetError(f"{where}: each line must be a JSON object")
        if "turns" in record:
            conv_id = _string(record, "id", where, default=f"{path.stem}-{lineno}")
            turns = record["turns"]
            if not isinstance(turns, list) or not turns:
                raise SetError(f'{where}: "turns" must be a non-empty list of question objects')
            for i, turn in enumerate(turns):
                if not isinstance(turn, dict):
                    raise SetError(f"{where}: turn {i + 1} must be a JSON object")
                out.append(_question(turn, f"{where} turn {i + 1}", f"{conv_id}-{i + 1}", conv_id, i))
        else:
            out.append(_question(record, where, f"{path.stem}-{lineno}"))
    return out


def _question(
    record: dict[str, Any], where: str, default_id: str, conversation: str | None = None, turn: int = 0
) -> Question:
    question = _string(record, "question", where)
    qid = _string(record, "id", where, default=default_id)
    answers = record.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise SetError(f'{where}: "answers" must be a list of strings')
    evidence_raw = record.get("evidence", [])
    if not isinstance(evidence_raw, list):
        raise SetError(f'{where}: "evidence" must be a list of {{"doc", "start", "end"}} objects')
    evidence = tuple(_evidence(e, f"{where} evidence {i + 1}") for i, e in enumerate(evidence_raw))
    answerable = record.get("answerable", bool(answers or evidence))
    if not isinstance(answerable, bool):
        raise SetError(f'{where}: "answerable" must be true or false')
    if answerable and not (answers or evidence):
        raise SetError(f'{where}: an answerable question needs "answers" or "evidence"')
    resolves_to = record.get("resolves_to", [])
    if not isinstance(resolves_to, list) or not all(isinstance(w, str) and w.strip() for w in resolves_to):
        raise SetError(f'{where}: "resolves_to" must be a list of non-empty strings')
    return Question(
        qid,
        question,
        tuple(a for a in answers if a.strip()),
        evidence,
        answerable,
        conversation,
        turn,
        tuple(resolves_to),
    )


def _evidence(raw: Any, where: str) -> Evidence:
    if not isinstance(raw, dict):
        raise SetError(f'{where}: must be an object {{"doc", "start", "end"}}')
    doc = _string(raw, "doc", where)
    start, end = raw.get("start"), raw.get("end")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SetError(f'{where}: "{name}" must be a non-negative integer offset')
    if end <= start:  # type: ignore[operator]
        raise SetError(f'{where}: "end" must be greater than "start"')
    text = raw.get("text")
    if text is not None and not isinstance(text, str):
        raise SetError(f'{where}: "text" must be a string')
    return Evidence(doc, start, end, text)


def _string(record: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = record.get(key, default)
    if value is None:
        raise SetError(f'{where}: missing "{key}"')
    if isinstance(value, int) and not isinstance(value, bool) and key == "id":
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise SetError(f'{where}: "{key}" must be a non-empty string')
    return value


# -- CSV ----------------------------------------------------------------------------------------


def _read_csv(path: Path, text: str) -> list[Question]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "question" not in header or "answer" not in header:
        raise SetError(
            f"{path}: not a question set: expected JSONL, SQuAD JSON, or CSV with a header `question,answer[,source]`"
        )
    reader.fieldnames = header
    out: list[Question] = []
    for row in reader:
        # DictReader counts physical lines: the header is line 1.
        where = f"{path}:{reader.line_num}"
        if None in row:
            raise SetError(f"{where}: more cells than header columns")
        question = (row.get("question") or "").strip()
        if not question:
            raise SetError(f'{where}: empty "question"')
        answer = (row.get("answer") or "").strip()
        source = (row.get("source") or "").strip()
        evidence = (Evidence(source),) if answer else ()
        out.append(
            Question(f"{path.stem}-{reader.line_num}", question, (answer,) if answer else (), evidence, bool(answer))
        )
    return out


# -- SQuAD --------------------------------------------------------------------------------------


def _read_squad(path: Path, data: dict[str, Any]) -> tuple[str, list[Question], list[SetDocument]]:
    articles = data["data"]
    if not isinstance(articles, list):
        raise SetError(f'{path}: SQuAD "data" must be a list of articles')
    v2 = str(data.get("version", "")).startswith("v2") or any(
        "is_impossible" in qa
        for article in _dicts(articles)
        for p in _dicts(article.get("paragraphs"))
        for qa in _dicts(p.get("qas"))
    )
    contexts = contexts_file_name(path)
    questions: list[Question] = []
    documents: list[SetDocument] = []
    for a, article in enumerate(articles):
        where = f"{path}: data[{a}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise SetError(f'{where}: each article needs a "paragraphs" list')
        title = str(article.get("title", f"article {a + 1}"))
        for p, paragraph in enumerate(article["paragraphs"]):
            pwhere = f"{where}.paragraphs[{p}]"
            if not isinstance(paragraph, dict):
                raise SetError(f"{pwhere}: must be an object")
            context = _string(paragraph, "context", pwhere)
            qas = paragraph.get("qas")
            if not isinstance(qas, list):
                raise SetError(f'{pwhere}: "qas" must be a list')
            # The jsonl loader names a record `file#line`, lines counted from 1.
            doc = f"{contexts}#{len(documents) + 1}"
            documents.append(SetDocument(doc, context, title))
            for i, qa in enumerate(qas):
                questions.append(_squad_question(qa, f"{pwhere}.qas[{i}]", context, doc))
    return ("squad-v2.0" if v2 else "squad-v1.1"), questions, documents


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


def _squad_question(qa: Any, where: str, context: str, doc: str) -> Question:
    if not isinstance(qa, dict):
        raise SetError(f"{where}: must be an object")
    qid = _string(qa, "id", where)
    question = _string(qa, "question", f"{where} ({qid})")
    impossible = qa.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise SetError(f'{where} ({qid}): "is_impossible" must be true or false')
    answers = qa.get("answers", [])
    if not isinstance(answers, list):
        raise SetError(f'{where} ({qid}): "answers" must be a list')
    texts: list[str] = []
    spans: dict[tuple[int, int], Evidence] = {}
    for j, ans in enumerate(answers):
        awhere = f"{where} ({qid}) answers[{j}]"
        if not isinstance(ans, dict) or not isinstance(ans.get("text"), str):
            raise SetError(f'{awhere}: needs a "text" string')
        start = ans.get("answer_start")
        if not isinstance(start, int) or isinstance(start, bool):
            raise SetError(f'{awhere}: "answer_start" must be an integer')
        start = _aligned_start(context, ans["text"], start, awhere)
        end = start + len(ans["text"])
        texts.append(ans["text"])
        spans.setdefault((start, end), Evidence(doc, start, end, ans["text"]))
    if not impossible and not texts:
        raise SetError(f"{where} ({qid}): an answerable SQuAD question needs at least one answer")
    if impossible:
        return Question(qid, question, (), (), False)
    return Question(qid, question, tuple(texts), tuple(spans.values()), True)


def _aligned_start(context: str, answer: str, start: int, where: str) -> int:
    """`answer_start`, or the nearest occurrence of the answer when the offset is off (a few SQuAD files are)."""
    if context[start : start + len(answer)] == answer:
        return start
    found = list(_occurrences(context, answer))
    if not found:
        raise SetError(f"{where}: answer {answer!r} does not occur in the paragraph")
    return min(found, key=lambda i: abs(i - start))


def _occurrences(text: str, sub: str) -> Iterator[int]:
    i = text.find(sub)
    while i >= 0:
        yield i
        i = text.find(sub, i + 1)
