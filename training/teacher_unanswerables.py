"""Experiment (2026-12-04, reverted next; python -m training.teacher_unanswerables OUT N, needs the [llm] extra): Teacher-written unanswerable questions: for a (question, paragraph, answer) of the training mix, the packaged
Qwen2.5-Coder-1.5B rewrites the question so it stays on the paragraph's topic but the paragraph cannot answer it
(SQuAD 2.0's kind of unanswerable question). Appends JSON lines to OUT; resumable."""
import sys, json, random, dataclasses
from pathlib import Path
from assistant.llm import chat_model, complete
from assistant.settings import Settings
from training import data

out, n = Path(sys.argv[1]), int(sys.argv[2])
done = {json.loads(l)["id"] for l in out.read_text().splitlines()} if out.exists() else set()
files = ["squad_train_subsets.json", "squadshifts_new_wiki.json", "tydiqa_goldp_en.json", "qed.json"]
pool = [e for f in files for e in data.examples_of(data.DEFAULT_QA / "train" / f) if e.answerable and len(e.context) < 1500]
random.Random(11).shuffle(pool)
s = dataclasses.replace(Settings.from_env(), backend="llamacpp", llm_max_tokens=40, llm_temperature=0.0)
model = chat_model(s)
SYSTEM = ("You write hard test questions for a reading test. Given a passage and a question it answers, rewrite the "
          "question so that it is still about the passage's topic and uses its words, but the passage does NOT contain "
          "the answer: change one detail (a name, a number, a date, a place), negate it, or ask about something the "
          "passage does not mention. Reply with only the new question.")
DEMOS = (
    "Passage: The bridge opened in 1932 and was designed by John Bradfield. It carries eight lanes of traffic.\n"
    "Question: Who designed the bridge?\nAnswer: John Bradfield\n\n"
    "New question: Who designed the bridge's 1998 extension?\n\n"
    "Passage: Marie Curie won the Nobel Prize in Physics in 1903 and in Chemistry in 1911.\n"
    "Question: When did Curie win the Nobel Prize in Chemistry?\nAnswer: 1911\n\n"
    "New question: When did Curie win the Nobel Prize in Medicine?\n\n"
    "Passage: The company employs 4,000 people in Ohio, most of them at its Dayton plant.\n"
    "Question: How many people does the company employ in Ohio?\nAnswer: 4,000\n\n"
    "New question: How many people does the company employ in Texas?\n\n"
)
with out.open("a") as f:
    k = len(done)
    for e in pool:
        if k >= n:
            break
        if e.id in done:
            continue
        user = DEMOS + f"Passage: {e.context}\n\nQuestion: {e.question}\nAnswer: {e.answer_text}\n\nNew question:"
        q = complete(model, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]).strip().split("\n")[0].strip().strip('"')
        f.write(json.dumps({"id": e.id, "source": e.source, "question": q, "original": e.question, "answer": e.answer_text, "context": e.context}) + "\n")
        f.flush()
        k += 1
