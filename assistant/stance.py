"""Sentence-level stance rules: does one sentence support or contradict one claim?

No model in here: the claim checker supplies the embedding similarity, these rules supply what an
embedding cannot see — numbers, durations, dates, places, negation, antonyms and who is speaking.
Everything is general English, nothing is tuned to one article.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import Stemmer

_STEM = Stemmer.Stemmer("english")

# ---------------------------------------------------------------- sentences

def _abbreviations() -> frozenset[str]:
    from .text.nlp import word_list

    return word_list("abbreviations.txt")


_ABBREV = _abbreviations()  # words that do not end a sentence (text/data/abbreviations.txt)
_COMPANY_FORMS = {"inc", "corp", "co", "ltd", "bros"}
_OPEN_Q, _CLOSE_Q = "\u201c", "\u201d"


def split_sentences(text: str) -> list[str]:
    """Split at . ! ? (and line breaks), never inside a quotation, never after an abbreviation or an
    initial ("George W. Bush"). Quoted speech stays whole so its attribution stays with it."""
    out: list[str] = []
    lines: list[str] = []
    for line in re.split(r"\n+", text):
        line = line.strip().lstrip("\u2022*-\u2013 ").strip()
        if line and lines and line[0].islower() and not re.search(r"[.!?:;]$", lines[-1]):
            lines[-1] += " " + line  # a wrapped heading or line going on in lower case continues its sentence
        elif line:
            lines.append(line)
    for line in lines:
        start, depth, straight = 0, 0, False
        i = 0
        while i < len(line):
            ch = line[i]
            if ch == _OPEN_Q:
                depth += 1
            elif ch == _CLOSE_Q:
                depth = max(0, depth - 1)
            elif ch == '"':
                straight = not straight
            elif ch in ".!?" and depth == 0 and not straight:
                j = i + 1
                while j < len(line) and line[j] in "\"'\u2019\u201d)":
                    j += 1
                if j >= len(line) or (line[j] == " " and j + 1 < len(line) and
                                      (line[j + 1].isupper() or line[j + 1] in "\"\u201c\u2018'(")):
                    word = re.search(r"([\w.]+)$", line[start:i])
                    w = word.group(1).lower() if word else ""
                    if ch == "." and (w in _ABBREV or re.fullmatch(r"[a-z]", w)):
                        nxt = re.match(r"[A-Za-z]+", line[j + 1:]) if j < len(line) else None
                        # "Acme Ltd. The deal ...": a company form before a function word ends the sentence
                        if not (w in _COMPANY_FORMS and nxt and nxt.group(0).lower() in _STOP):
                            i += 1
                            continue
                    out.append(line[start:j].strip())
                    start = j
                    i = j
                    continue
            i += 1
        if line[start:].strip():
            out.append(line[start:].strip())
    # Unbalanced quotes must not swallow a whole paragraph into one "sentence".
    fixed: list[str] = []
    for s in out:
        fixed.extend(_resplit_long(s))
    return [s for s in fixed if re.search(r"[A-Za-z]", s)]


def _resplit_long(s: str, limit: int = 80) -> list[str]:
    if len(s.split()) <= limit:
        return [s]
    parts = re.split(r"(?:(?<=[.!?])|(?<=[.!?][\"\u201d\u2019]))\s+(?=[A-Z\u201c\"])", s)
    return [p for p in parts if p.strip()]


# ---------------------------------------------------------------- words

_STOP = set("""a an the of to in on at for from by with and or but as is are was were be been being it its this that
these those there their they them he she his her him we our us you your i me my do does did has have had will would
shall should can could may might must than then so such into over about after before also very just only any
all some more most other which who whom whose what when where why how while if up out not no nor too own same s
said says say saying told tell tells stated states state claim claimed claims according added adding noted note
reported report wrote write writes posted announced declared asserted argued insisted warned believes believe
believed thinks think thought described called call mr mrs ms dr president secretary minister former
""".split())


# Phrasal verbs whose meaning is not the sum of their words: "played down" is the opposite of "raised",
# "went ahead" of "scrapped". Rewritten to one word before stemming so the antonym list can pair them.
_PHRASES = [
    (r"\b(?:play|plays|played|playing)\s+down\b", "downplayed"),
    (r"\b(?:talk|talks|talked|talking)\s+up\b", "hyped"),
    (r"\b(?:go|goes|went|gone|going)\s+ahead\b", "proceeded"),
    (r"\b(?:call|calls|called|calling)\s+off\b", "cancelled"),
    (r"\b(?:boot|boots|booted|booting|kick|kicks|kicked|kicking|throw|threw|thrown)\s+out\b", "expelled"),
    (r"\b(?:back|backs|backed|backing)\s+down\b", "retreated"),
    (r"\b(?:give|gives|gave|given|giving)\s+up\b", "surrendered"),
]
_PHRASE_RES = [(re.compile(a, re.I), b) for a, b in _PHRASES]


def words(text: str) -> list[str]:
    # "U.S." and "US" are one word (also "D.C" where a sentence's final period was cut off)
    text = re.sub(r"\b([A-Z])\.([A-Z])(?:\.|\b)", r"\1\2", text)
    for rx, repl in _PHRASE_RES:
        text = rx.sub(repl, text)
    return re.findall(r"[A-Za-z][A-Za-z'\u2019\-]*|\d[\d,\.]*", text)


@lru_cache(maxsize=20000)
def stem(w: str) -> str:
    w = w.lower().replace("\u2019", "'")
    w = re.sub(r"'s$", "", w)
    return _STEM.stemWord(w)


def content_terms(text: str, drop: set[str] | None = None) -> list[str]:
    """Stems of the meaningful words (no stop words, no numbers: those are compared as quantities)."""
    out: list[str] = []
    for w in words(text):
        if w[0].isdigit() or w.lower() in _STOP or w.lower() in _NUMBER_WORDS or w.lower() in _FRACTION_WORDS:
            continue
        for piece in w.split("-"):
            if len(piece) < 2 or piece.lower() in _STOP:
                continue
            s = stem(piece)
            if drop and s in drop:
                continue
            if s not in out:
                out.append(s)
    return out


@lru_cache(maxsize=50000)
def term_set(text: str) -> frozenset[str]:
    out: set[str] = set()
    for w in words(text):
        for piece in w.split("-"):
            if piece:
                out.add(stem(piece))
    return frozenset(out)


# ---------------------------------------------------------------- quantities

_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                 "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
                 "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                 "ninety": 90, "hundred": 100, "dozen": 12, "a": 1, "an": 1}
_SCALE = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_FRACTION_WORDS = {"half": 0.5, "third": 1 / 3, "thirds": 1 / 3, "quarter": 0.25, "quarters": 0.25,
                   "fifth": 0.2, "fifths": 0.2, "sixth": 1 / 6, "tenth": 0.1, "tenths": 0.1}
_DURATION_UNITS = {"second": 1 / 60, "minute": 1, "hour": 60, "day": 1440, "week": 10080, "month": 43800,
                   "year": 525600}
_MONTHS = {m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                           "august", "september", "october", "november", "december"])}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MORE = r"(?:more than|over|longer than|greater than|at least|upwards of|in excess of|above|exceeding)"
_LESS = r"(?:less than|fewer than|under|shorter than|at most|up to|below|no more than)"
_ABOUT = r"(?:about|around|approximately|roughly|some|an estimated|close to|nearly|almost|just under|just over)"
_NUM_TOKEN = r"(?:\d[\d,]*(?:\.\d+)?|" + "|".join(sorted((k for k in _NUMBER_WORDS if len(k) > 2),
                                                        key=len, reverse=True)) + r")"
_NUM = _NUM_TOKEN + r"(?:[\s-]+(?:" + "|".join(_SCALE) + r"|" + "|".join(
    k for k in _NUMBER_WORDS if len(k) > 2 and _NUMBER_WORDS[k] < 10) + r"))*"


@dataclass(frozen=True)
class Quantity:
    kind: str  # duration | fraction | count | year | date
    unit: str  # stem of the counted noun (count), "" otherwise
    lo: float
    hi: float
    text: str

    def overlaps(self, other: "Quantity") -> bool:
        return self.lo <= other.hi and other.lo <= self.hi


def _num_value(tok: str) -> float | None:
    tok = tok.lower().strip()
    if re.fullmatch(r"\d[\d,]*(?:\.\d+)?", tok):
        return float(tok.replace(",", ""))
    total, cur = 0.0, 0.0
    for part in re.split(r"[\s-]+", tok):
        if part in _SCALE:
            cur = (cur or 1) * _SCALE[part]
            if _SCALE[part] >= 1000:
                total, cur = total + cur, 0.0
        elif part in _NUMBER_WORDS:
            cur += _NUMBER_WORDS[part]
        elif re.fullmatch(r"\d[\d,]*(?:\.\d+)?", part):
            cur += float(part.replace(",", ""))
        else:
            return None
    return total + cur


def _interval(value: float, qualifier: str, exact_tol: float = 0.02) -> tuple[float, float]:
    q = qualifier.lower().strip()
    if re.fullmatch(_MORE, q):
        return value * 1.0001, math.inf
    if re.fullmatch(_LESS, q):
        return 0.0, value * 0.9999
    if q in ("nearly", "almost", "just under", "close to"):
        return value * 0.8, value
    if q == "just over":
        return value, value * 1.2
    if re.fullmatch(_ABOUT, q):
        return value * 0.85, value * 1.15
    return value * (1 - exact_tol), value * (1 + exact_tol)


_QUAL = rf"(?:(?P<q>{_MORE}|{_LESS}|{_ABOUT})\s+)?"


def quantities(text: str) -> list[Quantity]:
    """Durations, fractions/percentages, counted nouns, years and calendar dates in `text`."""
    return list(_quantities(text))


@lru_cache(maxsize=50000)
def _quantities(text: str) -> tuple[Quantity, ...]:
    # Cached: a claim check judges the same candidate sentences against every part and rule (the
    # regex scan was the largest single cost of a check).
    t = text.replace("\u2013", "-").replace("\u2014", "-")
    out: list[Quantity] = []
    used: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in used)

    # durations: "2 hours and 45 minutes", "more than five hours", "three-year-long"
    unit_re = r"(second|minute|hour|day|week|month|year)s?"
    dur = re.compile(rf"{_QUAL}(?P<n>{_NUM})[\s-]+{unit_re}(?:-long)?(?:\s*(?:and|,)\s*(?P<n2>{_NUM})[\s-]+"
                     rf"{unit_re})?", re.I)
    for m in dur.finditer(t):
        v = _num_value(m.group("n"))
        if v is None or m.group("n").lower() in ("a", "an"):
            continue
        minutes = v * _DURATION_UNITS[m.group(3).lower()]
        if m.group("n2"):
            v2 = _num_value(m.group("n2"))
            if v2 is not None:
                minutes += v2 * _DURATION_UNITS[m.group(5).lower()]
        lo, hi = _interval(minutes, m.group("q") or "")
        out.append(Quantity("duration", "", lo, hi, m.group(0)))
        used.append(m.span())
    # fractions: "a fifth", "one-fifth", "half", "three-quarters", "20%", "20 percent"
    frac = re.compile(rf"{_QUAL}(?:(?P<k>a|an|one|two|three|four)[\s-]+)?(?P<f>half|thirds?|quarters?|fifths?|"
                      rf"sixths?|tenths?)\b", re.I)
    for m in frac.finditer(t):
        if not free(*m.span()):
            continue
        k = (m.group("k") or "a").lower()
        f = m.group("f").lower()
        if f == "half" and m.group("k") is None and not re.search(r"\b(?:of|a)\s*$|^\s*of", t[m.end():m.end() + 4]):
            # "half" alone: only as an amount ("half of", "by half"), not "on behalf"
            if not re.match(r"\s+(?:of|the)\b", t[m.end():]):
                continue
        if f in ("third", "fifth", "sixth", "tenth", "quarter") and m.group("k") is None:
            continue  # "the third anniversary": an ordinal, not a fraction
        if re.match(r"\s+(?:of\s+a\s+)?(?:percentage\s+)?points?\b", t[m.end():], re.I):
            continue  # "a quarter point" is 0.25 percentage points, not a quarter of something
        v = (_NUMBER_WORDS.get(k, 1) if k not in ("a", "an") else 1) * _FRACTION_WORDS[f]
        lo, hi = _interval(v, m.group("q") or "", 0.03)
        out.append(Quantity("fraction", "", lo, hi, m.group(0)))
        used.append(m.span())
    pct = re.compile(rf"{_QUAL}(?P<n>{_NUM})\s*(?:%|per ?cent)", re.I)
    for m in pct.finditer(t):
        v = _num_value(m.group("n"))
        if v is None or not free(*m.span()) or re.match(r"age\s+points?\b", t[m.end():], re.I):
            continue  # "0.25 percentage point" is a change in points, not a share (left to the parse)
        lo, hi = _interval(v / 100, m.group("q") or "", 0.03)
        out.append(Quantity("fraction", "", lo, hi, m.group(0)))
        used.append(m.span())
    # dates: "Feb 12", "February 24th", "12 February", optionally with a year
    mon = "|".join(sorted(_MONTHS, key=len, reverse=True))
    date = re.compile(rf"\b(?:(?P<m1>{mon})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?"
                      rf"\s+(?P<m2>{mon})\b\.?)(?:,?\s+(?P<y>(?:19|20)\d\d))?", re.I)
    for m in date.finditer(t):
        month = _MONTHS[(m.group("m1") or m.group("m2")).lower()]
        day = int(m.group("d1") or m.group("d2"))
        if day > 31:
            continue
        year = int(m.group("y")) if m.group("y") else 0
        key = year * 10000 + month * 100 + day
        out.append(Quantity("date", "md" if not year else "ymd", key % 10000, key % 10000, m.group(0)))
        used.append(m.span())
    # years: "in 2014", "pre-2014", "the 2022 invasion"
    for m in re.finditer(rf"(?:(?P<q>before|after|since|until|pre|post)[\s-]+)?(?P<y>\b(?:19|20)\d\d)\b(?!\s*(?:{unit_re}))",
                         t, re.I):
        if not free(m.start("y"), m.end("y")):
            continue
        y = float(m.group("y"))
        q = (m.group("q") or "").lower()
        lo, hi = (-math.inf, y - 0.5) if q in ("before", "pre", "until") else \
                 (y + 0.5, math.inf) if q in ("after", "post") else (y, math.inf) if q == "since" else (y, y)
        out.append(Quantity("year", "", lo, hi, m.group(0)))
        used.append(m.span("y"))
    # counts of a noun: "35 people", "30,000 troops", "four regions", "193-member"
    cnt = re.compile(rf"{_QUAL}\b(?P<n>{_NUM})(?:[\s-]+(?:of\s+)?(?P<adj>[a-z]+))?[\s-]+(?P<u>[a-z]+)", re.I)
    for m in cnt.finditer(t):
        if not free(*m.span("n")) or m.group("n").lower() in ("a", "an", "one"):
            continue
        v = _num_value(m.group("n"))
        if v is None or (1900 <= v <= 2100 and "," not in m.group("n")):
            continue
        unit = m.group("u").lower()
        if unit in _STOP or unit in _SCALE:
            unit = (m.group("adj") or "").lower()
            if not unit or unit in _STOP:
                continue
        lo, hi = _interval(v, m.group("q") or "")
        out.append(Quantity("count", stem(unit), lo, hi, m.group(0)))
        used.append(m.span())
    return tuple(out)


def quantity_conflicts(claim: str, sentence: str) -> list[tuple[Quantity, Quantity]]:
    """Pairs (claim quantity, sentence quantity) of the same kind (and counted noun) that cannot both be
    true — and only when the sentence has no quantity of that kind that agrees with the claim."""
    cq, sq = quantities(claim), quantities(sentence)
    conflicts = []
    for c in cq:
        same = [s for s in sq if s.kind == c.kind and (c.kind != "count" or s.unit == c.unit)
                and (c.kind != "date" or s.unit == c.unit or "md" in (s.unit, c.unit))]
        if same and not any(c.overlaps(s) for s in same):
            conflicts.append((c, same[0]))
    return conflicts


def quantity_agreements(claim: str, sentence: str) -> int:
    cq, sq = quantities(claim), quantities(sentence)
    return sum(1 for c in cq if any(s.kind == c.kind and c.overlaps(s) and
                                    (c.kind != "count" or s.unit == c.unit) for s in sq))


# ---------------------------------------------------------------- polarity

_NEG = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|can't|won't|isn't|aren't|"
                  r"wasn't|weren't|don't|doesn't|didn't|hasn't|haven't|hadn't|wouldn't|shouldn't|couldn't|"
                  r"refuses?|refused|refusing|rul(?:ed|es|ing|e) out|rejects?|rejected|denie[sd]|deny|"
                  r"fail(?:s|ed)? to|far from|lack of|absence of)\b|n['\u2019]t\b", re.I)

def _pairs(name: str) -> list[tuple[str, str]]:
    from .text.nlp import DATA

    rows = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [tuple(r.split()[:2]) for r in rows if r.strip() and not r.startswith("#") and len(r.split()) >= 2]


_ANTONYMS = _pairs("antonyms.txt")
_ANT: dict[str, set[str]] = {}
for _a, _b in _ANTONYMS:
    _ANT.setdefault(stem(_a), set()).add(stem(_b))
    _ANT.setdefault(stem(_b), set()).add(stem(_a))
_NEG_PREFIXES = ("un", "in", "im", "il", "ir", "non", "dis")


def _load_phrasal() -> list[tuple[re.Pattern, str]]:
    from .text.nlp import DATA

    out = []
    for row in (DATA / "phrasal_verbs.txt").read_text(encoding="utf-8").splitlines():
        if row.strip() and not row.startswith("#") and "|" in row:
            phrase, word = (x.strip() for x in row.split("|", 1))
            verb, particle = phrase.split()
            # the verb in any inflection ("turned", "turns", "turning") with the particle right after it
            pat = re.compile(rf"\b{re.escape(verb[:-1] if verb.endswith('e') else verb)}\w*\s+{re.escape(particle)}\b",
                             re.I)
            out.append((pat, stem(word)))
    return out


_PHRASAL = _load_phrasal()


def with_phrasal(terms: set[str], text: str) -> set[str]:
    """`terms` plus the one-word meaning of each phrasal verb in `text` ("turned down" -> reject)."""
    extra = {w for pat, w in _PHRASAL if pat.search(text)}
    return terms | extra if extra else terms


def antonym_flips(claim_terms: set[str], sent_terms: set[str]) -> list[tuple[str, str]]:
    """Claim word whose opposite (listed pair, or the same word with a negating prefix) is in the sentence
    while the claim word itself is not."""
    flips = []
    for c in claim_terms:
        if c in sent_terms:
            continue
        opposites = set(_ANT.get(c, ()))
        opposites |= {p + c for p in _NEG_PREFIXES}
        for p in _NEG_PREFIXES:
            if c.startswith(p) and len(c) - len(p) >= 4:
                opposites.add(c[len(p):])
        hit = next((o for o in opposites if o in sent_terms and o not in claim_terms), None)
        if hit:
            flips.append((c, hit))
    return flips


def negation_scopes(text: str, anchor_terms: set[str], window: int = 8, skip: set[str] = frozenset()) -> list[set[str]]:
    """Stems in the scope (the next `window` words, same clause) of each negation cue whose scope holds one of
    the anchor terms: a "not" elsewhere in the sentence says nothing about the claim."""
    out = []
    for m in _NEG.finditer(text):
        if stem(m.group(0).split()[0]) in skip:
            continue  # already counted as an antonym of a claim word
        # the scope ends at the clause: "will not be able to join if a peace deal is struck" negates "join"
        tail, *rest = re.split(r"([;:,\u2013\u2014]|\b(?:but|while|whereas|and that|if|unless|when|because|"
                               r"until|till|before|after)\b)", text[m.end():], maxsplit=1)
        if rest and rest[0].lower() in ("until", "till") and len(words(tail)) <= window:
            continue  # "did not feel drawn to it until college" says when, not that it never happened
        scope = words(tail)[:window]
        if m.group(0).lower() in ("no", "none", "without", "lack of", "absence of") and not scope:
            continue
        stems = {stem(w) for w in scope}
        if anchor_terms & stems:
            out.append(stems)
    return out


def negations_in_scope(text: str, anchor_terms: set[str], window: int = 8, skip: set[str] = frozenset()) -> int:
    return len(negation_scopes(text, anchor_terms, window, skip))


# Plans and hopes are not events: "will sit down to try and thrash out a deal" does not say a deal was made.
_UNREALISED = re.compile(r"\b(?:will|shall|would|could|may|might|going to|plans?\s+to|planned to|planning to|"
                         r"aims?\s+to|aimed to|aiming to|hopes?\s+to|hoped to|hoping to|seeks?\s+to|sought to|"
                         r"seeking to|expected to|set to|intends?\s+to|intended to|wants?\s+to|wanted to|meant to|designed to|"
                         r"tries\s+to|try(?:ing)?\s+(?:to|and)|attempts?\s+to|poised to|ready to|prepared to|"
                         r"possible|potential(?:ly)?|proposed|prospect of)\b", re.I)
_REALISED_PAST = re.compile(r"\b(?:[a-z]{3,}ed|met|held|won|lost|took|made|gave|sent|began|struck|went|sat|"
                            r"signed|agreed|reached)\b")


def _past_verb(text: str) -> bool:
    """The parse finds a verb in the past tense or perfect ("signed", "has approved"), not an "-ed"
    adjective ("minority-owned businesses")."""
    from .text.nlp import parse

    return any(t.tag_ == "VBD" or (t.tag_ == "VBN" and t.dep_ not in ("amod", "compound", "acl")
                                   and any(c.lemma_ == "have" for c in t.children))
               for t in parse(text))


def unrealised_in_source(claim: str, sentence: str, anchor_terms: set[str], window: int = 8) -> bool:
    """The claim states a done deed (a past-tense verb, no modal) but the sentence only plans, hopes or
    predicts it: a modal/intent cue whose next `window` words hold one of the claim's key terms."""
    if _UNREALISED.search(claim) or not _REALISED_PAST.search(claim) or not _past_verb(claim):
        return False
    for m in _UNREALISED.finditer(sentence):
        if anchor_terms & {stem(w) for w in words(sentence[m.end():])[:window]}:
            return True
    return False


