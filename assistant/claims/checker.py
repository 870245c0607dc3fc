"""Claim checking: per indexed article, does it support, contradict or not mention a claim?

Offline path: the claim is split into parts (stance.decompose). Candidate articles are the ones the
hybrid search returns for any part (`candidate_k` paragraphs per part, near-duplicates merged); only
those are read, annotated with speakers (the text layer, assistant/text) and embedded (cached per source and paragraph
ids, so an edited article is re-read and an unchanged one never re-embedded). Per part and candidate
article the sentences closest in meaning are judged by stance.judge (meaning + numbers, durations, dates,
places, negation, antonyms, attribution). With an LLM, the same candidate sentences go to the LLM through
prompts/claim_judge.md; its verdict counts only if it quotes candidate sentences that really exist.

Every other indexed article is not_mentioned without being read: if the search ranks none of its
paragraphs among the best for the claim, no sentence of it addresses the claim closely enough to decide.
The cost of a check is therefore bounded by `candidate_k`, not by the size of the index. Verdicts stay
one per indexed article (outlet-filtered) up to `list_all_max` articles; past that, `verdicts` lists only
the candidate articles and the summary counts the unlisted rest as silent (a 10k-row table of
"not mentioned" helps nobody, and building it would be the only per-article cost left).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..models import Citation, ClaimCheck, Passage, SourceInfo, SourceVerdict
from ..stance import (ClaimPart, PairJudgment, SpokenSentence, TermStats, content_terms, coverage, decompose,
                      judge, term_set)
from ..text import article_info, spoken_sentences
from ..text.injection import addresses_assistant
from .compare import _DESIGNATION, absent_names, amounts_of, conflicts, missing_amounts, negated_verb_in

log = logging.getLogger(__name__)

PROMPT_PATH = Path(__file__).resolve().parents[2] / "prompts" / "claim_judge.md"
NOT_IN_CORPUS = "not in the indexed articles"
NOT_RETRIEVED = "no paragraph of this article is among those retrieved for the claim"
_RANK = {"contradicts": 2, "supports": 1, "not_mentioned": 0}


@dataclass
class _Article:
    info: SourceInfo
    fingerprint: frozenset[str]  # paragraph ids: they hash the paragraph text, so they change with it
    passages: list[Passage]
    sentences: list[SpokenSentence]
    vectors: np.ndarray  # (n_sentences, dim) unit vectors
    df: Counter  # term -> number of sentences containing it (for TermStats over the candidates)
    titles: dict[str, set[str]] = field(default_factory=dict)  # person key -> title words the article gives

    def text(self) -> str:
        """Headline and every read paragraph, with the date: what 'the article mentions'."""
        return " ".join([self.info.title, self.info.date or "", *(p.text for p in self.passages)])


@dataclass(frozen=True)
class _Candidate:
    sentence: SpokenSentence
    passage: Passage
    sim: float
    judgment: PairJudgment


class ClaimChecker:
    """`check(claim, outlet=None) -> ClaimCheck`; one verdict per indexed article (outlet-filtered; only
    the retrieved candidates past `list_all_max` articles, see the module docstring)."""

    candidates_per_source = 6  # sentences judged per part and article (and shown to the LLM)
    candidate_k = 40  # paragraphs retrieved per claim part; their articles are the ones read
    max_paragraphs_embedded = 150  # longer articles: only paragraphs `search` ranks for the claim
    list_all_max = 200  # above this many indexed articles, verdicts list only the candidates
    max_cached_articles = 1000  # least recently used articles are dropped past this (~40 MB of vectors)

    def __init__(self, settings, embedder, search: Callable, paragraphs: Callable, sources: Callable, llm=None):
        if settings is None:
            from ..config import Settings

            settings = Settings()
        self.settings = settings
        # tuned on the dev split (Settings.claim_*), never on test
        self.support_threshold = settings.claim_support_threshold
        self.min_support_sim = settings.claim_min_support_sim
        self.align_floor = settings.claim_align_floor
        self.paraphrase_sim = settings.claim_paraphrase_sim
        self.paraphrase_floor = settings.claim_paraphrase_floor
        self.embedder = embedder
        self._search = search
        self._paragraphs = paragraphs
        self._sources = sources
        self.llm = llm
        self._articles: OrderedDict[str, _Article] = OrderedDict()
        from .judges import LLMJudge, RulesJudge

        self.rules = RulesJudge()
        self.judge = LLMJudge(llm) if llm is not None else self.rules

    # ---------------------------------------------------------------- public
    def check(self, claim: str, outlet: str | list[str] | None = None) -> ClaimCheck:
        claim = " ".join((claim or "").split())
        parts = decompose(claim)
        infos = _filter_outlet(self._sources(), outlet)
        hits = self._retrieve(parts, infos if outlet else None)
        by_source = {i.source: i for i in infos}
        arts = [a for a in (self._article(by_source[s], ps, claim) for s, ps in hits.items() if s in by_source)
                if a is not None]
        read = {a.info.source for a in arts}
        unread = [i for i in infos if i.source not in read]
        listed_unread = unread if len(infos) <= self.list_all_max else []
        listed = [a.info for a in arts] + listed_unread
        stats = _term_stats(arts)
        part_vecs = self.embedder.embed_texts([p.content for p in parts])
        numbering = _Numbering()
        per_part: list[tuple[str, tuple[SourceVerdict, ...]]] = []
        verdicts_of: dict[str, list[SourceVerdict]] = {i.source: [] for i in listed}
        for part, vec in zip(parts, part_vecs):
            verdicts = []
            for art in arts:
                cands = self._candidates(part, vec, art, stats)
                v = self.judge.verdict(part, art, cands, numbering)
                # an LLM judge that cannot decide (or fails) leaves the verdict to the rules
                verdicts.append(v or self.rules.verdict(part, art, cands, numbering))
            verdicts += [_silent(i, part.text, NOT_RETRIEVED) for i in listed_unread]
            for v in verdicts:
                verdicts_of[v.source].append(v)
            per_part.append((part.text, tuple(_order(verdicts))))
        combined = _order([_combine(verdicts_of[i.source], i, len(parts)) for i in listed])
        unlisted = len(unread) - len(listed_unread)
        return ClaimCheck(claim=claim, parts=tuple(p.text for p in parts), verdicts=tuple(combined),
                          summary=_summary(combined, per_part if len(parts) > 1 else None, unlisted),
                          part_verdicts=tuple(per_part) if len(parts) > 1 else
                          ((parts[0].text, tuple(combined)),))

    # ---------------------------------------------------------------- candidate articles
    def _retrieve(self, parts: list[ClaimPart], infos: list[SourceInfo] | None) -> dict[str, list[Passage]]:
        """source -> its retrieved paragraphs, articles in order of their best hit (union over the parts).
        With an outlet filter the search is restricted to those articles' sources (which also covers
        an agency's articles published under other outlets)."""
        if infos is not None and not infos:
            return {}
        restrict = [i.source for i in infos] if infos is not None else None
        out: dict[str, list[Passage]] = {}
        for query in dict.fromkeys(p.text for p in parts if p.text.strip()):
            try:
                found = self._search(query, k=self.candidate_k, source=restrict)
            except Exception as exc:  # e.g. a too-long claim part: check the others rather than fail
                log.warning("claim search failed for %r (%s)", query[:80], exc)
                continue
            for p in found:
                seen = out.setdefault(p.source, [])
                if all(q.id != p.id for q in seen):
                    seen.append(p)
        return out

    def _article(self, info: SourceInfo, hits: list[Passage], claim: str) -> _Article | None:
        """The candidate article's sentences and vectors: from the cache when its registry entry is
        unchanged and it still holds every retrieved paragraph id (ids hash the text, so an edited
        paragraph the claim retrieves forces a re-read); else one `paragraphs` read, embedded once."""
        cached = self._articles.get(info.source)
        hit_ids = {p.id for p in hits}
        if cached is not None and cached.info == info and hit_ids <= cached.fingerprint:
            self._articles.move_to_end(info.source)
            return cached
        if info.paragraphs > self.max_paragraphs_embedded:
            # Long article: embed only the paragraphs retrieval finds for this claim (not cached: the
            # subset depends on the claim).
            more = self._search(claim, k=20, source=info.source)
            by_id = {p.id: p for p in [*hits, *more]}
            passages = sorted(by_id.values(), key=lambda p: (p.paragraph, p.part))
            return self._build(info, passages)
        passages = self._paragraphs(info.source)
        if not passages:
            return None
        fingerprint = frozenset(p.id for p in passages)
        if cached is not None and cached.fingerprint == fingerprint:
            cached.info = info
            self._articles.move_to_end(info.source)
            return cached
        art = self._build(info, passages)
        self._articles[info.source] = art
        while len(self._articles) > self.max_cached_articles:
            self._articles.popitem(last=False)
        return art

    def _build(self, info: SourceInfo, passages: list[Passage]) -> _Article:
        texts = [p.text for p in passages]
        sentences = spoken_sentences(texts)
        vectors = self.embedder.embed_texts([s.text for s in sentences]) if sentences else np.zeros((0, 384))
        df: Counter = Counter()
        for s in sentences:
            df.update(term_set(s.text))
        titles = {k: set(v) for k, v in article_info(texts).people.items()}  # the same cached analysis
        return _Article(info, frozenset(p.id for p in passages), passages, sentences,
                        np.asarray(vectors, dtype=np.float32), df, titles)

    def _candidates(self, part: ClaimPart, vec: np.ndarray, art: _Article, stats: TermStats) -> list[_Candidate]:
        if not art.sentences:
            return []
        sims = art.vectors @ vec
        terms = content_terms(part.content, drop={part.speaker} if part.speaker else None)
        # Rank by meaning and key terms together, so a paraphrase and a near-verbatim number both surface.
        rank = [0.55 * float(sims[i]) + 0.45 * coverage(terms, s.text, s.context, stats=stats)
                for i, s in enumerate(art.sentences)]
        top = sorted(range(len(rank)), key=lambda i: rank[i], reverse=True)[: self.candidates_per_source]
        out = []
        text = art.text()
        other_event = absent_names(part.content, text, undated=not art.info.date)
        for i in top:
            s = art.sentences[i]
            if addresses_assistant(s.text):
                continue  # an instruction planted for a model is not evidence (text/injection.py)
            context = s.context + " " + art.passages[s.paragraph].text
            j = judge(part, s.text, float(sims[i]), context=context, speaker=s.speaker, stats=stats,
                      support_threshold=self.support_threshold, min_support_sim=self.min_support_sim,
                      paraphrase_sim=self.paraphrase_sim, paraphrase_floor=self.paraphrase_floor)
            out.append(_Candidate(s, art.passages[s.paragraph], float(sims[i]),
                                  self._aligned(part, s.text, j, art, text, other_event, float(sims[i]), stats,
                                                s.context)))
        return out

    @staticmethod
    def _described(part: ClaimPart, reason: str, art: _Article) -> bool:
        """'said by tkachuck, not mother': the claim names the speaker by a description ("a single
        mother") that the article gives that person."""
        m = re.match(r"said by (\S+), not (\S+)", reason)
        if not m or not part.speaker_name:
            return False
        from ..text.annotate import description_words
        from ..text.nlp import parse

        doc = parse(part.speaker_name)
        if any(t.pos_ == "PROPN" and t.ent_type_ == "PERSON" for t in doc):
            return False  # a name, not a description: the names must agree
        words = description_words(doc)
        return bool(words & art.titles.get(m.group(1), set()))

    @staticmethod
    def _speaks_in(part: ClaimPart, sentence: str) -> bool:
        """The claim's speaker is literally the phrase that speaks in the sentence ("NOAA forecasters
        said" / "The forecasters say"): the article-level resolution of a description to a person must
        not overrule what the sentence itself says."""
        if not part.speaker_name:
            return False
        from ..text.annotate import speech_subject_words
        from ..text.nlp import parse

        words = speech_subject_words(sentence)
        if not words:
            return False
        doc = parse(part.speaker_name)
        root = next((t for t in doc if t.dep_ == "ROOT"), doc[-1])
        names = [t for t in doc if t.pos_ == "PROPN" and t.ent_type_ == "PERSON"]
        if names:  # a person: every part of the name the claim gives must be the speaking phrase's
            return all(t.lower_ in words for t in names if t.is_alpha)
        return root.lemma_.lower() in words or root.lower_ in words

    def _aligned(self, part: ClaimPart, sentence: str, j: PairJudgment, art: _Article, article_text: str,
                 other_event: list[str], sim: float, stats: TermStats, context: str = "") -> PairJudgment:
        """The rules' judgment, checked against the aligned parts (claims.compare): a conflicting amount,
        direction, role or place in a sentence about the same thing contradicts; a claim naming a person,
        product, event or year the article never mentions is about another event, so the article's
        numbers do not contradict it."""
        if j.reason.startswith("said by") and (self._described(part, j.reason, art) or
                                               self._speaks_in(part, sentence)):
            j = judge(dataclasses.replace(part, speaker=None), sentence, sim, stats=stats,
                      support_threshold=self.support_threshold, min_support_sim=self.min_support_sim,
                      paraphrase_sim=self.paraphrase_sim, paraphrase_floor=self.paraphrase_floor)
        if j.stance == "contradicts" and j.flags == ("negation: claim negates",) and \
                not negated_verb_in(part.content, sentence):
            # "did not attend the hearing" vs "was absent from the hearing": the sentence never states the
            # verb the claim denies, so the denial is not contradicted by it
            return PairJudgment("not_mentioned", 0.0, j.relevance, "a denial the sentence does not address")
        if j.reason.startswith(("said by", "not said by")):
            return j  # someone else's words: the misattribution rule decides
        kinds = {f.split(":", 1)[0] for f in j.flags}
        if j.stance == "contradicts" and kinds & {"year", "date"} and kinds & {"count", "fraction", "duration"}:
            # "56 officers were killed in 2010" vs "48 were killed in 2009": another year's figure, not a
            # conflicting one (a wrong year alone still contradicts)
            return PairJudgment("not_mentioned", 0.0, j.relevance, f"about another period ({j.reason})")
        claim_amounts = amounts_of(part.content)
        n_amounts = len(claim_amounts)
        # matching amounts are strong evidence that two differently worded sentences state one fact
        boosted = min(1.0, j.relevance + 0.06 * n_amounts)
        if j.reason in ("the claim's numbers are not in this sentence", "the source does not say it was done") \
                and n_amounts and not missing_amounts(part.content, sentence) \
                and boosted >= self.support_threshold and sim >= self.min_support_sim:
            # the rules count every digit ("2020", "Crew-1"); the parse tells amounts from dates and names,
            # and a date the sentence leaves out may be in its article (checked by absent_names)
            j = PairJudgment("supports", min(1.0, 0.3 + boosted * 0.75), boosted,
                             f"same meaning and amounts (similarity {sim:.2f})")
        elif j.reason == "the claim's numbers are not in this sentence" and not n_amounts and \
                j.relevance >= self.support_threshold and sim >= self.min_support_sim and \
                _years_stated(part.content, context, art, article_text):
            # the only digits are a year ("the 2024 Olympics") that the sentence before, the headline or
            # the dateline gives: the sentence need not repeat it
            j = PairJudgment("supports", min(1.0, 0.3 + j.relevance * 0.75), j.relevance,
                             f"same meaning, year from its article (similarity {sim:.2f})")
        if j.stance == "supports":
            # money and percentages only: a count is often implied ("one of the two companies" ~ "A and B")
            explicit = {a.text: a for a in claim_amounts if a.kind in ("money", "percent")}
            missing = [m for m in missing_amounts(part.content, sentence) if m in explicit]
            if missing:
                # a support states the claim's amounts: "paid $80 million" is not supported by "a fee of $90
                # million" (another amount of the same kind, same meaning otherwise: a contradiction)
                kinds = {explicit[m].kind for m in missing}
                other = [b for b in amounts_of(sentence) if b.kind in kinds]
                if other and j.relevance >= self.align_floor and not other_event:
                    flag = f"{other[0].kind}: claim '{missing[0]}' vs source '{other[0].text}'"
                    return PairJudgment("contradicts", min(1.0, 0.35 + j.relevance * 0.7), j.relevance, flag, (flag,))
                return PairJudgment("not_mentioned", 0.0, j.relevance, "the claim's amounts are not in this sentence")
        if other_event:
            if j.stance == "contradicts":
                return PairJudgment("not_mentioned", 0.0, j.relevance,
                                    f"about another event (the article never mentions {other_event[0]})")
            return j
        if j.stance == "contradicts" and j.reason.startswith("place:") and _dated_elsewhere(part.content, sentence):
            # "met in Helsinki in 2018": another occurrence, dated; it does not contradict where they met now
            return PairJudgment("not_mentioned", 0.0, j.relevance, f"another, dated event ({j.reason})")
        if j.stance == "contradicts" or j.relevance < self.align_floor:
            return j
        found = conflicts(part.content, sentence, article_text)
        if not found:
            return j
        score = min(1.0, 0.35 + j.relevance * 0.7)
        return PairJudgment("contradicts", score, j.relevance, "; ".join(found), tuple(found))

