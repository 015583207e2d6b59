import string

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.ingest.splitter import passage_windows, sentence_spans, split_document
from assistant.types import Document, Span

# Text with sentence punctuation, paragraph breaks, CRLF, accents, CJK, emoji and control characters.
alphabet = st.sampled_from(
    list(string.ascii_letters + "  ..!?,;:'\"-\n\r\t") + list("éüşğıÇ’“”—…中文😀\u00a0\u2029\x00\x0b")
)
texts = st.text(alphabet=alphabet, max_size=600)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_sentence_spans_are_exact_ordered_and_cover_all_text(text: str) -> None:
    spans = sentence_spans(text, max_chars=80)
    last = 0
    for span in spans:
        piece = text[span.start : span.end]
        assert piece and piece == piece.strip()
        assert span.start >= last
        assert span.end - span.start <= 80
        # Nothing but white space is skipped between sentences.
        assert not text[last : span.start].strip()
        last = span.end
    assert not text[last:].strip()


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=20, max_value=400), st.integers(min_value=0, max_value=2))
def test_passages_index_the_document_text(text: str, size: int, overlap: int) -> None:
    doc = Document("d", "src", text)
    sentences, passages = split_document(doc, size, overlap)
    for unit in [*sentences, *passages]:
        assert text[unit.start : unit.end] == unit.text
    for p in passages:
        assert all(text[a:b] in p.text for a, b in p.sentence_spans)
        assert p.sentence_spans[0][0] == p.start and p.sentence_spans[-1][1] == p.end
    # Every sentence is in some passage, and passages come in document order.
    covered = {span for p in passages for span in p.sentence_spans}
    assert covered == {(s.start, s.end) for s in sentences}
    assert [p.start for p in passages] == sorted(p.start for p in passages)


def test_sample_sentences_are_split_where_a_reader_would(sample_text: str) -> None:
    texts = [sample_text[s.start : s.end] for s in sentence_spans(sample_text)]
    assert "Tokayev preferred Russia over Turkey and has been purging Nazarbayev’s loyalists in key positions." in texts
    # "Oct. 25, 2015" is not a sentence end.
    assert any("on Oct. 25, 2015 after Turkey claimed" in t for t in texts)


def test_the_date_header_is_metadata_not_part_of_the_first_sentence(sample_text: str) -> None:
    sentences, passages = split_document(Document("d", "src", sample_text))
    assert sample_text.lstrip().startswith("date 2022-01-30 OPINION:")
    assert sentences[0].text.startswith("OPINION: Turkey and Russia’s differences")
    assert sentences[0].start == sample_text.index("OPINION")
    assert passages[0].start == sentences[0].start and sample_text[passages[0].start :].startswith(passages[0].text)


def test_windows_overlap_by_whole_sentences() -> None:
    spans = [Span(i * 10, i * 10 + 9) for i in range(10)]
    windows = passage_windows(spans, passage_chars=29, overlap=1)
    assert windows[0] == Span(0, 29)
    assert windows[1].start == 20  # the last sentence of the first window starts the next
    assert windows[-1].end == 99


def test_long_unpunctuated_text_is_cut_at_spaces() -> None:
    text = " ".join(["word"] * 1000)
    spans = sentence_spans(text, max_chars=100)
    assert len(spans) > 10
    assert all(text[s.start : s.end].startswith("word") and text[s.start : s.end].endswith("word") for s in spans)
