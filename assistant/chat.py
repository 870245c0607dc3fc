"""A conversation: follow-up questions are rewritten into stand-alone ones before retrieval.

Only an *incomplete follow-up* is rewritten (see :func:`is_follow_up`); a complete new question is sent
exactly as typed, with or without an LLM. A message is a follow-up when it

* starts with a continuation word ("and ...", "also ...", "but ...", "what about X?", "how about X?");
* leans on something it does not name itself: a pronoun with no name before it ("what did he say?",
  "why did they agree?"), a bare "it"/"that"/"this" or a demonstrative ("that deal") in a question with no
  name of its own, or "the deal"/"the final"/"the minister" when nothing in it says which one;
* is very short and has no name, number or content word of its own ("why?", "how much?", "who won?").

A question with its own subject and predicate ("Where did Trump and Putin meet?", "How much did Apple earn
in the quarter?", "Who won the Champions League final?") is complete. Capitalised words at the start of a
sentence are not taken for names.

With an LLM the rewrite of a follow-up follows prompts/condense.md; without one a rule-based rewrite
replaces a pronoun with the last person named ("what did he say about troops?" -> "What did Hegseth say
about troops?"), swaps X into the previous question ("what about Trump?" -> "What did Trump say about
NATO?"), carries the previous topic into a "say" question that lacks one ("and what did Zelensky say?" ->
"What did Zelensky say about NATO?"), turns a bare question word into the previous question ("when?" after
"Where did Trump and Putin meet?" -> "When did Trump and Putin meet?") and otherwise keeps the previous
names in view ("and who attended?" -> "Who attended (Trump, Putin)?").
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from .answer.base import AnswerStream
from .models import Answer

log = logging.getLogger(__name__)

PROMPT = Path(__file__).resolve().parent.parent / "prompts" / "condense.md"

# ---------------------------------------------------------------- vocabulary (kept here, not in answer.py)

_QWORDS = {"what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do", "is", "are",
           "was", "were", "has", "have", "had", "will", "would", "can", "could", "should", "in", "on", "according",
           "after", "before", "the", "a", "an", "and", "but", "if", "i", "tell", "me", "give", "list", "name", "also",
           "so", "then", "plus", "or", "he", "she", "they", "it", "that", "this", "those", "these", "his", "her",
           "their", "its", "we", "you", "any", "anything", "explain", "describe", "summarise", "summarize"}
# Capitalised words that name places or organisations, never "he"/"she".
_NOT_PEOPLE = {"house", "us", "u.s", "uk", "eu", "nato", "kremlin", "white", "government", "administration",
               "europe", "russia", "ukraine", "china", "america", "un", "g7", "g8", "moscow", "kyiv", "washington",
               "london", "paris", "berlin", "brussels", "beijing", "india", "japan", "france", "germany", "britain",
               "congress", "senate", "parliament", "pentagon", "apple", "google", "microsoft", "amazon", "nasa"}
_ORG_TAIL = {"league", "cup", "party", "bank", "council", "house", "office", "ministry", "department", "union",
             "court", "association", "inc", "ltd", "corp", "group", "university", "institute", "agency", "final",
             "games", "open", "club", "fc", "united", "city", "news", "times", "post", "reserve", "fund",
             "committee", "commission", "organisation", "organization", "company", "forum", "summit", "prize"}
# Words that carry no subject of their own: a short question made only of these is a follow-up ("why?").
_FUNCTION = _QWORDS | {"much", "many", "long", "far", "often", "old", "else", "exactly", "next", "really", "not",
                       "about", "of", "to", "for", "with", "from", "at", "by", "there", "them", "him", "hers", "one",
                       "ones", "other", "others", "more", "why's", "what's", "who's", "how's", "when's", "where's",
                       "happen", "happened", "happens", "happening", "say", "said", "says", "mean", "meant", "win",
                       "won", "wins", "lose", "lost", "end", "ended", "start", "started", "begin", "began", "come",
                       "came", "go", "went", "cost", "costs", "pay", "paid", "agree", "agreed", "decide", "decided",
                       "react", "reacted", "respond", "responded", "reply", "replied", "think", "thought",
                       "attend", "attended", "leave", "left", "change", "changed", "follow", "followed", "want",
                       "wanted", "do", "done", "doing", "get", "got", "make", "made", "take", "took", "now", "later",
                       "first", "after", "afterwards", "before", "yet", "still", "again", "too", "either", "so",
                       "sure", "true", "right", "ok", "okay", "please", "thanks", "well", "result", "outcome",
                       "reason", "score", "reaction", "response", "why", "be", "been", "being"}
# "the deal" / "the minister": nouns that, with no name in the question, point back at something said before.
_ANAPHORIC_NOUNS = {"deal", "agreement", "meeting", "talks", "summit", "match", "game", "final", "race", "fight",
                    "tournament", "season", "study", "report", "paper", "research", "researchers", "scientists",
                    "survey", "trial", "plan", "proposal", "offer", "bid", "company", "firm", "business", "club",
                    "team", "side", "other", "decision", "move", "announcement", "statement", "remarks",
                    "comments", "speech", "interview", "vote", "result", "results", "findings", "bill", "law",
                    "policy", "merger", "takeover", "acquisition", "case", "incident", "attack", "event",
                    "minister", "president", "leader", "spokesman", "spokeswoman", "spokesperson", "official",
                    "officials", "ceo", "chief", "boss", "coach", "manager", "player", "players", "author",
                    "authors", "judge", "country", "city", "government", "two", "sides", "parties", "visit",
                    "call", "trip", "launch", "mission", "discovery", "drug", "vaccine", "product", "shares",
                    "stock", "price", "figure", "number", "sale", "sales", "profit", "loss", "quarter", "story",
                    "article", "claim", "claims", "allegations", "dispute", "row", "strike", "protest", "goal"}
_TIME_NOUNS = {"week", "weekend", "year", "month", "morning", "afternoon", "evening", "season", "time", "summer",
               "winter", "spring", "autumn", "quarter", "century", "decade", "day"}

_SAY_VERBS = (r"say|said|tell|told|state|claim|think|warn|announce|post|write|describe|call|argue|promise|react|"
              r"respond|reply|mean|insist|suggest|accuse|compare|predict|admit|deny|add|comment|speak|talk")
_SAY_Q = re.compile(rf"\b(?:did|does|do|has|have|had|will|would|was|is)\s+(?P<who>[^?]+?)\s+(?:{_SAY_VERBS})\b", re.I)
_IS_SAY = re.compile(rf"\b(?:{_SAY_VERBS})(?:s|ed|ing)?\b", re.I)

_PERSON_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers)\b", re.I)
_GROUP_PRONOUN = re.compile(r"\b(they|them|their)\b", re.I)
_ROLE_ACRONYMS = {"CEO", "CFO", "COO", "CTO", "PM", "MP", "MPS", "MEP", "VP", "GDP", "AI", "TV", "OK"}
_DEFINITE = re.compile(r"\bthe\s+(?:\w+\s+){0,2}?(?P<noun>[a-z]+)\b", re.I)
_END_THING = re.compile(r"\b(?:about|on|of|regarding|over|to|with|for|after|by)\s+(?:it|that|this|them)\s*\??\s*$", re.I)
_FOLLOW_START = re.compile(r"^\s*(?:and|also|but|so|then|plus|or|what about|how about|and what about|"
                           r"and how about)\b[\s,]*", re.I)
_CONTINUATION = re.compile(r"^\s*(?:and|also|but|so|then|plus|or)\b[\s,]*", re.I)
_ABOUT = re.compile(r"\b(?:about|on|regarding|concerning|over)\s+(?P<topic>[^?]+?)\s*\??\s*$", re.I)
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>[^?]+?)\s*\??\s*$", re.I)
_WH = r"(?:why|when|where|how(?:\s+(?:much|many|long|far|often|come|so))?|who|what|which)"
_BARE_WH = re.compile(rf"^\s*(?P<wh>{_WH})(?:\s+(?:exactly|then|else|so|now))?(?:\s+(?:was|is|were|are|did|does|do)"
                      r"(?:\s+(?:that|it|this|they|he|she))?(?:\s+(?:happen|come about|take place))?)?\s*\??\s*$", re.I)
_PREV_WH = re.compile(rf"^\s*(?P<wh>{_WH})\s+(?P<aux>did|does|do|has|have|had|will|would|can|could|should|is|was|are|"
                      r"were)\s+(?P<rest>[^?]+?)\s*\??\s*$", re.I)
_PREV_YESNO = re.compile(r"^\s*(?:did|does|do|has|have|had|will|would|can|could|should|is|was|are|were)\b", re.I)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][A-Za-z0-9'\u2019\-\.]*", text)


def _entities(text: str, fragment: bool = False) -> list[str]:
    """Names in `text`, in order: runs of capitalised words that do not open the sentence, and acronyms.

    `fragment`: `text` is a piece of a sentence ("Trump" in "what about Trump?"), so its first word may be a name.
    """
    out = []
    for m in re.finditer(r"\b[A-Z][A-Za-z'\u2019\-\.]*(?:\s+(?:of\s+|de\s+|van\s+)?[A-Z][A-Za-z'\u2019\-\.]*)*", text):
        name = re.sub(r"['\u2019]s$", "", m.group(0)).rstrip(".")
        before = text[: m.start()]
        starts_sentence = (not before.strip() and not fragment) or re.search(r"[.!?:;\"\u201c(]\s*$", before) or \
            _FOLLOW_START.fullmatch(before)
        if starts_sentence:
            first, _, rest = name.partition(" ")
            if not (first.isupper() and len(first) > 1):  # "NATO ..." is a name even at the start
                name = rest
        if not name:
            continue
        if name.split()[0].lower() in _QWORDS and not name.split()[0].isupper():
            name = " ".join(name.split()[1:])
            if not name:
                continue
        if name == "I" or name.upper() in _ROLE_ACRONYMS and name.isupper():
            continue
        out.append(name)
    return out


def _is_person(name: str) -> bool:
    low = name.lower()
    first, last = low.split()[0], low.split()[-1]
    return not (name.isupper() or first in _NOT_PEOPLE or low in _NOT_PEOPLE or last in _ORG_TAIL
                or re.search(r"(?:ian|ean|ese|ish)$", low))


def _people(text: str) -> list[str]:
    """Names that may be "he"/"she": not organisations, and not places ("on Mars", "in Kyiv")."""
    out = []
    for n in _entities(text):
        at = text.find(n)
        if _is_person(n) and not re.search(r"\b(?:in|on|at|from|to|near|into|across|of)\s+(?:the\s+)?$",
                                           text[:at], re.I):
            out.append(n)
    return out


def _speaker_name(question: str) -> str | None:
    """The person whose words `question` asks for ("What did Hegseth say ...?" -> "Hegseth")."""
    m = _SAY_Q.search(question)
    if not m:
        return None
    names = _people(question[m.start("who"): m.end("who")] if m.start("who") > 0 else m.group("who"))
    if not names:
        names = [n for n in _people(question) if n in m.group("who")]
    return names[-1] if names else None


def _has_number(text: str) -> bool:
    return bool(re.search(r"\d", text))


def _named_before(text: str, pos: int, people_only: bool) -> bool:
    names = _people(text[:pos]) if people_only else _entities(text[:pos])
    return bool(names)


def _thing_references(q: str) -> list[re.Match]:
    """ "it", a bare "that"/"this", or a demonstrative before a noun; not the conjunction ("said that prices")."""
    out = []
    for m in re.finditer(r"\b(it|its|that|this|these|those)\b", q, re.I):
        word = m.group(1).lower()
        nxt = re.match(r"\s+([A-Za-z']+)", q[m.end():])
        prv = re.search(r"([A-Za-z']+)\s+$", q[: m.start()])
        if word in ("it", "its"):
            out.append(m)
            continue
        if nxt is None or nxt.group(1).lower() in _FUNCTION:  # "was that?", "is that true", "that happen"
            out.append(m)
        elif word in ("that", "this") and prv and (_IS_SAY.fullmatch(prv.group(1)) or
                                                   prv.group(1).lower() in {"so", "such", "now", "given", "fact"}):
            continue  # "said that prices would rise"
        elif nxt.group(1).lower() not in _TIME_NOUNS:  # "that deal", but not "this week"
            out.append(m)
    return out


def is_follow_up(question: str, previous: list[str] | None = None) -> bool:
    """True when `question` cannot stand on its own and needs the conversation (see the module docstring)."""
    q = " ".join((question or "").split())
    if not q:
        return False
    if _FOLLOW_START.match(q):
        return True
    ents = _entities(q)
    # A pronoun for a person or a group with no name before it in the question: "what did he say about Apple?"
    for rx in (_PERSON_PRONOUN, _GROUP_PRONOUN):
        for m in rx.finditer(q):
            if not _named_before(q, m.start(), people_only=rx is _PERSON_PRONOUN):
                return True
    if _END_THING.search(q):  # "what did Putin say about that?"
        return True
    if not ents and not _has_number(q):
        if _thing_references(q):  # "when was that?", "how much did it cost?", "that deal" (not "this week")
            return True
        prev_words = {w.lower() for p in (previous or [])[-2:] for w in _words(p)}
        for m in _DEFINITE.finditer(q):  # "the deal", "the other side": which one?
            noun = m.group("noun").lower()
            if noun in _ANAPHORIC_NOUNS or (noun in prev_words and noun not in _FUNCTION):
                return True
        words = [w.lower().strip("'\u2019") for w in _words(q)]
        if len(words) <= 5 and all(w in _FUNCTION or (w.endswith("ed") and len(w) > 4) for w in words):  # "why?", "how much?", "who won?"
            return True
    return False


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _last_person(previous: list[str]) -> str | None:
    for p in reversed(previous):
        speaker = _speaker_name(p)
        names = _people(p)
        if speaker or names:
            return speaker or names[-1]
    return None


def _last_group(previous: list[str]) -> str | None:
    """What "they" most likely means: the names of the last question that has any ("Trump and Putin")."""
    for p in reversed(previous):
        names = list(dict.fromkeys(_people(p)))
        if not names:  # no people: the first name, with any joined to it by "and" ("Apple and Google")
            ents = _entities(p)
            names = ents[:1]
            for e in ents[1:]:
                if re.search(rf"{re.escape(names[-1])}(?:['\u2019]s)?\s*(?:,|and|&)\s*{re.escape(e)}", p):
                    names.append(e)
                else:
                    break
        if names:
            return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return None


def _last_thing(previous: list[str]) -> str | None:
    """What a subject "it" most likely means: the previous topic, else the last question's first non-person name."""
    prev = previous[-1]
    m = _ABOUT.search(prev)
    if m:
        return m.group("topic")
    things = [n for n in _entities(prev) if not _is_person(n)]
    return things[0] if things else None


