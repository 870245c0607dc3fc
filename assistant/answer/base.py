"""The answer-engine contract. Every engine (extractive, LLM) takes a question and the retrieved
passages and streams only text that passed the citation check; `tests/test_engine_contract.py` runs one
suite against each implementation."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Iterator

from ..models import Answer, Passage

NOT_FOUND = "I could not find this in the indexed articles."
RELATED_K = 3  # "possibly related" paragraphs shown with a refusal


class AnswerStream:
    """Iterate for verified text chunks; ``answer`` holds the final :class:`Answer` once iteration ends."""

    def __init__(self, chunks: Callable[["AnswerStream"], Iterator[str]]):
        self.answer: Answer | None = None
        self._chunks = chunks

    def __iter__(self) -> Iterator[str]:
        yield from self._chunks(self)


class AnswerEngine(ABC):
    """`stream(question, passages)` yields verified chunks and ends with `.answer` set; `answer()` is the
    same without streaming. Markers [n] in the text number the cited passages 1..k."""

    name: str

    @abstractmethod
    def stream(self, question: str, passages: list[Passage]) -> AnswerStream: ...

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        stream = self.stream(question, list(passages))
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer


def not_found(question: str, passages: list[Passage], engine: str, best: dict[int, float] | None = None,
              dropped=(), note: str | None = None) -> Answer:
    """The refusal: "possibly related" paragraphs, the most relevant first (`best`: passage index ->
    its best sentence's score), never presented as an answer."""
    order = sorted(range(len(passages)), key=lambda i: -(best or {}).get(i, 0.0)) if best else range(len(passages))
    related = tuple(passages[i] for i in list(order)[:RELATED_K])
    return Answer(question, NOT_FOUND, answered=False, related=related, engine=engine, dropped=tuple(dropped),
                  note=note)