# Verbs that say an event or a deal is done. A claim that one happened needs a sentence that says so:
# "talks were constructive" is about the same meeting but does not say a deal was signed.
_DONE_EVENT = {stem(w) for w in ("sign", "signed", "finalize", "finalise", "finalized", "finalised", "agreed",
                                 "reach", "reached", "conclude", "concluded", "seal", "sealed", "struck",
                                 "strike", "approve", "approved", "ratify", "ratified", "complete", "completed",
                                 "clinch", "clinched", "broker", "brokered", "proceeded", "adopted",
                                 "implemented")}


# ---------------------------------------------------------------- who is speaking

_SAY = (r"said|says|say|told|tells|stated|asked|posted|wrote|writes|declared|declares|added|replied|"
        r"noted|notes|announced|announces|warned|warns|argued|argues|insisted|insists|claimed|claims|"
        r"believes|believed|described|describes|called|calls|explained|explains|stressed|stresses|"
        r"emphasised|emphasized|acknowledged|admitted|tweeted|remarked|suggested|suggests|expressed|"
        r"promised|promises|vowed|confirmed|denied|signalled|signaled|asserted|asserts|predicted")
_NAME_WORD = r"(?:[A-Z][a-z][a-zA-Z'\u2019\-]*|[A-Z]\.)"  # "NOT US" in a headline is no name
_TITLES = {"mr", "mrs", "ms", "dr", "president", "secretary", "minister", "ambassador", "advisor", "adviser",
           "senator", "chancellor", "general", "prime", "defence", "defense", "foreign", "former", "us", "u.s.",
           "british", "american", "press", "white", "house", "state", "treasury", "the",
           "sir", "lord", "expert", "fellow", "leader", "spokesman", "spokeswoman", "envoy", "vice", "deputy"}
