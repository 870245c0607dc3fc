"""Cited answers from retrieved paragraphs: an extractive engine (default, offline) and an LLM engine.

Both engines produce sentences ending in [n] markers (n = position in the passage list) and hand them
to :mod:`assistant.verify`; only sentences that pass the citation check reach the user. When nothing
retrieved answers the question the answer says so and lists the closest paragraphs as "related".
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .config import Settings
from .errors import LLMError
from .models import UNKNOWN_OUTLET, Answer, Passage
from .stance import TermStats, annotate, content_terms, coverage, person_names, quantities, speaker_of, \
    split_sentences, strip_quotes, term_set
from .text import ArticleInfo, article_info
from .text.question import analyse_question, present
from .verify import CitationChecker, VerifiedAnswer, render, split_marked

log = logging.getLogger(__name__)

NOT_FOUND = "I could not find this in the indexed articles."
PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
RELATED_K = 3


# ====================================================================== streaming wrapper

class AnswerStream:
    """Iterate for verified text chunks; ``answer`` holds the final :class:`Answer` once iteration ends."""

    def __init__(self, chunks: Callable[["AnswerStream"], Iterator[str]]):
        self.answer: Answer | None = None
        self._chunks = chunks

    def __iter__(self) -> Iterator[str]:
        yield from self._chunks(self)


# ====================================================================== question analysis

_SAY_Q = re.compile(r"\b(?:did|does|do|has|have|had|will|would|was|is)\s+(?P<who>[^?]+?)\s+(?:say|said|tell|told|state|"
                    r"claim|think|warn|announce|post|write|describe|call|argue|promise|react|respond|reply|"
                    r"mean|insist|suggest|accuse|compare|predict|admit|deny|add)\b", re.I)
_POSSESSIVE_Q = re.compile(r"\b([A-Z][a-zA-Z\-]+)['\u2019]s?\s+(?:reaction|response|view|position|words|remarks?|"
                           r"comments?|statement|stance)\b")
_QWORDS = {"what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do", "is", "are",
           "was", "were", "has", "have", "had", "will", "would", "can", "could", "should", "in", "on", "according",
           "after", "before", "the", "a", "an", "and", "but", "if", "i", "tell", "me", "give", "list", "name"}
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
# Month names are matched case-sensitively: "may" and "march" are also ordinary words.
_DATE = re.compile(rf"\b{_MONTH}\b\.?\s*\d{{0,4}}|\b(?:1[89]|20)\d\d\b|\b(?:Monday|Tuesday|Wednesday|Thursday|"
                   r"Friday|Saturday|Sunday)\b|\b(?:yesterday|today|last week|this week|earlier this)\b|"
                   r"\bday (?:one|of)\b|\bfirst day\b")
_PLACE = re.compile(r"\b(?:in|at|to|from|near)\s+(?:the\s+)?[A-Z][a-zA-Z\-]+")
def _numbers_outside_dates(text: str) -> bool:
    return bool(re.search(r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                          r"fifty|hundred|thousand|million|billion|half|third|quarter|fifth|dozen)\b",
                          _DATE.sub(" ", text), re.I))


_NEEDS = {
    "number": _numbers_outside_dates,
    "money": lambda t: bool(re.search(r"[$\u00a3\u20ac]\s?\d|\b\d[\d,.]*\s*(?:dollars|euros|pounds|bn|m)\b|"
                                      r"\b(?:billion|million|trillion)s? (?:of )?(?:dollars|euros|pounds)\b", t, re.I)),
    "duration": lambda t: bool(re.search(r"\b(?:hours?|minutes?|days?|weeks?|months?|years?)\b", t, re.I)) and
    _numbers_outside_dates(t),
}
# "..., he said": the paragraph's speaker is named elsewhere, possibly someone other than the one asked about.
_PRONOUN_SAYS = re.compile(r"\b(?:he|she|they)\s+(?:\w+\s+)?(?:said|says|told|added|stated|wrote|posted|asked)\b", re.I)


def _subject_is(sentence: str, key: str) -> bool:
    """The person opens the sentence ("Mr Brett Bruen, former adviser, likened ..."): it reports them."""
    head = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'\u2019\-]*", strip_quotes(sentence))[:4]]
    return key in head


# Speech, not scare quotes: a quotation of some length, or a verb of saying.
_QUOTE_OR_SAY = re.compile(r"[\"\u201c][^\"\u201d]{25,}|\b(?:said|says|told|stated|declared|criticized|criticised)\b")
_SAY_WORD = re.compile(r"\b(?:said|says|say|told|tells|stated|states|asked|posted|wrote|declared|added|replied|"
                       r"noted|notes|announced|warned|argued|insisted|claimed|described|called)\b", re.I)


# Capitalised words that open a "did X say" question without naming a person.
_NOT_PEOPLE = {"house", "us", "u.s", "uk", "eu", "nato", "kremlin", "white", "government", "administration",
               "europe", "russia", "ukraine", "china", "america", "un", "g7", "g8", "moscow", "kyiv", "washington"}


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # number | date | place | who | other
    speaker: str | None  # name key of the person whose words are asked for
    entities: tuple[str, ...]  # stems of capitalised names in the question
    terms: tuple[str, ...]  # content-word stems


def analyse(question: str) -> Question:
    q = question.strip()
    low = q.lower()
    if re.search(r"\b(?:worth|cost|costs|price|dollars?|euros?|pounds|budget)\b", low) and \
            re.search(r"\bhow much\b|\bwhat (?:is|was) the (?:value|cost|price)\b|\bworth\b", low):
        kind = "money"
    elif re.search(r"\bhow long\b|\bfor how many (?:hours|days|weeks|months|years)\b", low):
        kind = "duration"
    elif re.search(r"\bhow (?:many|much|far|old|big|large|often)\b|\bwhat (?:share|number|percentage|proportion|"
                   r"amount|sum|figure)\b", low):
        kind = "number"
    elif re.search(r"\bwhen\b|\bwhat (?:date|day|year|month|time)\b|\bon which (?:date|day)\b", low):
        kind = "date"
    elif re.search(r"\bwhere\b|\bwhich (?:city|country|place|venue)\b", low):
        kind = "place"
    elif re.search(r"^\s*who\b|\bwhich (?:analyst|official|outlet|newspaper|paper|person|leader|leaders|minister)\b", low):
        kind = "who"
    else:
        kind = "other"
    speaker = None
    m = _SAY_Q.search(q) or _POSSESSIVE_Q.search(q)
    if m and m.re is _POSSESSIVE_Q and re.match(r"\s*who\b", low):
        m = None  # "Who called Hegseth's comments ...?" asks for the other speaker
    if m and m.re is _POSSESSIVE_Q and re.search(r"\b(?:after|before|following|since|despite|over)\s+$", q[:m.start()]):
        m = None  # "after Hegseth's remarks" dates the question; it does not ask for the remarks
    if m:
        who = m.group(1) if m.re is _POSSESSIVE_Q else m.group("who")
        names = re.findall(r"\b[A-Z][a-zA-Z\-]+", strip_quotes(who))
        names = [n for n in names if n.lower() not in _QWORDS and n.lower() not in _NOT_PEOPLE and "-" not in n
                 and not re.search(r"(?:ian|ean|ese|ish)$", n.lower())]
        if names:
            speaker = re.sub(r"['\u2019]s$", "", names[-1]).lower()
    ents = []
    for i, w in enumerate(re.findall(r"[A-Za-z][A-Za-z\-]*", q)):
        if w[0].isupper() and w.lower() not in _QWORDS and (i > 0 or w.lower() not in _QWORDS):
            for piece in w.split("-"):
                if len(piece) > 1:
                    ents.append(piece.lower())
    terms = content_terms(q)
    return Question(q, kind, speaker, tuple(dict.fromkeys(ents)), tuple(terms))


# ====================================================================== extractive engine

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


# ====================================================================== article context

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
        while pi < len(passages):
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


FEATURES = ("bias", "legacy", "coverage", "cosine", "paragraph_cosine", "rank", "typed", "type_match",
            "speaker_asked", "speaker_match", "speaker_other", "speaker_quoted", "missing_in_sentence",
            "missing_in_paragraph", "missing_in_article", "short", "person_missing", "predicate_in_sentence",
            "predicate_in_paragraph", "nouns_in_sentence", "nouns_in_paragraph")


@dataclass(frozen=True)
class AnswerModel:
    """A logistic model over FEATURES: P(this sentence answers the question). Fitted on the dev split of
    the held-out news set (benchmarks/fit_answer.py), never on the test split."""

    weights: np.ndarray
    threshold: float  # sentences below this probability are never quoted
    margin: float  # further sentences within this much of the best one are quoted too
    gate: np.ndarray | None = None  # question-level answer-or-refuse model over GATE_FEATURES
    gate_threshold: float = 0.5

    def answers(self, q: Question, ranked: list["_Sentence"]) -> bool:
        if self.gate is None:
            return bool(ranked) and ranked[0].evidence >= self.threshold
        z = float(gate_features(q, ranked) @ self.gate)
        return 1.0 / (1.0 + np.exp(-z)) >= self.gate_threshold

    @classmethod
    def load(cls, path: Path) -> "AnswerModel | None":
        import json

        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if list(d.get("features", [])) != list(FEATURES):
            log.warning("answer model %s was fitted on other features; using the rule scores", path)
            return None
        gate = d.get("gate")
        if gate is not None and list(gate.get("features", [])) != list(GATE_FEATURES):
            gate = None
        return cls(np.asarray(d["weights"], dtype=np.float64), float(d["threshold"]), float(d["margin"]),
                   np.asarray(gate["weights"], dtype=np.float64) if gate else None,
                   float(gate["threshold"]) if gate else 0.5)


def answer_features(q: Question, sents: list[_Sentence], passages: list[Passage], ctx: "_Context | None",
                    para_best: list[float], context: list[str]) -> np.ndarray:
    """One row of FEATURES per sentence: what the question asks for (answer type, speaker, the names,
    dates and amounts it states) against what the sentence, its paragraph and its article hold."""
    qi = analyse_question(q.text)
    qlow = q.text.lower()
    reading = ctx.reading if ctx else {}
    rows = np.zeros((len(sents), len(FEATURES)), dtype=np.float64)
    singles: dict[int, ArticleInfo] = {}
    asked = bool(qi.speaker or qi.speaker_words)
    # The question's predicate: its content words that are not part of a name ("When is Faisal
    # Shahzad's trial scheduled to begin?" -> trial, schedul, begin). Unanswerable questions usually
    # share the names with the evidence, not the predicate.
    ent_terms = set(content_terms(" ".join(e.text for e in qi.entities)))
    pred = [t for t in q.terms if t not in ent_terms and t not in _SAY_STEMS]
    nouns = list(dict.fromkeys(t for n in qi.nouns for t in content_terms(n)))
    need = min(2, len(qi.speaker_words))
    ents_q = qi.entities
    for j, s in enumerate(sents):
        p = passages[s.passage]
        if s.passage in reading:
            info, idx, art_lower = reading[s.passage]
        else:
            if s.passage not in singles:
                singles[s.passage] = article_info([p.text])
            info, idx, art_lower = singles[s.passage], 0, (p.title + " " + p.text).lower()
        if p.date:
            art_lower += " " + _date_words(p.date)
        row = info.paragraphs[idx] if idx < len(info.paragraphs) else ()
        sinfo = row[s.position] if s.position < len(row) and row[s.position].text == s.text else None
        ents = sinfo.entities if sinfo else ()
        type_match = any(e.label in qi.wants and e.text.lower() not in qlow for e in ents)
        sp_match = bool(qi.speaker and s.speaker == qi.speaker)
        if not sp_match and qi.speaker_words and s.speaker not in (None, "?", "official"):
            sp_match = len(qi.speaker_words & set(info.titles(s.speaker))) >= need
        sp_other = asked and not sp_match and s.speaker not in (None, "?")
        low_s = s.text.lower()
        low_p = (context[s.passage] + " " + p.title).lower()
        n = max(1, len(ents_q))
        f = rows[j]
        f[0] = 1.0
        f[1] = s.evidence
        f[2] = s.cov
        f[3] = s.cos
        f[4] = para_best[s.passage]
        f[5] = 1.0 / (1.0 + s.passage)
        f[6] = 1.0 if qi.wants else 0.0
        f[7] = 1.0 if (qi.wants and type_match) else 0.0
        f[8] = 1.0 if asked else 0.0
        f[9] = 1.0 if sp_match else 0.0
        f[10] = 1.0 if sp_other else 0.0
        f[11] = 1.0 if asked and re.search(r"[\"\u201c\u201d]", s.text) else 0.0
        f[12] = sum(not present(e, low_s) for e in ents_q) / n if ents_q else 0.0
        f[13] = sum(not present(e, low_p) for e in ents_q) / n if ents_q else 0.0
        f[14] = sum(not present(e, art_lower) for e in ents_q) / n if ents_q else 0.0
        f[15] = 1.0 if len(s.text.split()) < 6 else 0.0
        f[16] = 1.0 if any(e.label == "PERSON" and not present(e, art_lower) for e in ents_q) else 0.0
        if pred:
            ts, tp = term_set(s.text), term_set(low_p)
            f[17] = sum(t in ts for t in pred) / len(pred)
            f[18] = sum(t in tp for t in pred) / len(pred)
        if nouns:
            ts, tp = term_set(s.text), term_set(low_p)
            f[19] = sum(t in ts for t in nouns) / len(nouns)
            f[20] = sum(t in tp for t in nouns) / len(nouns)
        else:
            f[19] = f[20] = 1.0
        # An unresolved "he said" / "the official said" may still be the person asked about when the
        # paragraph (or the one before) names them; anyone else's words never answer "what did X say".
        if qi.speaker:
            s.eligible = sp_match or (s.speaker in (None, "?") and qi.speaker in low_p)
        else:
            s.eligible = not sp_other
        # A who/where/when/how-many question is answered only by a sentence holding that kind of thing.
        s.eligible = s.eligible and (not qi.wants or type_match)
    return rows


_SAY_STEMS = set(content_terms("say said says tell told describe described according report reported"))
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")


def _date_words(date: str) -> str:
    """'2013-08-16' -> '2013 august 16': the article's date counts as evidence for the date a question
    names ("the August 2013 floods")."""
    parts = date.split("-")
    out = [parts[0]]
    if len(parts) > 1 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        out.append(_MONTH_NAMES[int(parts[1]) - 1])
    if len(parts) > 2 and parts[2].isdigit():
        out.append(str(int(parts[2])))
    return " ".join(out)


GATE_FEATURES = ("bias", "best", "second", "missing_in_article", "missing_in_paragraph", "type_missing",
                 "entities", "person_missing", "predicate", "predicate_paragraph", "nouns", "nouns_paragraph")


def gate_features(q: Question, ranked: list["_Sentence"]) -> np.ndarray:
    """Question-level features for the answer-or-refuse decision, from the best candidate sentences
    (ranked by the sentence model, speaker-eligible ones only)."""
    f = np.zeros(len(GATE_FEATURES))
    f[0] = 1.0
    if not ranked:
        return f
    top = ranked[0]
    logit = lambda p: float(np.log(max(p, 1e-6) / max(1 - p, 1e-6)))  # noqa: E731
    f[1] = logit(top.evidence)
    f[2] = logit(ranked[1].evidence) if len(ranked) > 1 else -6.0
    t = top.feats if top.feats is not None else np.zeros(len(FEATURES))
    f[3] = min((s.feats[14] for s in ranked[:3] if s.feats is not None), default=0.0)
    f[4] = t[13]
    f[5] = 1.0 if t[6] and not any(s.feats is not None and s.feats[7] for s in ranked[:3]) else 0.0
    f[6] = min(3, len(analyse_question(q.text).entities)) / 3
    # a person the question names whom no candidate's article mentions
    f[7] = min((s.feats[16] for s in ranked[:5] if s.feats is not None), default=0.0)
    f[8] = max((s.feats[17] for s in ranked[:3] if s.feats is not None), default=0.0)
    f[9] = max((s.feats[18] for s in ranked[:3] if s.feats is not None), default=0.0)
    f[10] = max((s.feats[19] for s in ranked[:3] if s.feats is not None), default=0.0)
    f[11] = max((s.feats[20] for s in ranked[:3] if s.feats is not None), default=0.0)
    return f


class ExtractiveEngine:
    """Quote the retrieved sentences that answer the question, attributed to their outlets."""

    max_sentences = 4
    max_words = 120
    # Calibrated on tests/data/questions.jsonl (answerable vs unanswerable, see answer_eval.py).
    answer_threshold = 0.42
    keep_margin = 0.18  # extra sentences must score within this of the best one
    outlet_margin = 0.05  # ... or within this much more when they come from an outlet not yet quoted
    outlet_coverage_gap = 0.15  # ... and cover the question's terms nearly as well as the best sentence
    typed_min_coverage = 0.35  # key-term coverage the sentence giving a date/number must reach
    max_embedded = 12  # sentences per question given to the embedding model (latency)

    def __init__(self, checker: CitationChecker, model: "AnswerModel | None" = None):
        self.checker = checker
        self.model = model

    def score(self, q: Question, passages: list[Passage], ctx: _Context | None = None) -> list[_Sentence]:
        sents = _sentences(passages, ctx.speakers if ctx else None)
        previous = ctx.previous if ctx else {}
        if not sents:
            return []
        stats = TermStats.from_texts([s.text for s in sents])
        all_terms = set().union(*(term_set(p.text) for p in passages))
        q_terms = list(q.terms)
        # A name in the question that no retrieved paragraph mentions (Kharkiv, Xi) means the retrieved
        # text is about something else, however similar it looks.
        # "according to the Express", "the Straits Times report": the question names an outlet. Its name
        # is not in the paragraph text, so it counts as present in that outlet's paragraphs (and its
        # agency's), and other outlets' paragraphs answer a different question.
        named = _named_outlets(q.text, passages)
        ent_stems = [e for e in q.entities if e not in _GENERIC_ENTITIES and e not in named.words]
        missing = [e for e in ent_stems if _stem(e) not in all_terms]
        ent_penalty = 0.25 * len(missing) / max(1, len(ent_stems))
        context = [(previous.get(i, "") + " " + p.text).strip() for i, p in enumerate(passages)]
        para_terms = [term_set(c) for c in context]
        lexical: list[float] = []
        for s in sents:
            p = passages[s.passage]
            # ...and a sentence whose paragraph lacks the question's names is probably about someone else.
            away = [e for e in ent_stems if _stem(e) not in para_terms[s.passage] and e not in missing]
            text = s.text
            if s.speaker not in (None, "?", "official") and s.speaker not in term_set(text):
                text += " " + s.speaker  # "the former Fox News host said": the article says who that is
            if named.outlets:
                text += " " + " ".join(_carriers(p))
            s.cov = coverage(q_terms, text, context[s.passage], context_weight=0.4, stats=stats)
            ev = 0.4 * s.cov - ent_penalty - 0.1 * len(away) / max(1, len(ent_stems))
            if q.kind in _NEEDS:
                ev += 0.08 if _NEEDS[q.kind](s.text) else -0.15
            elif q.kind == "date":
                ev += 0.08 if _DATE.search(s.text) else -0.15
            elif q.kind == "place":
                ev += 0.04 if _PLACE.search(s.text) else 0.0
            if q.speaker:
                quoted = bool(re.search(r"[\"\u201c]", s.text)) or bool(_SAY_WORD.search(s.text))
                if s.speaker == q.speaker:
                    ev += 0.12 + (0.04 if quoted else 0.0)
                elif s.speaker == "?" and quoted and not _PRONOUN_SAYS.search(strip_quotes(s.text)):
                    ev += 0.04  # "the former Fox News host said": a speaker this paragraph does not name
                elif q.speaker not in term_set(s.text) and q.speaker not in para_terms[s.passage]:
                    ev -= 0.15
                elif s.speaker and s.speaker not in ("?", "official"):
                    ev -= 0.05
            if named.outlets and not named.outlets.intersection(c.lower() for c in _carriers(p)):
                ev -= 0.1
            if len(s.text.split()) < 5 and not re.search(r"[\"\u201c]", s.text):
                ev -= 0.1  # headings, captions, fragments
            lexical.append(ev)
        # Embedding is most of the latency: only the sentences the cheap features rank highest are
        # embedded; the rest cannot win anyway (their meaning score stays 0).
        order = sorted(range(len(sents)), key=lambda i: -lexical[i])[: self.max_embedded]
        vecs = self.checker.vectors([q.text] + [sents[i].text for i in order])
        for i, v in zip(order, vecs[1:]):
            sents[i].cos = float(v @ vecs[0])
        para_best = [max((s.cos for s in sents if s.passage == i), default=0.0) for i in range(len(passages))]
        for s, lex in zip(sents, lexical):
            s.evidence = lex + 0.45 * s.cos + 0.15 * para_best[s.passage]
        feats = answer_features(q, sents, passages, ctx, para_best, context)
        for s, f in zip(sents, feats):
            s.feats = f
        if self.model is not None:
            z = feats @ self.model.weights
            for s, zi in zip(sents, z):
                s.evidence = float(1.0 / (1.0 + np.exp(-zi)))
        return sents

    def select(self, q: Question, sents: list[_Sentence], passages: list[Passage]) -> list[_Sentence]:
        ranked = sorted(sents, key=lambda s: -s.evidence)
        if self.model is not None:
            ranked = [s for s in ranked if s.eligible]
            if not ranked or not self.model.answers(q, ranked):
                return []
            return self._select_ranked(q, ranked, passages, min(self.model.threshold, ranked[0].evidence),
                                       self.model.margin, self.model.margin)
        if not ranked or ranked[0].evidence < self.answer_threshold:
            return []
        if q.speaker and not any(s.speaker == q.speaker or _subject_is(s.text, q.speaker) for s in ranked[:8]) and \
                not any(s.speaker in ("?", None) and _QUOTE_OR_SAY.search(s.text) for s in ranked[:3]):
            # Asked what someone said, and nobody by that name speaks (an unattributed quotation near
            # the top may still be theirs: "He also criticized ...: '...'").
            return []
        if q.kind in _NEEDS and not _NEEDS[q.kind](ranked[0].text):
            return []  # "how much is it worth?" answered by a sentence with no amount is no answer
        if (q.kind in _NEEDS or q.kind == "date") and ranked[0].cov < self.typed_min_coverage:
            return []  # a date or number about something else ("agreed on Feb 12 to meet" for "when was the summit")
        return self._select_ranked(q, ranked, passages, self.answer_threshold, self.keep_margin,
                                   self.keep_margin + self.outlet_margin)

    def _select_ranked(self, q: Question, ranked: list[_Sentence], passages: list[Passage], threshold: float,
                       keep_margin: float, outlet_margin: float) -> list[_Sentence]:
        best = ranked[0].evidence
        floor = max(threshold, best - keep_margin)
        chosen: list[_Sentence] = []
        words = 0
        seen_texts: set[str] = set()
        covered: set[str] = set()

        def take(s: _Sentence) -> None:
            nonlocal words
            key = _norm(s.text)
            n = len(s.text.split())
            if len(chosen) >= self.max_sentences or key in seen_texts or (chosen and words + n > self.max_words):
                return  # full, the same sentence carried by two copies (cite it once), or too long
            chosen.append(s)
            seen_texts.add(key)
            covered.update(_outlet_keys(passages[s.passage]))
            words += n

        take(ranked[0])
        # When several outlets answer, a journalist wants to see who reports what: the best sentence of
        # each further outlet comes before a second sentence from one already quoted, within a slightly
        # wider margin (a fresh outlet's wording of the same fact scores a little lower).
        outlet_floor = max(threshold, best - outlet_margin)
        for s in ranked[1:]:
            if s.evidence < outlet_floor:
                break
            if not covered.intersection(_outlet_keys(passages[s.passage])) and self._on_topic(q, s, ranked[0]):
                take(s)
        for s in ranked[1:]:
            if s.evidence < floor:
                break
            if s not in chosen:
                take(s)
        chosen.sort(key=lambda s: -s.evidence)
        return chosen

    @staticmethod
    def _on_topic(q: Question, s: _Sentence, top: _Sentence) -> bool:
        """A further outlet's sentence must answer the same way: the asked-for speaker, the typed value."""
        if s.cov < top.cov - ExtractiveEngine.outlet_coverage_gap:
            return False  # similar wording about something else ("the potential meeting" for "where")
        if q.speaker and s.speaker != q.speaker and not _subject_is(s.text, q.speaker):
            return False
        if q.kind in _NEEDS and not _NEEDS[q.kind](s.text):
            return False
        if q.kind == "date" and not _DATE.search(s.text):
            return False
        return True

    def compose(self, chosen: list[_Sentence], passages: list[Passage]) -> list[str]:
        """Group the chosen sentences by source (best source first, then reading order) and frame each
        as a verbatim quote. The frame only names the source; it adds no fact."""
        groups: dict[str, list[_Sentence]] = {}
        for s in chosen:  # chosen is in evidence order, so the first group is the best source
            groups.setdefault(passages[s.passage].source, []).append(s)
        out: list[str] = []
        unknown_seen = 0
        for gi, (_, group) in enumerate(groups.items()):
            group.sort(key=lambda s: (passages[s.passage].paragraph, s.position))
            p = passages[group[0].passage]
            name = _outlet_phrase(p, [s.text for s in group])
            for k, s in enumerate(group):
                quote = _quote(s.text)
                if k > 0:
                    lead = "It adds: "
                elif name is None:
                    lead = ("One article" if unknown_seen == 0 else "Another article") + \
                        f" (\u201c{_title(passages[s.passage].title)}\u201d) says: "
                    unknown_seen += 1
                elif gi == 0:
                    lead = f"According to {name}, "
                else:
                    verb = "report" if " and " in name else "reports"  # two outlets carrying a wire copy
                    lead = f"{name[0].upper()}{name[1:]} {verb}: "
                out.append(render(f"{lead}\u201c{quote}\u201d", [s.passage + 1]))
        return out


