import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant, Filters
from assistant.app import QuestionError, sample_path
from assistant.models.embedder import model_path
from assistant.models.reader import get_reader
from assistant.models.spacy_pipeline import get_ner
from assistant.store import ModelMismatchError
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE, write

SEED = Path(__file__).resolve().parents[1] / "eval" / "seed_questions.jsonl"


def test_sample_question_cites_the_preference_sentence(sample_bot: Assistant) -> None:
    answer = sample_bot.ask(SAMPLE_QUESTION)
    assert not answer.abstained
    assert SAMPLE_SENTENCE in [c.text for c in answer.citations]
    assert answer.text.count("[1]") == 1


def test_every_citation_on_the_seed_questions_is_exact(sample_bot: Assistant) -> None:
    for line in SEED.read_text(encoding="utf-8").splitlines():
        answer = sample_bot.ask(json.loads(line)["question"])
        assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
        for c in answer.citations:
            assert sample_bot.document_text(c.doc_id)[c.start : c.end] == c.text
            assert c.source == str(sample_path())


def test_abstains_without_citations_when_the_text_cannot_answer(sample_bot: Assistant) -> None:
    answer = sample_bot.ask("What is the recipe for a good sourdough starter?")
    assert answer.abstained
    assert answer.citations == []
    assert answer.text.startswith("The articles do not say")


def test_filters_narrow_what_can_be_cited(sample_bot: Assistant) -> None:
    assert sample_bot.ask(SAMPLE_QUESTION, filters=Filters(date_from="2022-01-01", date_to="2022-01-31")).citations
    assert sample_bot.ask(SAMPLE_QUESTION, filters=Filters(date_from="2023-01-01")).abstained
    assert sample_bot.ask(SAMPLE_QUESTION, filters=Filters(sources=("/elsewhere.txt",))).abstained


def test_stream_yields_pieces_then_the_answer(sample_bot: Assistant) -> None:
    *pieces, answer = list(sample_bot.stream(SAMPLE_QUESTION))
    assert len(pieces) > 3 and "".join(pieces) == answer.text


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 100_000])
def test_bad_questions_are_clear_errors(sample_bot: Assistant, question: str) -> None:
    with pytest.raises(QuestionError):
        sample_bot.ask(question)


def test_langchain_retriever_carries_offsets(sample_bot: Assistant) -> None:
    docs = sample_bot.retriever.invoke(SAMPLE_QUESTION)
    assert docs and len(docs) <= sample_bot.settings.top_k
    for d in docs:
        meta = d.metadata
        assert set(meta) >= {"source", "doc_id", "start", "end", "score"}
        assert sample_bot.document_text(meta["doc_id"])[meta["start"] : meta["end"]] == d.page_content