_PRONOUNS = {"he", "she", "they"}


def _name_key(name: str) -> str:
    """Surname-ish key: "Defence Secretary Pete Hegseth" -> "hegseth"."""
    toks = [t for t in re.findall(r"[A-Za-z][A-Za-z'\u2019\-]+", name) if t.lower() not in _TITLES]
    toks = [re.sub(r"['\u2019]s$", "", t) for t in toks]
    # transliteration variants of one name share a key: Zelensky / Zelenskyy / Zelenskiy
    return re.sub(r"(?:yy|iy|ii)$", "y", toks[-1].lower()) if toks else ""


def person_names(sentence: str) -> list[str]:
    """Keys of person-like names: two or more capitalised words, or a title + capitalised word."""
    keys = []
    for m in re.finditer(rf"{_NAME_WORD}(?:\s+{_NAME_WORD})+", sentence):
        k = _name_key(m.group(0))
        if k and k not in keys:
            keys.append(k)
    return keys


_TITLE_RE = (r"(?:Mr|Mrs|Ms|Dr|President|Secretary|Minister|Ambassador|Chancellor|Senator|Prime Minister)\.?")


_QUOTED = re.compile(r"\u201c[^\u201d]*\u201d?|\"[^\"]*\"?")


def strip_quotes(sentence: str) -> str:
    """The sentence with quoted speech blanked out: who speaks is said outside the quotation marks."""
    return _QUOTED.sub(" qqquote ", sentence).replace("\u2019", "'")


