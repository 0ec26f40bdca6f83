"""A tiny server speaking the OpenAI API, for the OpenAI-compatible backend's tests.

It answers ``Echo from <model>: <last user text>``, word by word as server-sent events when
asked to stream, and reports usage. Special model names misbehave on purpose: ``broken``
answers 500, ``refuses`` 400, ``stalls`` sends one chunk then goes quiet; ``fail_next`` makes the
next N requests answer 503.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                return content
            return " ".join(p["text"] for p in content if p.get("type") == "text")
    return ""


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with owner.lock:
                    owner.requests.append((self.path, body))
                    failing = owner.fail_next > 0
                    owner.fail_next -= failing
                if failing or body.get("model") == "broken":
                    return self._json(503 if failing else 500, {"error": {"message": "down"}})
                if body.get("model") == "refuses":
                    return self._json(400, {"error": {"message": "context too long"}})
                if self.path == "/v1/embeddings":
                    return self._embeddings(body)
                if self.path == "/v1/chat/completions":
                    return self._chat(body)
                return self._json(404, {"error": {"message": "no such route"}})

            def _json(self, status: int, document: dict[str, Any]) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _chat(self, body: dict[str, Any]) -> None:
                words = f"Echo from {body['model']}: {_last_user_text(body['messages'])}".split(" ")
                limit = body.get("max_tokens") or len(words)
                finish = "length" if len(words) > limit else "stop"
                words = words[:limit]
                usage = {
                    "prompt_tokens": 11,
                    "completion_tokens": len(words),
                    "total_tokens": 11 + len(words),
                }
                if not body.get("stream"):
                    message = {"role": "assistant", "content": " ".join(words)}
                    return self._json(
                        200,
                        {
                            "id": "c1",
                            "object": "chat.completion",
                            "usage": usage,
                            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                        },
                    )
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for index, word in enumerate(words):
                    piece = word if index == 0 else " " + word
                    self._event(
                        {
                            "choices": [
                                {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                            ]
                        }
                    )
                    if body["model"] == "stalls":
                        time.sleep(3)
                        return
                self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event({"choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, document: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(document).encode() + b"\n\n")
                self.wfile.flush()

            def _embeddings(self, body: dict[str, Any]) -> None:
                digest = hashlib.sha256(body["input"].encode()).digest()
                vector = [b / 255 - 0.5 for b in digest[:8]]
                self._json(
                    200,
                    {"data": [{"embedding": vector, "index": 0}], "usage": {"prompt_tokens": 3}},
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, model: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, body in self.requests if body.get("model") == model]
