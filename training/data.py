"""The reader's training set from ../shared/qa: a fixed mix of the open QA files plus made no-answer examples.

Every example is (question, context, answer_start, answer_text), with answer_start = -1 for "the context does
not answer". No-answer examples are made two ways, both checked so the answer's words are truly absent:
- the question with another paragraph of its own article (or, for single-paragraph articles, of the same file);
- the question with its own paragraph minus the sentence that holds the answer.
The windows the tokenizer cuts from a long context and that miss the answer are no-answer examples too
(see train.py), which is the shape the answerer meets: several passages of which most do not answer.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from blingfire import text_to_sentences_and_offsets

DEFAULT_QA = Path(__file__).resolve().parent.parent.parent / "shared" / "qa"

# File -> share of its questions used (QAMR's 37k one-sentence questions would swamp the rest; COVID-QA's
# 23k-character papers cost many windows a question).
MIX: dict[str, float] = {
    "squad_train_subsets.json": 1.0,
    "squadshifts_new_wiki.json": 1.0,
    "tydiqa_goldp_en.json": 1.0,
    "qed.json": 1.0,
    "squadshifts_reddit.json": 0.3,
    "squadshifts_amazon_reviews.json": 0.3,
    "qamr.json": 0.2,
    "covid_qa.json": 0.2,
}
# Longer questions (a few pasted paragraphs) leave a window no room for its context.
MAX_QUESTION_CHARS = 250
# Share of answerable questions that also give a made no-answer example.
NEGATIVE_RATE = 0.3


@dataclass(frozen=True)
class Example:
    id: str
    question: str
    context: str
    answer_start: int  # -1: the context does not answer
    answer_text: str
    source: str  # file name, for the per-source report

    @property
    def answerable(self) -> bool:
        return self.answer_start >= 0


def read_squad(path: Path) -> list[list[dict]]:
    """Articles as lists of paragraphs ({context, qas}) from a SQuAD v2 JSON file."""
    return [a["paragraphs"] for a in json.loads(path.read_text(encoding="utf-8"))["data"]]


def examples_of(path: Path) -> list[Example]:
    """Every question of a file with its first answer (or none)."""
    out = []
    for paragraphs in read_squad(path):
        for p in paragraphs:
            for qa in p["qas"]:
                if len(qa["question"]) > MAX_QUESTION_CHARS:
                    continue
                answers = qa.get("answers") or []
                if qa.get("is_impossible") or not answers:
                    out.append(Example(qa["id"], qa["question"], p["context"], -1, "", path.name))
                else:
                    a = answers[0]
                    out.append(Example(qa["id"], qa["question"], p["context"], a["answer_start"], a["text"], path.name))
    return out


def _absent(answer: str, text: str) -> bool:
    return answer.lower() not in text.lower()


def other_paragraph(ex: Example, paragraphs: list[str], rng: random.Random) -> Example | None:
    """The question with a paragraph (of its article, else its file) that does not hold its answer."""
    for _ in range(4):
        other = rng.choice(paragraphs)
        if other != ex.context and _absent(ex.answer_text, other):
            return Example(ex.id + "-other", ex.question, other, -1, "", ex.source)
    return None


def without_answer_sentence(ex: Example) -> Example | None:
    """The question with its paragraph minus the sentence holding the answer, if the answer is then absent."""
    _, offsets = text_to_sentences_and_offsets(ex.context)
    kept = [ex.context[s:e] for s, e in offsets if not (s <= ex.answer_start < e)]
    if len(kept) < 2:
        return None
    rest = " ".join(kept)
    if not _absent(ex.answer_text, rest):
        return None
    return Example(ex.id + "-cut", ex.question, rest, -1, "", ex.source)


def build(folder: Path, max_examples: int = 0, seed: int = 13) -> list[Example]:
    """The training examples, shuffled; `max_examples` > 0 keeps a proportional slice (for quick runs)."""
    rng = random.Random(seed)
    chosen: list[Example] = []
    for name, share in MIX.items():
        path = folder / "train" / name
        articles = read_squad(path)
        by_context = {p["context"]: [q["context"] for q in ps] for ps in articles for p in ps}
        all_paragraphs = [p["context"] for ps in articles for p in ps]
        file_examples = examples_of(path)
        rng.shuffle(file_examples)
        file_examples = file_examples[: round(len(file_examples) * share)]
        for ex in file_examples:
            chosen.append(ex)
            if not ex.answerable or rng.random() >= NEGATIVE_RATE:
                continue
            siblings = by_context[ex.context]
            made = (
                without_answer_sentence(ex)
                if rng.random() < 0.5
                else other_paragraph(ex, siblings if len(siblings) > 1 else all_paragraphs, rng)
            )
            if made is not None:
                chosen.append(made)
    rng.shuffle(chosen)
    if max_examples > 0:
        chosen = chosen[:max_examples]
    return chosen


def dev_examples(folder: Path, max_examples: int = 0) -> list[Example]:
    """TyDi QA GoldP English dev: the set settings are chosen on."""
    found = examples_of(folder / "dev" / "tydiqa_goldp_en_dev.json")
    return found[:max_examples] if max_examples > 0 else found
