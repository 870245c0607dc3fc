"""Cited answers from retrieved paragraphs.

Engines share one contract (`base.AnswerEngine`): `extractive.ExtractiveAnswerer` (offline, default) and
`llm.LLMAnswerer` (an OpenAI-compatible server or Ollama). Both hand every sentence to `verify` (the
citation check); only sentences that pass reach the user. `Answerer` holds the engines one Assistant
offers and picks one per call.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import QuestionError
from ..models import Answer, Passage
from .base import NOT_FOUND, AnswerEngine, AnswerStream
from .extractive import ExtractiveAnswerer, short_answer
from .llm import LLMAnswerer, format_sources
from .model import FEATURES, GATE_FEATURES, AnswerModel, gate_features
from .question import analyse
from .reader import ArticleReader
from .verify import CitationChecker

Paragraphs = Callable[[str], list[Passage]]  # source -> every paragraph of that article, in order

__all__ = ["NOT_FOUND", "AnswerEngine", "AnswerStream", "Answerer", "ExtractiveAnswerer", "LLMAnswerer",
           "FEATURES", "GATE_FEATURES", "AnswerModel", "analyse", "format_sources", "gate_features",
           "short_answer"]


class Answerer:
    """The engines one Assistant offers: `answer(question, passages, engine=None)`; `stream(...)` yields
    verified text as it is ready. `engine` is "extractive" or "llm" (when an LLM is configured); None
    uses the configured default."""

    def __init__(self, settings, embedder, llm=None, paragraphs: Paragraphs | None = None):
        """`paragraphs(source) -> list[Passage]` (e.g. `Assistant.paragraphs`) lets the extractive engine
        read retrieved paragraphs in their article; without it each paragraph is read on its own."""
        self.settings = settings
        self.embedder = embedder
        self.llm = llm
        self.checker = CitationChecker(embedder)
        model = AnswerModel.load(Path(settings.answer_model)) if settings.answer_model else None
        reader = ArticleReader(paragraphs) if paragraphs is not None else None
        self.engines: dict[str, AnswerEngine] = {"extractive": ExtractiveAnswerer(self.checker, reader, model)}
        if llm is not None:
            self.engines["llm"] = LLMAnswerer(settings, llm, self.checker, fallback=self.engines["extractive"])

    @property
    def engine(self) -> str:
        """The default engine's name."""
        return "llm" if "llm" in self.engines else "extractive"

    @property
    def extractive(self):
        """The extractive engine's sentence ranker (its fitted model is `.model`)."""
        return self.engines["extractive"].ranker

    def get(self, engine: str | None = None) -> AnswerEngine:
        name = engine or self.engine
        if name not in self.engines:
            raise QuestionError(f"Unknown answer engine {name!r}; available: {', '.join(self.engines)}"
                                + ("" if "llm" in self.engines else " (set ASSISTANT_LLM_PROVIDER to add 'llm')")
                                + ".")
        return self.engines[name]

    def answer(self, question: str, passages: list[Passage], engine: str | None = None) -> Answer:
        return self.get(engine).answer(question, passages)

    def stream(self, question: str, passages: list[Passage], engine: str | None = None) -> AnswerStream:
        return self.get(engine).stream(question, list(passages))

    def extract(self, question: str, passages: list[Passage]):
        return self.engines["extractive"].extract(question, passages)

    def prompt_messages(self, question: str, passages: list[Passage]):
        eng = self.engines.get("llm") or LLMAnswerer(self.settings, None, self.checker)
        return eng.prompt_messages(question, passages)