def _outlet_keys(p: Passage) -> set[str]:
    """Who carries a paragraph: its outlets (wire copies included); an unnamed outlet is its article."""
    return {(c.outlet if c.outlet and c.outlet != UNKNOWN_OUTLET else c.source).lower() for c in (p, *p.also_in)}


def _with_naming(chosen: list[_Sentence], ctx: _Context,
                 passages: list[Passage]) -> tuple[list[_Sentence], list[Passage]]:
    """A quote attributed only as "the former Fox News host said" is preceded by the previous
    paragraph's sentence naming that person, quoted and cited like any other: the reader sees who it is
    without the answer asserting anything the articles do not say."""
    passages = list(passages)
    have = {(s.passage, s.position) for s in chosen}
    out = list(chosen)
    for s in chosen:
        link = ctx.naming.get((s.passage, s.position))
        if link is None:
            continue
        para, k = link
        pi = next((i for i, p in enumerate(passages) if p.id == para.id), None)
        if pi is None:
            passages.append(para)
            pi = len(passages) - 1
        if (pi, k) not in have:
            have.add((pi, k))
            out.append(_Sentence(split_sentences(para.text)[k], pi, k, None, evidence=s.evidence))
    return out, passages


@dataclass(frozen=True)
class _Named:
    outlets: frozenset[str] = frozenset()  # lower-case outlet/agency names the question mentions
    words: frozenset[str] = frozenset()  # the question's entity words that belong to those names


