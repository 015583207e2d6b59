from assistant.render import answer_html, context_bounds, draft_html, file_name, highlighted, sources_html, text_html
from assistant.types import Answer, Citation, Passage, ScoredPassage

HOSTILE = "<script>alert(1)</script> and <img src=x onerror=alert(1)> [link](javascript:alert(1)) *bold*"
DOC = "Intro. " + HOSTILE + " The end."


def _answer(text: str, citations: list[Citation], passages: list[ScoredPassage] | None = None) -> Answer:
    return Answer("q", text, abstained=False, citations=citations, passages=passages or [])


def _citation(n: int, start: int, end: int) -> Citation:
    return Citation(n, "/data/a.txt", "d1", start, end, DOC[start:end])


def test_text_html_leaves_no_markup_characters() -> None:
    out = text_html(HOSTILE)
    for char in "<>[]()*&\"'":
        assert char not in out.replace("&#", "")  # only our numeric entities remain
    assert "&#60;script&#62;" in out


def test_markers_link_only_real_citations() -> None:
    c = _citation(1, 7, 20)
    out = answer_html(_answer(f"{c.text} [1] and [7]", [c]), turn=2)
    assert out.count('class="cite-marker"') == 1
    assert 'href="#src-2-1"' in out
    assert "&#91;7&#93;" in out  # a number that is not a citation stays plain text


def _prize_answer(margin: float | None) -> Answer:
    doc = "Intro. The prize went to Anna Varga of Lyon. The end."
    start = doc.index("The prize")
    c = Citation(
        1,
        "/data/a.txt",
        "d1",
        start,
        start + len("The prize went to Anna Varga of Lyon."),
        "The prize went to Anna Varga of Lyon.",
    )
    answer = _answer("The prize went to Anna Varga of Lyon [1].", [c])
    answer.short_answer, answer.short_span = "Anna Varga", (doc.index("Anna"), doc.index(" of Lyon"))
    answer.margin = margin
    return answer


def test_the_short_answer_stands_out_inside_its_sentence() -> None:
    answer = _prize_answer(margin=5.0)
    out = answer_html(answer, turn=0, bold_min_margin=4.0)
    assert '<strong class="short-answer" title="the short answer">Anna Varga</strong>' in out
    assert out.startswith("The prize went to <strong") and 'href="#src-0-1"' in out
    # A span that is not inside citation [1] is not shown.
    answer.short_span = (0, 5)
    assert "short-answer" not in answer_html(answer, turn=0, bold_min_margin=4.0)


def test_the_short_answer_is_bold_only_when_the_reader_is_confident() -> None:
    plain = "The prize went to Anna Varga of Lyon [1]."
    assert "short-answer" in answer_html(_prize_answer(margin=4.0), turn=0, bold_min_margin=4.0)  # at the threshold
    for margin, threshold in [(3.9, 4.0), (None, 4.0), (9.0, None)]:  # below it; no margin; no threshold
        out = answer_html(_prize_answer(margin), turn=0, bold_min_margin=threshold)
        assert "<strong" not in out
        assert out == answer_html(_answer(plain, _prize_answer(None).citations), turn=0)  # the answer, unemphasized


def test_a_follow_up_shows_how_it_was_read() -> None:
    c = _citation(1, 0, 6)
    answer = _answer(f"{c.text} [1]", [c])
    answer.question, answer.resolved_question = "Why did he go?", "Why did <b>Kowal</b> go?"
    out = answer_html(answer, turn=0)
    assert out.startswith('<div class="resolved">Read as: Why did &#60;b&#62;Kowal&#60;/b&#62; go?</div>')
    answer.resolved_question = None
    assert "Read as" not in answer_html(answer, turn=0)


def test_abstention_is_marked() -> None:
    out = answer_html(Answer("q", "The articles do not say.", abstained=True), turn=0)
    assert out == '<span class="abstained">The articles do not say.</span>'
    # The label says it once; the reason follows.
    out = answer_html(Answer("q", "The articles do not say. None of them mentions <Biden>.", abstained=True), 0)
    reason = text_html("None of them mentions <Biden>.")
    assert out == f'<span class="abstained">The articles do not say.</span> {reason}'
    assert "&#60;Biden&#62;" in out
    # A model's own words of abstention are kept whole.
    assert out.startswith('<span class="abstained">') and text_html("I cannot tell.") in answer_html(
        Answer("q", "I cannot tell.", abstained=True), turn=0
    )


