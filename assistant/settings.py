"""All configuration in one place: defaults, overridden by `ASSISTANT_*` env vars, overridden by CLI flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

PACKAGED_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("extractive", "llamacpp", "openai")
LLM_MODES = ("reader", "writer")


@dataclass(frozen=True)
class Settings:
    """Every tunable of the assistant; each field `x` reads env var `ASSISTANT_X`."""

    index_dir: Path = Path("index")
    # A Chroma server (`http://host:port`); empty means the embedded store in `index_dir`.
    chroma_url: str = ""
    collection: str = "assistant"
    # `all-MiniLM-L6-v2` is the model packaged on PyPI; any sentence-transformers folder works too.
    model: str = PACKAGED_MODEL
    embed_batch_size: int = 64
    # How the model runs: `auto` (int8 ONNX for the packaged model, torch for a model folder), `onnx-int8`
    # (int8 matrix products, ~2x torch's speed on 2 cores), `onnx` (the same ONNX file in fp32 arithmetic) or
    # `torch`. All give vectors of the same model (cosine >= 0.99 to torch's), so an index is shared by all;
    # docs/benchmarks.md has the speed and retrieval quality of each.
    embed_backend: str = "auto"
    # Threads for one encode call (0: all cores). One measured fastest on 2 busy cores for every backend
    # (int8: 233 vs 189 sentences/s, docs/benchmarks.md); raise it on a machine with idle cores.
    embed_threads: int = 1
    # Files derived once from the packaged models (the int8 ONNX graph); nothing here is downloaded.
    cache_dir: Path = Path("~/.cache/assistant")
    # Passages are windows of whole sentences of about this many characters.
    passage_chars: int = 600
    passage_overlap_sentences: int = 1
    top_k: int = 5
    # Retrieval: `hybrid` fuses BM25, dense sentence and (weight_dense > 0) dense passage search; `dense` and
    # `bm25` use one.
    retrieval: str = "hybrid"
    # Reciprocal rank fusion: a branch adds weight / (rrf_k + rank); 60 is the usual constant from the paper.
    rrf_k: int = 60
    # A branch of weight 0 does not run. The dense passage branch (a passage's mean vector) is off by default:
    # beside the sentence branch it added nothing measurable (without it, reranked: SQuAD hit@1/hit@5
    # 74.8/94.6 vs 74.6/94.7, seed hit@1 95.5 vs 90.9, same answers) and costs a second HNSW query per
    # question (1.5-2 ms at 100k passages, docs/benchmarks.md).
    weight_dense: float = 0.0
    # Sentence-level dense search finds passages whose one sentence answers, diluted in the passage mean.
    weight_sentence: float = 1.0
    weight_bm25: float = 1.0
    # Candidates each branch contributes to fusion.
    branch_k: int = 30
    # Threads that run the branches side by side; 1 runs them one after another in the asking thread, which
    # measured faster on 2 cores: each branch takes 1-2 ms, Chroma's queries hold the GIL for much of theirs,
    # and handing work to threads costs about what it saves (docs/benchmarks.md). Try 3 on idle cores.
    retrieval_threads: int = 1
    # Rerank the best fused candidates with the evidence signals (or `reranker`) before keeping top_k.
    rerank: bool = True
    rerank_candidates: int = 20
    # A local sentence-transformers CrossEncoder folder; empty means the built-in evidence reranker.
    reranker: str = ""
    # Maximal marginal relevance over passage vectors, so reprinted near-duplicates do not crowd the top k.
    mmr: bool = False
    mmr_lambda: float = 0.7
    # Evidence score of a sentence = cosine + lexical_weight * IDF-weighted question-word coverage
    # + type_weight if it holds the asked-for kind of answer (a date for "when", a number for "how many").
    lexical_weight: float = 0.5
    type_weight: float = 0.1
    # Filtered search (Chroma's own `where` search is 30-50x slower than an unfiltered one): a filter whose
    # documents hold at most this many passages is scored exactly in numpy...
    filter_exact_passages: int = 300
    # ...a broader one by an unfiltered search of up to this many neighbours, filtered afterwards.
    filter_overfetch_limit: int = 3000
    # How many candidates Chroma's HNSW search of the passage and sentence vectors keeps (applied whenever an
    # index is opened). Recall@10 against exact search and its cost: docs/benchmarks.md, "HNSW recall".
    hnsw_ef_search: int = 800
    # How many neighbours each vector links to in that graph; fixed when an index is created.
    hnsw_max_neighbors: int = 16
    # Abstain when the best sentence's support (evidence score with the question's words unknown to the
    # index counted as missing) is below this. Calibrated on the shipped seed and SQuAD sets plus cross-set
    # off-topic questions: the highest value that costs no correct answer there (docs/how-it-works.md, "Abstention").
    min_score: float = 0.35
    max_answer_sentences: int = 3
    # The extractive reader that picks the short answer and the sentence citing it among the retrieved passages,
    # and declines when no passage answers: `packaged` (ours, trained by training/, assistant/data/reader),
    # a folder of an exported ONNX reader (or of several, training/ensemble.py) or of a transformers
    # question-answering model, or `none` (the hand-written rules and NER below; docs/reader.md compares them).
    reader: str = "packaged"
    # The reader's no-answer threshold: its best span must beat "not in this passage" by this margin (logits).
    # None: the value calibrated for the reader and written in its reader.json (docs/reader.md); a reader
    # without one (a SQuAD v1 folder) never declines, and the rules below decide.
    reader_min_margin: float | None = None
    # The span answered is the one with the highest margin + this x its passage's retrieval score: chosen on
    # the open dev set (docs/reader.md; by margin alone EM 38.6, with 20: 45.4).
    reader_retrieval_weight: float = 20.0
    # The reader reads this many of the top_k passages (best first). 3 chose the same spans as 5 on the open dev
    # set for 40% less reading, but lost a seed answer; the default reads all 5 (docs/reader.md).
    reader_passages: int = 5
    # Larger files (or .jsonl lines) are refused with a clear error instead of taking hours to embed.
    max_file_mb: float = 20.0
    # Web pages and feeds are fetched only when a URL is named (`assistant ingest URL`, the Library tab): seconds
    # to wait for each answer, and for a whole page...
    fetch_timeout: float = 20.0
    # ...the largest page or feed read (a news page is well under 1 MB; the article text is extracted from it)...
    fetch_max_mb: float = 10.0
    # ...and the User-Agent sent.
    fetch_user_agent: str = "assistant/0.1 (news question answering; fetches only the URLs its user names)"
    # Whether the chat's Library tab may fetch URLs on loopback, private or link-local addresses. Off: any chat
    # client could otherwise have the server read pages of its own network into the index.
    chat_fetch_private: bool = False
    # How short answers are located in the chosen sentence: `spacy` named entities (measured +6 points
    # EM on SQuAD over `rules`, see README) with the rules as fallback and for dates, or `rules` alone.
    ner: str = "spacy"
    # Seconds between checks that a shared Chroma server has not changed under the lexical index.
    lexical_check_seconds: float = 5.0
    # BM25 writes go to a delta segment and tombstones, scored exactly at query time; once they exceed this
    # share of the base, one bm25s re-index folds them in. Larger: fewer re-indexes (seconds each at 100k
    # passages) but more query-time scoring; 0 re-indexes on every write.
    lexical_compact_share: float = 0.1
    # Seconds a writer waits for another process's write to the same embedded index.
    lock_timeout: float = 10.0
    # Chat server: `user:password` (several separated by commas), or a file of such lines. Required when
    # the chat binds a non-local host, because the index and uploads are then reachable from the network.
    auth: str = field(default="", repr=False)
    auth_file: str = ""
    # Uploaded files are copied here (empty: `<index_dir>/uploads`) so their sources stay readable.
    upload_dir: str = ""
    # Larger uploads are refused before they are stored: a browser can send anything. Above max_file_mb
    # because a .jsonl upload holds many articles (max_file_mb still applies to each of them).
    max_upload_mb: float = 100.0
    # Chat events served at once; the default of 1 would make every user wait for the previous question.
    ui_concurrency: int = 8
    # With a Chroma server, the write lock is a record there that its holder renews: seconds after which a
    # holder that stopped renewing (it crashed) is presumed dead and its lock may be taken.
    lock_lease: float = 30.0
    debug: bool = False
    # `assistant eval` keeps the indexes it builds here, keyed by corpus and indexing settings, so reruns are fast.
    eval_cache_dir: Path = Path("~/.cache/assistant/eval")
    # Who writes the answer: `extractive` (sentences of the articles, no model), `llamacpp` (a local GGUF
    # model in-process) or `openai` (any OpenAI-compatible chat server). Generated citations are always verified.
    backend: str = "extractive"
    # OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama) or http://127.0.0.1:8080/v1 (llama.cpp).
    llm_url: str = ""
    # The model name the server knows; llama.cpp servers accept any name.
    llm_model: str = "local"
    # Empty: OPENAI_API_KEY if set, else none (local servers need none).
    llm_api_key: str = ""
    # A GGUF file for `llamacpp`; empty means the packaged Qwen2.5-Coder-1.5B-Instruct (the `llm` extra).
    llm_path: str = ""
    # How a model answers: `reader` copies the shortest answer from the top candidate sentences and cites its
    # sentence (a few seconds on a CPU); `writer` writes a fluent answer from quotes, each verified.
    llm_mode: str = "reader"
    # Candidate sentences a reader sees: the extractive answer's, then the retrieved passages' in order.
    # Five kept a question near 4 s on 2 cores with the packaged model (docs/llm.md).
    llm_candidates: int = 5
    # Seconds to wait for the model's next piece of text before falling back to the extractive answer.
    llm_timeout: float = 120.0
    # Extra attempts when the server cannot be reached (connection errors, 5xx), with backoff.
    llm_retries: int = 1
    llm_max_tokens: int = 256
    # 0 = greedy: the same question gets the same answer.
    llm_temperature: float = 0.0
    # Context window of the local model, in tokens: the prompt holds `top_k` passages.
    llm_context: int = 4096
    # CPU threads for the local model; 0 means all cores.
    llm_threads: int = 0
    # Conversation turns (question + answer) the model sees when it rewrites a follow-up question.
    llm_history_turns: int = 3
    # A generated quote is accepted when it matches the source at least this well (rapidfuzz 0..100) after
    # normalizing case, white space and quote marks; it then cites the real source text, never the quote.
    quote_min_score: float = 90.0
    # Shorter quotes support nothing checkable ("the", "20"); they must be longer to count as evidence.
    quote_min_chars: int = 8

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.llm_mode not in LLM_MODES:
            raise ValueError(f"llm_mode {self.llm_mode!r} is not one of {', '.join(LLM_MODES)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `env` (default: `os.environ`), then `overrides` (None values are ignored)."""
        source = os.environ if env is None else env
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = source.get(f"ASSISTANT_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(hints[f.name], raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("index_dir", "cache_dir"):
            if name in values:
                values[name] = Path(values[name]).expanduser()
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def uploads(self) -> Path:
        """The folder uploaded files are saved in."""
        return Path(self.upload_dir).expanduser() if self.upload_dir else self.index_dir / "uploads"


def _parse(kind: Any, raw: str, name: str) -> Any:
    optional = [a for a in get_args(kind) if a is not type(None)]
    if len(optional) == 1:  # `float | None`: a value given is a float
        kind = optional[0]
    try:
        if kind is bool:
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind is Path:
            return Path(raw).expanduser()
        return kind(raw)
    except ValueError:
        raise ValueError(f"ASSISTANT_{name.upper()}={raw!r} is not a valid {getattr(kind, '__name__', kind)}") from None
