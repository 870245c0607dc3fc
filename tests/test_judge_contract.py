"""One contract suite run against every stance judge: the offline rules, and an LLM judge over a real
HTTP server speaking the OpenAI protocol (tests/fake_openai.py) that answers like a careful model."""
from __future__ import annotations

import json
import re

import pytest

from assistant.claims.judges import LLMJudge, RulesJudge, StanceJudge
from assistant.config import Settings
from assistant.llm import build_llm

from .fake_openai import FakeOpenAI
from .test_claims import _fake_checker

CLAIM = "The Alaska meeting lasted more than five hours"


def _careful_model(messages):
    """Cites the numbered candidate sentence about the meeting's length; silent otherwise."""
    prompt = messages[-1]["content"]
    for m in re.finditer(r"^S(\d+): \[speaker: [^\]]*\] (.+)$", prompt, re.M):
        if "lasted" in m.group(2):
            return json.dumps({"stance": "contradicts", "confidence": 0.8, "evidence": [f"S{m.group(1)}"],
                               "reason": "2 hours 45 minutes is less than five hours"})
    return json.dumps({"stance": "not_mentioned", "confidence": 0.0, "evidence": []})


@pytest.fixture(params=["rules", "llm"])
def checker(request):
    if request.param == "rules":
        yield _fake_checker()
        return
    with FakeOpenAI(_careful_model) as server:
        s = Settings(llm_provider="openai", llm_base_url=server.base_url, llm_model="fake", llm_timeout=10)
        c = _fake_checker(build_llm(s))
        assert isinstance(c.judge, LLMJudge)
        yield c


def test_the_judge_is_a_stance_judge(checker):
    assert isinstance(checker.judge, StanceJudge) and isinstance(checker.rules, RulesJudge)


def test_a_contradicting_article_is_found_with_its_deciding_sentence_quoted(checker):
    cc = checker.check(CLAIM)
    by = {v.source: v for v in cc.verdicts}
    assert by["a.txt"].stance == "contradicts"
    assert by["a.txt"].evidence and "2 hours and 45 minutes" in by["a.txt"].evidence[0].quote


def test_an_unrelated_article_is_silent_and_cites_nothing(checker):
    by = {v.source: v for v in checker.check(CLAIM).verdicts}
    assert by["b.txt"].stance == "not_mentioned" and not by["b.txt"].evidence


def test_every_evidence_quote_is_a_sentence_of_the_article_it_judges(checker):
    for v in checker.check(CLAIM).verdicts:
        for e in v.evidence:
            assert e.passage.source == v.source and e.quote in e.passage.text
