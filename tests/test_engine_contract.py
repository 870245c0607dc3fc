"""One contract suite run against every answer engine (extractive; LLM over a real HTTP server speaking
the OpenAI protocol). What every engine must do, whatever it is: cite only retrieved paragraphs that
say what the sentence claims, stream exactly the final text, refuse plainly when nothing answers."""
from __future__ import annotations

import re

import pytest

from assistant.answer import NOT_FOUND, AnswerEngine, Answerer
from assistant.answer_eval import citation_supported
from assistant.config import Settings
from assistant.llm import build_llm

from .answer_fixtures import corpus, embedder, retrieve
from .fake_openai import FakeOpenAI

Q = "What did Hegseth say about NATO?"
NATO = "does not believe that NATO membership"


def _quoting_reply(messages):
    """A well-behaved model: quotes the paragraph holding the answer, cited by its number."""
    system = messages[0]["content"]
    for m in re.finditer(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', system, re.S):
        if NATO in m.group(2):
            sent = next(s for s in re.split(r"(?<=[.!?])\s+", m.group(2)) if NATO in s)
            return f"Hegseth said: \u201c{sent.strip().rstrip('.')}\u201d [{m.group(1)}]."
    return "I cannot find this in the sources."


@pytest.fixture(params=["extractive", "llm"])
def engine(request):
    if request.param == "extractive":
        yield Answerer(Settings(), embedder()).get("extractive")
        return
    with FakeOpenAI(_quoting_reply) as server:
        s = Settings(llm_provider="openai", llm_base_url=server.base_url, llm_model="fake", llm_timeout=10)
        yield Answerer(s, embedder(), llm=build_llm(s)).get("llm")


def _passages():
    return retrieve(Q, k=4) + [p for p in corpus() if NATO in p.text]


def test_it_is_an_engine(engine):
    assert isinstance(engine, AnswerEngine) and engine.name in ("extractive", "llm")


def test_every_citation_is_a_retrieved_paragraph_that_supports_its_sentence(engine):
    ps = _passages()
    ans = engine.answer(Q, ps)
    assert ans.answered and ans.engine == engine.name and ans.citations
    ids = {p.id for p in ps}
    for c in ans.citations:
        assert c.passage.id in ids
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", ans.text)}
    assert numbers == {c.number for c in ans.citations}
    from assistant.answer_eval import cited_pairs

    for sentence, passage in cited_pairs(ans):
        assert citation_supported(sentence, passage, engine.checker), sentence


def test_the_stream_is_the_final_answer(engine):
    stream = engine.stream(Q, _passages())
    chunks = list(stream)
    assert "".join(chunks).endswith(stream.answer.text)


def test_no_passages_is_a_plain_refusal(engine):
    ans = engine.answer(Q, [])
    assert not ans.answered and ans.text == NOT_FOUND and not ans.citations


def test_an_unknown_engine_is_a_clear_error():
    from assistant.errors import QuestionError

    with pytest.raises(QuestionError, match="available: extractive"):
        Answerer(Settings(), embedder()).get("gpt")
