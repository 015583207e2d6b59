"""Run the `assistant` command with every connection that leaves the machine refused and recorded.

Used by tests/test_offline.py: `python tests/offline_run.py LOG -- ARGS...`.
"""

from __future__ import annotations

import sys
from typing import Any

LOOPBACK = {"localhost", "::1", "0.0.0.0", ""}


def _is_local(host: Any) -> bool:
    host = host.decode() if isinstance(host, bytes) else str(host)
    return host in LOOPBACK or host.startswith("127.")


def install(log_path: str) -> None:
    """From now on, refuse (and append to `log_path`) every lookup or connection that leaves the machine."""

    def refuse(what: str) -> None:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(what + "\n")
        raise OSError(f"network disabled for this test: {what}")

    def hook(event: str, hook_args: tuple[Any, ...]) -> None:
        if event == "socket.connect":
            address = hook_args[1]
            # Unix sockets (a path) are local by nature; inet addresses are (host, port, ...).
            if isinstance(address, tuple) and not _is_local(address[0]):
                refuse(f"connect {address[0]}:{address[1]}")
        elif (
            event in {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}
            and hook_args
            and hook_args[0] is not None
            and not _is_local(hook_args[0])
        ):
            refuse(f"{event} {hook_args[0]!r}")

    sys.addaudithook(hook)


def main() -> None:
    log_path, args = sys.argv[1], sys.argv[3:]
    install(log_path)
    from assistant.cli import main as cli

    sys.argv = ["assistant", *args]
    cli()


if __name__ == "__main__":
    main()