def _swap_wh(wh: str, prev: str) -> str | None:
    """ "when?" after "Where did Trump and Putin meet?" -> "When did Trump and Putin meet?"."""
    wh = wh.lower()
    m = _PREV_WH.match(prev)
    if m:
        pwh, aux, rest = m.group("wh").lower(), m.group("aux"), m.group("rest")
        if pwh == wh:
            return None
        if pwh.split()[0] in ("where", "when", "why", "how") and pwh != "how much" and pwh != "how many":
            return f"{_cap(wh)} {aux} {rest}?"
        if pwh == "what" and aux.lower() in ("did", "does", "do", "will", "would"):
            # "What did Hegseth say about NATO?" -> "Why did Hegseth say that about NATO?"
            verb = _IS_SAY.search(rest) or re.match(r"(?:[A-Z][\w'\u2019\-]*\s+(?:and\s+)?)+([a-z]+)\b", rest)
            if verb:
                return f"{_cap(wh)} {aux} {rest[:verb.end()]} that{rest[verb.end():]}?"
        return None
    if _PREV_YESNO.match(prev):  # "Did Apple beat forecasts?" -> "Why did Apple beat forecasts?"
        return f"{_cap(wh)} {prev[:1].lower()}{prev[1:].strip().rstrip('?')}?"
    return None