# ---------------------------------------------------------------- helpers

class _Numbering:
    """Citation numbers unique across one ClaimCheck (same sentence, same number)."""

    def __init__(self):
        self._seen: dict[tuple[str, str], int] = {}

    def cite(self, passage: Passage, quote: str) -> Citation:
        key = (passage.id, quote)
        if key not in self._seen:
            self._seen[key] = len(self._seen) + 1
        return Citation(self._seen[key], passage, quote)


def _term_stats(arts: list[_Article]) -> TermStats:
    """Term rarity over the candidate articles' sentences: what is common among the articles that
    discuss the claim's topic says little about whether a sentence addresses this claim."""
    st = TermStats()
    for a in arts:
        st.n += len(a.sentences)
        for term, c in a.df.items():
            st.df[term] = st.df.get(term, 0) + c
    return st


_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _years_stated(claim: str, paragraph: str, art: _Article, article_text: str) -> bool:
    """Every year the claim gives is in `paragraph` (the sentence before) or the headline/date, or is
    the only year the article (`article_text`, art.text()) mentions; and the claim has no digits besides
    years and names the article writes ("Crew-1", "COVID-19")."""
    years = set(_YEAR.findall(claim))
    rest = _YEAR.sub("", claim)
    text = article_text.lower()
    for m in _DESIGNATION.finditer(rest):  # "COVID-19" as its article writes it is a name, not a number
        if m.group(0).lower() in text:
            rest = rest.replace(m.group(0), "")
    if re.search(r"\d", rest):
        return False
    if not years:
        return True  # its only digits are names the article writes ("the Crew-1 astronauts")
    near = set(_YEAR.findall(" ".join([paragraph, art.info.title or "", art.info.date or ""])))
    return years <= near or set(_YEAR.findall(article_text)) == years