def test_highlight_escapes_and_marks_exactly_the_span() -> None:
    start = DOC.index("<img")
    end = DOC.index(">", start) + 1
    out = highlighted(DOC, start, end, (0, len(DOC)))
    assert out.count("<mark>") == 1
    inner = out.split("<mark>")[1].split("</mark>")[0]
    assert "<" not in inner and inner == text_html(DOC[start:end])
    assert "<script" not in out and "<img" not in out


def test_context_is_the_passage_containing_the_span_else_a_window() -> None:
    c = _citation(1, 7, 20)
    inside = ScoredPassage(Passage("d1", "/data/a.txt", 0, 40, DOC[0:40]), 0.9)
    elsewhere = ScoredPassage(Passage("d2", "/data/b.txt", 0, 40, "x" * 40), 0.9)
    assert context_bounds(c, [elsewhere, inside], len(DOC)) == (0, 40)
    assert context_bounds(c, [elsewhere], len(DOC)) == (0, len(DOC))


def test_sources_panel_shows_each_citation_with_escaped_metadata() -> None:
    start = DOC.index("<script>")
    c = _citation(1, start, start + len("<script>alert(1)</script>"))
    html = sources_html(
        _answer(f"{c.text} [1]", [c]), 0, lambda _: DOC, lambda _: {"title": "<b>T</b>", "date": "2024-01-02"}
    )
    assert 'id="src-0-1"' in html
    assert "<b>T</b>" not in html and "<script>" not in html
    assert "2024&#45;01&#45;02" in html


def test_sources_panel_for_an_abstention_lists_the_closest_passages() -> None:
    p = ScoredPassage(Passage("d1", "/data/a.txt", 0, 6, DOC[:6]), 0.2)
    html = sources_html(Answer("q", "no", abstained=True, passages=[p]), 0, lambda _: DOC, lambda _: {})
    assert "Nothing in the articles supports an answer" in html and "Intro" in html


def test_sources_panel_says_when_no_article_matches_the_filters() -> None:
    answer = Answer("q", "The articles do not say.", abstained=True, no_matching_articles=True)
    html = sources_html(answer, 0, lambda _: DOC, lambda _: {})
    assert "No article matches the filters" in html and "Nothing in the articles supports" not in html


def test_file_name_keeps_jsonl_line() -> None:
    assert file_name("/x/y/news.jsonl#12") == "news.jsonl#12"
    assert file_name("/x/y/a.txt") == "a.txt"


def test_unsupported_sentences_are_set_apart_and_escaped() -> None:
    c = _citation(1, 0, 6)
    hostile_claim = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) cost *two* billion."
    text = f"Intro. [1] {hostile_claim} [unsupported] The end [2] [unsupported]"
    answer = _answer(text, [c])
    answer.backend = "llamacpp"
    answer.unsupported = [hostile_claim, "The end [2]"]
    out = answer_html(answer, turn=0)
    assert out.count('class="unsupported"') == 2 and out.count('class="unsupported-label">unsupported<') == 2
    assert out.count('class="cite-marker"') == 1  # "[2]" inside an unsupported sentence links nowhere
    assert f'<span class="unsupported" title="No source was found for this sentence">{text_html(hostile_claim)} ' in out
    assert "[unsupported]" not in out and "<img" not in out and "javascript:" not in out
    assert 'class="backend">written by llamacpp<' in out


def test_a_literal_unsupported_mark_not_listed_stays_plain_text() -> None:
    out = answer_html(_answer("The sign read [unsupported] all day.", []), turn=0)
    assert 'class="unsupported"' not in out and "&#91;unsupported&#93;" in out


def test_the_note_is_shown_with_the_answer_escaped() -> None:
    note = "the model server at http://x/<script>alert(1)</script> did not answer; showing the extractive answer"
    answer = _answer("Intro.", [])
    answer.note = note
    out = answer_html(answer, turn=0)
    assert f'<div class="answer-note">Note: {text_html(note)}</div>' in out
    assert "<script" not in out and 'class="backend"' not in out  # extractive answers carry no badge
    abstained = Answer("q", "The articles do not say.", abstained=True, note="the model was not asked <b>")
    assert 'class="answer-note">Note: the model was not asked &#60;b&#62;<' in answer_html(abstained, turn=1)


def test_a_draft_is_labelled_and_escaped() -> None:
    out = draft_html("It opened [3] <b>1987</b>")
    assert out.startswith('<span class="draft-label">draft, not yet verified</span>')
    assert "<b>" not in out and "&#91;3&#93;" in out
