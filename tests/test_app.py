from assistant import Assistant

from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE


def test_sample_question_cites_the_preference_sentence(sample_bot: Assistant) -> None:
    answer = sample_bot.ask(SAMPLE_QUESTION)
    assert not answer.abstained
    assert SAMPLE_SENTENCE in [c.text for c in answer.citations]
    for c in answer.citations:
        assert sample_bot.document_text(c.doc_id)[c.start : c.end] == c.text
