"""The citation check both answer engines pass through before the user sees a word.

An answer is a list of sentences, each ending in markers such as [1][3] that point at retrieved
paragraphs (1-based positions in the passage list the engine was given). For every sentence:

* markers pointing at no retrieved paragraph are dropped;
* each cited paragraph must *support* the sentence: the rarity-free share of the sentence's content
  words found in the paragraph, and the embedding cosine between the sentence and the paragraph's
  best-matching sentence, must both clear calibrated floors, and every number the sentence states must
  appear in the paragraph (a changed number is the commonest LLM error that overlap scores miss);
* a support must not misstate its paragraph where overlap and embeddings are blind: a quantity written
  in words that the paragraph states differently ("more than five hours" vs "nearly three hours"), a
  different place ("in Moscow" vs "in Alaska"), a swapped name ("ambassador to Russia" vs "to Ukraine"),
  or words put in the mouth of someone other than the paragraph's speaker (`Zelensky said: "<Putin's
  quote>"` matches the quote word for word once the attribution is set aside);
* a sentence none of whose citations supports it gets the best supporting retrieved paragraph instead,
  if one exists; otherwise it is dropped and recorded in ``dropped``;
* surviving citations are renumbered 1..n in order of first appearance.

Words that only name the source (outlet, agency, headline) and attribution verbs ("reports",
"according to") are not claims about the world, so they are not required to appear in the paragraph.

Thresholds were calibrated on the bundled articles (tests/test_verify.py keeps the examples): verbatim
and framed quotes score lexical 1.0 / cosine > 0.8; faithful paraphrases lexical >= 0.5, cosine >= 0.6;
a sentence checked against the most similar *other* paragraph of the corpus rarely reaches both.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import numpy as np

from ..models import Citation, Passage
from ..stance import (
    content_terms,
    name_substitution,
    negation_scopes,
    place_conflict,
    quantity_conflicts,
    speaker_of,
    split_sentences,
    stem,
    term_set,
)

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Attribution words an answer may add around a quote without claiming anything about the world.
_FRAME_WORDS = set("""according reports report reported reporting article articles writes wrote write says said
quotes quoted quoting adds added source sources one another also notes note states stated put it
""".split())
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Support:
    lexical: float  # share of the sentence's content words present in the paragraph
    cosine: float  # cosine between the sentence and the paragraph's closest sentence
    numbers_ok: bool  # every number in the sentence also occurs in the paragraph
    quote: str  # the paragraph sentence that matched best
    polarity_ok: bool = True  # the sentence and its best match are both negated or both not
    conflict: str | None = None  # what the sentence misstates (quantity, place, name, speaker), if anything

    @property
    def score(self) -> float:
        return 0.5 * self.lexical + 0.5 * self.cosine


@dataclass
class Thresholds:
    # Both floors must hold, or the combined score must be high (a paraphrase with few shared words
    # but nearly identical meaning, or a close quote whose embedding is diluted by framing words).
    lexical: float = 0.5
    cosine: float = 0.55
    combined: float = 0.72
    # Most of the claim's words are in the paragraph but its best sentence is much longer (a quote
    # with its attribution), which dilutes the cosine.
    lexical_strong: float = 0.65
    cosine_weak: float = 0.4


def strip_markers(sentence: str) -> tuple[str, list[int]]:
    """("Text [1][2].", ) -> ("Text.", [1, 2])."""
    nums: list[int] = []
    for m in MARKER.finditer(sentence):
        nums.extend(int(n) for n in re.split(r"\s*[,;]\s*", m.group(1)))
    text = MARKER.sub("", sentence).strip()
    text = re.sub(r"\s+([.!?,;:])", r"\1", text)
    return text, nums


def render(text: str, numbers: Iterable[int]) -> str:
    """Put the markers before the sentence's final full stop: 'He said “x.” [1].' reads as cited."""
    marks = "".join(f"[{n}]" for n in numbers)
    if not marks:
        return text
    m = re.match(r"^(.*?)([.!?])?\s*$", text, re.S)
    body, end = m.group(1).rstrip(), m.group(2)
    if end == "." or end is None:
        return f"{body} {marks}."
    return f"{body} {marks}{end}" if not body.endswith(("\u201d", '"')) else f"{body}{end} {marks}"


_ABBREV_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|"
                         r"Nov|Dec|No|vs|etc|Jr|Sr|Prof|Inc|Corp|Co)|\b[A-Z]|U\.S|U\.K|U\.N|e\.g|i\.e)\.$")