def _replace_name(prev: str, old: str, new: str) -> str:
    return re.sub(rf"(?<![A-Za-z]){re.escape(old)}(?![A-Za-z])", lambda _: new, prev, count=1)


def _what_about(x: str, prev: str, previous: list[str]) -> str:
    """ "what about X?": the previous question asked again with X in place of its speaker, name or topic."""
    x = x.strip()
    if _PERSON_PRONOUN.fullmatch(x) and _last_person(previous):
        x = _last_person(previous)
    elif _GROUP_PRONOUN.fullmatch(x) and _last_group(previous):
        x = _last_group(previous)
    prev_topic = (_ABOUT.search(prev) or None) and _ABOUT.search(prev).group("topic")
    prev_speaker = _speaker_name(prev)
    bare = re.sub(r"^(?:the|a|an)\s+", "", x, flags=re.I)
    x_names = _entities(x, fragment=True)  # a leading space: X's first word is not a sentence start
    if x_names:
        x_people = [n for n in x_names if _is_person(n)]
        if prev_speaker and x_people:  # "what about Zelensky?" -> same question, other speaker
            return _replace_name(prev, prev_speaker, x)
        names = _people(prev) if x_people else [n for n in _entities(prev) if not _is_person(n)]
        names = names or _entities(prev)
        if names:  # "what about Microsoft?" after "How much did Apple earn?" -> "How much did Microsoft earn?"
            old = names[-1] if x_people else names[0]
            with_article = re.search(rf"\bthe\s+{re.escape(old)}", prev, re.I)
            return _replace_name(prev, old, bare if with_article else x)
    if prev_topic:  # "what about troops?" -> same question, other topic
        return prev[: prev.rfind(prev_topic)] + x + "?"
    return f"{prev.rstrip(' ?')} and {x}?"


