"""Aligned comparison of a claim with one evidence sentence, read with spaCy.

Embeddings and word overlap call "Sales fell 12%" and "Sales rose 12%" the same sentence; this module
looks at the parts that decide a claim, aligned by the parse:

* amounts - MONEY, PERCENT, CARDINAL, QUANTITY and match scores ("3-1") attached to the same word (the
  verb or noun they belong to: "forfeit $50 million" vs "forfeit $500 million");
* direction - the claim's verb or comparative against its opposite (data/antonyms.txt: rise/fall,
  beat/lose, tighten/ease, above/below ...);
* roles - the same verb with subject and object swapped ("Liverpool beat Arsenal" vs "Arsenal beat
  Liverpool");
* places - a place the claim names that the article never mentions, where the sentence names another.

`conflicts()` returns what the sentence states differently; the caller decides whether the sentence is
about the same event (similarity, key terms) before treating a conflict as a contradiction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..text.nlp import DATA, parse

# Reporting verbs: their negation is about the report, not the claim ("did not say" is not compared).
_SPEECH = {"say", "tell", "state", "add", "write", "ask", "report", "note", "explain", "post", "tweet"}

_AMOUNT_LABELS = {"MONEY": "money", "PERCENT": "percent", "CARDINAL": "count", "QUANTITY": "quantity"}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "hundred": 100}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
          "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12}
_SCORE = re.compile(r"\b(\d{1,3})\s*[-\u2013]\s*(\d{1,3})\b")


@lru_cache(maxsize=1)
def _opposites() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in (DATA / "antonyms.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            a, b = parts[0].lower(), parts[1].lower()
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


def _value(text: str) -> float | None:
    t = text.lower().replace(",", "")
    m = re.search(r"\d+(?:\.\d+)?", t)
    if m:
        v = float(m.group(0))
    else:
        words = [w for w in re.findall(r"[a-z]+", t) if w in _WORDS]
        if not words:
            return None
        v = float(sum(_WORDS[w] for w in words))
    for w, scale in _SCALE.items():
        if re.search(rf"\b{w}\b", t) or (w == "million" and re.search(r"\d\s*m\b", t)) or \
                (w == "billion" and re.search(r"\d\s*bn\b", t)):
            v *= scale
    return v


@dataclass(frozen=True)
class Amount:
    kind: str  # money | percent | count | quantity | score
    value: float | tuple
    text: str
    anchor: frozenset[str]  # lemmas of the words it belongs to (governing verb/noun, its noun)


def _anchor(span) -> frozenset[str]:
    """The words an amount belongs to: the noun it counts, the verb/noun governing it."""
    root = span.root
    out = set()
    head = root.head
    hops = 0
    while head is not None and hops < 3:
        if head.pos_ in ("NOUN", "VERB", "PROPN") and head.i not in range(span.start, span.end):
            out.add(head.lemma_.lower())
            if head.pos_ == "VERB":
                break
        if head.head is head:
            break
        head = head.head
        hops += 1
    for c in root.children:
        if c.pos_ == "NOUN" and c.i >= span.end:
            out.add(c.lemma_.lower())
    nxt = span.end
    if nxt < len(span.doc) and span.doc[nxt].pos_ == "NOUN":
        out.add(span.doc[nxt].lemma_.lower())
    return frozenset(w for w in out if w.isalpha() and w not in ("be", "have"))


def amounts(doc) -> list[Amount]:
    out = []
    for e in doc.ents:
        kind = _AMOUNT_LABELS.get(e.label_)
        if kind is None:
            continue
        if _SCORE.search(e.text):
            continue
        v = _value(e.text)
        if v is not None:
            out.append(Amount(kind, v, e.text, _anchor(e)))
    for m in _SCORE.finditer(doc.text):
        span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is not None and not re.search(r"\d{4}", m.group(0)):
            out.append(Amount("score", (int(m.group(1)), int(m.group(2))), m.group(0), _anchor(span)))
    return out


# Hedges on an amount, as the range of values they allow around the stated one.
_HEDGES = ((re.compile(r"\b(?:fewer|less) than|\bunder\b|\bbelow\b|\bup to\b|\bat most\b"), (0.0, 1.0)),
           (re.compile(r"\b(?:more|greater) than|\bover\b|\babove\b|\bat least\b"), (1.0, float("inf"))),
           (re.compile(r"\bnearly\b|\balmost\b|\bjust under\b"), (0.85, 1.0)),
           (re.compile(r"\babout\b|\baround\b|\broughly\b|\bsome\b|\bapproximately\b|\bestimated\b"),
            (0.85, 1.15)))


def _range(a: Amount) -> tuple[float, float]:
    low = a.text.lower()
    for pattern, (lo, hi) in _HEDGES:
        if pattern.search(low):
            return a.value * lo, a.value * hi
    return a.value * 0.98, a.value * 1.02


def _same_value(a: Amount, b: Amount) -> bool:
    """The same stated value (what a support needs)."""
    if a.kind == "score":
        return a.value == b.value or a.value == tuple(reversed(b.value))  # "3-1" and "1-3" tell one result
    return abs(a.value - b.value) <= 0.02 * max(abs(a.value), abs(b.value), 1e-9)


def _compatible(a: Amount, b: Amount) -> bool:
    """One value can be true of both (what a contradiction must rule out): "fewer than 100" and "about 80"
    agree; "$80 billion" and "$90 billion" do not."""
    if a.kind == "score":
        return _same_value(a, b)
    (alo, ahi), (blo, bhi) = _range(a), _range(b)
    return alo <= bhi and blo <= ahi


def _svo(doc) -> list[tuple[str, str, str]]:
    """(subject, verb lemma, object) name triples; passives are turned active."""
    def name(tok):
        for e in doc.ents:
            if e.start <= tok.i < e.end:
                return e.text.lower()
        return tok.lemma_.lower() if tok.pos_ in ("PROPN", "NOUN") else None

    out = []
    for v in doc:
        if v.pos_ not in ("VERB", "AUX"):
            continue
        subj = obj = None
        for c in v.children:
            if c.dep_ == "nsubj":
                subj = name(c)
            elif c.dep_ in ("dobj", "attr"):
                obj = name(c)
            elif c.dep_ == "nsubjpass":
                obj = name(c)
            elif c.dep_ == "agent":
                pobj = next((x for x in c.children if x.dep_ == "pobj"), None)
                subj = name(pobj) if pobj is not None else subj
        if subj and obj and subj != obj:
            out.append((subj, v.lemma_.lower(), obj))
    return out


def conflicts(claim: str, sentence: str, article_text: str = "") -> list[str]:
    """What `sentence` states differently from `claim`, part by aligned part (see the module doc)."""
    c, s = parse(claim), parse(sentence)
    out: list[str] = []
    # amounts: a claim amount whose slot (same kind, a shared anchor word) holds another value
    s_amounts = amounts(s)
    for a in amounts(c):
        rivals = [b for b in s_amounts if b.kind == a.kind and (a.anchor & b.anchor or a.kind == "score")]
        if rivals and not any(_compatible(a, b) for b in s_amounts if b.kind == a.kind):
            out.append(f"{a.kind}: claim '{a.text}' vs source '{rivals[0].text}'")
    # direction: the claim's word against its opposite, where the claim's own word is absent
    opp = _opposites()
    s_lemmas = {t.lemma_.lower() for t in s} | {t.lower_ for t in s} | \
        {t.lower_[:-2] for t in s if t.pos_ == "ADV" and t.lower_.endswith("ly") and len(t.lower_) > 5}
    negated = any(t.dep_ == "neg" or t.lower_ in ("no", "never", "not") for t in c)
    for t in ([] if negated else c):  # a negated claim with the opposite word agrees ("not realistic")
        if t.pos_ not in ("VERB", "ADJ", "ADV", "ADP", "NOUN"):
            continue
        words = {t.lemma_.lower(), t.lower_}
        if t.pos_ == "ADV" and t.lower_.endswith("ly") and len(t.lower_) > 5:
            words.add(t.lower_[:-2])  # "slowly" is compared as "slow"
        if words & s_lemmas:
            continue
        hit = next((o for w in words for o in opp.get(w, ()) if o in s_lemmas and o not in words), None)
        if hit:
            out.append(f"opposite: claim '{t.text}' vs source '{hit}'")
            break
    # dates: the claim's date against the sentence's date in the same slot (same governing word, or the
    # only date of each), compared part by part (year, month, day, weekday)
    if not any(f.startswith("date") for f in out):
        found = _date_conflict(c, s) or _rank_conflict(c, s)
        if found:
            out.append(found)
    # evaluation: the same thing called good in one and bad in the other ("unproductive talks" vs
    # "constructive talks"), neither negated
    if not negated and not any(f.startswith("opposite") for f in out):
        found = _polarity_conflict(c, s)
        if found:
            out.append(found)
    # direction: the claim says one way (up/down), the sentence only the other, and neither is negated
    if not any(f.startswith("opposite") for f in out) and not negated:
        cd, sd = _directions(c), _directions(s)
        if len(cd) == 1 and len(sd) == 1 and cd != sd:
            out.append(f"direction: claim {next(iter(cd))}, source {next(iter(sd))}")
    # negation: the same verb, negated in one and not the other ("does not welcome" vs "welcomes")
    for t in c:
        if t.pos_ != "VERB" or t.lemma_.lower() in _SPEECH:
            continue
        same = [x for x in s if x.pos_ == "VERB" and x.lemma_.lower() == t.lemma_.lower()]
        if same and all(_negated(x) != _negated(t) for x in same):
            out.append(f"negation: claim '{'not ' if _negated(t) else ''}{t.text}' vs source "
                       f"'{'not ' if _negated(same[0]) else ''}{same[0].text}'")
            break
    # roles: same verb, subject and object swapped
    s_triples = _svo(s)
    for subj, verb, obj in _svo(c):
        for s2, v2, o2 in s_triples:
            if v2 == verb and _same_name(subj, o2) and _same_name(obj, s2):
                out.append(f"roles: claim '{subj} {verb} {obj}' vs source '{s2} {v2} {o2}'")
    # roles, more generally: the same slot of the same verb holds another name, one that the other text
    # puts in a different slot ("China imposed tariffs" vs "Washington imposed tariffs" in a sentence
    # where China is the other party)
    if not any(f.startswith("roles") for f in out):
        swap = _slot_swap(c, s)
        if swap:
            out.append(swap)
    if not any(f.startswith("roles") for f in out):
        swap = _affiliation_swap(c, s)
        if swap:
            out.append(swap)
    # places: the claim's place is nowhere in the article, the sentence names another
    if article_text and not _headline(sentence):  # title case fools the tagger ("in Talk with Putin")
        art = article_text.lower()
        c_places = [e for e in _located(c) if not _mentioned(e.text, art)]
        s_places = [e.text for e in _located(s) if not _mentioned(e.text, claim.lower())]
        if c_places and s_places:
            out.append(f"place: claim '{c_places[0].text}' vs source '{s_places[0]}'")
        elif not c_places:
            # the claim's place is in the article, but this sentence puts the same thing somewhere else:
            # both places fill the same slot (same preposition on the same word: "a station in X")
            low = sentence.lower()
            # (the tagger often calls a named forest, base or stadium an ORG: in the same slot it is a place)
            for e in _located(c, _SLOT_LABELS):
                if _mentioned(e.text, low):
                    continue
                rival = next((f for f in _located(s, _SLOT_LABELS) if _slot(f) == _slot(e) and
                              not _mentioned(f.text, claim.lower())), None)
                if rival is not None:
                    out.append(f"place: claim '{e.text}' vs source '{rival.text}'")
                    break
    return out


def _slot(ent) -> tuple[str, str]:
    """(preposition, the word it attaches to) of a located place: 'a fire station in X' -> (in, station)."""
    prep = ent.root.head
    return prep.lower_, prep.head.lemma_.lower()


_ROLE_DEPS = {"nsubj": "subject", "nsubjpass": "object", "dobj": "object", "dative": "to"}
_NAME_ENTS = ("PERSON", "ORG", "GPE", "NORP")


def _entity_key(doc, tok) -> str | None:
    """A name filling a slot: its entity's last word, lower case ("Dr. Robert Redfield" -> redfield);
    nationalities are keyed by country where spaCy's lemma gives it ("Chinese" stays "chinese")."""
    for e in doc.ents:
        if e.start <= tok.i < e.end and e.label_ in _NAME_ENTS:
            words = [t.lower_ for t in e if t.is_alpha and not t.is_stop]
            return words[-1] if words else None
    return tok.lower_ if tok.pos_ == "PROPN" else None


