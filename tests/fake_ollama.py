"""A small real HTTP server speaking Ollama's /api/chat protocol (NDJSON streaming) and /api/show.

Tests point `llm_base_url` at it, so the real LlamaIndex `Ollama` client (and the `ollama` SDK under it,
which uses httpx) does the talking: request building, NDJSON parsing and HTTP errors are exercised for real.

    with FakeOllama(reply=lambda messages: "Answer [1].") as server:
        settings = Settings(llm_provider="ollama", llm_base_url=server.base_url)
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler

from tests.fake_http import LoopbackServer, Reply


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class FakeOllama(LoopbackServer):
    path_prefix = ""  # Ollama's base URL has no /v1

    def __init__(self, reply: str | Reply = "I cannot find this in the sources.", chunk_words: int = 1,
                 models: tuple[str, ...] = ("fake-model",)):
        self.models = models  # a request for any other model gets Ollama's 404 "model not found"
        super().__init__(reply, chunk_words)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # chunked NDJSON, as Ollama streams

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/") == "/api/tags":
                    return self._json({"models": [{"name": m, "model": m} for m in fake.models]})
                if self.path.rstrip("/") in ("", "/"):
                    return self._plain("Ollama is running")
                self._json({"error": "not found"}, 404)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                path = self.path.rstrip("/")
                if path == "/api/show":
                    if body.get("model") not in fake.models:
                        return self._json({"error": f"model '{body.get('model')}' not found"}, 404)
                    return self._json({"model_info": {"general.architecture": "fake", "fake.context_length": 8192},
                                       "details": {"family": "fake"}})
                if path != "/api/chat":
                    return self._json({"error": f"unknown path {self.path}"}, 404)
                fake.requests.append(body)
                model = body.get("model", "")
                if model not in fake.models:
                    return self._json({"error": f"model '{model}' not found, try pulling it first"}, 404)
                text = fake.text_for(body.get("messages", []))
                # Ollama streams unless the request says "stream": false.
                if body.get("stream", True):
                    return self._stream(text, model)
                self._json(self._final(model, {"role": "assistant", "content": text}))

            def _final(self, model: str, message: dict) -> dict:
                return {"model": model, "created_at": _now(), "message": message, "done": True,
                        "done_reason": "stop", "total_duration": 1000, "load_duration": 10,
                        "prompt_eval_count": 10, "prompt_eval_duration": 100, "eval_count": 5,
                        "eval_duration": 500}

            def _stream(self, text: str, model: str):
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                groups = fake.chunks(text)
                for g in groups:
                    self._line({"model": model, "created_at": _now(),
                                "message": {"role": "assistant", "content": g}, "done": False})
                self._line(self._final(model, {"role": "assistant", "content": ""}))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _line(self, obj: dict):
                data = json.dumps(obj).encode() + b"\n"
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _json(self, obj: dict, status: int = 200):
                self._send(json.dumps(obj).encode(), "application/json", status)

            def _plain(self, text: str):
                self._send(text.encode(), "text/plain", 200)

            def _send(self, data: bytes, ctype: str, status: int):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