def _subject_thing(q: str, m: re.Match) -> bool:
    """ "it" as a subject ("does it matter", "it fell"), "its", or "about that": what the previous question was about.

    Not "do it" or "is that true", where "it"/"that" stand for an action or a claim rather than a topic.
    """
    word = m.group(1).lower()
    before = q[: m.start()]
    if word == "its":
        return True
    if word == "it":
        return not before.strip() or bool(re.search(r"\b(?:did|does|is|was|will|would|can|could|has|"
                                                    r"should|why|when|where|how|what)\s+$", before, re.I))
    return bool(_END_THING.search(q)) and m.end() >= len(q.rstrip(" ?"))


def _sub_pronouns(q: str, previous: list[str]) -> tuple[str, bool]:
    """he/she -> the last person named, they -> the last names, when the question names no one before them."""
    changed = False
    person, group = _last_person(previous), _last_group(previous)

    def person_sub(m):
        nonlocal changed
        if not person or _named_before(q, m.start(), people_only=True):
            return m.group(0)
        w = m.group(1).lower()
        nxt = re.match(r"\s+([A-Za-z']+)", q[m.end():])
        possessive = w in ("his", "hers") or (w == "her" and nxt is not None and nxt.group(1).lower() not in _FUNCTION)
        changed = True
        return person + "'s" if possessive else person

    def group_sub(m):
        nonlocal changed
        if not group or _named_before(q, m.start(), people_only=False):
            return m.group(0)
        changed = True
        return group + "'s" if m.group(1).lower() == "their" else group

    q = _PERSON_PRONOUN.sub(person_sub, q)
    q = _GROUP_PRONOUN.sub(group_sub, q)
    return q, changed


