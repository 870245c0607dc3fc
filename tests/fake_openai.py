"""A small real HTTP server speaking the OpenAI chat-completions protocol, SSE streaming included.

Tests point `llm_base_url` at it, so the real LlamaIndex `OpenAILike` client (and the `openai` SDK under
it) does the talking: request building, SSE parsing and errors are exercised for real.

    with FakeOpenAI(reply=lambda messages: "Answer [1].") as server:
        settings = Settings(llm_provider="openai", llm_base_url=server.base_url)
"""
from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

from tests.fake_http import LoopbackServer


class FakeOpenAI(LoopbackServer):
    path_prefix = "/v1"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                else:
                    self._json({"error": {"message": "not found"}}, 404)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._json({"error": {"message": f"unknown path {self.path}"}}, 404)
                text = fake.text_for(body.get("messages", []))
                model = body.get("model", "fake-model")
                if body.get("stream"):
                    return self._stream(text, model)
                self._json({
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                })

            def _stream(self, text: str, model: str):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                groups = fake.chunks(text)
                first = True
                for g in groups:
                    delta = {"role": "assistant", "content": g} if first else {"content": g}
                    first = False
                    self._event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                self._event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, obj: dict):
                self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
                self.wfile.flush()

            def _json(self, obj: dict, status: int = 200):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
