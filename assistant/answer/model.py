"""The extractive engine's answer model: features per candidate sentence, a logistic model fitted on
the dev split (benchmarks/fit_answer.py), and the question-level answer-or-refuse gate."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..models import Passage
from ..stance import content_terms, term_set
from ..text import article_info
from ..text.injection import addresses_assistant
from ..text.nlp import parse
from ..text.question import analyse_question, present
from .question import Question
from .reader import _Context, _Sentence

log = logging.getLogger(__name__)

FEATURES = ("bias", "legacy", "coverage", "cosine", "paragraph_cosine", "rank", "typed", "type_match",
            "speaker_asked", "speaker_match", "speaker_other", "speaker_quoted", "missing_in_sentence",
            "missing_in_paragraph", "missing_in_article", "short", "person_missing", "predicate_in_sentence",
            "predicate_in_paragraph", "nouns_in_sentence", "nouns_in_paragraph", "rules_refuse",
            "answer_attached")


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


# The small spaCy model often tags "42 million euros" or "two-tenths of a percentage point" as a plain
# CARDINAL (or nothing): the unit word still says what kind of number it is.
_UNIT_WORDS = {
    "money": re.compile(r"[$\u00a3\u20ac\u00a5]|\b(?:dollars?|euros?|pounds?|yen|yuan|rupees?|francs?|pesos?|"
                        r"rubles?|roubles?|won|shekels?|dinars?|cents?)\b", re.I),
    "percent": re.compile(r"%|\bper ?cent\b|\bpercentage points?\b", re.I),
}


def answer_features(q: Question, sents: list[_Sentence], passages: list[Passage], ctx: "_Context | None",
                    para_best: list[float], context: list[str]) -> np.ndarray:
    """One row of FEATURES per sentence: what the question asks for (answer type, speaker, the names,
    dates and amounts it states) against what the sentence, its paragraph and its article hold."""
    qi = analyse_question(q.text)
    qlow = q.text.lower()
    reading = ctx.reading if ctx else {}
    rows = np.zeros((len(sents), len(FEATURES)), dtype=np.float64)
    asked = bool(qi.speaker or qi.speaker_words)
    years = re.findall(r"\b(?:19|20)\d\d\b", q.text)
    # The question's predicate: its content words that are not part of a name ("When is Faisal
    # Shahzad's trial scheduled to begin?" -> trial, schedul, begin). Unanswerable questions usually
    # share the names with the evidence, not the predicate.
    ent_terms = set(content_terms(" ".join(e.text for e in qi.entities)))
    pred = [t for t in q.terms if t not in ent_terms and t not in _SAY_STEMS]
    nouns = list(dict.fromkeys(t for n in qi.nouns for t in content_terms(n)))
    ents_q = qi.entities
    q_lemmas = question_lemmas(q.text) if qi.wants else frozenset()
    where: dict[int, tuple] = {}  # passage index -> what every sentence of that passage is compared with

    def passage_view(i: int) -> tuple:
        if i not in where:
            p = passages[i]
            if i in reading:
                info, idx, art_lower = reading[i]
            else:  # read on its own: the paragraph is its whole article
                info, idx, art_lower = article_info([p.text]), 0, (p.title + " " + p.text).lower()
            if p.date:
                art_lower += " " + _date_words(p.date)
            low_p = (context[i] + " " + p.title).lower()
            where[i] = (info, idx, art_lower, low_p, term_set(low_p))
        return where[i]

    for j, s in enumerate(sents):
        info, idx, art_lower, low_p, terms_p = passage_view(s.passage)
        row = info.paragraphs[idx] if idx < len(info.paragraphs) else ()
        sinfo = row[s.position] if s.position < len(row) and row[s.position].text == s.text else None
        ents = sinfo.entities if sinfo else ()
        type_match = any(e.label in qi.wants and gives_new_value(e.text, e.label, qlow) for e in ents) or \
            bool(qi.answer_type in _UNIT_WORDS and _UNIT_WORDS[qi.answer_type].search(s.text) and
                 re.search(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|"
                           r"billion)\b", s.text, re.I))
        sp_match = bool(qi.speaker and s.speaker == qi.speaker)
        if not sp_match and qi.speaker_words and s.speaker not in (None, "?", "official"):
            sp_match = qi.describes(info.people, s.speaker)
        sp_other = asked and not sp_match and s.speaker not in (None, "?")
        low_s = s.text.lower()
        terms_s = term_set(s.text)
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
        s.off_subject = bool(f[16]) or any(y not in art_lower for y in years)
        if pred:
            f[17] = sum(t in terms_s for t in pred) / len(pred)
            f[18] = sum(t in terms_p for t in pred) / len(pred)
        if nouns:
            f[19] = sum(t in terms_s for t in nouns) / len(nouns)
            f[20] = sum(t in terms_p for t in nouns) / len(nouns)
        else:
            f[19] = f[20] = 1.0
        if qi.wants and type_match:
            f[22] = 1.0 if _attached(s.text, qi.wants, q_lemmas) else 0.0
        if qi.speaker:
            # only X's own words answer "what did X say": X by name, or an unresolved "he said" next to X
            s.eligible = sp_match or (s.speaker == "?" and qi.speaker in low_p)
        else:
            s.eligible = not sp_other
        # A who/where/when/how-many question is answered only by a sentence holding that kind of thing.
        s.eligible = s.eligible and (not qi.wants or type_match)
        if addresses_assistant(s.text):
            s.eligible = False  # an instruction planted for a model is not news (text/injection.py)
    return rows


_NUMBER_WORD = re.compile(r"\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                          r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion)\b", re.I)
_DAY_ASKED = re.compile(r"\b(?:what|which) (?:date|day)\b")
_SPECIFIC_DATE = re.compile(r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b|"
                            r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b(?:yesterday|today|tomorrow)\b")
_RANK_ASKED = re.compile(r"\b(?:place|placed|rank|ranked|position|finish|finished|seed|seeded)\b")


def gives_new_value(text: str, label: str, qlow: str) -> bool:
    """An entity of the asked type answers only if it says something the question does not already
    state: "as high as 2.9 million" does not answer "How many of the 2.9 million doses ..." (its number
    is the question's own); an ordinal ("First, ...") answers only a question about a place or rank,
    and an amount of money not "how many <things>"."""
    low = text.lower()
    if low in qlow:
        return False
    if label == "ORDINAL" and not _RANK_ASKED.search(qlow):
        return False
    if label == "DATE" and _DAY_ASKED.search(qlow) and not _SPECIFIC_DATE.search(low):
        return False  # "this year", "later this month" do not answer "On what date ...?"
    if label == "MONEY" and re.search(r"\bhow many\b", qlow) and not re.search(r"\bhow many (?:dollars|euros|pounds)\b", qlow):
        return False  # a count of things, not an amount of money
    nums = [n.rstrip(".,") for n in _NUMBER_WORD.findall(low)]
    if nums and all(re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", qlow) for n in nums):
        return False
    return True


@lru_cache(maxsize=1024)
def question_lemmas(question: str) -> frozenset[str]:
    """Content lemmas of the question outside its names and the wh-phrase: what an answer entity should
    be attached to ("When is the trial scheduled to begin?" -> trial, schedule, begin)."""
    doc = parse(question)
    return frozenset(t.lemma_.lower() for t in doc if t.pos_ in ("NOUN", "VERB", "ADJ") and t.is_alpha and
                     not t.is_stop and not t.ent_type_ and t.lemma_.lower() not in _SAY_LEMMAS)


def _attached(sentence: str, labels: frozenset[str], qlemmas: frozenset[str]) -> bool:
    """Some entity of the asked type hangs on a word the question uses: "Monday, X was taken into
    custody" has a date, but on "taken", not on the trial the question asks about. Words are compared
    by lemma or a shared 5-letter stem (vaccine ~ vaccination)."""
    if not qlemmas:
        return True
    return any(attached_to_question(e, qlemmas) for e in parse(sentence).ents if e.label_ in labels)


def attached_to_question(e, qlemmas: frozenset[str]) -> bool:
    """The entity span `e` hangs on a word of the question (see `_attached`)."""
    if not qlemmas:
        return True
    stems = {w[:5] for w in qlemmas if len(w) >= 5}
    near = []
    h = e.root
    for _ in range(3):  # the words governing it, up to the clause's verb
        if h.head is h:
            break
        h = h.head
        near.append(h)
        if h.pos_ in ("VERB", "AUX"):
            break
    near += [c for c in e.root.children if not (e.start <= c.i < e.end)]
    for t in near:
        lem = t.lemma_.lower()
        if lem in qlemmas or (len(lem) >= 5 and lem[:5] in stems):
            return True
    return False


_SAY_LEMMAS = {"say", "tell", "describe", "accord", "report", "happen", "do", "make", "give"}
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
                 "entities", "person_missing", "predicate", "predicate_paragraph", "nouns", "nouns_paragraph",
                 "rules_refuse", "typed_unattached")


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
    f[12] = t[FEATURES.index("rules_refuse")]
    # a typed question none of whose best candidates holds the asked thing attached to its words
    f[13] = 1.0 if t[6] and not any(s.feats is not None and s.feats[22] for s in ranked[:3]) else 0.0
    return f
