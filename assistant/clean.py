"""Turn scraped article text into clean, citable paragraphs (pure text in, text out; no I/O).

Three steps, each with general rules rather than file-specific positions:

1. ``normalize_whitespace``: NBSP and other odd spaces -> space, zero-width characters dropped, runs
   of spaces collapsed, line ends unified. Words and quotes are never changed.
2. ``strip_boilerplate``: drop lines that are web furniture (captions with an "(Image: …)" credit,
   "PHOTO: REUTERS" credits, newsletter and donation prompts, comment widgets, "N weeks ago" counters,
   "Read Entire Article" links…), cut a trailing widget block (comments, "MORE ON THE TOPIC:"), and
   strip a wire sign-off ("… REUTERS") from the last line while recording the agency.
3. ``segment``: split into units (blank-line or single-newline paragraphs, whichever the text uses),
   then attach headings, lead-ins ("He said:") and bullet lists to the text they introduce so that no
   short heading becomes a citable paragraph of its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- whitespace

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# C0/C1 control characters other than tab/newline never belong in article text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalize_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _ZERO_WIDTH.sub("", _CONTROL.sub("", text))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


# --------------------------------------------------------------------------- outlet / agency signals

# (pattern, outlet): only phrases that name the publisher unambiguously (its own widgets or self-references).
_OUTLET_SIGNALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bSupport SouthFront\b|\bsouthfront\.(press|org)\b", re.I), "SouthFront"),
    (re.compile(r"\bGet ST['’]s newsletters\b|\bstraitstimes\.com\b"), "The Straits Times"),
    (re.compile(r"\bthe Express (takes|has|looks|understands|revealed|reveals)\b|\bexpress\.co\.uk\b"), "Daily Express"),
    (re.compile(r"\btheguardian\.com\b|\bSupport the Guardian\b"), "The Guardian"),
    (re.compile(r"\bbbc\.co\.uk\b"), "BBC"),
)

_AGENCIES = {"REUTERS": "Reuters", "AFP": "AFP", "AP": "AP", "BLOOMBERG": "Bloomberg", "DPA": "dpa",
             "XINHUA": "Xinhua", "BERNAMA": "Bernama", "ANI": "ANI", "PTI": "PTI"}
_AGENCY_ALT = "|".join(_AGENCIES)
# "… he posted on X. REUTERS" or a lone "REUTERS" / "AFP, REUTERS" line at the end of the article.
_SIGNOFF = re.compile(rf"(?:^|(?<=[.!?\"”’)]) )((?:{_AGENCY_ALT})(?:\s*,\s*(?:{_AGENCY_ALT}))*)$")
# "WASHINGTON (Reuters) - " dateline at the start of a paragraph.
_DATELINE = re.compile(r"^[A-Z][A-Z ./,'-]{1,60}\((Reuters|AFP|AP|Bloomberg)\)\s*[-–—]")


def detect_outlet(text: str) -> str | None:
    """The publisher, when the text names it unambiguously; else None (the caller says 'unknown')."""
    found = {outlet for pattern, outlet in _OUTLET_SIGNALS if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


# --------------------------------------------------------------------------- boilerplate lines

_MONTHS = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC)[A-Z]*\.?"
_CAPTION_CREDIT = re.compile(r"\((?:Image|Images|Photo|Photos|Picture|Pictures|Credit|Video)\s*:[^)]*\)\s*$", re.I)
_CREDIT_LINE = re.compile(r"^(?:FILE )?(?:PHOTO|PHOTOS|IMAGE|IMAGES|PICTURE|VIDEO)\s*:\s*[A-Z0-9][A-Z0-9 /&.,'-]*$")

_DROP_LINE = [re.compile(p, re.I) for p in (
    r"^(?:sign up( now)?|subscribe)\b.*\bnewsletters?\b.*$",        # newsletter prompts
    r"^.*\bnewsletters? delivered to your inbox\b.*$",
    r"^follow (?:topic|topics|us|author)s?\s*:?$",
    r"^(?:\d[\d,.]*\s*[$€£]|[$€£]\s*\d[\d,.]*)$",                    # donation amounts "2,500 $"
    # "Support SouthFront", "Donate to us": a brand-like name (two capitals) so "Support Ukraine" stays
    r"^(?:support|donate to)\s+(?:us|our journalism|(?-i:[A-Z][\w.]*[A-Z][\w.]*))\s*!?$",
    rf"^{_MONTHS}(?:\s+\d{{1,2}},?)?\s+\d{{4}}$",                    # "JANUARY 2026" date stamps
    r"^\d+\s+(?:second|minute|hour|day|week|month|year)s?\s+ago(?:\s+\d+)?$",  # "2 weeks ago 9"
    r"^click (?:here )?to (?:see|view|enlarge|open)\b.*\b(?:image|photo|picture|gallery)\b.*$",
    r"^(?:read (?:the )?(?:entire|full|whole|more of(?: the)?) (?:article|story)|continue reading|read more)\W*$",
    r"^more on (?:the|this) topic\s*:?$",
    r"^(?:related|related articles|related stories|recommended|you may also like|advertisement|share this( article)?)\s*:?$",
    r"^(?:\d+\s+)?comments?$",
    r"^(?:notify of|guest|oldest|newest|newest most voted|most voted|inline feedbacks|view all comments"
    r"|login|log in|reply|share|tweet|print|email)$",
    r"^would love your thoughts, please comment\.?x?$",
    r"^\(?\)?$|^x$|^\d+$|^[^\w\"“‘']+$",                              # widget debris: "()", "x", "54"
)]

# A line that starts a trailing widget area: if nothing substantial follows, the rest is dropped.
_TAIL_START = re.compile(
    r"^(?:more on (?:the|this) topic|related(?: articles| stories)?|subscribe|notify of|\d+ comments?|"
    r"leave a (?:comment|reply)|read (?:the )?entire article)\s*:?$", re.I)


def _is_boilerplate(line: str) -> bool:
    return bool(_CAPTION_CREDIT.search(line) or _CREDIT_LINE.match(line)
                or any(p.match(line) for p in _DROP_LINE))


def _looks_like_tag(line: str) -> bool:
    """'Donald Trump' alone on a line: a topic tag / image label, not prose."""
    words = line.split()
    return 0 < len(words) <= 4 and not re.search(r"[.!?:;,\"”]$", line) and all(w[:1].isupper() for w in words)


def _short_sentence(line: str, max_words: int = 40) -> bool:
    return 0 < len(line.split()) <= max_words


@dataclass
class Cleaned:
    text: str  # cleaned text, the file's line/blank-line structure kept
    agency: str | None = None
    removed: list[str] = field(default_factory=list)  # dropped lines, for tests and debugging


def strip_boilerplate(text: str) -> Cleaned:
    lines = normalize_whitespace(text).split("\n")
    removed: list[str] = []
    keep = [True] * len(lines)

    def drop(i: int) -> None:
        if keep[i] and lines[i]:
            keep[i] = False
            removed.append(lines[i])

    def prev_content(i: int) -> int | None:
        j = i - 1
        while j >= 0 and not lines[j]:
            j -= 1
        return j if j >= 0 else None

    for i, line in enumerate(lines):
        if not line or not _is_boilerplate(line):
            continue
        drop(i)
        j = prev_content(i)
        if j is None or not keep[j]:
            continue
        if _CAPTION_CREDIT.search(line) and _looks_like_tag(lines[j]):
            drop(j)  # the tag line above an image caption ("Donald Trump" / caption (Image: Getty))
        elif _CREDIT_LINE.match(line) and _short_sentence(lines[j]) and not _is_heading(lines[j]):
            drop(j)  # the caption above a photo credit ("… war." / "PHOTO: REUTERS")

    # An image label that repeats the opening words of the paragraph just above it ("British Defense
    # Secretary John Healey" under "British Defense Secretary John Healey announced …") is a caption, not
    # a heading. (A heading that repeats a list item's lead, as in 002's "Key Points", is kept.)
    for i, line in enumerate(lines):
        j = prev_content(i)
        if (line and keep[i] and j is not None and keep[j] and len(line.split()) <= 8
                and not _END_PUNCT.search(line) and lines[j].startswith(line + " ")):
            drop(i)

    # Trailing widget area: from the first tail marker on, if all that follows is short debris.
    content = [i for i, line in enumerate(lines) if line]
    for n, i in enumerate(content):
        if _TAIL_START.match(lines[i]) and all(len(lines[k].split()) <= 6 for k in content[n:]):
            for k in content[n:]:
                drop(k)
            break

    # Wire sign-off at the very end: record the agency, keep the sentence it is glued to.
    agency = None
    kept = [i for i in content if keep[i]]
    if kept:
        last = kept[-1]
        m = _SIGNOFF.search(lines[last])
        if m:
            agency = _AGENCIES[re.split(r"\s*,\s*", m.group(1))[0]]
            removed.append(m.group(1))
            lines[last] = lines[last][: m.start()].rstrip()
            if not lines[last]:
                keep[last] = False
    for i in kept:
        m = _DATELINE.match(lines[i])
        if m and agency is None:
            agency = m.group(1)
            break

    cleaned = "\n".join(line if ok else "" for line, ok in zip(lines, keep))
    return Cleaned(text=cleaned, agency=agency, removed=removed)


# --------------------------------------------------------------------------- segmentation

_BULLET = re.compile(r"^(?:[•·◦▪▫‣∙*+\-–]\s+)(?=\S)")
_NUMBERED = re.compile(r"^\d{1,2}[.)]\s+\S")
_END_PUNCT = re.compile(r"[.!?;,\"”’')…]$")


def _is_heading(line: str) -> bool:
    """A short single line without sentence punctuation: 'Key Points', '3. Ruling out Nato…'."""
    if "\n" in line or _BULLET.match(line):
        return False
    words = line.split()
    numbered = bool(_NUMBERED.match(line))
    if not words or len(words) > (20 if numbered else 12) or len(line) > 160 or _END_PUNCT.search(line):
        return False
    if line.endswith(":"):
        return False  # a lead-in, handled separately
    if "," in line and len(words) > 6:
        return False  # "Mr Trump, who took office on Jan 20, separately discussed the war": a clipped sentence
    return words[0][:1].isupper() or words[0][:1].isdigit() or words[0][:1] in "“\"'‘"


def _is_lead_in(line: str) -> bool:
    """'He justified this with a power imbalance:' introduces what follows; keep them together."""
    return "\n" not in line and line.endswith(":") and len(line.split()) <= 30


def _bullet_text(line: str) -> str:
    return "• " + _BULLET.sub("", line) if _BULLET.match(line) else line


def uses_blank_lines(text: str) -> bool:
    """Does the text separate paragraphs with blank lines (vs one paragraph per line)?

    Judged on prose lines only (8+ words): short widget lines and list items say nothing.
    """
    lines = text.split("\n")
    followed_by_blank = followed_by_text = 0
    for i, line in enumerate(lines[:-1]):
        if len(line.split()) >= 8 and not _BULLET.match(line):
            if lines[i + 1]:
                followed_by_text += 1
            else:
                followed_by_blank += 1
    return followed_by_blank >= followed_by_text


# Words a wrapped line can end on only in mid-sentence.
_JOINERS = frozenset("a an the and or but nor of to in on at by for from with as that which who whose than into "
                     "onto over under between about its their his her our".split())
_ENDED = re.compile(r"[.!?:;\"\u201d\u2019)\]]$")


def _rejoin_wrapped(lines: list[str]) -> list[str]:
    """Hard-wrapped text (PDF extractions, wire copy wrapped at a fixed column) arrives with no blank lines
    and one row per printed line, so "one paragraph per line" would cut sentences in pieces. A line that
    reaches the wrap column without ending a sentence continues on the next line when that line goes on
    in lower case (or the first ends on "and", "of", "the", ...). Text whose lines are paragraphs (they
    end sentences, or are far shorter than the widest lines) is left as it is."""
    prose = sorted(len(x) for x in lines if len(x.split()) >= 5)
    if len(prose) < 5:
        return lines
    width = prose[int(0.9 * (len(prose) - 1))]  # the wrap column, robust to a few long lines
    out: list[str] = []
    last = ""  # the previous physical line
    for line in lines:
        if out and not _BULLET.match(line) and not out[-1].startswith("\u2022 ") and \
                len(last) >= 0.75 * width and not _ENDED.search(last.rstrip()):
            first = line.lstrip()[:1]
            word = last.rsplit(None, 1)[-1].lower() if last.split() else ""
            if first.islower() or first.isdigit() or first in "($\u20ac\u00a3" or word in _JOINERS or \
                    last.rstrip().endswith((",", "-")):
                out[-1] += " " + line.strip()
                last = line
                continue
        out.append(line)
        last = line
    return out


def units(text: str, blank_lines: bool | None = None) -> list[str]:
    """Paragraph-sized pieces in order: prose paragraphs, headings and single list items."""
    if blank_lines is None:
        blank_lines = uses_blank_lines(text)
    out: list[str] = []
    if not blank_lines:
        return [_bullet_text(line) for line in _rejoin_wrapped([x for x in text.split("\n") if x])]
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.split("\n") if line]
        if lines and len(lines) > 1 and _is_heading(lines[0]):
            out.append(lines.pop(0))  # "Heading" directly above its text, no blank line between
        prose: list[str] = []
        in_list = False
        for line in lines:
            if _BULLET.match(line):
                if prose:
                    out.append(" ".join(prose))
                    prose = []
                out.append(_bullet_text(line))
                in_list = True
            elif in_list and not prose:
                out[-1] += " " + line  # a bullet item wrapped onto the next line
            else:
                prose.append(line)  # hard-wrapped lines of one paragraph
        if prose:
            out.append(" ".join(prose))
    return out


@dataclass(frozen=True)
class Segment:
    text: str  # exact paragraph text (heading / lead-in lines kept as its first line)
    context: str | None = None  # the section heading this paragraph sits under


def split_title(pieces: list[str]) -> tuple[str | None, list[str]]:
    """The first piece is the headline when it is a single short line; it becomes metadata."""
    if pieces and "\n" not in pieces[0] and len(pieces[0].split()) <= 30 and not pieces[0].startswith("• "):
        return pieces[0], pieces[1:]
    return None, pieces


def group(pieces: list[str]) -> list[Segment]:
    """Attach headings and lead-ins to the text after them and bullets to each other.

    A heading is merged into the paragraph that follows it ("At a Glance\\n• …\\n• …") and is also kept
    as ``context`` for every later paragraph of its section; a lead-in ending in ':' is merged into the
    next paragraph only. A heading with nothing after it stays as a paragraph (no text is lost).
    """
    segments: list[Segment] = []
    pending: list[str] = []  # headings / lead-ins waiting for their text
    context: str | None = None
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if _is_heading(piece):
            pending.append(piece)
            context = piece
            i += 1
            continue
        if _is_lead_in(piece) and i + 1 < len(pieces):
            pending.append(piece)
            i += 1
            continue
        body = [piece]
        i += 1
        if piece.startswith("• ") or (pending and pending[-1].endswith(":")) or _is_lead_in(piece):
            # a list: consecutive items form one paragraph with whatever introduced them
            while i < len(pieces) and pieces[i].startswith("• "):
                body.append(pieces[i])
                i += 1
        segments.append(Segment("\n".join(pending + body), context))
        pending = []
    if pending:
        segments.append(Segment("\n".join(pending), context))
    return segments
