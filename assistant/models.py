"""Typed, frozen records that cross module boundaries."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

UNKNOWN_OUTLET = "unknown"


@dataclass(frozen=True)
class DocumentMeta:
    """What is known of one article. Unknown fields stay None: never invented."""

    # The article's identity: its path relative to the folder it was ingested from ("x.txt", "a/x.txt");
    # indexes built before subfolders counted keep their file-name ids.
    source: str
    title: str
    outlet: str = UNKNOWN_OUTLET
    author: str | None = None
    date: str | None = None  # ISO date "YYYY-MM-DD" when known
    url: str | None = None
    agency: str | None = None  # wire agency for carried copy, e.g. "Reuters"


@dataclass(frozen=True)
class Paragraph:
    """One citable unit: paragraph `number` (1..n in the cleaned article); `part` > 1 only when a
    paragraph longer than the token budget was split at sentence boundaries."""

    number: int
    text: str
    tokens: int
    part: int = 1
    context: str | None = None  # heading / list lead-in this paragraph belongs to


@dataclass(frozen=True)
class Article:
    meta: DocumentMeta
    paragraphs: tuple[Paragraph, ...]
    content_hash: str  # sha256 of the raw file bytes
    path: str  # absolute path it was read from
    warnings: tuple[str, ...] = ()  # what was dropped while reading it (a bad manifest value, a date)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class IngestReport:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    paragraphs: int = 0  # paragraphs written in this call
    # Files indexed with something left out (a manifest value of the wrong type, an unreadable date).
    warnings: tuple[SkippedFile, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.skipped


@dataclass(frozen=True)
class Passage:
    """A retrieved paragraph with everything needed to cite it."""

    id: str
    source: str
    outlet: str
    title: str
    paragraph: int
    text: str
    score: float = 0.0
    part: int = 1
    tokens: int = 0
    date: str | None = None
    url: str | None = None
    author: str | None = None
    agency: str | None = None
    # Near-duplicate copies of this paragraph carried by other articles/outlets (wire copy).
    also_in: tuple["Passage", ...] = ()

    @property
    def outlets(self) -> tuple[str, ...]:
        seen: list[str] = []
        for o in (self.outlet, *(p.outlet for p in self.also_in)):
            if o not in seen:
                seen.append(o)
        return tuple(seen)

    @property
    def label(self) -> str:
        """Human label: "Daily Express, '5 times Trump…', ¶3"."""
        return f"{self.outlet}, \u201c{self.title}\u201d, \u00b6{self.paragraph}"


@dataclass(frozen=True)
class Citation:
    """A numbered citation as it appears in an answer: [number] -> one paragraph."""

    number: int
    passage: Passage
    quote: str = ""  # the exact sentence(s) of the paragraph that back the cited claim

    outlet = property(lambda self: self.passage.outlet)
    title = property(lambda self: self.passage.title)
    paragraph = property(lambda self: self.passage.paragraph)
    source = property(lambda self: self.passage.source)
    text = property(lambda self: self.passage.text)
    url = property(lambda self: self.passage.url)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # sentences each ending in [n] markers; or the abstention message
    citations: tuple[Citation, ...] = ()
    answered: bool = True  # False: the corpus has no answer (see `related`)
    related: tuple[Passage, ...] = ()  # "possibly related" paragraphs shown when abstaining
    engine: Literal["extractive", "llm"] = "extractive"
    standalone_question: str | None = None  # the rewritten follow-up, in a chat
    dropped: tuple[str, ...] = ()  # sentences removed by the citation check
    note: str | None = None  # what the user should know about how this answer was made (e.g. a fallback)
    # What the user should know about what was searched: an empty index, undated articles a date filter left out.
    notices: tuple[str, ...] = ()


Stance = Literal["supports", "contradicts", "not_mentioned"]


@dataclass(frozen=True)
class SourceVerdict:
    source: str
    outlet: str
    title: str
    stance: Stance
    confidence: float
    evidence: tuple[Citation, ...] = ()
    part: str | None = None  # the claim part this verdict is about (compound claims)
    reason: str = ""


@dataclass(frozen=True)
class ClaimCheck:
    claim: str
    parts: tuple[str, ...]
    verdicts: tuple[SourceVerdict, ...]  # strongest evidence first
    summary: str
    part_verdicts: tuple[tuple[str, tuple[SourceVerdict, ...]], ...] = field(default=())


@dataclass(frozen=True)
class SourceInfo:
    """One indexed article, as `assistant sources` lists it."""

    source: str
    outlet: str
    title: str
    paragraphs: int
    tokens: int
    date: str | None = None
    url: str | None = None
    author: str | None = None
    agency: str | None = None