def _slots(doc) -> list[tuple[str, str | None, str, str]]:
    """(verb lemma, object lemma, role, name) for every name filling a verb's subject, object or
    to/from/over-to slot."""
    out = []
    for v in doc:
        if v.pos_ not in ("VERB", "AUX"):
            continue
        obj = next((c.lemma_.lower() for c in v.children if c.dep_ == "dobj"), None)
        fillers = []
        for c in v.children:
            role = _ROLE_DEPS.get(c.dep_)
            if role:
                fillers.append((role, c))
            elif c.dep_ == "prep" and c.lower_ in ("to", "from", "by"):
                role = "subject" if c.lower_ == "by" and any(x.dep_ == "auxpass" for x in v.children) else c.lower_
                fillers += [(role, x) for x in c.children if x.dep_ == "pobj"]
            elif c.dep_ == "prt":  # "turn the call over to X"
                fillers += [("to", x) for p in c.children if p.lower_ == "to" for x in p.children
                            if x.dep_ == "pobj"]
        for role, tok in fillers:
            key = _entity_key(doc, tok)
            if key:
                out.append((v.lemma_.lower(), obj, role, key))
    return out


def _slot_swap(c, s) -> str | None:
    c_slots, s_slots = _slots(c), _slots(s)
    c_names = {x[3] for x in c_slots}
    s_names = {x[3] for x in s_slots}
    for cv, cobj, crole, cname in c_slots:
        for sv, sobj, srole, sname in s_slots:
            # the same verb only: "sold tanks to" and "bought tanks from" share an object and agree
            if cv != sv or crole != srole or cname == sname or _same_name(cname, sname):
                continue
            # a swap, not just another party: one of the names stands in the other text in another slot
            if sname in c_names or cname in s_names:
                return f"roles: claim '{cname}' {crole} of '{cv}', source '{sname}'"
    return None


