"""Conversations: follow-ups are rewritten into stand-alone questions before retrieval."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.answer import Answerer
from assistant.chat import ChatSession, rule_rewrite
from assistant.config import Settings
from assistant.llm import build_llm

from .answer_fixtures import embedder, retrieve
from .fake_openai import FakeOpenAI

FIRST = "What did Hegseth say about NATO?"


@pytest.mark.parametrize("follow_up,expected", [
    ("and what did Zelensky say?", "What did Zelensky say about NATO?"),
    ("what about Trump?", "What did Trump say about NATO?"),
    ("What did he say about US troops?", "What did Hegseth say about US troops?"),
    ("what about him?", FIRST),
    ("What did Healey say about the ceasefire?", "What did Healey say about the ceasefire?"),  # stand-alone
])
def test_rule_based_rewrite(follow_up, expected):
    assert rule_rewrite(follow_up, [FIRST]) == expected


def test_first_question_is_not_rewritten():
    assert rule_rewrite("and what did Zelensky say?", []) == "and what did Zelensky say?"


class _Stub:
    """The slice of Assistant a ChatSession uses; retrieval over the bundled articles, recorded."""

    def __init__(self, llm=None):
        s = Settings()
        self.settings = s
        self.answerer = Answerer(s, embedder(), llm=llm)
        self.queries: list[str] = []

    def search(self, query, k=5, **filters):
        self.queries.append(query)
        return retrieve(query, k=k)


def test_chat_without_llm_retrieves_with_the_rewritten_question():
    a = _Stub()
    chat = ChatSession(a)
    first = chat.ask(FIRST)
    assert first.answered and first.standalone_question is None
    second = chat.ask("and what did Trump say?")
    assert a.queries[-1] == "What did Trump say about NATO?"
    assert second.standalone_question == "What did Trump say about NATO?"
    assert second.question == "and what did Trump say?"
    assert [q for q, _ in chat.history] == [FIRST, "and what did Trump say?"]


def test_chat_streaming_records_the_answer():
    chat = ChatSession(_Stub())
    chat.ask(FIRST)
    stream = chat.ask_stream("what about Trump?")
    text = "".join(stream)
    assert stream.answer.text == text and stream.answer.standalone_question == "What did Trump say about NATO?"
    assert len(chat.history) == 2


def test_chat_with_llm_condenses_through_the_prompt():
    def reply(messages):
        prompt = messages[-1]["content"]
        if "Stand-alone question" in prompt:
            assert FIRST in prompt and "what did the other side say" in prompt
            return "What did Putin say about NATO?"
        return "I cannot find this in the sources."

    with FakeOpenAI(reply) as server:
        s = Settings(llm_provider="openai", llm_base_url=server.base_url, llm_timeout=10)
        a = _Stub(llm=build_llm(s))
        chat = ChatSession(a)
        chat.ask(FIRST)
        ans = chat.ask("what did the other side say")
    assert a.queries[-1] == "What did Putin say about NATO?"
    assert ans.standalone_question == "What did Putin say about NATO?"