def speaker_of(sentence: str, antecedent: str | None = None) -> str | None:
    """Name key of whoever this sentence reports speaking; "?" for a pronoun or description ("he said",
    "the former Fox News host said") that `antecedent` cannot resolve; None when nobody speaks."""
    s = strip_quotes(sentence)
    name = rf"((?:{_NAME_WORD}\s+)*{_NAME_WORD})"
    m = re.search(rf"\baccording to (?:the )?{name}", s) or re.search(rf"{name},\s+who\s+(?:has\s+)?(?:{_SAY})\b", s)
    if m:
        return _name_key(m.group(1))
    # quote-final inversion: "...," said former Trump advisor Brian Lanza.
    m = re.search(rf"qqquote\s*[,.]?\s*(?:{_SAY})\s+((?:[A-Za-z]+\s+)*?{name})\s*(?:[.,:;]|$)", s)
    if m and m.group(1).split()[0].lower() not in ("that", "the", "a", "it"):
        return _name_key(m.group(2))
    for m in re.finditer(rf"\b(?:{_SAY})\b", s):
        before = s[: m.start()].rstrip()
        if re.search(r"\b(?:was|were|is|are|been|being)$", before):
            continue  # passive: "He was asked" is not speaking
        before = re.sub(r"(?:\s+(?:has|had|have|also|then|later|repeatedly|previously|earlier|once|even|"
                        r"separately|publicly))+$", "", before).rstrip()
        if re.search(r"\b(?:whether|if)\s+(?:he|she|they)$", before, re.I):
            continue  # "asked whether he believed": a question put to him, not a statement
        if re.search(r"\b(he|she|they)$", before, re.I):
            return antecedent or "?"
        pm = re.search(rf"{name}$", before)
        if pm and _name_key(pm.group(1)):
            return _name_key(pm.group(1))
        if re.search(r"\bthe (?:[a-zA-Z\-]+\s+){0,4}(?:host|official|secretary|president|minister|leader|expert|"
                     r"envoy|diplomat|spokesman|spokeswoman|ambassador|chief|adviser|advisor|lawmaker)$",
                     before, re.I):
            return antecedent or "?"
        # the subject of a sentence with an interrupting clause: "Mr Trump, when asked ..., told reporters"
        head = re.match(rf"\s*(?:{_TITLE_RE}\s+)?{name}\s*,", s)
        if "," in before and head and _name_key(head.group(1)):
            return _name_key(head.group(1))
        if re.search(r"\bofficials?\b|\bspokes(?:man|woman|person)\b|\bsources?\b", before[-60:], re.I):
            return "official"
    m = re.search(rf"{name}'s?\s+(?:[a-z]+\s+)?(?:remarks?|comments?|statements?|words|view|position|claim|"
                  r"assertion|warning|announcement|pledge|promise)", s)
    if m:
        return _name_key(m.group(1))
    return None


