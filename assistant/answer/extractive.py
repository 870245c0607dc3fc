"""The offline extractive engine: rank the retrieved sentences (rule scores + the fitted model), pick
the ones that answer, quote them verbatim framed by their outlet, lead with the short answer."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..models import UNKNOWN_OUTLET, Answer, Passage
from ..stance import TermStats, coverage, split_sentences, stem, strip_quotes, term_set
from ..text.injection import NOTE as INJECTION_NOTE
from ..text.injection import addresses_assistant
from ..text.language import SWITCH as ENGLISH_ONLY
from ..text.language import not_english
from ..text.question import analyse_question, question_parts
from .base import NOT_FOUND, AnswerEngine, AnswerStream, not_found
from .model import FEATURES, AnswerModel, answer_features, attached_to_question, gives_new_value, question_lemmas
from .question import (
    _DATE,
    _NEEDS,
    _PLACE,
    _PRONOUN_SAYS,
    _QUOTE_OR_SAY,
    _SAY_WORD,
    Question,
    _subject_is,
    analyse,
)
from .reader import ArticleReader, _Context, _Sentence, _sentences
from .verify import CitationChecker, VerifiedAnswer, render, strip_markers


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
        missing = [e for e in ent_stems if stem(e) not in all_terms]
        ent_penalty = 0.25 * len(missing) / max(1, len(ent_stems))
        context = [(previous.get(i, "") + " " + p.text).strip() for i, p in enumerate(passages)]
        para_terms = [term_set(c) for c in context]
        lexical: list[float] = []
        for s in sents:
            p = passages[s.passage]
            # ...and a sentence whose paragraph lacks the question's names is probably about someone else.
            away = [e for e in ent_stems if stem(e) not in para_terms[s.passage] and e not in missing]
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
        # The older hand rules' refusal (no sentence by the asked speaker, no amount for "how much") is
        # one more feature; its weight is fitted with the others.
        feats[:, FEATURES.index("rules_refuse")] = 0.0 if self._select_rules(q, sents, passages) else 1.0
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
            if ranked and all(s.off_subject for s in ranked):
                # every candidate's article lacks a person or year the question names (checked on dev: no
                # answerable question is refused by this, 13 unanswerable ones are)
                return []
            if not ranked or not self.model.answers(q, ranked):
                return []
            return self._select_ranked(q, ranked, passages, min(self.model.threshold, ranked[0].evidence),
                                       self.model.margin, self.model.margin)
        return self._select_rules(q, sents, passages)

    def _select_rules(self, q: Question, sents: list[_Sentence], passages: list[Passage]) -> list[_Sentence]:
        """The hand-tuned selection over the rule scores (used as a feature, and when no model is set)."""
        ranked = sorted(sents, key=lambda s: -s.evidence)  # called on the rule scores, before the model's
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


_QUOTED_PART = re.compile(r"\u201c(.+)\u201d")


def short_answer(question: str, verified: str) -> str:
    """For who/where/when/how-many questions, the answer itself first: the entities of the asked-for
    kind in the first verified quote, cited like it ("Anchorage, Alaska [1]."). Words copied from the
    cited sentence only, so it claims nothing the citation check has not passed; it leads the first
    sentence, whose markers cite it."""
    from ..text.nlp import parse

    qi = analyse_question(question)
    if not qi.wants:
        return ""
    text, nums = strip_markers(verified)
    if text.startswith("It adds"):
        return ""
    m = _QUOTED_PART.search(text)
    quote = m.group(1) if m else text
    qlow = question.lower()
    ents = [e for e in parse(quote).ents if e.label_ in qi.wants and gives_new_value(e.text, e.label_, qlow)]
    # A value that hangs on the question's own words comes first: for "How many regions does Russia aim to
    # incorporate?", "four regions", not "about a fifth" of the country earlier in the sentence.
    qlemmas = question_lemmas(question)
    attached = [e for e in ents if attached_to_question(e, qlemmas)] if qlemmas else []
    if attached and attached[0] is not ents[0]:
        ents = ents[ents.index(attached[0]):]
    if not ents or not nums or len(quote.split()) < 6:
        return ""  # a headline or fragment: quoting it whole says as much
    group = [ents[0]]
    for e in ents[1:]:
        gap = quote[group[-1].end_char:e.start_char]
        if gap.strip(" ,") in ("", "in", "and", "to", "of") and len(group) < 3:
            group.append(e)
        else:
            break
    span = quote[group[0].start_char:group[-1].end_char].strip(" ,.")
    return span[:1].upper() + span[1:] if span else ""


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


class ExtractiveAnswerer(AnswerEngine):
    """The offline engine behind the contract: read, rank, select, compose, check."""

    name = "extractive"

    def __init__(self, checker: CitationChecker, reader: ArticleReader | None = None,
                 model: AnswerModel | None = None):
        self.checker = checker
        self.reader = reader
        self.ranker = ExtractiveEngine(checker, model)

    def extract(self, question: str, passages: list[Passage]) -> tuple[list[str], list[_Sentence], list[Passage]]:
        """The composed answer sentences, every scored sentence, and the passages the [n] markers count
        (the retrieved ones plus any continuation or naming paragraph read from their articles)."""
        q = analyse(question)
        ctx = None
        if self.reader is not None and passages:
            passages, ctx = self.reader.read(q, passages)
        sents = self.ranker.score(q, passages, ctx)
        chosen = self.ranker.select(q, sents, passages)
        if chosen:
            chosen = self._each_part(question, chosen, sents, passages, ctx)
        if ctx is not None and ctx.naming:
            chosen, passages = _with_naming(chosen, ctx, passages)
        return self.ranker.compose(chosen, passages), sents, passages

    def _each_part(self, question: str, chosen: list[_Sentence], sents: list[_Sentence], passages: list[Passage],
                   ctx) -> list[_Sentence]:
        """A two-part question is answered part by part: each part is ranked on its own, and a part whose
        best sentence is not yet quoted gets it (if the model would quote it at all), after the others."""
        parts = question_parts(question)
        model = self.ranker.model
        if len(parts) < 2 or model is None:
            return chosen
        have = {(s.passage, s.position) for s in chosen}
        by_key = {(s.passage, s.position): s for s in sents}
        out = list(chosen)
        for part in parts:
            ranked = sorted((s for s in self.ranker.score(analyse(part), passages, ctx) if s.eligible),
                            key=lambda s: -s.evidence)
            if not ranked or ranked[0].evidence < model.threshold:
                continue
            key = (ranked[0].passage, ranked[0].position)
            if key not in have and key in by_key and len(out) < self.ranker.max_sentences:
                out.append(by_key[key])
                have.add(key)
        return out

    def stream(self, question: str, passages: list[Passage], note: str | None = None) -> AnswerStream:
        return AnswerStream(lambda st: self._chunks(st, question, list(passages), note))

    def _chunks(self, st: AnswerStream, question: str, passages: list[Passage], note: str | None):
        sentences, scored, passages = self.extract(question, passages)
        lang = not_english(question, min_words=4)
        note = " ".join(filter(None, [
            note, INJECTION_NOTE if any(addresses_assistant(p.text) for p in passages) else None,
            f"This question does not look like English ({lang}): {ENGLISH_ONLY}." if lang else None])) or None
        checked = VerifiedAnswer(self.checker, passages)
        first = True
        for s in sentences:
            ok = checked.add(s)
            if ok:
                if first:
                    lead = short_answer(question, ok)
                    if lead:  # "Anchorage, Alaska: according to the Daily Express, “…” [1]."
                        ok = f"{lead}: {ok[:1].lower()}{ok[1:]}"
                        checked.sentences[0] = ok
                yield ok if first else " " + ok
                first = False
        if not checked.sentences:
            best: dict[int, float] = {}
            for s in scored or []:
                best[s.passage] = max(best.get(s.passage, -1.0), s.evidence)
            st.answer = not_found(question, passages, self.name, best, checked.dropped, note)
            yield NOT_FOUND
            return
        st.answer = Answer(question, checked.text, checked.citations, engine=self.name,
                           dropped=tuple(checked.dropped), note=note)
