"""Privacy: ingest, ask and chat start-up work with no network, and try no outbound connection."""

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.chat_server import REPO, running_chat
from tests.conftest import SAMPLE_QUESTION, SAMPLE_SENTENCE, write


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-n", "true"]).returncode == 0


# With `unshare -n` the process gets a network namespace with nothing but loopback, so even code the
# audit hook cannot see (native extensions) has no way out; the hook adds a record of any attempt.
NO_NETWORK = ["unshare", "-n"] if _unshare_works() else []


def offline(log: Path, *args: str, namespace: bool = True) -> list[str]:
    prefix = NO_NETWORK if namespace else []
    return [*prefix, sys.executable, str(REPO / "tests" / "offline_run.py"), str(log), "--", *args]


def test_the_guard_refuses_and_records_outbound_connections(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    probe = (
        "import socket, sys; sys.path.insert(0, '.'); from tests.offline_run import install; "
        f"install({str(log)!r}); "
        "socket.create_connection(('10.255.0.1', 80), timeout=1)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "network disabled for this test" in done.stderr
    assert "10.255.0.1" in log.read_text()


def test_ingest_and_ask_need_no_network(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    index = str(tmp_path / "index")
    article = write(tmp_path / "a.html", "<p>The port of Gdansk reopened after the storm.</p>")
    done = subprocess.run(offline(log, "ingest", str(article), "--index", index), cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(offline(log, "ask", SAMPLE_QUESTION, "--index", str(tmp_path / "sample"), "--json"),
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert SAMPLE_SENTENCE in done.stdout
    assert not log.exists(), log.read_text()


@pytest.mark.slow
def test_chat_starts_and_answers_with_no_outbound_connection(tmp_path: Path) -> None:
    # The test must reach the server, so it runs in this namespace with the audit hook alone.
    log = tmp_path / "net.log"

    def guarded(command: list[str]) -> list[str]:
        assert command[1:3] == ["-m", "assistant"]
        return offline(log, *command[3:], namespace=False)

    with running_chat(tmp_path / "index", wrap=guarded) as url:
        assert httpx.get(url + "/", timeout=10).status_code == 200
        answer = httpx.post(url + "/api/ask", json={"question": SAMPLE_QUESTION}, timeout=120)
        assert SAMPLE_SENTENCE in [c["text"] for c in answer.json()["citations"]]
    assert not log.exists(), log.read_text()
