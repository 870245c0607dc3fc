"""Who says what, and which entities each sentence holds: one spaCy pass over a whole article.

The sentence units are `stance.split_sentences` (the unit answers and claims quote); spaCy's parse and
entities are read over the same character spans. For every sentence:

* ``speaker`` - the name key ("cook" for "Tim Cook") of whoever the sentence reports speaking: the
  subject of a speech verb outside quotation marks ("said Tim Cook, Apple's chief executive"), the
  object of "according to", a pronoun resolved to the last person named, a description ("the agency's
  administrator said") resolved to the person the article gave that title; "?" when a pronoun or
  description cannot be resolved, "official" for unnamed officials/spokespeople, None when nobody speaks.
* ``entities`` - spaCy's named entities (PERSON, ORG, GPE, DATE, MONEY, PERCENT, ...) in the sentence.

``people`` maps each person's key to the title words the article gives them ("secretary", "defense",
"executive", "chief", "coach"), so a question naming someone only by title finds them.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .nlp import parse, parse_many, word_list

SPEECH = word_list("speech_verbs.txt")
_OFFICIAL = {"official", "spokesman", "spokeswoman", "spokesperson", "source", "aide", "officer"}
_PRONOUN = {"he", "she", "they", "him", "her", "them"}
_NAME_LABELS = {"PERSON", "ORG", "NORP", "GPE"}


@dataclass(frozen=True)
class Entity:
    text: str
    label: str


@dataclass(frozen=True)
class SentenceInfo:
    text: str
    paragraph: int  # index in the article's paragraph list
    index: int  # sentence number within the paragraph
    speaker: str | None
    entities: tuple[Entity, ...] = ()
    context: str = ""  # the previous sentence: what an elliptic sentence leans on

    def labels(self) -> set[str]:
        return {e.label for e in self.entities}


@dataclass(frozen=True)
class ArticleInfo:
    paragraphs: tuple[tuple[SentenceInfo, ...], ...]
    people: dict[str, tuple[str, ...]]  # name key -> title words

    def titles(self, key: str) -> set[str]:
        return set(self.people.get(key, ()))


def name_key(name: str) -> str:
    from ..stance import _name_key  # one definition of the surname key for the whole code base

    return _name_key(name)


def _quote_mask(text: str) -> list[bool]:
    """True for characters inside quotation marks (curly or straight)."""
    mask = [False] * len(text)
    inside_curly = inside_straight = False
    for i, ch in enumerate(text):
        if ch == "\u201c":
            inside_curly = True
        elif ch == "\u201d":
            inside_curly = False
            mask[i] = True
            continue
        elif ch == '"':
            inside_straight = not inside_straight
            mask[i] = True
            continue
        mask[i] = inside_curly or inside_straight
    return mask


def _span_text(tok) -> str:
    """The name a token belongs to: its entity, else the token with its proper-noun compounds."""
    if tok.ent_type_ and tok.ent_iob_ != "O":
        for ent in tok.doc.ents:
            if ent.start <= tok.i < ent.end:
                return ent.text
    parts = [c for c in tok.children if c.dep_ == "compound" and c.pos_ == "PROPN" and c.i < tok.i]
    return " ".join([p.text for p in parts] + [tok.text])


def _is_name(tok) -> bool:
    return tok.pos_ == "PROPN" or tok.ent_type_ in _NAME_LABELS


def _title_words(tok) -> set[str]:
    """Nouns describing a person: 'chief executive' -> {executive, chief}; 'the agency's administrator'."""
    out = {tok.lemma_.lower()} if tok.pos_ in ("NOUN", "PROPN") and not tok.ent_type_ == "PERSON" else set()
    for c in tok.children:
        if c.dep_ in ("compound", "amod") and c.ent_type_ != "PERSON" and c.is_alpha:
            out.add(c.lemma_.lower())
    return {w for w in out if w.isalpha() and len(w) > 2}


_GENERIC = word_list("generic_title_words.txt")


def description_words(tokens) -> set[str]:
    """Content words of a description ("the agency's acting chief" -> {agency, acting, chief})."""
    return {t.lemma_.lower() for t in tokens if t.pos_ in ("NOUN", "PROPN", "ADJ") and t.is_alpha and
            len(t.text) > 2 and not t.is_stop and t.lemma_.lower() not in _GENERIC and t.ent_type_ != "PERSON"}