def _dated_elsewhere(claim: str, sentence: str) -> bool:
    """The sentence dates what it reports with a year the claim does not state."""
    return bool(set(_YEAR.findall(sentence)) - set(_YEAR.findall(claim)))


def _silent(info: SourceInfo, part: str, reason: str) -> SourceVerdict:
    return SourceVerdict(info.source, info.outlet, info.title, "not_mentioned", 0.0, (), part=part, reason=reason)


def _combine(verdicts: list[SourceVerdict], info: SourceInfo, n_parts: int) -> SourceVerdict:
    """One verdict per article for the whole claim: any contradicted part contradicts it; it supports the
    claim only if it supports every part (a half-sourced claim is not sourced; part_verdicts show which)."""
    if n_parts == 1:
        return verdicts[0]
    contra = [v for v in verdicts if v.stance == "contradicts"]
    sup = [v for v in verdicts if v.stance == "supports"]
    chosen = contra or (sup if len(sup) == n_parts else [])
    if not chosen:
        which = ", ".join(f"part {verdicts.index(v) + 1}" for v in sup)
        return SourceVerdict(info.source, info.outlet, info.title, "not_mentioned", 0.0, (),
                             reason=f"supports only {which} of {n_parts}" if sup else "no part of the claim is addressed")
    stance = "contradicts" if contra else "supports"
    evidence: list[Citation] = []
    for v in chosen:
        evidence.extend(e for e in v.evidence if e not in evidence)
    conf = max(v.confidence for v in chosen) if contra else min(v.confidence for v in chosen)
    which = ", ".join(f"part {verdicts.index(v) + 1}" for v in chosen)
    return SourceVerdict(info.source, info.outlet, info.title, stance, round(conf, 3), tuple(evidence),
                         reason=f"{stance} {which} of {n_parts}: " + "; ".join(v.reason for v in chosen))


