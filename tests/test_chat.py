"""Conversations: follow-ups are rewritten into stand-alone questions before retrieval."""
from __future__ import annotations


import pytest

from assistant.answer import Answerer
from assistant.chat import ChatSession, is_follow_up, rule_rewrite
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


# ---------------------------------------------------------------- complete questions go as typed

PREVIOUS = [
    FIRST,
    "Where did Trump and Putin meet?",
    "How much did Apple earn in the quarter?",
    "Who won the Champions League final?",
    "What did NASA find on Mars?",
    "Did Apple beat forecasts?",
]
COMPLETE = [
    "Where did Trump and Putin meet?",  # the reported bug: it became "... meet about NATO?"
    "What did Hegseth say about NATO?",
    "What did Trump say?",
    "How much did Apple earn in the quarter?",
    "What did Tim Cook say about the iPhone?",
    "Who won the Champions League final?",
    "How many goals did Haaland score against Real Madrid?",
    "What did NASA find on Mars?",
    "Is there water on Europa?",
    "What did Peter Higgs say about the Higgs boson?",
    "Who said that prices would rise?",
    "What is inflation?",
]


@pytest.mark.parametrize("previous", PREVIOUS)
@pytest.mark.parametrize("question", COMPLETE)
def test_a_complete_question_is_sent_exactly_as_typed(question, previous):
    assert not is_follow_up(question, [previous])
    assert rule_rewrite(question, [previous]) == question


def test_reported_bug_a_new_question_after_a_topic_keeps_its_own_words():
    assert rule_rewrite("Where did Trump and Putin meet?", [FIRST]) == "Where did Trump and Putin meet?"


# ---------------------------------------------------------------- follow-ups are made stand-alone

@pytest.mark.parametrize("previous,follow_up,expected", [
    # politics
    (FIRST, "and what did Zelensky say?", "What did Zelensky say about NATO?"),
    (FIRST, "what about Putin?", "What did Putin say about NATO?"),
    (FIRST, "what did he say about troops?", "What did Hegseth say about troops?"),
    (FIRST, "What did he say?", "What did Hegseth say about NATO?"),
    (FIRST, "what did Putin say about that?", "What did Putin say about NATO?"),
    (FIRST, "why?", "Why did Hegseth say that about NATO?"),
    (FIRST, "and when?", "When did Hegseth say that about NATO?"),
    (FIRST, "Why does it matter?", "Why does NATO matter?"),
    ("Where did Trump and Putin meet?", "and when?", "When did Trump and Putin meet?"),
    ("Where did Trump and Putin meet?", "when was that?", "When did Trump and Putin meet?"),
    ("Where did Trump and Putin meet?", "What did they agree?", "What did Trump and Putin agree?"),
    ("Where did Trump and Putin meet?", "and who attended?", "Who attended (Trump, Putin)?"),
    # business
    ("How much did Apple earn in the quarter?", "what about Microsoft?", "How much did Microsoft earn in the quarter?"),
    ("How much did Apple earn in the quarter?", "And Google?", "How much did Google earn in the quarter?"),
    ("How much did Apple earn in the quarter?", "How did its shares react?", "How did Apple's shares react?"),
    ("How much did Apple earn in the quarter?", "what did the CEO say?", "What did the CEO say (Apple)?"),
    ("Did Apple beat forecasts?", "why?", "Why did Apple beat forecasts?"),
    # sport
    ("Who won the Champions League final?", "what about the Europa League?", "Who won the Europa League final?"),
    ("Who won the Champions League final?", "who scored?", "Who scored (Champions League)?"),
    ("Who won the Champions League final?", "What did the coach say?", "What did the coach say (Champions League)?"),
    # science
    ("What did NASA find on Mars?", "what about Venus?", "What did NASA find on Venus?"),
    ("What did NASA find on Mars?", "when?", "When did NASA find that on Mars?"),
    ("What did NASA find on Mars?", "how did they do it?", "How did NASA do it?"),
    ("What did NASA find on Mars?", "Who led the study?", "Who led the study (NASA, Mars)?"),
])
def test_a_follow_up_is_rewritten_into_a_stand_alone_question(previous, follow_up, expected):
    assert is_follow_up(follow_up, [previous])
    assert rule_rewrite(follow_up, [previous]) == expected


@pytest.mark.parametrize("follow_up", [
    "and what did Zelensky say?", "also, who else was there?", "but why?", "what about Putin?", "how about Apple?",
    "what did he say about troops?", "why did they agree?", "When was that?", "how much did it cost?",
    "How much was the deal worth?", "What did the other side say", "Who won the final?", "why?", "when?",
    "how much?", "who won?", "what happened next?", "Is that true?",
])
def test_incomplete_messages_are_follow_ups(follow_up):
    assert is_follow_up(follow_up, [FIRST])


def test_a_bare_question_word_with_no_question_to_borrow_from_says_what_it_follows():
    assert rule_rewrite("why?", ["Who won the Champions League final?"]) == \
        "Why? (follow-up to: Who won the Champions League final?)"


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


def test_chat_sends_a_new_complete_question_unchanged():
    a = _Stub()
    chat = ChatSession(a)
    chat.ask(FIRST)
    ans = chat.ask("Where did Trump and Putin meet?")
    assert a.queries[-1] == "Where did Trump and Putin meet?"
    assert ans.standalone_question is None


def test_chat_streaming_records_the_answer():
    chat = ChatSession(_Stub())
    chat.ask(FIRST)
    stream = chat.ask_stream("what about Trump?")
    text = "".join(stream)
    assert stream.answer.text == text and stream.answer.standalone_question == "What did Trump say about NATO?"
    assert len(chat.history) == 2


def _llm_chat(reply, second: str):
    """FIRST, then `second`, in a chat whose LLM is a real OpenAI-protocol server answering with `reply`."""
    with FakeOpenAI(reply) as server:
        s = Settings(llm_provider="openai", llm_base_url=server.base_url, llm_timeout=10)
        a = _Stub(llm=build_llm(s))
        chat = ChatSession(a)
        chat.ask(FIRST)
        return a, chat.ask(second)


def test_chat_with_llm_condenses_through_the_prompt():
    def reply(messages):
        prompt = messages[-1]["content"]
        if "Stand-alone question" in prompt:
            assert FIRST in prompt and "what did the other side say" in prompt
            return "What did Putin say about NATO?"
        return "I cannot find this in the sources."

    a, ans = _llm_chat(reply, "what did the other side say")
    assert a.queries[-1] == "What did Putin say about NATO?"
    assert ans.standalone_question == "What did Putin say about NATO?"


def test_chat_with_llm_does_not_send_a_complete_question_for_rewriting():
    prompts = []

    def reply(messages):
        prompts.append(messages[-1]["content"])
        if "Stand-alone question" in prompts[-1]:
            return "Where did Trump and Putin meet about NATO?"
        return "I cannot find this in the sources."

    a, ans = _llm_chat(reply, "Where did Trump and Putin meet?")
    assert a.queries[-1] == "Where did Trump and Putin meet?"
    assert ans.standalone_question is None
    assert not any("Stand-alone question" in p for p in prompts)