def _introducer(sentence: str, antecedent: str | None) -> str | None:
    """The subject of a sentence that introduces a quotation: a pronoun (resolved) or a short name."""
    s = strip_quotes(sentence).strip()
    if re.match(r"^(?:he|she|they)\b", s, re.I):
        return antecedent
    m = re.match(rf"^((?:[A-Z][A-Za-z\-]*\s+){{0,4}}[a-zA-Z\-]+)(?:\s*\([^)]*\))?\s+(?:also\s+)?"
                 rf"(?:{_SAY}|released|issued|published|justified|explained|responded)\b", s)
    if m and len(m.group(1).split()) <= 5:
        return _name_key(m.group(1)) or None
    return None


def known_people(texts: list[str]) -> set[str]:
    """Name keys of people an article names in full at least once ("Pete Hegseth" -> "hegseth")."""
    keys: set[str] = set()
    for t in texts:
        keys.update(person_names(strip_quotes(t)))
    return keys


def mentioned_people(sentence: str, known: set[str]) -> list[str]:
    """Known people named in the sentence (outside quotes), in order of appearance."""
    toks = [_name_key(w) for w in re.findall(r"[A-Za-z][A-Za-z'\-]+", strip_quotes(sentence))]
    return [t for t in toks if t in known]


@dataclass(frozen=True)
class SpokenSentence:
    text: str
    speaker: str | None
    paragraph: int  # index into the article's paragraph list
    context: str  # previous sentence + paragraph heading: what an elliptic sentence leans on


def annotate(paragraphs: list[str]) -> list[SpokenSentence]:
    """Every sentence of an article with its speaker. Pronouns and descriptions resolve to the previous
    sentence's speaker, else the last person named there; a bare quotation inherits the speaker of the
    sentence before it (quotes often continue after "Healey declared:")."""
    known = known_people(paragraphs)
    out: list[SpokenSentence] = []
    last_speaker: str | None = None
    last_person: str | None = None
    prev_text = ""
    for pi, para in enumerate(paragraphs):
        sents = split_sentences(para)
        if pi and not prev_text.rstrip().endswith(":"):
            last_speaker = None  # a new paragraph starts a new attribution unless the last one announced it
        quote_only = bool(sents) and all(re.match(r"^\s*[\"\u201c]", x) for x in sents)
        for s in sents:
            antecedent = last_speaker or last_person
            sp = speaker_of(s, antecedent)
            if sp is None and s.rstrip().endswith(":"):
                sp = _introducer(s, antecedent)  # "He justified this with a power imbalance:"
            if sp is None and quote_only and pi and not last_speaker:
                sp = _introducer(prev_text, None)  # a quote paragraph after "EU leaders released a statement"
            bare_quote = sp is None and s.lstrip()[:1] in "\"\u201c" and strip_quotes(s).replace("qqquote", "").strip(" .,") == ""
            if sp is None and (bare_quote or re.match(r"^\s*[\"\u201c]", s) and len(strip_quotes(s).split()) <= 3):
                sp = last_speaker
            out.append(SpokenSentence(s, sp, pi, prev_text))
            last_speaker = sp if sp not in (None, "?") else (last_speaker if sp == "?" else None)
            people = mentioned_people(s, known)
            if sp and sp not in ("?", "official"):
                last_person = sp
            elif people:
                last_person = people[-1]
            prev_text = s
    return out


# ---------------------------------------------------------------- claims

# "ruled out"/"denied" are not plain attribution: they negate what follows, so they stay in the content
_CLAIM_VERBS = "|".join(v for v in _SAY.split("|") if v not in ("denied", "called", "calls", "described",
                                                                 "describes", "promised", "promises", "vowed"))
_CLAIM_SAY = re.compile(rf"^(?P<speaker>(?:(?:the|a|an)\s+)?(?:[A-Za-z'\u2019.\-]+\s+){{0,5}}?[A-Za-z'\u2019.\-]+)\s+"
                        rf"(?:has\s+|had\s+|have\s+)?(?:{_CLAIM_VERBS})\s+(?:that\s+|:\s*)?"
                        rf"(?P<content>.+)$", re.I | re.S)


@dataclass(frozen=True)
class ClaimPart:
    text: str  # the part as shown to the user ("Hegseth said X")
    content: str  # what is claimed, without the attribution ("X")
    speaker: str | None  # name key, e.g. "hegseth"
    speaker_name: str | None = None  # as written


def parse_attribution(claim: str) -> ClaimPart:
    c = claim.strip().rstrip(".")
    found = [re.match(r"^according to (?P<speaker>[^,]+),\s*(?P<content>.+)$", c, re.I), _CLAIM_SAY.match(c),
             re.match(rf"^(?P<speaker>(?:[A-Za-z'\u2019.\-]+\s+){{0,5}}?[A-Za-z'\u2019.\-]+)\s+(?:has\s+)?"
                      rf"(?P<neg>ruled out|rejected|dismissed|denied)\s+(?P<content>.+)$", c)]
    # the shortest speaker wins: "Hegseth ruled out X and said Y" is Hegseth's, not "Hegseth ruled out X and"'s
    for m in sorted((m for m in found if m), key=lambda m: len(m.group("speaker"))):
        sp = m.group("speaker").strip()
        # the speaker must look like a name or a titled role, not a clause ("the US does not see ... said")
        # ("Klopp of Liverpool said": the parse below finds the head of such a phrase)
        if re.search(r"[A-Z]", sp) and len(sp.split()) <= 6 and _name_key(sp) and \
                sp.split()[-1].lower() not in _STOP and not re.search(r"\s(?:of|at|for|from)\s", sp):
            content = m.group("content").strip()
            if "neg" in m.groupdict() and m.group("neg"):
                content = "no " + content  # "X ruled out NATO membership" claims X said: no NATO membership
            return ClaimPart(c, content, _name_key(sp), sp)
    return _parsed_attribution(c) or ClaimPart(c, c, None, None)