def _collect_titles(docs) -> dict[str, set[str]]:
    """Title words for every person the article names: compounds before the name ("Defense Secretary
    Pete Hegseth"), an appositive ("Tim Cook, Apple's chief executive") or the noun the name is in
    apposition to ("Apple's chief executive, Tim Cook")."""
    people: dict[str, set[str]] = {}
    for doc in docs:
        for ent in doc.ents:
            if ent.label_ != "PERSON":
                continue
            key = name_key(ent.text)
            if not key:
                continue
            titles = people.setdefault(key, set())
            root = ent.root
            for c in root.children:
                if c.i < ent.start and c.dep_ in ("compound", "amod", "nmod", "poss"):
                    titles |= description_words(c.subtree)
                if c.dep_ == "appos":
                    titles |= description_words(list(c.subtree)[:14])
            if root.dep_ == "appos" and root.head.pos_ in ("NOUN", "PROPN"):
                head = root.head
                titles |= description_words([head, *[x for x in head.children if x.dep_ in
                                                     ("compound", "amod", "poss", "nmod", "prep")
                                                     for x in x.subtree]][:14])
            # "Mark Wolfe is executive director of the association." (news often introduces a speaker
            # this way, then quotes him with "he says"); also "X serves as ..."
            verb = root.head
            if root.dep_ == "nsubj" and verb.lemma_ in ("be", "serve", "work"):
                for c in verb.children:
                    if c.dep_ == "attr" and c.pos_ in ("NOUN", "PROPN"):
                        titles |= description_words(list(c.subtree)[:14])
                    elif c.dep_ == "prep" and c.lower_ == "as":
                        titles |= description_words([x for p in c.children if p.dep_ == "pobj"
                                                     for x in p.subtree][:14])
            # "Secretary" written as part of the entity ("Secretary Blinken") is a title too
            for t in ent:
                if t.i < root.i and t.pos_ in ("NOUN", "PROPN") and t.is_title and t.lower_ in _KNOWN_TITLES:
                    titles.add(t.lower_)
    return people


_KNOWN_TITLES = word_list("titles.txt")


class _Resolver:
    def __init__(self, people: dict[str, set[str]]):
        self.people = people
        self.last_person: str | None = None
        self.last_speaker: str | None = None

    def person(self, tok) -> str | None:
        """Speaker key for the subject token of a speech verb."""
        low = tok.lower_
        if tok.pos_ == "PRON":
            if low in _PRONOUN:
                return self.last_speaker or self.last_person or "?"
            return None  # "I said", "we said", "it said" inside narration: no one to name
        if _is_name(tok):
            people = [e for e in tok.doc.ents if e.label_ == "PERSON" and
                      tok.left_edge.i <= e.start and e.end <= tok.right_edge.i + 1]
            if people and tok.ent_type_ != "PERSON":  # "WASHINGTON - US President Donald Trump said"
                return name_key(people[-1].text) or None
            return name_key(_span_text(tok)) or None
        if tok.pos_ == "NOUN":
            for c in tok.children:
                # "Single mother, Julie Tkachuck," names the speaker; "EU leaders (France, Germany, ...)"
                # lists places, not a person
                if c.dep_ == "appos" and _is_name(c) and c.ent_type_ not in ("GPE", "NORP", "LOC"):
                    return name_key(_span_text(c)) or None
            if tok.lemma_.lower() in _OFFICIAL:
                return "official"
            words = _title_words(tok)
            head = tok.lemma_.lower()
            cands = [k for k, t in self.people.items() if head in t]
            if self.last_person in cands or (len(cands) != 1 and self.last_person and
                                             head in self.people.get(self.last_person, set())):
                return self.last_person
            if len(cands) == 1:
                return cands[0]
            if words and (self.last_speaker or self.last_person):
                return self.last_speaker or self.last_person
            return "?"
        return None


def _speech_subject(tokens, mask, start):
    """(subject token, kind) of the first speech verb outside quotes, or the 'according to' object."""
    for t in tokens:
        if mask[t.idx - start] if 0 <= t.idx - start < len(mask) else False:
            continue
        if t.lower_ == "according" and t.i + 1 < len(t.doc) and t.doc[t.i + 1].lower_ == "to":
            objs = [c for c in t.doc[t.i + 1].children if c.dep_ == "pobj"]
            if objs:
                return objs[0]
    for t in tokens:
        if (mask[t.idx - start] if 0 <= t.idx - start < len(mask) else False) or t.pos_ not in ("VERB",):
            continue
        if t.lemma_.lower() not in SPEECH:
            continue
        if any(c.dep_ in ("auxpass", "nsubjpass") for c in t.children):
            continue  # "he was asked" is not speaking
        subj = next((c for c in t.children if c.dep_ == "nsubj"), None)
        v = t
        while subj is None and v.dep_ in ("conj", "xcomp", "advcl", "acl") and v.head is not v:
            # "the ministry issued a statement saying ...": the speaker is whoever issued the statement
            v = v.head if v.dep_ != "acl" else (v.head.head if v.head.dep_ in ("dobj", "pobj") else v.head)
            subj = next((c for c in v.children if c.dep_ == "nsubj"), None)
        if subj is not None:
            return subj
    return None


