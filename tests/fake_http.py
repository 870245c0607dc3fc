"""What the fake LLM servers share: a threaded HTTP server on a free 127.0.0.1 port, used as a context
manager, answering with a fixed text or a function of the chat messages."""
from __future__ import annotations

import re
import threading
from http.server import ThreadingHTTPServer
from typing import Callable

Reply = Callable[[list[dict]], str]


class LoopbackServer:
    path_prefix = ""  # what the client's base URL carries after host:port (e.g. "/v1")

    def __init__(self, reply: str | Reply = "I cannot find this in the sources.", chunk_words: int = 1):
        self.reply = reply
        self.chunk_words = chunk_words
        self.requests: list[dict] = []  # every JSON body received, in order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path_prefix}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def text_for(self, messages: list[dict]) -> str:
        return self.reply(messages) if callable(self.reply) else self.reply

    def chunks(self, text: str) -> list[str]:
        """The reply cut into streamed pieces of `chunk_words` words (whitespace kept)."""
        pieces = re.findall(r"\S+\s*|\s+", text)
        return ["".join(pieces[i:i + self.chunk_words]) for i in range(0, len(pieces), self.chunk_words)]

    def _handler(self):  # pragma: no cover - each protocol defines its own
        raise NotImplementedError


def source_number(messages: list[dict], snippet: str) -> int:
    """The [n] the answer prompt gave the source paragraph containing `snippet`."""
    system = messages[0]["content"]
    for m in re.finditer(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', system, re.S):
        if snippet in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"{snippet!r} not among the sources")