_MONTHS = {m: i + 1 for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july",
                                            "august", "september", "october", "november", "december"))}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())} | {"sept": 9})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _date_value(text: str) -> dict[str, int]:
    """The explicit parts of a date phrase (a DATE entity, so "may" is the month): 'Nov. 15, 2020' -> year
    2020, month 11, day 15; 'on Friday' -> weekday 4. Relative phrases ('last week') give nothing."""
    low = text.lower()
    out: dict[str, int] = {}
    y = re.search(r"\b(1[89]\d\d|20\d\d)\b", low)
    if y:
        out["year"] = int(y.group(1))
    for m in re.finditer(r"\b([a-z]+)\.?", low):
        w = m.group(1)
        if w in _MONTHS and (len(w) > 3 or w in ("may", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "oct",
                                                  "nov", "dec", "sept")):
            out["month"] = _MONTHS[w]
            d = re.search(rf"\b{w}\.?\s+(\d{{1,2}})\b|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{w}\b", low)
            if d:
                out["day"] = int(d.group(1) or d.group(2))
            break
        if w in _WEEKDAYS:
            out["weekday"] = _WEEKDAYS.index(w)
    return out


@dataclass(frozen=True)
class _Slotted:
    """A date or rank with the words it belongs to."""
    value: object
    text: str
    anchor: frozenset[str]