def rule_rewrite(question: str, previous: list[str]) -> str:
    """Stand-alone version of `question` given earlier stand-alone questions (oldest first).

    A question that is not a follow-up (:func:`is_follow_up`) comes back exactly as typed.
    """
    q = " ".join(question.split())
    if not previous or not is_follow_up(q, previous):
        return q
    prev = previous[-1]
    prev_topic = (_ABOUT.search(prev) or None) and _ABOUT.search(prev).group("topic")

    m = _WHAT_ABOUT.match(q)
    if m:
        return _cap(_what_about(m.group("x"), prev, previous))

    q = _CONTINUATION.sub("", q).strip(" ,") or q
    if _entities(q, fragment=True) and len(q.split()) <= 5 and not re.match(
            rf"^\s*(?:{_WH}|did|does|do|has|have|had|will|would|can|could|should|is|was|are|were)\b", q, re.I) \
            and not _IS_SAY.search(q):
        return _cap(_what_about(q.rstrip(" ?"), prev, previous))  # "and Google?" is "what about Google?"
    m = _BARE_WH.match(q)
    if m:  # "why?", "and when?", "when was that?"
        swapped = _swap_wh(m.group("wh"), prev)
        if swapped:
            return swapped
        return f"{_cap(q.rstrip(' ?'))}? (follow-up to: {prev})"

    q, changed = _sub_pronouns(q, previous)
    own_topic = _ABOUT.search(q)
    things = _thing_references(q)
    thing = _last_thing(previous)
    subject_it = [t for t in things if _subject_thing(q, t)]
    if thing and subject_it:
        t = subject_it[0]  # "why does it matter?" -> "why does NATO matter?"; "its shares" -> "Apple's shares"
        q = q[: t.start()] + (thing + "'s" if t.group(1).lower() == "its" else thing) + q[t.end():]
        changed = True
    elif prev_topic and not own_topic and _IS_SAY.search(q) and not own_topic and _IS_SAY.search(q):
        # A "say" follow-up with no topic of its own borrows the previous one.
        q = q.rstrip(" ?") + f" about {prev_topic}?"
        changed = True
    if not _entities(q):
        names = list(dict.fromkeys(_entities(prev)))
        if names:  # "and who attended?" after "Where did Trump and Putin meet?": keep the names in view
            q = q.rstrip(" ?") + " (" + ", ".join(names) + ")?"
        elif not changed:
            q = q.rstrip(" ?") + f"? (follow-up to: {prev})"
    return _cap(q)