_OUTLET_FILLER = {"the", "daily", "times", "news", "post", "new", "online", "press"}


def _carriers(p: Passage) -> list[str]:
    """Outlets and agencies carrying a paragraph (its wire copies included)."""
    out = []
    for c in (p, *p.also_in):
        for name in (c.outlet, c.agency):
            if name and name != UNKNOWN_OUTLET and name not in out:
                out.append(name)
    return out


def _named_outlets(question: str, passages: list[Passage]) -> _Named:
    """Outlets whose distinctive name word ("Express", "Straits", "SouthFront") the question writes with a
    capital: generic words ("Times", "Daily") alone do not name an outlet ("how many times")."""
    outlets, words = set(), set()
    for p in passages:
        for name in _carriers(p):
            distinctive = [w for w in re.findall(r"[A-Za-z]+", name) if w.lower() not in _OUTLET_FILLER]
            if distinctive and all(re.search(rf"\b{re.escape(w)}\b", question) for w in distinctive):
                outlets.add(name.lower())
                words.update(w.lower() for w in re.findall(r"[A-Za-z]+", name))
    return _Named(frozenset(outlets), frozenset(words))


_GENERIC_ENTITIES = {"us", "u", "s", "uk", "eu", "the", "mr", "president"}


def _stem(w: str) -> str:
    from .stance import stem

    return stem(w)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _quote(sentence: str) -> str:
    """A sentence ready to sit inside “…”: inner double quotes become single ones (the usual way to
    nest quotations), a closing full stop is left to the answer sentence."""
    s = sentence.strip()
    s = s.replace("\u201c", "\u2018").replace("\u201d", "\u2019")
    s = re.sub(r'"(?=\w)', "\u2018", s)
    s = s.replace('"', "\u2019")
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1]
    return s


