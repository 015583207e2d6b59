"""A real OpenAI-compatible server for tests: llama.cpp (xllamacpp) serving the packaged GGUF on 127.0.0.1.

Run as `python -m tests.openai_server`: prints its base URL (`http://127.0.0.1:PORT/v1`) on the first line,
then serves until it is terminated or its standard input closes.
"""

from __future__ import annotations

import sys

from assistant.models.gguf import get_llama_server


def main() -> None:
    server = get_llama_server()
    print(f"{server.listening_address}/v1", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)


if __name__ == "__main__":
    main()
