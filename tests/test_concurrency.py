"""One writer ingesting and deleting while four threads ask: no errors, exact citations, right counts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from assistant import Assistant
from assistant.app import sample_path
from tests.conftest import SAMPLE_QUESTION, write

QUESTIONS = [SAMPLE_QUESTION, "Who mediated between Erdogan and Putin?", "How many ships did the port of Kell handle?"]


def test_readers_see_a_consistent_index_while_a_writer_works(
    make_assistant: Callable[..., Assistant], tmp_path: Path
) -> None:
    bot = make_assistant()
    bot.ingest([sample_path()], progress=False)
    # Each article's text by source, kept here: a cited article may be deleted before its citation is checked.
    texts = {str(sample_path()): sample_path().read_text(encoding="utf-8")}
    errors: list[BaseException] = []
    done = threading.Event()
    asked = [0] * 4

    def writer() -> None:
        try:
            for i in range(6):
                text = f"The port of Kell handled {100 + i} ships in week {i}."
                port = write(tmp_path / "news" / f"port-{i}.txt", text)
                texts[str(port)] = text
                assert bot.ingest([port], progress=False).ok
                if i % 2:
                    assert bot.delete(str(port)) == 1
        except BaseException as e:  # noqa: BLE001 (reported by the test)
            errors.append(e)
        finally:
            done.set()

    def reader(n: int) -> None:
        try:
            while not done.is_set() or asked[n] < 3:
                answer = bot.ask(QUESTIONS[(n + asked[n]) % len(QUESTIONS)])
                for c in answer.citations:
                    assert texts[c.source][c.start : c.end] == c.text
                asked[n] += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert min(asked) >= 3
    # The sample, and the three port articles that were not deleted (weeks 0, 2 and 4).
    assert bot.stats()["documents"] == 4
    names = sorted(Path(d.source).name for d in bot.documents())
    assert names == ["000_d4614d5e4eabd9fe.txt", "port-0.txt", "port-2.txt", "port-4.txt"]
    assert len(bot.lexical) == bot.stats()["passages"]
    answer = bot.ask("How many ships did the port of Kell handle in week 4?")
    assert "104 ships" in answer.citations[0].text
