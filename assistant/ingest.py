"""Files -> Articles: discovery, decoding, metadata and numbered paragraphs.

Decisions a user can see:
- The headline (first short line of the cleaned text, or the <title> / front-matter / manifest title)
  is metadata, not paragraph 1. Paragraphs are numbered 1..n in the cleaned article.
- A heading is not a paragraph of its own: it becomes the first line of the paragraph under it and the
  ``context`` of every paragraph of its section; a list with its heading is one paragraph.
- A paragraph over ``settings.max_paragraph_tokens`` is split at sentence ends into parts 1, 2, … that
  share its number (a single over-long sentence is kept whole rather than cut mid-sentence).
- Metadata precedence: ``manifest.json`` beside the file > front matter / HTML meta tags > what the
  text itself shows (outlet only when unambiguous, else ``UNKNOWN_OUTLET``). Nothing is invented.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from assistant import clean
from assistant.config import Settings, configure_offline_runtime
from assistant.errors import IngestError
from assistant.models import UNKNOWN_OUTLET, Article, DocumentMeta, Paragraph, SkippedFile

log = logging.getLogger(__name__)

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm"}
MANIFEST = "manifest.json"
META_FIELDS = ("outlet", "title", "author", "date", "url", "agency")
# Files a documents folder may hold that are not articles (still loadable when named explicitly).
_NOT_ARTICLES = {MANIFEST, "readme.md", "readme.txt", "readme"}


# --------------------------------------------------------------------------- tokens

@lru_cache(maxsize=1)
def _encoding():
    configure_offline_runtime()  # tiktoken must find LlamaIndex's bundled cl100k file, not download it
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


# --------------------------------------------------------------------------- discovery

def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Expand folders (recursively, sorted) into supported files; explain every named file left out."""
    found: list[Path] = []
    skipped: list[SkippedFile] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append(p)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if not f.is_file() or any(part.startswith(".") for part in rel) or f.name.lower() in _NOT_ARTICLES:
                    continue
                if f.suffix.lower() in SUPPORTED:
                    add(f)
                else:
                    skipped.append(SkippedFile(str(f), _unsupported(f)))
        elif not p.exists():
            skipped.append(SkippedFile(str(p), "file not found"))
        elif not p.is_file():
            skipped.append(SkippedFile(str(p), "not a regular file"))
        elif p.suffix.lower() not in SUPPORTED:
            skipped.append(SkippedFile(str(p), _unsupported(p)))
        else:
            add(p)
    return found, skipped


def _unsupported(p: Path) -> str:
    kind = f"'{p.suffix}'" if p.suffix else "without an extension"
    return f"unsupported file type {kind} (supported: {', '.join(sorted(SUPPORTED))})"


# --------------------------------------------------------------------------- reading and decoding

def _read(path: Path, settings: Settings) -> bytes:
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise IngestError(str(path), f"file too large ({size} bytes > limit {settings.max_file_bytes})")
        return path.read_bytes()
    except FileNotFoundError:
        raise IngestError(str(path), "file not found") from None
    except PermissionError:
        raise IngestError(str(path), "cannot read file: permission denied") from None
    except IsADirectoryError:
        raise IngestError(str(path), "not a regular file") from None
    except OSError as e:
        raise IngestError(str(path), f"cannot read file: {e.strerror or e}") from None


