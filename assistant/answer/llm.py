"""The generative engine: an OpenAI-compatible or Ollama model answers from numbered sources; every
sentence passes the citation check; an answer that cannot be verified falls back to the extractive one."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from ..errors import LLMError
from ..models import UNKNOWN_OUTLET, Answer, Passage
from ..text.injection import NOTE as INJECTION_NOTE
from ..text.injection import addresses_assistant
from .base import NOT_FOUND, AnswerEngine, AnswerStream, not_found
from .verify import CitationChecker, VerifiedAnswer, split_marked

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"

_REFUSAL = re.compile(r"\b(?:cannot|can't|can ?not|could not|couldn't|unable to|do not|don't|did not|didn't)\s+"
                      r"(?:find|answer|locate|see|determine)\b|\bnot (?:in|covered by|mentioned in|found in|"
                      r"answered by) (?:the|these|any of the) (?:provided )?(?:sources|articles|paragraphs)\b|"
                      r"\bno information\b|\bsources do not (?:say|mention|contain|answer)\b", re.I)


def _is_refusal(sentence: str) -> bool:
    return bool(_REFUSAL.search(sentence))


def format_sources(passages: list[Passage]) -> str:
    """Numbered source paragraphs inside <source> delimiters. Angle brackets in article text are
    replaced so no article can close its own delimiter and write outside it."""
    blocks = []
    for i, p in enumerate(passages, 1):
        outlets = ", ".join(o for o in p.outlets if o != UNKNOWN_OUTLET) or "outlet unknown"
        if p.agency:
            outlets += f" ({p.agency})"
        text = p.text.replace("<", "\u2039").replace(">", "\u203a")
        title = p.title.replace("<", "\u2039").replace(">", "\u203a").replace('"', "'")
        blocks.append(f'<source id="{i}" outlet="{outlets}" title="{title}" paragraph="{p.paragraph}">\n'
                      f"{text}\n</source>")
    return "\n".join(blocks)


UNVERIFIED_NOTE = ("The language model's answer could not be checked against the sources, so it is not shown; "
                   "this is the extractive answer.")


class LLMAnswerer(AnswerEngine):
    """Generates from the numbered sources (prompts/answer.md); every sentence must pass the citation
    check and make a claim of its own (a line restating the question is no answer). When the model wrote
    something but nothing of it could be verified, the user is told so and gets the extractive answer
    instead of a false "not found"."""

    name = "llm"

    def __init__(self, settings, llm, checker: CitationChecker, fallback: AnswerEngine | None = None):
        self.settings = settings
        self.llm = llm
        self.checker = checker
        self.fallback = fallback
        self._prompt: str | None = None

    def prompt_messages(self, question: str, passages: list[Passage]):
        from llama_index.core.llms import ChatMessage, MessageRole

        if self._prompt is None:
            self._prompt = (PROMPTS / "answer.md").read_text(encoding="utf-8")
        system = self._prompt.replace("{sources}", format_sources(passages)).replace("{n}", str(len(passages)))
        return [ChatMessage(role=MessageRole.SYSTEM, content=system),
                ChatMessage(role=MessageRole.USER, content=f"Question: {question}")]

    def stream(self, question: str, passages: list[Passage]) -> AnswerStream:
        return AnswerStream(lambda st: self._chunks(st, question, list(passages)))

    def _chunks(self, st: AnswerStream, question: str, passages: list[Passage]) -> Iterator[str]:
        # A paragraph speaking to an AI assistant (prompt injection) never reaches the model.
        kept = [p for p in passages if not addresses_assistant(p.text)]
        flagged = INJECTION_NOTE if len(kept) < len(passages) else None
        passages = kept
        if not passages:
            st.answer = not_found(question, passages, self.name, note=flagged)
            yield NOT_FOUND
            return
        messages = self.prompt_messages(question, passages)
        checked = VerifiedAnswer(self.checker, passages, question=question)
        wrote = False
        refused = False
        first = True
        try:
            tokens = (r.delta or "" for r in self.llm.stream_chat(messages))
            buf = ""

            def take(sentences):
                nonlocal refused, wrote
                for sent in sentences:
                    wrote = wrote or bool(sent.strip())
                    refused = refused or _is_refusal(sent)
                    ok = None if refused else checked.add(sent)
                    if ok:
                        yield ok

            for tok in tokens:
                buf += tok
                done, buf = split_marked(buf, final=False)
                for ok in take(done):
                    yield ok if first else " " + ok
                    first = False
            for ok in take(split_marked(buf)[0]):
                yield ok if first else " " + ok
                first = False
        except LLMError:
            raise
        except Exception as e:  # connection refused, timeouts, bad responses: one clear error
            raise LLMError(f"The LLM at {self.settings.llm_base_url or self.settings.llm_provider} failed: {e}. "
                           "Check ASSISTANT_LLM_BASE_URL / ASSISTANT_LLM_MODEL, or set ASSISTANT_LLM_PROVIDER=none "
                           "for the offline extractive engine.") from e
        if checked.sentences:
            st.answer = Answer(question, checked.text, checked.citations, engine=self.name,
                               dropped=tuple(checked.dropped), note=flagged)
            return
        if wrote and not refused and self.fallback is not None:
            # Nothing the model wrote survived the check: that is not "the articles lack an answer".
            inner = self.fallback.stream(question, passages, note=UNVERIFIED_NOTE)
            yield UNVERIFIED_NOTE + "\n\n"
            yield from inner
            st.answer = replace(inner.answer, dropped=tuple(checked.dropped) + inner.answer.dropped)
            return
        st.answer = not_found(question, passages, self.name, dropped=checked.dropped, note=flagged)
        yield NOT_FOUND
