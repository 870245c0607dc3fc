"""Stance judges behind one contract (`StanceJudge`): given one claim part, one article and its candidate
evidence sentences (each already judged by the rules and the aligned comparison), return the article's
verdict with the evidence quoted. `RulesJudge` is offline; `LLMJudge` asks a model (prompts/claim_judge.md)
and returns None when it cannot decide, so the rules decide instead. `tests/test_judge_contract.py` runs
one suite against both."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from ..models import SourceVerdict
from .checker import _RANK, PROMPT_PATH, _parse_json, _resolve_evidence

log = logging.getLogger(__name__)


class StanceJudge(ABC):
    name: str

    @abstractmethod
    def verdict(self, part, art, cands, numbering) -> SourceVerdict | None:
        """`part`: stance.ClaimPart; `art`: the checker's article (info, passages, sentences);
        `cands`: candidate sentences with their rule judgments; `numbering`: cites evidence."""


class RulesJudge(StanceJudge):
    name = "rules"

    def verdict(self, part, art, cands, numbering) -> SourceVerdict:
        deciding = [c for c in cands if c.judgment.stance != "not_mentioned"]
        if not deciding:
            return SourceVerdict(art.info.source, art.info.outlet, art.info.title, "not_mentioned", 0.0, (),
                                 part=part.text, reason="no sentence addresses this claim")
        # The most relevant deciding sentence wins; a contradiction needs to be about as relevant as the best
        # support to override it (an unrelated number elsewhere must not flip a clear support).
        best = max(deciding, key=lambda c: (c.judgment.relevance, c.judgment.score))
        same = [c for c in deciding if c.judgment.stance == best.judgment.stance]
        same.sort(key=lambda c: c.judgment.score, reverse=True)
        evidence = tuple(numbering.cite(c.passage, c.sentence.text) for c in same[:2])
        return SourceVerdict(art.info.source, art.info.outlet, art.info.title, best.judgment.stance,
                             round(best.judgment.score, 3), evidence, part=part.text, reason=best.judgment.reason)



class LLMJudge(StanceJudge):
    name = "llm"

    def __init__(self, llm):
        self.llm = llm
        self._prompt: str | None = None

    def prompt(self) -> str:
        if self._prompt is None:
            self._prompt = PROMPT_PATH.read_text(encoding="utf-8")
        return self._prompt

    def verdict(self, part, art, cands, numbering) -> SourceVerdict | None:
        if not cands:
            return None
        try:
            prompt = self.prompt().format(
                claim=part.text, speaker=part.speaker_name or "(none: the claim is not attributed)",
                outlet=art.info.outlet, title=art.info.title,
                sentences="\n".join(f"S{i + 1}: [speaker: {c.sentence.speaker or 'narrator'}] {c.sentence.text}"
                                    for i, c in enumerate(cands)))
            raw = str(self.llm.complete(prompt).text)
            data = _parse_json(raw)
        except Exception as exc:  # a flaky LLM must never break the offline answer
            log.warning("LLM claim judge failed (%s); using the offline verdict", exc)
            return None
        if not isinstance(data, dict):
            return None
        stance = str(data.get("stance", "")).strip().lower()
        if stance not in _RANK:
            return None
        picked = []
        for ref in data.get("evidence") or []:
            c = _resolve_evidence(ref, cands)
            if c is not None and c not in picked:
                picked.append(c)
        if stance != "not_mentioned" and not picked:
            return None  # no verdict without evidence: fall back to the rules
        try:
            conf = float(data.get("confidence", 0.7))
        except (TypeError, ValueError):
            conf = 0.7
        conf = min(1.0, max(0.0, conf))
        return SourceVerdict(art.info.source, art.info.outlet, art.info.title, stance,
                             conf if stance != "not_mentioned" else 0.0,
                             tuple(numbering.cite(c.passage, c.sentence.text) for c in picked),
                             part=part.text, reason="LLM: " + str(data.get("reason", ""))[:300])