def decode(raw: bytes, path: str = "") -> tuple[str, str]:
    """Bytes -> (text, encoding). UTF-8 (BOM or not), then cp1252, then latin-1; binary is refused."""
    if not raw.strip():
        raise IngestError(path, "empty file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = raw.decode("utf-16", errors="replace"), "utf-16"
    elif b"\x00" in raw:
        raise IngestError(path, "binary file")
    else:
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    # Control characters or replacement marks in more than 2% of the text: not readable text.
    bad = sum(1 for ch in text if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f"))
    if bad > max(2, 0.02 * len(text)):
        raise IngestError(path, "binary file")
    if not text.strip():
        raise IngestError(path, "empty file")
    if encoding not in ("utf-8-sig",):
        log.info("%s: not UTF-8, decoded as %s", path, encoding)
    return text, encoding


# --------------------------------------------------------------------------- metadata sources

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_ALIASES = {"publisher": "outlet", "site": "outlet", "site_name": "outlet", "source": "outlet",
            "headline": "title", "by": "author", "byline": "author", "published": "date",
            "published_time": "date", "link": "url", "wire": "agency"}


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """'---\\nkey: value\\n---' at the top -> ({key: value}, rest). Anything else is left as text."""
    m = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not m:
        return {}, text
    meta: dict[str, str] = {}
    for line in m.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z_][\w-]*", key.strip()):
            return {}, text  # not front matter after all (e.g. an article starting with a rule)
        key = key.strip().lower().replace("-", "_")
        value = value.strip().strip("\"'").strip()
        if value:
            meta[_ALIASES.get(key, key)] = value
    return meta, text[m.end():]


@lru_cache(maxsize=64)
def _manifest_cached(path: str, mtime_ns: int) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    if not isinstance(data, dict):
        raise ValueError("expected an object keyed by file name")
    return data


def manifest_entry(path: Path) -> dict[str, str]:
    """The file's entry in ``manifest.json`` beside it (empty when there is none)."""
    mpath = path.parent / MANIFEST
    try:
        data = _manifest_cached(str(mpath), mpath.stat().st_mtime_ns)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        raise IngestError(str(path), f"invalid {MANIFEST} in {path.parent}: {e}") from None
    entry = data.get(path.name) or {}
    if not isinstance(entry, dict):
        raise IngestError(str(path), f"invalid {MANIFEST} in {path.parent}: entry for {path.name} is not an object")
    return {k: str(v).strip() for k, v in entry.items() if k in META_FIELDS and v not in (None, "")}


def normalize_date(value: str | None, path: str = "") -> str | None:
    """ISO dates only ('2025-08-15', or a full ISO timestamp -> its date; 'YYYY-MM' kept as is)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}", value):
        return value
    try:
        return date.fromisoformat(value[:10]).isoformat() if len(value) <= 10 else \
            datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise IngestError(path, f"date {value!r} is not an ISO date (YYYY-MM-DD)") from None


# --------------------------------------------------------------------------- formats -> plain text

@dataclass
class _Extracted:
    text: str  # plain text, paragraph structure kept
    meta: dict[str, str]  # front matter / page metadata
    blank_lines: bool | None  # paragraph separator, None = detect from the text


def _from_html(html: str) -> _Extracted:
    import trafilatura

    kwargs = dict(with_metadata=True, include_comments=False, include_tables=True, include_images=False,
                  include_formatting=False, include_links=False,
                  # only dates the page states (meta tags, <time>), no guessing from the page's text
                  date_extraction_params={"extensive_search": False, "original_date": True})
    doc = trafilatura.bare_extraction(html, **kwargs)
    if doc is None or not (doc.text or "").strip():
        doc = trafilatura.bare_extraction(html, favor_recall=True, **kwargs)
    meta = {}
    if doc is not None:
        for key, attr in (("title", "title"), ("author", "author"), ("date", "date"), ("url", "url"),
                          ("outlet", "sitename")):
            value = getattr(doc, attr, None)
            if value:
                meta[key] = str(value).strip()
    # trafilatura writes one block element (p, h2, li…) per line, lists as "- item".
    return _Extracted((doc.text if doc is not None else "") or "", meta, blank_lines=False)


def _from_markdown(text: str) -> _Extracted:
    """Markdown -> plain blocks: markup dropped ('#', emphasis, links -> their text, images dropped)."""
    from markdown_it import MarkdownIt

    meta, body = split_front_matter(text)
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    blocks: list[str] = []
    list_depth = 0
    items: list[str] = []

    def inline(tok) -> str:
        parts = []
        for child in tok.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        return re.sub(r" {2,}", " ", "".join(parts)).strip()

    for i, tok in enumerate(tokens):
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0 and items:
                blocks.append("\n".join(items))
                items = []
        elif tok.type == "inline":
            content = inline(tok)
            if not content:
                continue
            if list_depth:
                items.append(("• " if tokens[i - 1].type == "paragraph_open" and tokens[i - 2].type == "list_item_open"
                              else "") + content)
            else:
                blocks.append(content)
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            blocks.append(tok.content.strip())
    return _Extracted("\n\n".join(blocks), meta, blank_lines=True)


def _from_text(text: str) -> _Extracted:
    meta, body = split_front_matter(text)
    return _Extracted(body, meta, blank_lines=None)


def extract(text: str, suffix: str) -> _Extracted:
    suffix = suffix.lower()
    if suffix in (".html", ".htm"):
        return _from_html(text)
    if suffix in (".md", ".markdown"):
        return _from_markdown(text)
    return _from_text(text)


# --------------------------------------------------------------------------- long paragraphs

_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|Gen|Lt|Col|Sgt|Capt|Sen|Rep|Gov|Pres|Rev|Hon|No|vs|etc|"
                     r"approx|Inc|Ltd|Co|Corp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|e\.g|i\.e)"
                     r"|\b(?:[A-Za-z]\.)+[A-Za-z]|\b[A-Z])$")
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9•])|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence (and each line) in ``text``; abbreviations like 'Mr.' or 'U.S.' don't end one."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.group() != "\n" and _ABBREV.search(text[start:m.start()]):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def split_long(text: str, max_tokens: int) -> list[str]:
    """Pack whole sentences into parts of at most ``max_tokens``; the text of every part is exact."""
    if count_tokens(text) <= max_tokens:
        return [text]
    parts: list[str] = []
    cur_start = cur_end = None
    for s, e in sentence_spans(text):
        if cur_start is None:
            cur_start, cur_end = s, e
        elif count_tokens(text[cur_start:e]) <= max_tokens:
            cur_end = e
        else:
            parts.append(text[cur_start:cur_end].strip())
            cur_start, cur_end = s, e
    if cur_start is not None:
        parts.append(text[cur_start:cur_end].strip())
    return [p for p in parts if p]


# --------------------------------------------------------------------------- articles

def _same(a: str, b: str) -> bool:
    norm = lambda s: re.sub(r"\W+", " ", s).strip().casefold()  # noqa: E731
    return norm(a) == norm(b)


def _fallback_title(first: str) -> str:
    words = first.split()
    return first if len(words) <= 12 else " ".join(words[:12]) + "…"


def build_article(text: str, path: Path, settings: Settings, content_hash: str = "") -> Article:
    """Decoded text of ``path`` -> Article (metadata resolved, paragraphs numbered and split)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    extracted = extract(text, path.suffix)
    cleaned = clean.strip_boilerplate(extracted.text)
    pieces = clean.units(cleaned.text, extracted.blank_lines)

    manifest = manifest_entry(path)
    given = {**extracted.meta, **manifest}  # manifest wins over front matter / page metadata
    if given.get("title") and pieces and _same(pieces[0], given["title"]):
        title, pieces = given["title"], pieces[1:]
    elif given.get("title"):
        title = given["title"]
    else:
        headline, pieces = clean.split_title(pieces)
        title = headline or (_fallback_title(pieces[0]) if pieces else path.stem)

    segments = clean.group(pieces)
    if not segments:
        raise IngestError(str(path), "no article text")

    paragraphs: list[Paragraph] = []
    for number, seg in enumerate(segments, start=1):
        for part, chunk in enumerate(split_long(seg.text, settings.max_paragraph_tokens), start=1):
            paragraphs.append(Paragraph(number=number, text=chunk, tokens=count_tokens(chunk), part=part,
                                        context=seg.context))

    meta = DocumentMeta(
        source=path.name,
        title=title,
        outlet=given.get("outlet") or clean.detect_outlet(text) or UNKNOWN_OUTLET,
        author=given.get("author"),
        date=normalize_date(given.get("date"), str(path)),
        url=given.get("url"),
        agency=given.get("agency") or cleaned.agency,
    )
    return Article(meta=meta, paragraphs=tuple(paragraphs), content_hash=content_hash, path=str(path.resolve()))


def load_article(path: Path, settings: Settings) -> Article:
    """Read, decode and parse one file. Raises IngestError(path, reason) for anything unusable."""
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED:
        raise IngestError(str(path), _unsupported(path))
    raw = _read(path, settings)
    text, _ = decode(raw, str(path))
    return build_article(text, path, settings, hashlib.sha256(raw).hexdigest())


def load_articles(paths: Iterable[str | Path], settings: Settings) -> tuple[list[Article], list[SkippedFile]]:
    """Discover and load every file; a bad file is reported in the skipped list, never fatal."""
    files, skipped = discover(paths)
    articles: list[Article] = []
    by_hash: dict[str, str] = {}
    for path in files:
        try:
            article = load_article(path, settings)
        except IngestError as e:
            skipped.append(SkippedFile(str(path), e.reason))
            continue
        except Exception as e:  # a parser bug on one odd file must not stop the batch
            log.exception("unexpected error reading %s", path)
            skipped.append(SkippedFile(str(path), f"unexpected error: {type(e).__name__}: {e}"))
            continue
        if article.content_hash in by_hash:
            skipped.append(SkippedFile(str(path), f"duplicate of {by_hash[article.content_hash]}"))
            continue
        by_hash[article.content_hash] = path.name
        articles.append(article)
    return articles, skipped
