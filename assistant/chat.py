"""A conversation: follow-up questions are rewritten into stand-alone ones before retrieval.

With an LLM the rewrite follows prompts/condense.md; without one a rule-based rewrite carries the
previous question's topic into a follow-up that lacks it ("and what did Zelensky say?" after "What did
Hegseth say about NATO?" -> "What did Zelensky say about NATO?") and replaces a pronoun with the last
person named ("what did he say about troops?" -> "what did Hegseth say about troops?").
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from .answer import AnswerStream, analyse
from .models import Answer

log = logging.getLogger(__name__)

PROMPT = Path(__file__).resolve().parent.parent / "prompts" / "condense.md"
_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers)\b", re.I)
_THING = re.compile(r"\b(it|that|this)\b(?!\s+(?:is|was|the|a)\b)", re.I)
_FOLLOW_START = re.compile(r"^\s*(?:and|also|but|so|then|what about|how about|and what about|and how about)\b", re.I)
_ABOUT = re.compile(r"\b(?:about|on|regarding|concerning|over)\s+(?P<topic>[^?]+?)\s*\??\s*$", re.I)
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>[^?]+?)\s*\??\s*$", re.I)


def _people(text: str) -> list[str]:
    """Capitalised names that are not the sentence's first word or a question word, in order."""
    from .answer import _NOT_PEOPLE, _QWORDS

    out = []
    for i, m in enumerate(re.finditer(r"\b[A-Z][a-zA-Z\-]+(?:\s+[A-Z][a-zA-Z\-]+)*", text)):
        name = m.group(0)
        first = name.split()[0].lower()
        if m.start() == 0 and first in _QWORDS:
            continue
        if first in _QWORDS or name.lower() in _NOT_PEOPLE or re.search(r"(?:ian|ean|ese|ish)$", name.lower()):
            continue
        out.append(name)
    return out


def _speaker_name(question: str) -> str | None:
    q = analyse(question)
    if not q.speaker:
        return None
    for name in _people(question):
        if name.split()[-1].lower() == q.speaker:
            return name
    return None


def rule_rewrite(question: str, previous: list[str]) -> str:
    """Stand-alone version of `question` given earlier stand-alone questions (oldest first)."""
    q = question.strip()
    if not previous:
        return q
    prev = previous[-1]
    last_person = None
    for p in reversed(previous):
        names = _people(p)
        speaker = _speaker_name(p)
        if speaker or names:
            last_person = speaker or names[-1]
            break
    prev_topic = (_ABOUT.search(prev) or None) and _ABOUT.search(prev).group("topic")
    prev_speaker = _speaker_name(prev)
    changed = False

    m = _WHAT_ABOUT.match(q)
    if m:
        x = m.group("x").strip()
        if _PRONOUN.fullmatch(x) and last_person:
            x = last_person
        if prev_speaker and _people(x):  # "what about Zelensky?" -> same question, other speaker
            return re.sub(re.escape(prev_speaker), x, prev, count=1)
        if prev_topic:  # "what about troops?" -> same question, other topic
            return prev[: prev.rfind(prev_topic)] + x + "?"
        return f"{prev.rstrip(' ?')} and {x}?"

    if _PRONOUN.search(q) and last_person and not _people(q):
        def sub(mm):
            w = mm.group(1).lower()
            return last_person + "'s" if w in ("his", "hers") else last_person
        q = _PRONOUN.sub(sub, q)
        changed = True
    if prev_topic and _THING.search(q) and not _ABOUT.search(q.replace(_THING.search(q).group(0), "")):
        q = _THING.sub(prev_topic, q, count=1)
        changed = True
    elif prev_topic and not _ABOUT.search(q) and (_FOLLOW_START.match(q) or len(q.split()) <= 6):
        # A follow-up with no topic of its own borrows the previous one.
        q = q.rstrip(" ?") + f" about {prev_topic}?"
        changed = True
    elif not _people(q) and _FOLLOW_START.match(q) and _people(prev):
        # "and who attended?" after "Where did Trump and Putin meet?": keep the earlier names in view.
        names = list(dict.fromkeys(_people(prev)))
        q = q.rstrip(" ?") + " (" + ", ".join(names) + ")?"
        changed = True
    if changed or _FOLLOW_START.match(q):
        q = _FOLLOW_START.sub("", q).strip(" ,")
    q = q[:1].upper() + q[1:]
    return q


class ChatSession:
    """`ask(question) -> Answer`; the stand-alone rewrite is `Answer.standalone_question` when it differs."""

    def __init__(self, assistant, **filters):
        self.assistant = assistant
        self.filters = filters
        self.history: list[tuple[str, Answer]] = []
        self._standalone: list[str] = []

    @property
    def llm(self):
        return getattr(self.assistant.answerer, "llm", None)

    def rewrite(self, question: str) -> str:
        question = " ".join((question or "").split())
        if not self._standalone or not question:
            return question  # an empty question is rejected by search with a clear message
        if self.llm is not None:
            try:
                out = self._llm_rewrite(question)
                if out:
                    return out
            except Exception as e:  # a failed rewrite should not lose the question
                log.warning("LLM rewrite failed (%s); using the rule-based rewrite", e)
        return rule_rewrite(question, self._standalone)

    def _llm_rewrite(self, question: str) -> str | None:
        history = "\n".join(f"- {q}" for q in self._standalone[-5:])
        prompt = PROMPT.read_text(encoding="utf-8").replace("{history}", history).replace("{question}", question)
        text = str(self.llm.complete(prompt)).strip()
        text = text.splitlines()[0].strip().strip('"\u201c\u201d') if text else ""
        if not text or len(text) > 2 * len(question) + 200:
            return None
        return text

    def _retrieve(self, question: str):
        standalone = self.rewrite(question)
        s = self.assistant.settings
        k = s.answer_k  # answers read more passages than a search shows
        passages = self.assistant.search(standalone, k=k, **self.filters)
        return standalone, passages

    def ask(self, question: str) -> Answer:
        standalone, passages = self._retrieve(question)
        ans = self.assistant.answerer.answer(standalone, passages)
        return self._record(question, standalone, ans)

    def ask_stream(self, question: str) -> AnswerStream:
        standalone, passages = self._retrieve(question)
        inner = self.assistant.answerer.stream(standalone, passages)

        def chunks(st: AnswerStream):
            yield from inner
            st.answer = self._record(question, standalone, inner.answer)

        return AnswerStream(chunks)

    def _record(self, question: str, standalone: str, ans: Answer) -> Answer:
        ans = replace(ans, question=question,
                      standalone_question=standalone if standalone != " ".join(question.split()) else None)
        self.history.append((question, ans))
        self._standalone.append(standalone)
        return ans
