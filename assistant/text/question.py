"""What a question asks for, read with the same spaCy pipeline as the articles.

* ``wants`` - the entity labels an answer must contain (who -> PERSON/ORG, where -> GPE/LOC/FAC, when ->
  DATE/TIME, how much money -> MONEY, what share -> PERCENT, how many -> CARDINAL/QUANTITY...), from
  data/answer_types.json; empty for what/why/how questions, which any sentence may answer.
* ``entities`` - the names, dates and amounts the question itself states: an answer about another
  person, month or amount does not answer it.
* ``speaker_words`` - for "what did the agency's administrator say", the description's head noun
  ("administrator"), matched against the titles an article gives its people.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .nlp import data_json, parse, word_list

# Entity labels whose absence from the evidence means the evidence is about something else.
SPECIFIC = {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "DATE", "MONEY", "PERCENT", "CARDINAL",
            "QUANTITY", "PRODUCT", "WORK_OF_ART", "LAW", "TIME"}
_VAGUE_NOUNS = {"way", "thing", "kind", "part", "time", "year", "day", "people", "number", "amount", "reason"}
_QWORDS = {"what", "who", "whom", "whose", "which", "when", "where", "why", "how"}


@dataclass(frozen=True)
class QEntity:
    text: str
    label: str
    tokens: tuple[str, ...]  # lower-case words that must appear in the evidence


@dataclass(frozen=True)
class QuestionInfo:
    wants: frozenset[str]
    answer_type: str  # who | person | title | where | when | money | percent | number | duration | other
    entities: tuple[QEntity, ...]
    speaker_words: frozenset[str]  # words describing a speaker named only by title, else empty
    speaker: str | None = None  # name key of the person whose words are asked for ("what did Cook say")
    nouns: tuple[str, ...] = ()  # common nouns the question is about ("inspectors", "title", "book")
    speaker_head: str | None = None  # the description's head noun ("administrator" in "the agency's administrator")

    def describes(self, people: dict, key: str | None) -> bool:
        """Does the asked description fit person `key` of an article (`people`: key -> title words)?
        Two of its words among the person's titles ("foreign minister"), or its head noun where no one
        else in the article fits better ("the space agency's administrator" -> the NASA administrator)."""
        if not self.speaker_words or key in (None, "?", "official") or key not in people:
            return False
        words = _title_forms(self.speaker_words)
        hits = len(words & _title_forms(people[key]))
        if hits >= min(2, len(words)):
            return True
        if self.speaker_head and _title_forms({self.speaker_head}) & _title_forms(people[key]):
            return hits >= max(len(words & _title_forms(t)) for t in people.values())
        return False


def _title_forms(words) -> frozenset[str]:
    """Title words compared loosely: a 5-letter stem ("russia" ~ "russian", "administrator" ~
    "administration") plus the synonym groups a person's titles fill (data/title_synonyms.txt)."""
    words = frozenset(words)
    out = {w[:5] for w in words}
    for i, group in enumerate(_synonym_groups()):
        if any(alt <= words for alt in group):
            out.add(f"={i}")
    return frozenset(out)