def _verbatim(text: str) -> str:
    """Text for a verbatim comparison: one kind of quotation mark and apostrophe, single spaces."""
    text = re.sub(r"[\u201c\u201d\u201e\u00ab\u00bb]", '"', text)
    text = re.sub(r"[\u2018\u2019\u201a`]", "'", text)
    return re.sub(r"\s+", " ", text).strip()


def _title(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _outlet_phrase(p: Passage, quoted: list[str]) -> str | None:
    """'the Daily Express', 'The Straits Times (Reuters)', 'SouthFront and the Daily Express'; None when
    no outlet is known. A near-duplicate copy's outlet is named only when the copy really carries every
    `quoted` sentence word for word: near-duplicates can differ in exactly the quoted sentence, and the
    citation check read only `p`."""
    names: list[str] = []
    for q in (p, *p.also_in):
        if q.outlet == UNKNOWN_OUTLET or not q.outlet:
            continue
        if q is not p and not all(_verbatim(s) in _verbatim(q.text) for s in quoted):
            continue
        n = q.outlet if q.outlet.lower().startswith("the ") or " " not in q.outlet else f"the {q.outlet}"
        if q.agency and q.agency.lower() not in q.outlet.lower():
            n += f" ({q.agency})"
        if n not in names:
            names.append(n)
    if not names:
        return None
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ====================================================================== the engines behind one API

class Answerer:
    """`answer(question, passages) -> Answer`; `stream(...)` yields verified text as it is ready."""

    def __init__(self, settings: Settings, embedder, llm=None, paragraphs: Paragraphs | None = None):
        """`paragraphs(source) -> list[Passage]` (e.g. `Assistant.paragraphs`) lets the extractive engine
        read retrieved paragraphs in their article; without it each paragraph is read on its own."""
        self.settings = settings
        self.embedder = embedder
        self.llm = llm
        self.reader = ArticleReader(paragraphs) if paragraphs is not None else None
        self.checker = CitationChecker(embedder)
        self.extractive = ExtractiveEngine(self.checker, AnswerModel.load(settings.answer_model)
                                           if settings.answer_model else None)
        self._prompt: str | None = None

    @property
    def engine(self) -> str:
        return "llm" if self.llm is not None else "extractive"

    # ---- public API
    def answer(self, question: str, passages: list[Passage]) -> Answer:
        stream = self.stream(question, passages)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def stream(self, question: str, passages: list[Passage]) -> AnswerStream:
        passages = list(passages)
        if self.llm is not None:
            return AnswerStream(lambda st: self._llm_chunks(st, question, passages))
        return AnswerStream(lambda st: self._extractive_chunks(st, question, passages))

    # ---- extractive
    def extract(self, question: str, passages: list[Passage]) -> tuple[list[str], list[_Sentence], list[Passage]]:
        """The composed answer sentences, every scored sentence, and the passages the [n] markers count
        (the retrieved ones plus any continuation or naming paragraph read from their articles)."""
        q = analyse(question)
        ctx = None
        if self.reader is not None and passages:
            passages, ctx = self.reader.read(q, passages)
        sents = self.extractive.score(q, passages, ctx)
        chosen = self.extractive.select(q, sents, passages)
        if ctx is not None and ctx.naming:
            chosen, passages = _with_naming(chosen, ctx, passages)
        return self.extractive.compose(chosen, passages), sents, passages

    def _extractive_chunks(self, st: AnswerStream, question: str, passages: list[Passage]) -> Iterator[str]:
        sentences, scored, passages = self.extract(question, passages)
        checked = VerifiedAnswer(self.checker, passages)
        first = True
        for s in sentences:
            ok = checked.add(s)
            if ok:
                yield ok if first else " " + ok
                first = False
        if not checked.sentences:
            st.answer = self._not_found(question, passages, scored, "extractive", checked.dropped)
            yield NOT_FOUND
            return
        st.answer = Answer(question, checked.text, checked.citations, engine="extractive",
                           dropped=tuple(checked.dropped))

    def _not_found(self, question, passages, scored, engine, dropped=()) -> Answer:
        # "Possibly related": the retrieved paragraphs ordered by their best sentence's evidence.
        best: dict[int, float] = {}
        for s in scored or []:
            best[s.passage] = max(best.get(s.passage, -1.0), s.evidence)
        order = sorted(range(len(passages)), key=lambda i: -best.get(i, 0.0)) if best else range(len(passages))
        related = tuple(passages[i] for i in list(order)[:RELATED_K])
        return Answer(question, NOT_FOUND, answered=False, related=related, engine=engine, dropped=tuple(dropped))

    # ---- generative
    def prompt_messages(self, question: str, passages: list[Passage]):
        from llama_index.core.llms import ChatMessage, MessageRole

        if self._prompt is None:
            self._prompt = (PROMPTS / "answer.md").read_text(encoding="utf-8")
        system = self._prompt.replace("{sources}", format_sources(passages)).replace("{n}", str(len(passages)))
        return [ChatMessage(role=MessageRole.SYSTEM, content=system),
                ChatMessage(role=MessageRole.USER, content=f"Question: {question}")]

    def _llm_chunks(self, st: AnswerStream, question: str, passages: list[Passage]) -> Iterator[str]:
        if not passages:
            st.answer = self._not_found(question, passages, None, "llm")
            yield NOT_FOUND
            return
        messages = self.prompt_messages(question, passages)
        try:
            tokens = (r.delta or "" for r in self.llm.stream_chat(messages))
            checked = VerifiedAnswer(self.checker, passages)
            buf, first, refused = "", True, False
            for tok in tokens:
                buf += tok
                done, buf = split_marked(buf, final=False)
                for sent in done:
                    refused = refused or _is_refusal(sent)
                    ok = None if refused else checked.add(sent)
                    if ok:
                        yield ok if first else " " + ok
                        first = False
            for sent in split_marked(buf)[0]:
                refused = refused or _is_refusal(sent)
                ok = None if refused else checked.add(sent)
                if ok:
                    yield ok if first else " " + ok
                    first = False
        except LLMError:
            raise
        except Exception as e:  # connection refused, timeouts, bad responses: one clear error
            raise LLMError(f"The LLM at {self.settings.llm_base_url or self.settings.llm_provider} failed: {e}. "
                           "Check ASSISTANT_LLM_BASE_URL / ASSISTANT_LLM_MODEL, or set ASSISTANT_LLM_PROVIDER=none "
                           "for the offline extractive engine.") from e
        if not checked.sentences:
            # The model said it cannot find the answer, or nothing it wrote survived the check.
            st.answer = self._not_found(question, passages, None, "llm", checked.dropped)
            yield NOT_FOUND
            return
        st.answer = Answer(question, checked.text, checked.citations, engine="llm", dropped=tuple(checked.dropped))


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


def with_standalone(answer: Answer, standalone: str | None) -> Answer:
    return replace(answer, standalone_question=standalone)