def _parsed_attribution(c: str) -> ClaimPart | None:
    """What the patterns above miss, read off the parse: a speech verb at the root with a named subject
    of any length ("Mark Wolfe of the National Energy Assistance Directors Association said: ...",
    "Ullah's attorney Mark Schamel said, \"...\"")."""
    from .text.annotate import SPEECH, _span_text
    from .text.nlp import parse

    doc = parse(c)
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.lemma_.lower() not in SPEECH or root.i == 0:
        return None
    subj = next((t for t in root.children if t.dep_ == "nsubj" and t.i < root.i), None)
    if subj is None or subj.pos_ == "PRON" or not any(t.pos_ == "PROPN" for t in subj.subtree):
        return None
    left = doc[subj.left_edge.i: subj.right_edge.i + 1]
    if left.start != 0:
        return None  # something before the speaker ("In May, X said"): leave it to the whole-claim reading
    rest = c[root.idx + len(root.text):].lstrip(" ,:")
    rest = re.sub(r"^that\s+", "", rest)
    speaker = _span_text(subj) if subj.pos_ == "PROPN" else left.text  # "Mark Wolfe of the ...": Wolfe
    key = _name_key(speaker)
    if len(rest.split()) < 3 or not key:
        return None
    return ClaimPart(c, rest, key, speaker)


_VERBISH = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|will|would|could|should|can|did|does|do|"
                      r"[a-z]{3,}ed|[a-z]{3,}s)\b")


_PAST_OR_AUX = re.compile(r"^(?:[a-z]{3,}ed|said|says|told|met|held|won|lost|took|made|gave|sent|began|struck|"
                          r"went|saw|left|wants?|demands?|has|have|had|is|are|was|were|will|would|could|"
                          r"should|can|may|might|must)\b")


def _split_and(piece: str) -> list[str]:
    """Split one piece at "and" where a clause boundary is: "A talked for 2 hours and 45 minutes in Alaska and
    signed a deal" splits only before "signed" (a verb with the subject left out), never inside a number
    or a pair of names; a lone "and" between two long clauses (the right one with a verb) splits too."""
    sub = re.split(r"\s+and\s+", piece)
    if len(sub) < 2:
        return [piece]
    out, cur = [], sub[0]
    for right in sub[1:]:
        says = re.match(rf"(?:{_SAY})\b", right)  # "ruled out X and said Y": a second statement
        if len(cur.split()) >= 2 + (not says) and len(right.split()) >= 3 and _PAST_OR_AUX.match(right) and \
                (_VERBISH.search(cur) or says):
            out.append(cur)
            cur = right
        else:
            cur = f"{cur} and {right}"
    out.append(cur)
    if len(out) > 1:
        return out
    if len(sub) == 2:
        left, right = sub
        # only a real clause boundary: both sides long enough and the right side has a verb
        if len(left.split()) >= 4 and len(right.split()) >= 4 and _VERBISH.search(right) and \
                not re.search(r"\b(?:not|too|so|is|are|was|were|did|does)$", right.strip()) and \
                not _joins_nouns(piece, len(left)):
            return [left, right]
    return [piece]


def _joins_nouns(piece: str, at: int) -> bool:
    """The parse reads the "and" after character `at` as joining two nouns ("gas and groceries"), not
    two clauses."""
    from .text.nlp import parse

    doc = parse(piece)
    tok = next((t for t in doc if t.lower_ == "and" and t.idx >= at), None)
    if tok is None or tok.head.pos_ not in ("NOUN", "PROPN", "NUM"):
        return False
    conj = next((c for c in tok.head.children if c.dep_ == "conj" and c.i > tok.i), None)
    return conj is not None and conj.pos_ in ("NOUN", "PROPN", "NUM")


def decompose(claim: str) -> list[ClaimPart]:
    """Split "X said A and B" / "A, and B" / "A; B" into parts; the speaker is copied to every part and a
    subject-less second clause ("... and wants Y") borrows the first clause's subject.

    "X said A, and B" where B has its own subject after the comma is read as the narrator's B (the comma
    closes the reported speech); without the comma ("X said A and B") B stays X's."""
    head = parse_attribution(claim)
    body = head.content
    bits = re.split(r"(;\s+|,\s+and\s+(?:that\s+)?|\s+and\s+that\s+|,\s+but\s+|\s+but\s+)", body)
    pieces: list[tuple[str, str]] = []  # (separator before it, piece)
    sep = ""
    for b in bits:
        if re.fullmatch(r";\s+|,\s+and\s+(?:that\s+)?|\s+and\s+that\s+|,\s+but\s+|\s+but\s+", b):
            sep = b
        elif b.strip():
            pieces.append((sep, b))
    out: list[tuple[str, str]] = []
    for sep, p in pieces:
        for k, q in enumerate(_split_and(p)):
            out.append((sep if k == 0 else " and ", q))
    if len(out) <= 1:
        return [head]
    subject = _subject_of(out[0][1])
    parts = []
    for i, (sep, p) in enumerate(out):
        p = p.strip().rstrip(".")
        if head.speaker:
            # "Hegseth ruled out X and said Y": the same speaker says Y
            p = re.sub(rf"^(?:{_CLAIM_VERBS})\s+(?:that\s+)?", "", p, flags=re.I) or p
        own_subject = not p[:1].islower() or bool(re.match(r"^(?:the|a|an|this|that|it|there)\b", p))
        if i and subject and p and not own_subject:
            p = f"{subject} {p}"
        narrator = i and own_subject and sep.startswith(",") and "that" not in sep and \
            re.match(r"^(?:the|a|an|this|these|there)\b", p, re.I)
        if head.speaker and not narrator:
            parts.append(ClaimPart(f"{head.speaker_name} said {p}", p, head.speaker, head.speaker_name))
        else:
            parts.append(parse_attribution(p))  # "Hegseth ruled out X and said Y": Y is attributed
    return parts


def _subject_of(clause: str) -> str | None:
    m = _VERBISH.search(clause)
    if not m or m.start() == 0:
        return None
    subj = clause[: m.start()].strip()
    return subj if 0 < len(subj.split()) <= 6 else None


# ---------------------------------------------------------------- one sentence vs one claim part