def _dates(doc) -> list[_Slotted]:
    out = []
    for e in doc.ents:
        if e.label_ == "DATE":
            v = _date_value(e.text)
            if v:
                out.append(_Slotted(v, e.text, _anchor(e)))
    return out


def _slot_conflict(kind: str, claim_items: list[_Slotted], source_items: list[_Slotted], same) -> str | None:
    """A claim item (date, rank) against the source's items in the same slot - a shared governing word,
    or the only one of each - none of which has a value `same` accepts."""
    lone = len(claim_items) == 1 and len(source_items) == 1
    for a in claim_items:
        rivals = [b for b in source_items if a.anchor & b.anchor or lone]
        if rivals and not any(same(a.value, b.value) for b in rivals):
            return f"{kind}: claim '{a.text}' vs source '{rivals[0].text}'"
    return None


def _date_conflict(c, s) -> str | None:
    cd, sd = _dates(c), _dates(s)
    found = _slot_conflict("date", cd, sd, _same_date)
    if found or not cd or not sd:
        return found
    # "forecast for 2015 ... issued in January" vs "its prediction in April": only one date of each states a
    # month (or a day, a weekday), so those two are the ones to compare, whatever words they hang on
    for part in ("month", "day", "weekday"):
        a = [x for x in cd if part in x.value]
        b = [x for x in sd if part in x.value]
        if len(a) == 1 and len(b) == 1 and not _same_date(a[0].value, b[0].value):
            return f"date: claim '{a[0].text}' vs source '{b[0].text}'"
    return None