@lru_cache(maxsize=1)
def _synonym_groups() -> tuple[tuple[frozenset[str], ...], ...]:
    from .nlp import DATA

    groups = []
    for line in (DATA / "title_synonyms.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            groups.append(tuple(frozenset(a.split()) for a in line.lower().split("|") if a.strip()))
    return tuple(groups)


def answer_type(question: str) -> str:
    low = question.lower()
    if re.search(r"\bhow much\b.*\b(?:cost|costs|worth|spend|spent|pay|paid|raise|raised|earn|earned|fund|"
                 r"funding|money|dollars?|budget|invest|invested|loan|fine|fined|damages?)\b|"
                 r"\bwhat (?:is|was|were) the (?:value|cost|price|budget|fine)\b|\bhow much money\b", low):
        return "money"
    if re.search(r"\bwhat (?:percentage|percent|share|proportion|rate)\b|\bby how much\b|\bhow many percent\b|"
                 r"\bwhat (?:was|is) the (?:\w+ )?rate\b", low):
        return "percent"
    if re.search(r"\bhow (?:long|far)\b|\bfor how many (?:hours|days|weeks|months|years)\b", low):
        # "how far" is a distance ("50 miles", a QUANTITY) or a time ("nearly eight months into ...")
        return "duration"
    if re.search(r"\bhow (?:many|much|old|big|large|often|fast|high|deep|tall)\b|\bwhat (?:number|amount|sum|"
                 r"figure|total|score)\b", low):
        return "number"
    if re.search(r"^\s*(?:and\s+)?when\b|\bwhat (?:date|day|year|month|time)\b|\bon which (?:date|day)\b|"
                 r"\bin which (?:year|month)\b|\bwhen (?:did|was|were|will|is|does|do)\b", low):
        return "when"
    if re.search(r"^\s*(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+)?(?:[\w.\-]+\s+){0,3}?(?:[\w.\-]+['\u2019]s\s+)?"
                 r"(?:hometown|home town|birthplace|place of birth|home state|home country)\b", low):
        return "where"  # "What is Maddalena's hometown?" asks for a place
    if re.search(r"^\s*(?:and\s+)?where\b|\bwhich (?:city|country|state|place|venue|region|town|county|island|"
                 r"province|nation|countries|cities|states)\b|\bwhere (?:did|was|were|will|is|does|do)\b|"
                 r"\bin what (?:city|country|state|place)\b", low):
        return "where"
    if re.search(r"\b(?:what|which) (?:is|was|were|are) the (?:title|name)s? of (?:the|a|an|his|her|their|its) "
                 r"(?:\w+ )?(?:book|books|film|movie|song|album|report|play|novel|show|series|paper|study|documentary|"
                 r"memoir|painting|opera|podcast)\b|\bwhat (?:book|film|movie|song|album|novel) (?:did|does|is|was)\b", low):
        return "title"  # a work's title: a WORK_OF_ART, not any noun phrase
    m = re.search(r"\b(?:which|what) ([a-z]+)\b", low)
    if m and m.group(1) in _PERSON_NOUNS:
        return "person"  # "which judge", "what official": a person, not any name
    if re.search(r"^\s*(?:and\s+)?(?:who|whom)\b|\bwhich (?:company|companies|agency|official|person|team|"
                 r"player|country's|organization|organisation|group|court|judge|leader|minister|athlete|"
                 r"officials|agencies|firm|bank)\b", low):
        return "who"
    return "other"


_PERSON_NOUNS = word_list("titles.txt") | word_list("person_nouns.txt")


@lru_cache(maxsize=1024)
def analyse_question(question: str) -> QuestionInfo:
    """Cached: the features, the gate and the short answer all read the same question."""
    kind = answer_type(question)
    types = data_json("answer_types.json")
    wants = frozenset(types.get(kind, ()))
    doc = parse(question)
    ents = []
    for e in doc.ents:
        if e.label_ not in SPECIFIC:
            continue
        toks = tuple(t.lower_ for t in e if (t.is_alpha or t.like_num) and not t.is_stop and
                     t.lower_ not in _QWORDS)
        if toks:
            ents.append(QEntity(e.text, e.label_, toks))
    speaker, speaker_words, head = _asked_speaker(doc)
    nouns = tuple(dict.fromkeys(t.lower_ for t in doc if t.pos_ == "NOUN" and t.is_alpha and not t.is_stop
                                and not t.ent_type_ and t.lemma_.lower() not in _VAGUE_NOUNS))
    return QuestionInfo(wants, kind, tuple(ents), frozenset(speaker_words), speaker, nouns, head)


_PERSON_NOUNS = word_list("person_nouns.txt") | word_list("titles.txt")


def _asked_speaker(doc) -> tuple[str | None, set[str], str | None]:
    """Whose words the question asks for: the subject of its speech verb ("What did Tim Cook say",
    "How did the agency's acting chief describe ..."). A subject holding the wh-word ("Which politician
    admitted ...") is what is asked, not a constraint; an organisation or place ("What does Tehran say")
    is left to the ranking, because articles name institutions many ways."""
    from .annotate import description_words, name_key

    speech = word_list("speech_verbs.txt")
    for t in doc:
        if t.lower_ == "according":  # "According to America's top diplomat, where ...?"
            to = next((c for c in t.children if c.lower_ == "to"), None)
            subj = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
            if subj is not None and subj.lemma_.lower() not in _PERSON_NOUNS:
                continue  # "according to the report / the club": a source, not a person's words
        elif t.lemma_.lower() not in speech or t.pos_ not in ("VERB", "AUX", "NOUN"):
            continue  # (the small model tags "frame" in "How did X frame ..." a NOUN with X its subject)
        else:
            subj = next((c for c in t.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is None:
            continue
        # the noun phrase, not a clause the parser hung on it ("... diplomat, where will X be done")
        clauses = {x.i for c in subj.children if c.dep_ in ("relcl", "acl", "advcl") for x in c.subtree}
        sub = [x for x in subj.subtree if x.i not in clauses]
        if any(x.lower_ in _QWORDS or x.tag_ in ("WDT", "WP", "WP$") for x in sub):
            return None, set(), None
        people = [e for e in doc.ents if e.label_ == "PERSON" and sub[0].i <= e.start and e.end <= sub[-1].i + 1]
        if subj.pos_ == "NOUN" and not subj.ent_type_:
            # "the head of the Arkadelphia chamber", "the Olympic silver medalist": a description whose head
            # is a common noun; a name inside it (often a tagger's mistake) is not the speaker, unless it is
            # in apposition ("the chairman, John Smith")
            people = [e for e in people if e.root.dep_ == "appos" and e.root.head.i == subj.i]
        if people:
            return name_key(people[-1].text) or None, set(), None
        if subj.pos_ in ("PROPN",) or subj.ent_type_ in ("ORG", "GPE", "NORP"):
            return None, set(), None
        if subj.pos_ == "NOUN":
            return None, description_words(sub), subj.lemma_.lower()
    return None, set(), None


_SECOND_PART = re.compile(r",?\s+and\s+(?=(?:[\w'\u2019-]+\s+){0,2}(?:what|when|where|who|whom|why|how|which)\b)",
                          re.I)


def question_parts(question: str) -> list[str]:
    """A two-part question split at its second question word ("How many astronauts were American, and
    which country did the fourth come from?" -> both halves); one part otherwise."""
    parts = _SECOND_PART.split(question.strip(), maxsplit=1)
    if len(parts) != 2 or len(parts[0].split()) < 2 or len(parts[1].split()) < 2:
        return [question]
    first, second = parts[0].rstrip(" ,?") + "?", parts[1].strip()
    return [first, second[:1].upper() + second[1:]]


def present(entity: QEntity, text_lower: str) -> bool:
    """Every word of the entity occurs in the text (word boundaries; digits compared without commas)."""
    plain = text_lower.replace(",", "")
    for tok in entity.tokens:
        tok = tok.replace(",", "")
        if not re.search(rf"(?<![\w]){re.escape(tok)}", plain):
            return False
    return True