class ChatSession:
    """`ask(question) -> Answer`; the stand-alone rewrite is `Answer.standalone_question` when it differs."""

    def __init__(self, assistant, k: int | None = None, engine: str | None = None, **filters):
        self.assistant = assistant
        self.k = k
        self.engine = engine
        self.filters = filters
        self.history: list[tuple[str, Answer]] = []
        self._standalone: list[str] = []

    @property
    def llm(self):
        if self.engine == "extractive":
            return None
        return getattr(self.assistant.answerer, "llm", None)

    def rewrite(self, question: str) -> str:
        question = " ".join((question or "").split())
        if not self._standalone or not question:
            return question  # an empty question is rejected by search with a clear message
        if not is_follow_up(question, self._standalone):
            return question  # a complete question goes exactly as typed, to the LLM rewrite or not at all
        if self.llm is not None:
            try:
                out = self._llm_rewrite(question)
                if out:
                    return out
            except Exception as e:  # a failed rewrite should not lose the question
                log.warning("LLM rewrite failed (%s); using the rule-based rewrite", e)
        return rule_rewrite(question, self._standalone)

    def _llm_rewrite(self, question: str) -> str | None:
        history = "\n".join(f"- {q}" for q in self._standalone[-5:])
        prompt = PROMPT.read_text(encoding="utf-8").replace("{history}", history).replace("{question}", question)
        text = str(self.llm.complete(prompt)).strip()
        text = text.splitlines()[0].strip().strip('"\u201c\u201d') if text else ""
        if not text or len(text) > 2 * len(question) + 200:
            return None
        return text

    def _retrieve(self, question: str):
        standalone = self.rewrite(question)
        k = self.k or self.assistant.settings.answer_k  # answers read more passages than a search shows
        passages = self.assistant.search(standalone, k=k, **self.filters)
        return standalone, passages

    def ask(self, question: str) -> Answer:
        standalone, passages = self._retrieve(question)
        ans = self.assistant.answerer.answer(standalone, passages, engine=self.engine)
        return self._record(question, standalone, ans)

    def ask_stream(self, question: str) -> AnswerStream:
        standalone, passages = self._retrieve(question)
        inner = self.assistant.answerer.stream(standalone, passages, engine=self.engine)

        def chunks(st: AnswerStream):
            yield from inner
            st.answer = self._record(question, standalone, inner.answer)

        return AnswerStream(chunks)

    def _record(self, question: str, standalone: str, ans: Answer) -> Answer:
        ans = replace(ans, question=question,
                      standalone_question=standalone if standalone != " ".join(question.split()) else None)
        self.history.append((question, ans))
        self._standalone.append(standalone)
        return ans