def date_conflict(claim: str, sentence: str) -> str | None:
    """The claim's date (or rank: "fourth" vs "fifth") differs from the sentence's in the same slot."""
    c, s = parse(claim), parse(sentence)
    return _date_conflict(c, s) or _rank_conflict(c, s)


_ORDINALS = {w: i + 1 for i, w in enumerate((
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split())}


def _ranks(doc) -> list[_Slotted]:
    out = []
    for e in doc.ents:
        if e.label_ != "ORDINAL":
            continue
        low = e.text.lower()
        m = re.search(r"\d+", low)
        v = int(m.group(0)) if m else _ORDINALS.get(low.split()[-1])
        if v:
            out.append(_Slotted(v, e.text, _anchor(e)))
    # a medal is a place too: "took gold" vs "won the silver medal" (the medal is their shared slot)
    for t in doc:
        v = _MEDALS.get(t.lower_)
        if v is None:
            continue
        medal = t.head.lemma_.lower() in ("medal", "medalist", "medallist") or \
            (t.dep_ == "dobj" and t.head.lemma_.lower() in _MEDAL_VERBS)
        if medal:
            out.append(_Slotted(v, t.text, _anchor(doc[t.i:t.i + 1]) | {"medal"}))
    return out


_MEDALS = {"gold": 1, "silver": 2, "bronze": 3}
_MEDAL_VERBS = {"win", "take", "claim", "earn", "capture", "grab", "bag", "collect", "clinch", "secure"}


def _rank_conflict(c, s) -> str | None:
    """A place in an order ("finished fourth") against another in the same slot, or the only one of each."""
    return _slot_conflict("rank", _ranks(c), _ranks(s), lambda a, b: a == b)


def _same_date(a: dict, b: dict) -> bool:
    """No part both dates state differs ('October 2020' vs 'Nov. 15, 2020' differ in the month)."""
    return all(a[k] == b[k] for k in a.keys() & b.keys())


@lru_cache(maxsize=None)
def _ways(name: str) -> dict[str, str]:
    """A 'way: word word ...' lexicon of data/ (direction.txt: up/down; polarity.txt: positive/negative)
    as word -> way."""
    out: dict[str, str] = {}
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if ":" in line and not line.startswith("#"):
            way, words = line.split(":", 1)
            for w in words.split():
                out[w.lower()] = way.strip()
    return out


def _evaluated(doc) -> dict[str, set[str]]:
    """noun lemma -> polarities of the adjectives said of it (attributive "constructive talks" or
    predicative "the talks were unproductive"), skipping negated predicates."""
    words = _ways("polarity.txt")
    out: dict[str, set[str]] = {}
    for t in doc:
        way = words.get(t.lower_) if t.pos_ == "ADJ" else None
        if not way:
            continue
        if t.dep_ == "amod" and t.head.pos_ in ("NOUN", "PROPN"):
            out.setdefault(t.head.lemma_.lower(), set()).add(way)
        elif t.dep_ in ("acomp", "attr") and not _negated(t.head):
            subj = next((c for c in t.head.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subj is not None:
                out.setdefault(subj.lemma_.lower(), set()).add(way)
    return out


def _polarity_conflict(c, s) -> str | None:
    ce, se = _evaluated(c), _evaluated(s)
    for noun, ways in ce.items():
        other = se.get(noun)
        if other and len(ways) == 1 and len(other) == 1 and ways != other:
            return f"opposite: claim {next(iter(ways))} about '{noun}', source {next(iter(other))}"
    return None


def _directions(doc) -> set[str]:
    """'up'/'down' of the direction words a text uses (verbs, comparatives, 'up from'); a negated one
    ('did not rise') is left out."""
    words = _ways("direction.txt")
    out = set()
    for t in doc:
        if t.pos_ not in ("VERB", "ADJ", "ADV", "ADP", "NOUN"):
            continue
        way = words.get(t.lemma_.lower()) or words.get(t.lower_)
        if way and not (t.pos_ == "VERB" and _negated(t)):
            out.add(way)
    return out


def _headline(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", text) if len(w) > 3]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= 0.6


_SLOT_LABELS = ("GPE", "LOC", "FAC", "ORG")


def _located(doc, labels=("GPE", "LOC", "FAC")) -> list:
    """Places in a location slot: the object of in/at/near/outside, or an "X-based" modifier."""
    out = []
    for e in doc.ents:
        if e.label_ not in labels:
            continue
        root = e.root
        if root.dep_ == "pobj" and root.head.lower_ in ("in", "at", "near", "outside", "inside"):
            out.append(e)
        elif e.end < len(doc) and doc[e.end].text in ("-", "\u2013") and e.end + 1 < len(doc) and \
                doc[e.end + 1].lower_ == "based":
            out.append(e)
    return out


def _mentioned(name: str, text_lower: str) -> bool:
    words = [w for w in re.findall(r"[a-z0-9]+", name.lower()) if len(w) > 2 and w != "the"]
    return bool(words) and all(re.search(rf"\b{re.escape(w)}", text_lower) for w in words)


def _negated(verb) -> bool:
    """The verb is negated: "not"/"n't"/"never" on it or on its auxiliary ("cannot predict"), or its
    object is "no ..."/"nothing" ("found no evidence" says what "did not find any evidence" says).""" 
    if any(x.lower_ in ("until", "till") and x.dep_ in ("mark", "prep") for x in verb.subtree):
        return False  # "did not turn a profit until 2019" says when it did, not that it did not
    for x in (verb, *[c for c in verb.children if c.dep_ in ("aux", "auxpass")]):
        if any(c.dep_ == "neg" or c.lower_ in ("never", "not", "n't") for c in x.children) or x.lower_ == "cannot":
            return True
    return any(c.dep_ in ("dobj", "attr", "nsubjpass") and
               (c.lower_ in ("nothing", "none", "nobody", "nowhere") or
                any(d.lower_ in ("no", "none") and d.dep_ == "det" for d in c.children))
               for c in verb.children)


def negated_verb_in(claim: str, sentence: str) -> bool:
    """The verb the claim negates ("did not attend") occurs in the sentence, or the claim negates none
    the parse can see."""
    verbs = [t.lemma_.lower() for t in parse(claim) if t.pos_ in ("VERB", "AUX") and _negated(t)
             and t.lemma_.lower() not in ("be", "have", "do")]
    if not verbs:
        return True
    said = {t.lemma_.lower() for t in parse(sentence)}
    return any(v in said for v in verbs)


def _affiliations(doc) -> list[tuple[str, str]]:
    """(name, organisation) for "NAME of ORG" ("Soichi Noguchi of the Japan Aerospace Exploration
    Agency"); the name by its head word, since the small model labels names inconsistently."""
    out = []
    for t in doc:
        # only the name right before "of": the parser may hang the phrase on an earlier name in a list
        if t.lower_ == "of" and t.dep_ == "prep" and t.head.pos_ == "PROPN" and t.head.i == t.i - 1:
            obj = next((c for c in t.children if c.dep_ == "pobj" and c.ent_type_ == "ORG"), None)
            if obj is not None:
                aside = {x.i for a in obj.children if a.dep_ == "appos" for x in a.subtree}  # "(JAXA)"
                org = " ".join(x.lower_ for x in obj.subtree if x.pos_ in ("PROPN", "NOUN") and x.i not in aside)
                out.append((t.head.lower_, org))
    return out


def _affiliation_swap(c, s) -> str | None:
    """The claim ties a person to an organisation that the sentence ties to someone else it also names:
    "Walker of the space agency" vs "Noguchi of the space agency" in a sentence naming Walker."""
    s_aff = _affiliations(s)
    s_words = {t.lower_ for t in s}
    for name, org in _affiliations(c):
        if (name, org) in s_aff or name not in s_words:
            continue
        other = next((n for n, o in s_aff if o == org and n != name), None)
        if other:
            return f"roles: claim '{name} of {org}' vs source '{other} of {org}'"
    return None


def _same_name(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a == b or a in b or b in a


_RELATIVE_YEAR = re.compile(r"\b(?:this|last|next) (?:year|season)\b|\bthis year's\b")


def absent_names(claim: str, article_text: str, undated: bool = False) -> list[str]:
    """Names, products, events and years the claim states that the article never mentions: a claim with
    such a name is about another event, so another number in the article does not contradict it. An
    undated article that speaks of "this year" may be about the claim's year without writing it."""
    art = article_text.lower()
    relative_year = undated and bool(_RELATIVE_YEAR.search(art))
    out = []
    for e in parse(claim).ents:
        if e.label_ in ("PERSON", "ORG", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "FAC"):
            words = [w for w in re.findall(r"[a-z0-9]+", e.text.lower()) if len(w) > 2 and w not in ("the",)]
            if words and not all(w in art for w in words):
                out.append(e.text)
        elif e.label_ == "DATE":
            years = re.findall(r"\b(?:19|20)\d\d\b", e.text)
            if years and not any(y in art for y in years) and not relative_year:
                out.append(e.text)
    # Designations mixing letters and digits name one thing ("Crew-2", "Su-35", "F-16", "A380",
    # "COVID-19"); the tagger often leaves them out of its entities.
    for m in _DESIGNATION.finditer(claim):
        if not re.search(rf"(?<![\w-]){re.escape(m.group(0).lower())}(?![\w-])", art) and m.group(0) not in out:
            out.append(m.group(0))
    return out


_DESIGNATION = re.compile(r"(?<![\w-])(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z][\w]*-?\d[\w]*(?![\w-])")


def missing_amounts(claim: str, sentence: str) -> list[str]:
    """The claim's amounts (money, percentages, counts, quantities, scores) that the sentence does not
    state: a support must state them all. Dates and numbers inside names ("Crew-1") are not amounts."""
    s_amounts = amounts(parse(sentence))
    low = sentence.lower()
    out = []
    for a in amounts(parse(claim)):
        if a.text.lower() in low or any(b.kind == a.kind and _same_value(a, b) for b in s_amounts) or \
                any(b.kind in ("count", "quantity") and a.kind in ("count", "quantity") and _same_value(a, b)
                    for b in s_amounts):
            continue
        out.append(a.text)
    return out


def amounts_of(text: str) -> list[Amount]:
    return amounts(parse(text))