@dataclass(frozen=True)
class PairJudgment:
    stance: str  # supports | contradicts | not_mentioned
    score: float  # 0..1 strength of the decision
    relevance: float
    reason: str = ""
    flags: tuple[str, ...] = field(default=())


@dataclass
class TermStats:
    """How common each term is across the indexed sentences: "Russia" and "Ukraine" are in every other
    sentence of a corpus about the war, so finding them says little; "fifth" or "Sumy" says a lot."""

    df: dict[str, int] = field(default_factory=dict)
    n: int = 0
    common_share: float = 0.08

    @classmethod
    def from_texts(cls, texts) -> "TermStats":
        st = cls()
        for t in texts:
            st.n += 1
            for term in term_set(t):
                st.df[term] = st.df.get(term, 0) + 1
        return st

    def weight(self, term: str) -> float:
        if not self.n:
            return 1.0
        return math.log(1 + self.n / (1 + self.df.get(term, 0)))

    def common(self, term: str) -> bool:
        return bool(self.n) and self.df.get(term, 0) / self.n > self.common_share


_UNIFORM = TermStats()

# Words that name the same thing in news prose, so a sentence using one covers a claim using another:
# "the summit" / "the talks" / "the meeting" corefer with the claim's event; a capital stands for its
# country; "signed" / "finalized" / "agreed" all say a deal is done (polarity is judged separately).
_EVENT_NOUNS = {stem(w) for w in ("summit", "meeting", "talks", "negotiations", "summits", "meetings", "meet", "met")}


@lru_cache(maxsize=20000)
def equivalents(term: str) -> frozenset[str]:
    for group in (*_ALIASES, _EVENT_NOUNS, _DONE_EVENT):
        if term in group:
            return frozenset(group)
    return frozenset((term,))



def coverage(claim_terms: list[str], sentence: str, context: str = "", context_weight: float = 0.6,
             stats: TermStats | None = None, present: frozenset[str] = frozenset()) -> float:
    """Share (weighted by rarity) of the claim's content terms found in the sentence; context counts
    partly: the previous sentence or paragraph often names what the sentence leaves implicit."""
    if not claim_terms:
        return 0.0
    stats = stats or _UNIFORM
    st, ct = term_set(sentence) | present, term_set(context)
    total = sum(stats.weight(t) for t in claim_terms)
    got = sum(stats.weight(t) * (1.0 if equivalents(t) & st else context_weight if equivalents(t) & ct else 0.0)
              for t in claim_terms)
    return got / total if total else 0.0


_CLAUSE_SPLIT = re.compile(r";\s+|,?\s+and that\s+|,\s+but\s+|\s+but\s+|,\s+while\s+|\s+[\u2013\u2014]\s+")


def judge(part: ClaimPart, sentence: str, sim: float, context: str = "", speaker: str | None = None,
          **kw) -> PairJudgment:
    """Judge the sentence clause by clause ("X was unrealistic and that the US does not see Y": the
    "un-" belongs to X, the "not" to Y); the most relevant deciding clause wins."""
    clauses = [c for c in _CLAUSE_SPLIT.split(sentence) if len(c.split()) >= 4]
    whole = judge_clause(part, sentence, sim, context, speaker, **kw)
    if len(clauses) < 2:
        return whole
    results = [judge_clause(part, c, sim, context + " " + sentence, speaker, **kw) for c in clauses]
    deciding = [r for r in results if r.stance != "not_mentioned"]
    contra = [r for r in results if r.stance == "contradicts" or r.flags]
    if whole.stance == "contradicts" and contra:
        # "confirmed talks on guarantees but ruled out a NATO framework": one clause agrees on the topic,
        # the other denies the claim's point; the sentence as a whole denies it too, so the denial stands
        return whole
    if not deciding:
        return whole if whole.stance == "not_mentioned" else results[0]
    return max(deciding, key=lambda r: (r.relevance, r.stance == "supports"))