def speech_subject_words(sentence: str) -> set[str]:
    """Lower-cased words and lemmas of the phrase that speaks in one sentence ("The forecasters say ..."
    -> {the, forecasters, forecaster}; "Single mother, Julie Tkachuck, says" -> {single, mother, julie,
    tkachuck}); empty when nobody speaks."""
    doc = parse(sentence)
    subj = _speech_subject(list(doc), _quote_mask(sentence), 0)
    if subj is None:
        return set()
    return {w for t in subj.subtree for w in (t.lower_, t.lemma_.lower()) if t.is_alpha}


def _sentence_spans(text: str, sentences: list[str]) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for s in sentences:
        i, end = text.find(s, pos), -1
        if i >= 0:
            end = i + len(s)
        else:  # a sentence joined across a line break ("GOES-13\nsatellite on ..."): any whitespace matches
            m = re.compile(r"\s+".join(re.escape(w) for w in s.split())).search(text, pos)
            if m:
                i, end = m.start(), m.end()
        if i < 0:
            spans.append((pos, pos))
            continue
        spans.append((i, end))
        pos = end
    return spans


def analyse_article(paragraphs: list[str]) -> ArticleInfo:
    """One pass over an article's paragraphs (in order). Deterministic; the result is cached by the
    paragraphs' text (see `ArticleCache`)."""
    from ..stance import split_sentences

    docs = parse_many(paragraphs)
    people = _collect_titles(docs)
    labels = _speaker_labels(paragraphs, people)
    res = _Resolver(people)
    turn: str | None = None  # a transcript's current speaker (the last "NAME:" label)
    out: list[tuple[SentenceInfo, ...]] = []
    prev_text = ""
    for pi, (para, doc) in enumerate(zip(paragraphs, docs)):
        sents = split_sentences(para)
        spans = _sentence_spans(para, sents)
        mask = _quote_mask(para)
        carried = res.last_speaker
        if pi and not prev_text.rstrip().endswith(":"):
            res.last_speaker = None
        if para.lstrip()[:1] in "\"\u201c":
            res.last_speaker = res.last_speaker or carried  # a quotation paragraph continues the speaker
        row = []
        if labels:
            turn = labels.get(pi, turn)
        for si, (s, (a, b)) in enumerate(zip(sents, spans)):
            toks = [t for t in doc if a <= t.idx < b]
            subj = _speech_subject(toks, mask[a:b], a) if toks else None
            sp = res.person(subj) if subj is not None else None
            if sp in (None, "?") and turn:
                sp = turn  # in a transcript, what follows "SLAVITT:" is Slavitt's until the next label
            if sp is None and s.lstrip()[:1] in "\"\u201c" and res.last_speaker:
                sp = res.last_speaker  # a quotation continuing the previous speaker
            if sp is None and s.rstrip().endswith(":") and toks:
                # "Trump placed responsibility on Zelensky and the EU:" introduces the quotation that follows
                root = next((t for t in toks if t.dep_ == "ROOT"), None)
                subj = next((c for c in root.children if c.dep_ == "nsubj"), None) if root is not None else None
                sp = res.person(subj) if subj is not None else None
            ents = tuple(Entity(e.text, e.label_) for e in doc.ents if a <= e.start_char < b)
            row.append(SentenceInfo(s, pi, si, sp, ents, prev_text))
            if sp not in (None, "?", "official"):
                res.last_speaker = sp
                res.last_person = sp
            elif sp is None:
                res.last_speaker = None
            names = [name_key(e.text) for e in doc.ents
                     if e.label_ == "PERSON" and a <= e.start_char < b and not mask[e.start_char]]
            if names and sp in (None, "?", "official"):
                res.last_person = names[-1]
            prev_text = s
        out.append(tuple(row))
    return ArticleInfo(tuple(out), {k: tuple(sorted(v)) for k, v in people.items()})


_LABEL = re.compile(r"(?m)^\s*((?:[A-Z][\w.'\u2019-]*\s+){0,5}[A-Z][\w.'\u2019-]*)\s*(?:\(([^)]{1,40})\))?\s*:\s+\S")