_BOUNDARY = re.compile(r"[.!?][\"\u201d\u2019')]*((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*)(?!\s*\[)(?=\s+\S|\s*$)")


def split_marked(text: str, final: bool = True) -> tuple[list[str], str]:
    """Split LLM output into sentences, keeping markers that follow a full stop ('x. [1] Next') with
    the sentence they close. Never splits inside a quotation or after an abbreviation. Returns
    (complete sentences, unfinished rest); with ``final`` the rest is returned as a last sentence."""
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if not final and end >= len(text.rstrip()):
            break  # the stream may still add markers or words to this sentence
        piece = text[start:end]
        pre = text[start:m.start() + 1]
        if _ABBREV_END.search(pre):
            continue
        if piece.count("\u201c") > piece.count("\u201d") or piece.count('"') % 2:
            continue  # inside a quotation
        if piece.strip():
            out.append(piece.strip())
        start = end
    rest = text[start:]
    if final and rest.strip():
        out.append(rest.strip())
        rest = ""
    return out, rest


class CitationChecker:
    """Scores how well a paragraph supports a sentence (see module doc). Embeddings are cached by
    text, so checking the extractive engine's own sentences costs no extra model calls."""

    def __init__(self, embedder, thresholds: Thresholds | None = None, cache_size: int = 4096):
        self.embedder = embedder
        self.t = thresholds or Thresholds()
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # ---- embeddings
    def vectors(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:  # one checker serves every chat of a UI process
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            fresh = {t: np.asarray(v, dtype=np.float32)
                     for t, v in zip(missing, self.embedder.embed_texts(missing))} if missing else {}
            # Read this call's vectors before any eviction: clearing first and then reading texts cached
            # earlier raised KeyError (issue 13).
            out = np.stack([fresh[t] if t in fresh else self._cache[t] for t in texts])
            if len(self._cache) + len(fresh) > self._cache_size:
                self._cache.clear()
            self._cache.update(fresh)
        return out

    # ---- scoring
    def support(self, sentence: str, passage: Passage) -> Support:
        claim, _ = strip_markers(sentence)
        meta = set(content_terms(" ".join(filter(None, [passage.outlet, passage.title, passage.agency,
                                                         *(p.outlet for p in passage.also_in)]))))
        para_terms = term_set(passage.text)
        names = set(content_terms(" ".join(re.findall(r"\b[A-Z][\w\-]*", claim))))
        terms = [t for t in content_terms(claim) if t not in meta and t not in _FRAME_STEMS]
        # Names are the cheap part of a match (every paragraph of a story names Trump and Putin); the
        # other words carry what is claimed about them, so they weigh more.
        named = [t for t in terms if t in names]
        other = [t for t in terms if t not in names]
        share = lambda ts: sum(t in para_terms for t in ts) / len(ts)  # noqa: E731
        if named and other:
            lexical = 0.35 * share(named) + 0.65 * share(other)
        else:
            lexical = share(terms) if terms else 0.0
        sents = split_sentences(passage.text) or [passage.text]
        core = _core(claim)
        verbatim = [i for i, s in enumerate(sents) if _plain(core) and _plain(core) in _plain(s)]
        polarity_ok = True
        if verbatim:  # a quotation of the paragraph: identical meaning, no model call needed
            best, cos = verbatim[0], 1.0
        else:
            vecs = self.vectors([core] + sents)
            sims = vecs[1:] @ vecs[0]
            best = int(np.argmax(sims))
            cos = float(sims[best])
            # Overlap and embeddings barely see "not": "X is a realistic outcome" matches "X is not a
            # realistic outcome" at cosine 0.9. A paraphrase must keep the polarity of its source.
            # Only negations near the words the two share count: a "not" elsewhere in a long quote says
            # nothing about the claim.
            anchor = set(content_terms(core)) & set(term_set(sents[best]))
            polarity_ok = _negated(core, anchor) == _negated(sents[best], anchor)
        facts = _without_title(claim)
        para_numbers = {n.replace(",", "") for n in _NUMBER.findall(passage.text)}
        numbers_ok = all(n.replace(",", "") in para_numbers for n in _NUMBER.findall(facts))
        # Only outlet and agency names frame a quote; a headline's words (often a person's name) do not.
        outlets = set(content_terms(" ".join(filter(None, [passage.outlet, passage.agency,
                                                           *(c.outlet for c in passage.also_in),
                                                           *(c.agency for c in passage.also_in)]))))
        conflict = _misstatement(facts, passage.text, best, outlets)
        return Support(lexical, cos, numbers_ok, sents[best], polarity_ok, conflict)

    def supports(self, s: Support) -> bool:
        if not s.numbers_ok or not s.polarity_ok or s.conflict:
            return False
        return ((s.lexical >= self.t.lexical and s.cosine >= self.t.cosine) or s.score >= self.t.combined
                or (s.lexical >= self.t.lexical_strong and s.cosine >= self.t.cosine_weak))


_FRAME_STEMS = set(content_terms(" ".join(_FRAME_WORDS)))


def _negated(text: str, anchor: set[str]) -> bool:
    """Odd number of negations whose scope covers a good part of the shared words (so a "not" inside
    a long quote about something else does not flip a sentence that only shares a name with it)."""
    need = min(len(anchor), max(2, -(-len(anchor) // 4)))
    scopes = [sc for sc in negation_scopes(text, anchor, 8, frozenset()) if len(set(sc) & anchor) >= need]
    return len(scopes) % 2 == 1


def _without_title(claim: str) -> str:
    """The extractive engine names an unknown outlet's article by its headline ('One article (“5 times
    Trump…”) says:'); the headline's numbers and places are the article's name, not a claim."""
    return re.sub(r"\(\u201c[^\u201d]*\u201d\)", " ", claim)


def _misstatement(claim: str, paragraph: str, best: int, outlets: set[str]) -> str | None:
    """What the claim states differently from the paragraph, from the rules in stance.py that see what
    overlap and embeddings cannot: quantities (spelled-out ones included), places, swapped names, and
    who is speaking."""
    for c, p in quantity_conflicts(claim, paragraph):
        return f"quantity: claim '{c.text}' vs source '{p.text}'"
    # A swapped name is looked for in the matched sentence only: across a whole paragraph the same two
    # words ("Herbst said:") often precede different names in different sentences.
    sents = split_sentences(paragraph)
    sentence = sents[best] if best < len(sents) else paragraph
    from ..claims.compare import date_conflict  # the parse-aligned date check the claim checker uses

    return place_conflict(claim, paragraph) or name_substitution(claim, sentence) or \
        _speaker_conflict(claim, paragraph, best, outlets) or date_conflict(claim, sentence)


# Several speakers named in one claim ("Trump and Putin said"): only a single one is checked.
_JOINT = re.compile(r"\b(?:and|both|together|jointly)\b[^\u201c\"]{0,40}\b(?:said|say|says|told|stated|agreed)\b", re.I)


def _claimed_speaker(claim: str, outlets: set[str]) -> str | None:
    """Name key of the person the claim says is speaking; None when it names nobody, only a pronoun or
    an official ("?"/"official" from speaker_of), or only the outlet ("According to the Daily Express,
    “…”": the frame the extractive engine writes). An outlet frame is set aside and the rest read again
    ("According to SouthFront, Putin said …")."""
    for _ in range(2):
        who = speaker_of(claim)
        if who in (None, "?", "official"):
            return None
        if stem(who) not in outlets and who not in outlets:
            return None if _JOINT.search(claim) else who
        # the outlet frame ends at the first comma or colon after the outlet's name
        m = re.search(r"[,:]\s*", claim)
        if not m:
            return None
        claim = claim[m.end():]
    return None


@lru_cache(maxsize=4096)
def _speakers(paragraph: str) -> tuple[str | None, ...]:
    """The speaker of every sentence of a paragraph (split_sentences order), pronouns and descriptions
    resolved inside the paragraph by the text layer, as for the claim checker."""
    from ..text import spoken_sentences

    return tuple(s.speaker for s in spoken_sentences([paragraph]))


def _speaker_conflict(claim: str, paragraph: str, best: int, outlets: set[str]) -> str | None:
    """The claim attributes its words to someone the paragraph does not: the matched sentence is spoken
    by somebody else (a named person, or an unnamed official), or it is the paragraph's own narration
    and the claimed speaker is not even mentioned. An unresolved "he said"/"the former host said" (the
    name is in an earlier paragraph this check cannot see) is no evidence either way."""
    who = _claimed_speaker(claim, outlets)
    if who is None:
        return None
    spoken = _speakers(paragraph)
    said_by = spoken[best] if best < len(spoken) else None
    if said_by == "?":
        return None
    if said_by is None:
        sentence = split_sentences(paragraph)[best] if best < len(spoken) else paragraph
        if re.search(r"[\u201c\"]", sentence):
            return None  # a bare quotation continuing an earlier paragraph's speaker
        named = {re.sub(r"(?:yy|iy|ii)$", "y", w.lower()) for w in re.findall(r"[A-Za-z][A-Za-z\-]+", paragraph)}
        return None if who in named else f"speaker: claim '{who}', not named in the source"
    if said_by != who:
        return f"speaker: claim '{who}' vs source '{said_by}'"
    return None


def _plain(text: str) -> str:
    """Lower-case words only: quotation marks and punctuation differ between a quote and its source."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'")))


def _core(claim: str) -> str:
    """The part of an answer sentence that makes claims: a quoted sentence without its attribution frame
    ('According to the Express, “X” .' -> 'X'). Other sentences are compared whole."""
    m = re.match(r"^[^\u201c]{0,120}?[,:]\s*\u201c(.+)\u201d\W*$", claim, re.S)
    return m.group(1) if m else claim


def restates(sentence: str, question: str) -> bool:
    """The sentence adds nothing to the question: no quotation and no content word the question lacks
    (a generated "Question: What did Hegseth say about NATO?" cites a paragraph and claims nothing)."""
    if re.search(r"[\u201c\"]", sentence):
        return False
    q = set(content_terms(question)) | _FRAME_STEMS | {"question", "answer"}
    new = [t for t in content_terms(sentence) if t not in q]
    return not new or sentence.rstrip().endswith("?")


@dataclass
class VerifiedAnswer:
    """Accumulates checked sentences; usable incrementally (streaming) or at once (`verify`)."""

    checker: CitationChecker
    passages: list[Passage]
    question: str = ""  # a sentence that only restates it makes no claim ("Question: What did X say [1]?")
    sentences: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    corrected: list[tuple[str, list[int], list[int]]] = field(default_factory=list)
    _numbers: dict[int, int] = field(default_factory=dict)  # passage index -> new number
    _quotes: dict[int, str] = field(default_factory=dict)

    def add(self, sentence: str) -> str | None:
        """Check one sentence; returns it with renumbered markers, or None if it was dropped."""
        claim, cited = strip_markers(sentence)
        if not re.search(r"[A-Za-z0-9]", claim):
            return None
        if len(re.findall(r"[A-Za-z0-9]+", claim)) < 3:
            # "PWNED", "Yes.": no statement a paragraph could support, even if it contains the word.
            self.dropped.append(claim)
            return None
        if self.question and restates(claim, self.question):
            self.dropped.append(claim)
            return None
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(self.passages)]
        scored = {n: self.checker.support(claim, self.passages[n - 1]) for n in valid}
        keep = [n for n in valid if self.checker.supports(scored[n])]
        if not keep:
            # Correct the citation: the best retrieved paragraph that supports the sentence, if any.
            others = {n: self.checker.support(claim, p) for n, p in enumerate(self.passages, 1) if n not in scored}
            scored.update(others)
            good = [n for n, s in scored.items() if self.checker.supports(s)]
            if not good:
                self.dropped.append(claim)
                return None
            keep = [max(good, key=lambda n: scored[n].score)]
            self.corrected.append((claim, valid, keep))
        new = []
        for n in keep:
            idx = n - 1
            if idx not in self._numbers:
                self._numbers[idx] = len(self._numbers) + 1
                self._quotes[idx] = scored[n].quote
            new.append(self._numbers[idx])
        out = render(claim, sorted(set(new)))
        self.sentences.append(out)
        return out

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def citations(self) -> tuple[Citation, ...]:
        order = sorted(self._numbers.items(), key=lambda kv: kv[1])
        return tuple(Citation(num, self.passages[idx], self._quotes.get(idx, "")) for idx, num in order)


def verify(text_or_sentences: str | list[str], passages: list[Passage], checker: CitationChecker) -> VerifiedAnswer:
    """Check a whole answer (LLM text, or the extractive engine's sentence list)."""
    sentences = split_marked(text_or_sentences)[0] if isinstance(text_or_sentences, str) else text_or_sentences
    out = VerifiedAnswer(checker, passages)
    for s in sentences:
        out.add(s)
    return out
