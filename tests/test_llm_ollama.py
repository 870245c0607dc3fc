"""The generative engine through the real LlamaIndex `Ollama` client, against a real HTTP server speaking
Ollama's /api/chat NDJSON protocol (tests/fake_ollama.py)."""
from __future__ import annotations

import re

import pytest

from assistant.answer import NOT_FOUND, Answerer
from assistant.config import Settings
from assistant.errors import LLMError
from assistant.llm import build_llm

from .answer_fixtures import DOCUMENTS, corpus, embedder, retrieve
from .fake_ollama import FakeOllama
from .fake_http import source_number

Q = "What did Hegseth say about NATO?"
QUOTE = "does not believe that NATO membership"


def _reply(messages):
    n = source_number(messages, QUOTE)
    return (f"Hegseth said the United States does not believe NATO membership for Ukraine is a realistic "
            f"outcome of a negotiated settlement [{n}]. Hegseth also said Ukraine will join NATO in 2026 [{n}]. "
            f"He spoke before a meeting of the Ukraine Defence Contact Group [{n}][17].")


def _answerer(server: FakeOllama, model: str = "fake-model") -> Answerer:
    s = Settings(llm_provider="ollama", llm_base_url=server.base_url, llm_model=model, llm_timeout=10)
    return Answerer(s, embedder(), llm=build_llm(s))


def _passages():
    return retrieve(Q, k=3) + [p for p in corpus() if QUOTE in p.text]


def test_ollama_answer_is_streamed_checked_and_renumbered():
    with FakeOllama(_reply) as server:
        stream = _answerer(server).stream(Q, _passages())
        chunks = list(stream)
        body = server.requests[-1]
    ans = stream.answer
    # The real client streamed from /api/chat with our numbered-sources prompt and the question.
    assert body["stream"] is True and body["model"] == "fake-model"
    assert body["messages"][0]["role"] == "system" and "<source id=" in body["messages"][0]["content"]
    assert body["messages"][-1]["content"] == f"Question: {Q}"
    assert ans.engine == "llm" and ans.answered
    assert "".join(chunks) == ans.text and len(chunks) == 2  # one chunk per verified sentence
    assert "2026" not in ans.text and any("2026" in d for d in ans.dropped)  # unsupported: dropped
    assert re.findall(r"\[(\d+)\]", ans.text) == ["1", "1"] and QUOTE in ans.citations[0].text


def test_ollama_refusal_becomes_not_found_with_related_paragraphs():
    with FakeOllama("I cannot find this in the provided sources.") as server:
        ans = _answerer(server).answer("What did Xi Jinping say about the summit?", retrieve("Xi Jinping summit"))
    assert not ans.answered and ans.text == NOT_FOUND and ans.related


def test_an_ollama_model_that_is_not_pulled_is_one_clear_error():
    with FakeOllama(_reply) as server:
        with pytest.raises(LLMError, match="ASSISTANT_LLM_MODEL"):
            _answerer(server, model="missing-model").answer(Q, _passages())


def test_ollama_streamed_and_plain_answers_are_the_same_answer():
    with FakeOllama(_reply, chunk_words=3) as server:
        a = _answerer(server)
        stream = a.stream(Q, _passages())
        list(stream)
        plain = a.answer(Q, _passages())
    assert stream.answer == plain


def test_assistant_streams_a_cited_answer_from_ollama(built_assistant):
    """End to end: the Assistant's own settings pick the Ollama client; retrieval, prompt, streaming,
    the citation check and renumbering all run for real."""
    from assistant import Assistant

    def reply(messages):
        system = messages[0]["content"]
        # Cite whichever retrieved paragraph holds the quote, as a model would.
        for m in re.finditer(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', system, re.S):
            if "NATO membership" in m.group(2) or "Nato membership" in m.group(2):
                return (f"Hegseth ruled out NATO membership for Kyiv as a realistic outcome [{m.group(1)}]. "
                        "Hegseth resigned in protest [99].")
        return "I cannot find this in the sources."

    with FakeOllama(reply) as server:
        a = Assistant(documents_dir=DOCUMENTS, index_dir=built_assistant.settings.index_dir,
                      llm_provider="ollama", llm_base_url=server.base_url, llm_model="fake-model", llm_timeout=10)
        assert a.answerer.engine == "llm"
        stream = a.ask_stream(Q)
        chunks = list(stream)
        assert server.requests and server.requests[-1]["stream"] is True
    ans = stream.answer
    assert ans.answered and ans.engine == "llm"
    assert "".join(chunks) == ans.text
    assert "resigned" not in ans.text  # [99] cites nothing retrieved: the sentence is dropped
    assert ans.text.endswith("[1].") and len(ans.citations) == 1
    assert "membership" in ans.citations[0].text.lower() and ans.citations[0].outlet
