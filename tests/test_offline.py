"""Privacy: ingest, ask and chat start-up work with no network, and try no outbound connection.

Two guards watch: an audit hook sees what Python code tries, and strace sees every connect() and sendto() of
the process and its threads, native libraries included (ONNX Runtime's telemetry looked up its host from C++).
"""

import re
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


# A socket address that leaves the machine in strace's output: an inet address other than loopback (a DNS
# query to the resolver is one), or the name-service cache daemon (which looks hosts up for its clients).
_INET = re.compile(r'sa_family=AF_INET6?, .*?(?:inet_addr|inet_pton\(AF_INET6?, )\("([^"]+)"')
_NSCD = "/var/run/nscd/socket"


def traced(log: Path, command: list[str], namespace: bool = True) -> list[str]:
    """`command` with no network (when `namespace`) under strace, which appends what it sees to log.strace."""
    prefix = NO_NETWORK if namespace else []
    return [*prefix, "strace", "-f", "-qq", "-A", "-e", "trace=connect,sendto,sendmsg", "-o", f"{log}.strace", *command]


def offline(log: Path, *args: str, namespace: bool = True) -> list[str]:
    """`assistant ARGS` under the audit hook (which records attempts in `log`) and strace."""
    return traced(log, [sys.executable, str(REPO / "tests" / "offline_run.py"), str(log), "--", *args], namespace)


def outbound(log: Path) -> list[str]:
    """The system calls strace saw that address something off this machine."""
    calls = Path(f"{log}.strace").read_text(encoding="utf-8", errors="replace").splitlines()
    found = []
    for call in calls:
        address = _INET.search(call)
        if (address and not address.group(1).startswith("127.") and address.group(1) != "::1") or _NSCD in call:
            found.append(call)
    return found


def test_strace_sees_a_lookup_made_by_native_code(tmp_path: Path) -> None:
    """The guard itself: a C library lookup (libc's getaddrinfo through ctypes, which no audit hook sees)."""
    log = tmp_path / "net.log"
    probe = "import ctypes, ctypes.util; ctypes.CDLL(ctypes.util.find_library('c')).gethostbyname(b'example.org')"
    subprocess.run(traced(log, [sys.executable, "-c", probe]), cwd=REPO, capture_output=True, timeout=60)
    assert outbound(log), "strace saw no lookup: the guard would miss native code"


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
    done = subprocess.run(
        offline(log, "ingest", str(article), "--index", index), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        offline(log, "ask", SAMPLE_QUESTION, "--index", str(tmp_path / "sample"), "--json"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert SAMPLE_SENTENCE in done.stdout
    assert not log.exists(), log.read_text()
    assert outbound(log) == []


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
    assert outbound(log) == []
