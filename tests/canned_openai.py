"""A scripted OpenAI-compatible chat server on 127.0.0.1 for tests: a real HTTP server whose replies the test
chooses (a stand-in for a strong model, whose output a tiny local model cannot produce on demand)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[list[dict[str, str]]], str]


class CannedChatServer:
    """Serves `/v1/chat/completions` (streamed or not) with `reply(messages)`; `status` other than 200 fails."""

    def __init__(self, reply: Reply, status: int = 200) -> None:
        self.reply, self.status = reply, status
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                canned.requests.append(body)
                if canned.status != 200 or not self.path.endswith("/chat/completions"):
                    self.send_error(canned.status if canned.status != 200 else 404)
                    return
                text = canned.reply(body["messages"])
                if body.get("stream"):
                    self._stream(text)
                else:
                    self._json(
                        {
                            "id": "c",
                            "object": "chat.completion",
                            "created": 0,
                            "model": "canned",
                            "choices": [
                                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                            ],
                        }
                    )

            def _json(self, obj: dict[str, Any]) -> None:
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in re.findall(r"\S+\s*", text)]
                for i, delta in enumerate(deltas):
                    chunk = {
                        "id": "c",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "canned",
                        "choices": [
                            {"index": 0, "delta": delta, "finish_reason": "stop" if i == len(deltas) - 1 else None}
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        return Handler
