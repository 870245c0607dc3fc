"""The legacy question reading (regexes): kind, asked speaker, capitalised names, content terms.

The spaCy reading of a question is `assistant.text.question`; this one feeds the rule scores that are
one feature of the answer model."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..stance import content_terms, strip_quotes
from ..text.nlp import word_list


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


# Capitalised words that open a "did X say" question without naming a person (a data file).
_NOT_PEOPLE = word_list("not_person_words.txt")


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