def _speaker_labels(paragraphs: list[str], people: dict[str, set[str]]) -> dict[int, str | None]:
    """Transcript turns: paragraph index -> speaker key for paragraphs opening with a speaker label
    ("ACTING ADMINISTRATOR SLAVITT:", "Dr. Redfield:", "Paul Fulton (Moderator):"); None for a label that
    names no person ("Operator:", "Q:"), which ends the previous turn. Only for articles with at least two
    labelled turns, or one in capitals (one "Note:" line is not a transcript). The label's other words become the person's
    titles ("acting", "administrator", "moderator")."""
    found: dict[int, str | None] = {}
    titles: dict[str, set[str]] = {}
    loud = 0
    for i, para in enumerate(paragraphs):
        m = _LABEL.search(para)  # at the start of any line: headings may sit above the first turn
        if not m:
            continue
        words = m.group(1).split()
        key = name_key(m.group(1))
        known = key in people
        shouting = m.group(1).isupper() and len(words) >= 2  # "ACTING ADMINISTRATOR SLAVITT"
        if key and (known or shouting) and len(words) <= 6:
            found[i] = key
            loud += shouting
            extra = [w.lower().strip(".") for w in words[:-1]] + (m.group(2) or "").lower().split()
            titles.setdefault(key, set()).update(w for w in extra if w.isalpha() and len(w) > 2)
        elif len(words) == 1 and len(m.group(1)) <= 12:
            found[i] = None  # "Operator:", "Q:", "Moderator:" - a turn by someone unnamed
    if sum(v is not None for v in found.values()) < 2 and not loud:
        return {}
    for key, extra in titles.items():
        people.setdefault(key, set()).update(extra)
    return found


def speaker_of(sentence: str) -> str | None:
    """The speaker of one sentence read on its own (no article to resolve pronouns): a name key, "?"
    for a pronoun/description, "official", or None."""
    doc = parse(sentence)
    mask = _quote_mask(sentence)
    subj = _speech_subject(list(doc), mask, 0)
    if subj is None:
        return None
    return _Resolver({}).person(subj)


# ---------------------------------------------------------------- cache, keyed by the article's text

# Bumped whenever the analysis changes, so analyses cached on disk by older code are recomputed.
ANALYSIS_VERSION = 9


def article_key(paragraphs: list[str]) -> str:
    h = hashlib.sha256(f"v{ANALYSIS_VERSION}\x00".encode())
    for p in paragraphs:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


def _to_json(info: ArticleInfo) -> str:
    return json.dumps({"paragraphs": [[asdict(s) for s in row] for row in info.paragraphs],
                       "people": info.people}, ensure_ascii=False)


def _from_json(raw: str) -> ArticleInfo:
    d = json.loads(raw)
    rows = tuple(tuple(SentenceInfo(s["text"], s["paragraph"], s["index"], s["speaker"],
                                    tuple(Entity(**e) for e in s["entities"]), s.get("context", ""))
                       for s in row) for row in d["paragraphs"])
    return ArticleInfo(rows, {k: tuple(v) for k, v in d["people"].items()})


class ArticleCache:
    """Article analyses computed once (at ingest, or on first use) and kept on disk beside the index, so
    no question ever waits for the parser on an article it has seen."""

    def __init__(self, folder: Path | None, memory: int = 256):
        self.folder = Path(folder) if folder else None
        self._mem: dict[str, ArticleInfo] = {}
        self._memory = memory

    def get(self, paragraphs: list[str]) -> ArticleInfo:
        key = article_key(paragraphs)
        hit = self._mem.get(key)
        if hit is not None:
            return hit
        info = None
        path = self.folder / f"{key}.json" if self.folder else None
        if path is not None and path.exists():
            try:
                info = _from_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError, TypeError):
                info = None  # a damaged cache file is recomputed
        if info is None:
            info = analyse_article(paragraphs)
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(_to_json(info), encoding="utf-8")
                    tmp.replace(path)
                except OSError:
                    pass  # a read-only index folder only costs the re-parse next time
        if len(self._mem) >= self._memory:
            self._mem.pop(next(iter(self._mem)))
        self._mem[key] = info
        return info



_default = ArticleCache(None)


def use_cache_folder(folder: Path | None) -> None:
    """Keep article analyses on disk in `folder` (the Assistant points it beside its index)."""
    global _default
    if (_default.folder or None) != (Path(folder) if folder else None):
        _default = ArticleCache(folder)


def article_info(paragraphs: list[str]) -> ArticleInfo:
    return _default.get(list(paragraphs))


def spoken_sentences(paragraphs: list[str]):
    """Drop-in for the older regex reader: every sentence with its speaker, as stance.SpokenSentence."""
    from ..stance import SpokenSentence

    info = article_info(paragraphs)
    return [SpokenSentence(s.text, s.speaker, s.paragraph, s.context) for row in info.paragraphs for s in row]