def test_reingest_is_idempotent_and_changed_files_replace_their_passages(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    path = write(tmp_path / "news" / "a.txt", "The mayor opened a new bridge. It cost ten million euros.")
    write(tmp_path / "news" / "b.txt", "The river flooded the old town in spring.")
    first = bot.ingest([tmp_path / "news"])
    assert len(first.added) == 2 and first.ok
    counts = bot.stats()
    second = bot.ingest([tmp_path / "news"])
    assert second.added == [] and len(second.unchanged) == 2
    assert bot.stats() == counts

    path.write_text("The mayor closed the old bridge for repairs.", encoding="utf-8")
    third = bot.ingest([path])
    assert third.added == [str(path)]
    assert bot.stats()["documents"] == 2
    [doc] = bot.find(str(path))
    assert bot.document_text(doc.doc_id) == "The mayor closed the old bridge for repairs."
    cited = bot.ask("What did the mayor do to the bridge?")
    assert all("new bridge" not in p.passage.text for p in cited.passages)
    assert any("closed the old bridge" in c.text for c in cited.citations)


def test_delete_removes_a_document_completely(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    keep = write(tmp_path / "keep.txt", "Farmers protested fuel prices in the capital.")
    gone = write(tmp_path / "gone.txt", "The orchestra toured Japan in the autumn.")
    bot.ingest([keep, gone])
    assert bot.delete(str(gone)) == 1
    assert bot.stats()["documents"] == 1
    assert bot.find(str(gone)) == []
    assert all(p.passage.source != str(gone) for p in bot.retrieve("orchestra tour Japan", k=10))
    assert bot.delete(str(gone)) == 0


def test_a_failed_file_does_not_stop_the_others(make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    bot = make_assistant()
    good = write(tmp_path / "good.txt", "Rain is expected over the weekend.")
    bad = write(tmp_path / "bad.txt", b"\x00\x01\x02binary")
    report = bot.ingest([good, bad, tmp_path / "missing.md"])
    assert report.added == [str(good)]
    assert [s for s, _ in report.failed] == [str(bad), str(tmp_path / "missing.md")]
    assert not report.ok
    assert bot.stats() == {"documents": 1, "passages": 1}


def test_an_embedder_put_in_is_the_one_ingest_and_questions_use(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    real, seen = bot.embedder, []

    class Counting:
        name, backend, dimension = real.name, real.backend, real.dimension

        def encode(self, texts: list[str], batch_size: int = 64):
            seen.extend(texts)
            return real.encode(texts, batch_size=batch_size)

    bot.embedder = Counting()  # type: ignore[assignment]
    bot.ingest([write(tmp_path / "rain.txt", "Rain is expected over the weekend.")])
    bot.retrieve("When is rain expected?", k=1)
    assert "Rain is expected over the weekend." in seen and "When is rain expected?" in seen


def test_opening_an_index_with_another_model_is_a_clear_error(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    make_assistant().ingest([sample_path()])
    other = tmp_path / "other-model"
    shutil.copytree(model_path("all-MiniLM-L6-v2"), other)
    with pytest.raises(ModelMismatchError, match="built with embedding model 'all-MiniLM-L6-v2'"):
        make_assistant(model=str(other))


def test_control_characters_in_a_question_are_ignored(sample_bot: Assistant) -> None:
    answer = sample_bot.ask("why did Tokayev\x00 prefer\x1b[31m the CSTO?\x07")
    assert "\x00" not in answer.question and "\x1b" not in answer.question
    assert SAMPLE_SENTENCE in [c.text for c in answer.citations]


@pytest.mark.parametrize(
    ("reader", "ner", "readers", "ners"),
    [("packaged", "spacy", 1, 0), ("none", "spacy", 0, 1), ("none", "rules", 0, 0)],
)
def test_warm_up_loads_what_the_first_answer_needs(
    sample_bot: Assistant, reader: str, ner: str, readers: int, ners: int
) -> None:
    bot = Assistant(settings=sample_bot.settings.replace(reader=reader, ner=ner))
    get_ner.cache_clear()
    get_reader.cache_clear()
    bot.warm_up()
    assert (get_reader.cache_info().currsize, get_ner.cache_info().currsize) == (readers, ners)


def _open_files_and_threads() -> tuple[set[str], set[str]]:
    """What this process holds open: file descriptors (by what they point to) and live threads."""
    gc.collect()  # a memory-mapped file is released when its array is collected
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            fds.add(f"{fd} {os.readlink(f'/proc/self/fd/{fd}')}")
    return fds, {f"{t.name} {t.ident}" for t in threading.enumerate()}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc (Linux)")
def test_an_assistant_closes_everything_it_opened(tmp_path: Path) -> None:
    # The libraries' own once-per-process setup (model loading, Chroma's runtime) happens in a first one.
    with Assistant(index_dir=tmp_path / "warm") as warm:
        warm.ingest([sample_path()], progress=False)
        warm.ask(SAMPLE_QUESTION)
    before = _open_files_and_threads()
    with Assistant(index_dir=tmp_path / "index", retrieval_threads=2) as bot:
        bot.ingest([sample_path(), write(tmp_path / "page.html", "<p>The ferry to Osk sails twice a day.</p>")])
        assert SAMPLE_SENTENCE in [c.text for c in bot.ask(SAMPLE_QUESTION).citations]
        during = _open_files_and_threads()
        assert any(str(tmp_path / "index") in fd for fd in during[0])
    assert _open_files_and_threads() == before
    with pytest.raises(RuntimeError, match="this Assistant was closed"):
        bot.ask(SAMPLE_QUESTION)
    bot.close()  # twice is harmless


def test_opening_an_index_and_counting_it_loads_no_model(tmp_path: Path) -> None:
    Assistant(index_dir=tmp_path / "index").ingest([sample_path()], progress=False)
    script = (
        "import sys; from assistant import Assistant; bot = Assistant(index_dir=sys.argv[1]); print(bot.stats()); "
        "print(sorted(m for m in ('onnxruntime', 'torch', 'sentence_transformers', 'tokenizers', 'spacy') "
        "if m in sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "index")], capture_output=True, text=True, check=True
    )
    assert shown.stdout.splitlines() == ["{'documents': 1, 'passages': 15}", "[]"]
