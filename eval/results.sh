#!/usr/bin/env bash
# The README's results table: every shipped set under the plain-LangChain baseline, the hand-written rules
# (the answerer before the reader) and the default (the reader). Reports in eval/reports/readme/<set>/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=eval/reports/readme
configs=(--config baseline --config rules --config default)
for s in seed_questions.jsonl seed_conversations.jsonl sample_conversations.jsonl squad_v1_super_bowl_50.json tydiqa_open_dev.json; do
    python -m assistant eval "eval/$s" "${configs[@]}" --out "$out/${s%%.*}"
done
python -m assistant eval eval/sample_unanswerable.jsonl --corpus assistant/data/000_d4614d5e4eabd9fe.txt "${configs[@]}" --out "$out/sample_unanswerable"
python -m assistant eval eval/news_questions.jsonl --corpus eval/news "${configs[@]}" --out "$out/news_questions"
python -m assistant.evaluation.table --columns hit@1,hit@5,em,f1,answer_contains_gold,no_ans_accuracy,citation_validity,citation_precision,latency_p50_ms "$out"/{seed_questions,seed_conversations,sample_conversations,squad_v1_super_bowl_50,sample_unanswerable,news_questions,tydiqa_open_dev}/summary.json
