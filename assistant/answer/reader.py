"""Reading retrieved paragraphs in their article: speakers resolved across paragraphs, continuation
paragraphs added, the previous paragraph kept as context."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..models import Passage
from ..stance import person_names, speaker_of, split_sentences, strip_quotes, term_set
from ..text import ArticleInfo, article_info
from ..text.question import analyse_question
from .question import Question

log = logging.getLogger(__name__)


@dataclass
class _Sentence:
    text: str
    passage: int  # index into the passage list
    position: int  # sentence number within the paragraph
    speaker: str | None
    evidence: float = 0.0
    cos: float = 0.0
    cov: float = 0.0
    feats: "np.ndarray | None" = None
    eligible: bool = True  # may answer a "what did X say" question: X (by name or title) is its speaker
    # its article never mentions a person or a year the question names: it cannot be about that
    off_subject: bool = False


def _sentences(passages: list[Passage], speakers: dict[int, list[str | None]] | None = None) -> list[_Sentence]:
    """The passages' sentences with their speakers. `speakers` (passage index -> one speaker per sentence)
    comes from reading the whole article, so "the former Fox News host said" at the top of a paragraph
    resolves to the person the previous paragraph named; without it speakers resolve within the paragraph."""
    out: list[_Sentence] = []
    speakers = speakers or {}
    for pi, p in enumerate(passages):
        last = None
        known = speakers.get(pi)
        for si, s in enumerate(split_sentences(p.text)):
            if known is not None and si < len(known) and known[si] not in (None, "?"):
                out.append(_Sentence(s, pi, si, known[si]))
                last = known[si] if known[si] != "official" else last
                continue
            sp = speaker_of(s, last)
            if sp is None and s.lstrip()[:1] in "\"\u201c" and last:
                sp = last  # a bare quotation continues the previous speaker
            if sp not in (None, "?", "official"):
                last = sp
            else:
                names = person_names(strip_quotes(s))
                last = names[-1] if names else last
            out.append(_Sentence(s, pi, si, sp))
    return out



Paragraphs = Callable[[str], list[Passage]]  # source -> every paragraph of that article, in order


@dataclass
class _Context:
    speakers: dict[int, list[str | None]]  # passage index -> speaker of each of its sentences
    # (passage index, sentence index) of a sentence whose speaker only the previous paragraph names ->
    # (that paragraph, the index of the sentence naming them)
    naming: dict[tuple[int, int], tuple[Passage, int]]
    # passage index -> the paragraph before it: the scene it continues ("After nearly two hours of talks,
    # the two leaders emerged" follows the paragraph saying where and when they met)
    previous: dict[int, str] = field(default_factory=dict)
    # passage index -> (its article's analysis, the paragraph's index in it, the article's lower-case text)
    reading: dict[int, tuple[ArticleInfo, int, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Article:
    passages: list[Passage]
    where: dict[str, int]  # passage id -> position in the article
    speakers: list[list[str | None]]  # per paragraph, per sentence
    # per paragraph, per sentence: the speaker only context names ("the former Fox News host said"), else None
    borrowed: list[list[str | None]]
    # (paragraph, sentence) with a borrowed speaker first named in the previous paragraph -> naming sentence
    naming: dict[tuple[int, int], int]
    info: ArticleInfo | None = None  # the text layer's reading: entities per sentence, people's titles
    lower: str = ""  # headline + whole text, lower case: is a name the question states in this article?


def _read_article(ps: list[Passage]) -> _Article:
    speakers: list[list[str | None]] = [[] for _ in ps]
    info = article_info([p.text for p in ps])
    for row in info.paragraphs:
        for x in row:
            speakers[x.paragraph].append(x.speaker)
    sents = [split_sentences(p.text) for p in ps]
    borrowed: list[list[str | None]] = []
    naming: dict[tuple[int, int], int] = {}
    for i, (ss, sp) in enumerate(zip(sents, speakers)):
        row: list[str | None] = []
        for k, (text, who) in enumerate(zip(ss, sp)):
            anaphoric = who not in (None, "?", "official") and speaker_of(text) == "?"
            row.append(who if anaphoric else None)
            if anaphoric and i > 0 and not any(who in strip_quotes(x).lower() for x in ss[:k]):
                prev = sents[i - 1]
                hit = next((j for j in range(len(prev) - 1, -1, -1) if who in strip_quotes(prev[j]).lower()), None)
                if hit is not None:
                    naming[(i, k)] = hit
        borrowed.append(row)
    lower = " ".join([ps[0].title if ps else ""] + [p.text for p in ps]).lower()
    return _Article(ps, {p.id: i for i, p in enumerate(ps)}, speakers, borrowed, naming, info, lower)


class ArticleReader:
    """Reads retrieved paragraphs in their article: speakers resolve across paragraph boundaries, and
    a paragraph that continues a retrieved one ("..., the former Fox News host said" after a paragraph
    naming Pete Hegseth) becomes a candidate although it never names the person asked about."""

    max_added = 3  # continuation paragraphs added per question
    max_spoken = 4  # paragraphs of the asked speaker added per question

    def __init__(self, paragraphs: Paragraphs, cache_size: int = 64):
        self._paragraphs = paragraphs
        self._cache: dict[str, tuple[tuple, _Article]] = {}
        self._cache_size = cache_size

    def article(self, source: str) -> _Article:
        ps = self._paragraphs(source)
        key = tuple((p.id, len(p.text)) for p in ps)  # a re-ingested article invalidates its entry
        hit = self._cache.get(source)
        if hit and hit[0] == key:
            return hit[1]
        art = _read_article(ps)
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[source] = (key, art)
        return art

    def read(self, q: Question, passages: list[Passage]) -> tuple[list[Passage], _Context]:
        passages = list(passages)
        retrieved = len(passages)
        ctx = _Context({}, {})
        wanted = {q.speaker} if q.speaker else set(q.entities)
        ids = {p.id for p in passages}
        articles: dict[str, _Article | None] = {}  # one lookup per article per question
        added = 0
        pi = 0
        spoken = False
        while pi < len(passages) or not spoken:
            if pi >= retrieved and not spoken:
                # every retrieved paragraph read: add what the asked speaker says elsewhere in those articles
                spoken = True
                more = self._spoken(q, articles, ids)
                passages += more
                ids.update(p.id for p in more)
                if pi >= len(passages):
                    break
            p = passages[pi]
            if p.source not in articles:
                try:
                    articles[p.source] = self.article(p.source)
                except Exception as e:  # noqa: BLE001 - context is a bonus; never fail an answer for it
                    log.warning("could not read the article around %s: %s", p.id, e)
                    articles[p.source] = None
            art = articles[p.source]
            idx = art.where.get(p.id) if art else None
            if art is None or idx is None:
                pi += 1
                continue
            ctx.speakers[pi] = art.speakers[idx]
            if art.info is not None:
                ctx.reading[pi] = (art.info, idx, art.lower)
            if idx > 0:
                ctx.previous[pi] = art.passages[idx - 1].text
            for (i, k), j in art.naming.items():
                if i == idx:
                    ctx.naming[(pi, k)] = (art.passages[idx - 1], j)
            nxt = idx + 1
            if pi < retrieved and added < self.max_added and nxt < len(art.passages) and wanted and \
                    art.passages[nxt].id not in ids and wanted.intersection(art.borrowed[nxt]):
                passages.append(art.passages[nxt])  # read in its turn: its speakers, its naming sentence
                ids.add(art.passages[nxt].id)
                added += 1
            pi += 1
        return passages, ctx

    def _spoken(self, q: Question, articles: dict[str, "_Article | None"], ids: set[str]) -> list[Passage]:
        """Paragraphs of the retrieved articles where the person the question asks about speaks ("What
        did Russia's foreign minister say ..." -> Lavrov's paragraphs): the question's words often match
        what others say about the person better than the person's own words. At most `max_spoken`, those
        sharing most words with the question first."""
        qi = analyse_question(q.text)
        if not (qi.speaker or qi.speaker_words):
            return []
        terms = set(q.terms)
        found = []
        for art in articles.values():
            if art is None:
                continue
            if qi.speaker:
                keys = {qi.speaker}
            elif art.info is not None:
                keys = {k for k in art.info.people if qi.describes(art.info.people, k)}
            else:
                keys = set()
            for idx, sp in enumerate(art.speakers if keys else ()):
                p = art.passages[idx]
                if p.id not in ids and keys & set(sp):
                    found.append((len(terms & term_set(p.text)), -idx, p))
        found.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [p for _, _, p in found[: self.max_spoken]]