def _order(verdicts: list[SourceVerdict]) -> list[SourceVerdict]:
    return sorted(verdicts, key=lambda v: (v.stance != "not_mentioned", v.confidence), reverse=True)


def _count(verdicts, stance: str) -> str:
    names = [v.outlet for v in verdicts if v.stance == stance]
    if not names:
        return "none"
    noun = "source" if len(names) == 1 else "sources"
    return f"{len(names)} {noun} ({', '.join(dict.fromkeys(names))})"


def _summary(verdicts: list[SourceVerdict], per_part, unlisted: int = 0) -> str:
    """`unlisted`: articles not retrieved for the claim and left out of `verdicts` (a large index)."""
    silent = sum(v.stance == "not_mentioned" for v in verdicts) + unlisted
    if silent == len(verdicts) + unlisted:
        head = NOT_IN_CORPUS[0].upper() + NOT_IN_CORPUS[1:]
    else:
        n_sup = sum(v.stance == "supports" for v in verdicts)
        n_con = sum(v.stance == "contradicts" for v in verdicts)
        first, second = (("supported", "supports"), ("contradicted", "contradicts"))
        if n_con > n_sup:
            first, second = second, first
        head = (f"{first[0]} by {_count(verdicts, first[1])}, {second[0]} by {_count(verdicts, second[1])}, "
                f"{silent} silent")
        head = head[0].upper() + head[1:]
    if not per_part:
        return head
    bits = []
    for text, vs in per_part:
        sup = [v.outlet for v in vs if v.stance == "supports"]
        con = [v.outlet for v in vs if v.stance == "contradicts"]
        desc = []
        if sup:
            desc.append("supported by " + ", ".join(dict.fromkeys(sup)))
        if con:
            desc.append("contradicted by " + ", ".join(dict.fromkeys(con)))
        bits.append(f"\u201c{text}\u201d: " + ("; ".join(desc) if desc else NOT_IN_CORPUS))
    return head + ". Parts \u2014 " + " | ".join(bits)


def _filter_outlet(infos: list[SourceInfo], outlet) -> list[SourceInfo]:
    if not outlet:
        return list(infos)
    wanted = {o.strip().lower() for o in ([outlet] if isinstance(outlet, str) else outlet)}
    return [i for i in infos if (i.outlet or "").lower() in wanted or (i.agency or "").lower() in wanted]


def _parse_json(raw: str):
    raw = raw.strip()
    m = re.search(r"\{.*\}", raw, re.S)
    return json.loads(m.group(0) if m else raw)


def _resolve_evidence(ref, cands: list[_Candidate]) -> _Candidate | None:
    """"S2", 2 or the sentence text itself -> the candidate; anything else (an invented quote) -> None."""
    if isinstance(ref, int) or (isinstance(ref, str) and re.fullmatch(r"\s*S?\d+\s*", ref)):
        i = int(re.sub(r"\D", "", str(ref))) - 1
        return cands[i] if 0 <= i < len(cands) else None
    if isinstance(ref, str):
        norm = " ".join(ref.split()).strip(" \"'\u201c\u201d")
        if len(norm) < 12:
            return None
        for c in cands:
            if norm in " ".join(c.sentence.text.split()):
                return c
    return None