def judge_clause(part: ClaimPart, sentence: str, sim: float, context: str = "", speaker: str | None = None,
          stats: TermStats | None = None, support_threshold: float = 0.6, relevance_floor: float = 0.5,
          min_support_sim: float = 0.45, paraphrase_sim: float = 1.0,
          paraphrase_floor: float = 1.0) -> PairJudgment:
    """Stance of `sentence` towards `part`, given the embedding similarity `sim` of the two.

    relevance = mix of meaning (embedding) and rarity-weighted key-term coverage. A contradiction by a
    number, date or place needs the sentence to be about the same thing (relevance above the floor); a
    contradiction by negation/antonym needs nearly support-level relevance (everything but the polarity
    matches). Support needs high relevance, no conflict, and the claim's numbers and places present."""
    stats = stats or _UNIFORM
    terms = content_terms(part.content, drop={part.speaker} if part.speaker else None)
    cov = coverage(terms, sentence, context, stats=stats)
    relevance = 0.55 * sim + 0.45 * cov
    if part.speaker:
        if speaker is None:
            said = term_set(strip_quotes(sentence))
            if part.speaker not in said and stem(part.speaker) not in said:  # terms are stems ("compani")
                return PairJudgment("not_mentioned", 0.0, relevance, "not said by the claimed speaker")
        elif speaker != part.speaker and not _same_entity(stem(speaker), stem(part.speaker)):
            # ("Tehran insists" for "Iran says": a capital speaks for its country)
            return PairJudgment("not_mentioned", 0.0, relevance, f"said by {speaker}, not {part.speaker}")
    flags: list[str] = []
    conflicts = quantity_conflicts(part.content, sentence)
    for c, s in conflicts:
        flags.append(f"{c.kind}: claim '{c.text}' vs source '{s.text}'")
    # Polarity is judged on the claim's distinctive words only: a "not" near "Ukraine" says nothing.
    anchor = {t for t in terms if not stats.common(t)} or set(terms)
    # "absence of a finalized deal" negates "signed a deal" (same-meaning verbs; not the country aliases,
    # which are as common as the country itself)
    anchor = anchor | {e for t in anchor for e in equivalents(t) if t in _DONE_EVENT or t in _EVENT_NOUNS}
    flips = antonym_flips(with_phrasal(set(content_terms(part.content)), part.content),
                          with_phrasal(term_set(sentence), sentence))
    for a, b in flips:
        flags.append(f"opposite: '{a}' vs '{b}'")
    claim_scopes = negation_scopes(part.content, anchor | {a for a, _ in flips})
    neg_claim = len(claim_scopes)
    # a sentence negation counts when it negates what the claim negates, even in other words ("would not be
    # deployed in Ukraine" ~ "would not be part of any presence in Ukraine")
    negated = set().union(*claim_scopes) & set(terms) if claim_scopes else set()
    neg_sent = negations_in_scope(sentence, anchor | negated | {b for _, b in flips}, skip={b for _, b in flips})
    polarity_flip = (neg_claim + neg_sent + len(flips)) % 2 == 1
    if polarity_flip and not flips and not neg_sent and not (negated & anchor & term_set(sentence)):
        # the claim denies X; a sentence (or clause) that never names X does not assert it
        polarity_flip = False
    if (neg_claim + neg_sent) % 2 == 1:
        flags.append("negation: " + ("claim negates" if neg_claim % 2 else "source negates"))
    place = place_conflict(part.content, sentence, context) or name_substitution(part.content, sentence, context)
    place_relevance = relevance
    if place:
        flags.append(place)
        # the place itself is the disputed slot: judge "same subject" on the other words
        rest = [t for t in terms if t not in places(part.content)] or terms
        place_relevance = 0.55 * sim + 0.45 * coverage(rest, sentence, context, stats=stats)
    if polarity_flip and flips:
        # the opposite word fills the claim word's slot: the sentence is about the same thing
        relevance = 0.55 * sim + 0.45 * coverage(terms, sentence, context, stats=stats,
                                                 present=frozenset(a for a, _ in flips))
    if (conflicts and relevance >= relevance_floor) or (place and place_relevance >= relevance_floor) or \
            (polarity_flip and relevance >= support_threshold - 0.05 and sim >= min_support_sim - 0.05):
        score = min(1.0, 0.35 + relevance * 0.7 + (0.1 if conflicts else 0.0))
        return PairJudgment("contradicts", score, relevance, "; ".join(flags), tuple(flags))
    if conflicts or polarity_flip or place:
        return PairJudgment("not_mentioned", 0.0, relevance, "conflict, but about something else", tuple(flags))
    claim_q = quantities(part.content)
    if claim_q and quantity_agreements(part.content, sentence) < len(claim_q):
        return PairJudgment("not_mentioned", 0.0, relevance, "the claim's numbers are not in this sentence")
    missing_places = places(part.content) - term_set(sentence) - term_set(context)
    if missing_places:
        return PairJudgment("not_mentioned", 0.0, relevance, "the claim's place is not in this sentence")
    if unrealised_in_source(part.content, sentence, anchor):
        return PairJudgment("not_mentioned", 0.0, relevance, "the source only expects or plans it")
    if set(terms) & _DONE_EVENT and not term_set(sentence) & _DONE_EVENT:
        return PairJudgment("not_mentioned", 0.0, relevance, "the source does not say it was done")
    # matching numbers are strong evidence that two differently worded sentences state the same fact
    relevance = min(1.0, relevance + 0.06 * len(claim_q))
    if relevance >= support_threshold and (sim >= min_support_sim or claim_q):
        return PairJudgment("supports", min(1.0, 0.3 + relevance * 0.75), relevance,
                            f"same meaning (similarity {sim:.2f}, key terms {cov:.0%})")
    if sim >= paraphrase_sim and relevance >= paraphrase_floor:
        # a paraphrase: the meaning is close though few key words are shared ("getting shots into arms
        # required more vaccinators" ~ "we need more vaccinators in the field"); every check above passed
        return PairJudgment("supports", min(1.0, 0.3 + relevance * 0.75), relevance,
                            f"same meaning in other words (similarity {sim:.2f}, key terms {cov:.0%})")
    return PairJudgment("not_mentioned", 0.0, relevance, "")


_PLACE_RE = re.compile(r"\b(?:in|at|near)\s+"
                       r"((?:[A-Z][a-zA-Z\-]+)(?:[\s,]+[A-Z][a-zA-Z\-]+)*)")
_NOT_PLACES = set(_MONTHS) | {"the", "his", "her", "their", "this", "that", "president", "mr", "defence", "defense"}


def places(text: str) -> set[str]:
    out = set()
    for m in _PLACE_RE.finditer(text):
        for w in re.split(r"[\s,\-]+", m.group(1)):
            if w and w.lower() not in _NOT_PLACES and w.lower() not in _TITLES:
                out.add(stem(w))
    return out


# A capital stands for its country in news prose ("Moscow's invasion"): never a substitution.
def _alias_groups() -> list[set[str]]:
    from .text.nlp import DATA

    rows = (DATA / "place_aliases.txt").read_text(encoding="utf-8").splitlines()
    return [{stem(w) for w in r.split()} for r in rows if r.strip() and not r.startswith("#")]


_ALIASES = _alias_groups()


def _same_entity(a: str, b: str) -> bool:
    return a == b or any(a in g and b in g for g in _ALIASES)


def name_substitution(claim: str, sentence: str, context: str = "") -> str | None:
    """The claim names X where the sentence, after the same two words, names Y: "ambassador to Ukraine"
    vs "ambassador to Russia", "requested by Trump" vs "requested by Putin"."""
    if _title_case(sentence):
        return None
    cw = words(claim)
    claim_terms = term_set(claim)
    sw = words(sentence)
    low = [w.lower() for w in sw]
    trigrams = {tuple(low[j - 2:j + 1]) for j in range(2, len(low))}
    for i in range(2, len(cw)):
        x = cw[i]
        a, b = cw[i - 2].lower(), cw[i - 1].lower()
        if not x[0].isupper() or (a, b, x.lower()) in trigrams or a in _STOP and b in _STOP:
            continue
        for j in range(2, len(sw)):
            y = sw[j]
            if low[j - 2] == a and low[j - 1] == b and y[0].isupper() and \
                    not ({stem(p) for p in y.split("-")} & claim_terms) and not _same_entity(stem(x), stem(y)) and \
                    stem(x) not in {stem(w) for w in sw[j + 1:j + 5]}:  # "Russian President Vladimir Putin"
                return f"name: claim '{a} {b} {x}' vs source '{a} {b} {y}'"
    return None


def _title_case(text: str) -> bool:
    ws = [w for w in re.findall(r"[A-Za-z]+", text) if len(w) > 3]
    return bool(ws) and sum(w[0].isupper() for w in ws) / len(ws) > 0.7


def place_conflict(claim: str, sentence: str, context: str = "") -> str | None:
    """The claim puts something in a place the source puts elsewhere ("in Moscow" vs "in Alaska")."""
    if _title_case(sentence):
        return None
    # "summit in Helsinki in 2018" vs a 2025 summit in Alaska: a different event, not a contradiction
    times = [q for q in quantities(claim) if q.kind in ("year", "date")]
    if times and not any(q.kind in ("year", "date") for q in quantities(sentence + " " + context)):
        return None
    if any(c.kind in ("year", "date") for c, _ in quantity_conflicts(claim, sentence)):
        return None
    cp = places(claim)
    if not cp:
        return None
    known = term_set(sentence) | term_set(context)
    missing = {p for p in cp if p not in known}
    if not missing or missing != cp:
        return None
    sp = places(sentence) - term_set(claim)
    if not sp:
        return None
    return f"place: claim '{', '.join(sorted(missing))}' vs source '{', '.join(sorted(sp))}'"
