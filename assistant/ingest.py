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

import codecs
import errno
import hashlib
import json
import os
import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from assistant import clean
from assistant.config import Settings, configure_offline_runtime
from assistant.errors import IngestError
from assistant.models import UNKNOWN_OUTLET, Article, DocumentMeta, Paragraph, SkippedFile
from assistant.text.language import SWITCH as ENGLISH_ONLY
from assistant.text.language import not_english

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

# Symbolic links: followed only when they resolve inside the folder being ingested (the documents folder
# for its files; the named folder; a named file's own folder). A link out of it (``passwd.txt ->
# /etc/passwd``), a loop and a dangling link are skipped, each with its reason.
LINK_OUTSIDE = "symbolic link to {target}, outside the ingested folder {root} (not followed)"
LINK_LOOP = "symbolic link loop (not followed)"
LINK_BROKEN = "broken symbolic link (its target does not exist)"


def _inside(path: str | Path, root: str | Path) -> bool:
    return Path(path).is_relative_to(root)


def root_for(path: str | Path, documents_dir: str | Path | None = None) -> Path:
    """The folder a file is ingested from: it names the article (path relative to it) and bounds the links
    it may follow. Anything under the documents folder belongs to that folder, however it is named."""
    p = Path(os.path.abspath(path))
    if documents_dir is not None:
        docs = Path(os.path.abspath(documents_dir))
        if _inside(p, docs):
            return docs
    return p if p.is_dir() and not p.is_symlink() else p.parent


def source_name(path: str | Path, root: str | Path) -> str:
    """An article's identity: its path relative to the folder it was ingested from ('a/x.txt'), so two
    files called x.txt in different subfolders are two articles. A file at the top is just its name."""
    p, r = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return p.relative_to(r).as_posix() if _inside(p, r) and p != r else p.name


def link_problem(path: str | Path, root: str | Path) -> str | None:
    """Why `path` may not be read under the symlink policy, or None. Checks every link on the way."""
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return LINK_LOOP
        if os.path.islink(path):
            return LINK_BROKEN
        return None  # missing or unreadable: reported by the reader with its own reason
    target, real_root = os.path.realpath(path), os.path.realpath(root)
    if not _inside(target, real_root):
        return LINK_OUTSIDE.format(target=target, root=root)
    return None


def discover_with_roots(paths: Iterable[str | Path], documents_dir: str | Path | None = None
                        ) -> tuple[list[tuple[Path, Path]], list[SkippedFile]]:
    """Like `discover`, with the folder each file is ingested from (see `root_for`)."""
    found: list[tuple[Path, Path]] = []
    skipped: list[SkippedFile] = []
    seen: set[str] = set()

    def add(p: Path, root: Path) -> None:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            found.append((p, root))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            root = root_for(p, documents_dir)
            if p.is_symlink() and (why := link_problem(p, root)):
                skipped.append(SkippedFile(str(p), why))
                continue
            files, bad = _walk(p)
            skipped += bad
            for f in files:
                add(f, root)
            continue
        root = root_for(p, documents_dir)
        why = link_problem(p, root)
        if why:
            skipped.append(SkippedFile(str(p), why))
        elif not p.exists():
            skipped.append(SkippedFile(str(p), "file not found"))
        elif not p.is_file():
            skipped.append(SkippedFile(str(p), "not a regular file"))
        elif p.suffix.lower() not in SUPPORTED:
            skipped.append(SkippedFile(str(p), _unsupported(p)))
        else:
            add(p, root)
    return found, skipped


def discover(paths: Iterable[str | Path], documents_dir: str | Path | None = None
             ) -> tuple[list[Path], list[SkippedFile]]:
    """Expand folders (recursively, sorted) into supported files; explain every named file left out."""
    found, skipped = discover_with_roots(paths, documents_dir)
    return [f for f, _ in found], skipped


def _walk(top: Path) -> tuple[list[Path], list[SkippedFile]]:
    """Supported files under `top`, sorted; hidden names, manifest and README left out silently; links
    outside `top`, loops, dangling links and special files (FIFOs: reading one would hang) skipped."""
    real_top = os.path.realpath(top)
    files: list[Path] = []
    skipped: list[SkippedFile] = []

    def visit(folder: Path, ancestors: frozenset[str]) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError as e:
            skipped.append(SkippedFile(str(folder), f"cannot read folder: {e.strerror or e}"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            f = folder / entry.name
            if entry.is_symlink():
                why = link_problem(f, top)
                real = os.path.realpath(f)
                if why is None and os.path.isdir(f) and real in ancestors:
                    why = LINK_LOOP
                if why:
                    skipped.append(SkippedFile(str(f), why))
                    continue
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                visit(f, ancestors | {os.path.realpath(f)})
            elif entry.name.lower() in _NOT_ARTICLES:
                continue
            elif not is_file:
                if f.suffix.lower() in SUPPORTED:
                    skipped.append(SkippedFile(str(f), "not a regular file"))
            elif f.suffix.lower() in SUPPORTED:
                files.append(f)
            else:
                skipped.append(SkippedFile(str(f), _unsupported(f)))

    visit(top, frozenset({real_top}))
    # A link to a file that is also here under its own name is the same article: keep the real name.
    real = {os.path.realpath(f) for f in files if not f.is_symlink()}
    files = sorted(f for f in files if not (f.is_symlink() and os.path.realpath(f) in real))
    skipped.sort(key=lambda s: s.path)
    return files, skipped


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


def _legacy(chunk: bytes) -> str:
    """Bytes that are not UTF-8, read as Windows-1252 (what pasted Word/Windows text is); its five
    unassigned bytes as Latin-1 (then dropped as control characters by the cleaner)."""
    return "".join(chunk[i:i + 1].decode("cp1252", errors="strict") if chunk[i] not in b"\x81\x8d\x8f\x90\x9d"
                   else chunk[i:i + 1].decode("latin-1") for i in range(len(chunk)))


def _utf8_or_cp1252(err: UnicodeDecodeError) -> tuple[str, int]:
    return _legacy(err.object[err.start:err.end]), err.end


codecs.register_error("newsdesk-cp1252", _utf8_or_cp1252)


def decode_mixed(raw: bytes) -> str:
    """UTF-8 wherever the bytes are valid UTF-8, Windows-1252 for each stretch that is not: a UTF-8 file
    with a pasted cp1252 paragraph keeps both 'café's (no 'cafÃ©'), and an all-cp1252 file reads as cp1252."""
    return raw.decode("utf-8", errors="newsdesk-cp1252")


def decode(raw: bytes, path: str = "") -> tuple[str, str]:
    """Bytes -> (text, encoding). UTF-8 (BOM or not); UTF-16/32 with a BOM; otherwise UTF-8 where valid
    and cp1252 where not, stretch by stretch (``decode_mixed``); binary is refused."""
    if not raw.strip():
        raise IngestError(path, "empty file")
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        text, encoding = raw.decode("utf-32", errors="replace"), "utf-32"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = raw.decode("utf-16", errors="replace"), "utf-16"
    elif b"\x00" in raw:
        raise IngestError(path, "binary file")
    else:
        body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
        try:
            text, encoding = body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text = decode_mixed(body)
            encoding = "cp1252" if _is_ascii_plus_legacy(body) else "utf-8+cp1252"
    # Control characters or replacement marks in more than 2% of the text: not readable text.
    bad = len(_UNREADABLE.findall(text))
    if bad > max(2, 0.02 * len(text)):
        raise IngestError(path, "binary file")
    if not text.strip():
        raise IngestError(path, "empty file")
    if encoding != "utf-8":
        log.info("%s: not UTF-8, decoded as %s", path, encoding)
    return text, encoding


# Category Cc (U+0000-U+001F, U+007F-U+009F) but tab, newline, CR and form feed; and U+FFFD. One regex
# pass instead of a Python call per character (was ~20 % of reading a folder of news articles).
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")


def _is_ascii_plus_legacy(raw: bytes) -> bool:
    """No valid multi-byte UTF-8 sequence anywhere: the file is wholly in a legacy encoding."""
    return not re.search(rb"[\xc2-\xf4][\x80-\xbf]+", raw)


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


_JSON_TYPE = {dict: "an object", list: "a list", bool: "true/false", int: "a number", float: "a number",
              type(None): "null"}


def manifest_entry(path: Path, warnings: list[str] | None = None) -> dict[str, str]:
    """The file's entry in ``manifest.json`` beside it (empty when there is none).

    Never fatal: an unreadable manifest, an entry that is not an object or a value that is not text costs
    only that metadata, named in `warnings` (the article is still ingested from its own text)."""
    warnings = [] if warnings is None else warnings
    mpath = path.parent / MANIFEST
    try:
        data = _manifest_cached(str(mpath), mpath.stat().st_mtime_ns)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        warnings.append(f"invalid {MANIFEST} in {path.parent} ({e}): its metadata was not used; fix it and "
                        "run `assistant reindex`")
        return {}
    entry = data.get(path.name)
    if entry is None:
        return {}
    if not isinstance(entry, dict):
        warnings.append(f"{MANIFEST}: the entry for {path.name} should be an object of fields "
                        f"({', '.join(META_FIELDS)}), not {_JSON_TYPE.get(type(entry), 'text')}; it was not used")
        return {}
    out = {}
    for k, v in entry.items():
        if k not in META_FIELDS or v is None:
            continue
        if k == "date" and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # "date": 2025, a year written as a number
        if not isinstance(v, str):
            warnings.append(f"{MANIFEST}: {path.name}: {k!r} should be text, not {_JSON_TYPE.get(type(v), 'a value')}; "
                            "it was not used")
            continue
        if v.strip():
            out[k] = v.strip()
    return out


_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})")


def normalize_date(value: str | None, path: str = "", warnings: list[str] | None = None) -> str | None:
    """A stated date in ISO form: '2025-08-15'; 'YYYY-MM' or 'YYYY' when only that much is stated
    ('August 2025', '2025'). Written dates are read too ('August 15, 2025', '15 Aug 2025', RFC 2822).
    A date that cannot be read, or is ambiguous ('08/05/2025'), is dropped with a warning: never guessed,
    and never a reason to lose the article."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{4}(-\d{2})?", value):
        return value
    try:
        return date.fromisoformat(value[:10]).isoformat() if len(value) <= 10 else \
            datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    problem = None
    m = _NUMERIC_DATE.fullmatch(value)
    if m and int(m.group(1)) <= 12 and int(m.group(2)) <= 12 and m.group(1) != m.group(2):
        problem = "is ambiguous (day/month or month/day?); write it as YYYY-MM-DD"
    else:
        from dateutil import parser as dateparser

        try:
            # Parsed against two different defaults: a field that differs was not in the text.
            a = dateparser.parse(value, default=datetime(1, 1, 1))
            b = dateparser.parse(value, default=datetime(2, 2, 2))
        except (ValueError, OverflowError):
            problem = "is not a date this reads (use YYYY-MM-DD)"
        else:
            if a.year != b.year:
                problem = "has no year"
            elif a.month != b.month:
                return f"{a.year:04d}"
            elif a.day != b.day:
                return f"{a.year:04d}-{a.month:02d}"
            else:
                return a.date().isoformat()
    message = f"date {value!r} {problem}: the article is indexed without a date"
    if warnings is None:
        log.info("%s: %s", path, message)
    else:
        warnings.append(message)
    return None


# --------------------------------------------------------------------------- formats -> plain text

@dataclass
class _Extracted:
    text: str  # plain text, paragraph structure kept
    meta: dict[str, str]  # front matter / page metadata
    blank_lines: bool | None  # paragraph separator, None = detect from the text


_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dt", "dd",
           "figcaption")


def _parse_html(html: str):
    """An lxml tree as trafilatura builds it, but without libxml2's 256-level depth limit: a page nested
    deeper (wrappers of wrappers) would otherwise lose every paragraph after the deep part."""
    from lxml.html import HTMLParser, fromstring
    from trafilatura.utils import repair_faulty_html

    parser = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                        remove_pis=True, huge_tree=True)
    try:
        html = repair_faulty_html(html, html[:50].lower())
        return fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except Exception:  # noqa: BLE001 - lxml raises several types on hopeless markup
        return None


def _block_text(tree) -> str:
    """Last resort when trafilatura finds nothing: the text of each block element, one per line."""
    from lxml import etree

    for bad in tree.xpath("//script|//style|//noscript|//template|//nav|//footer|//header|//aside"):
        bad.drop_tree()
    lines = []
    for el in tree.iter(*_BLOCKS):
        if any(anc.tag in _BLOCKS for anc in el.iterancestors()):
            continue  # its text is in the enclosing block's line
        text = " ".join(etree.tostring(el, method="text", encoding="unicode").split())
        if text:
            lines.append(text)
    return "\n".join(lines)


def _from_html(html: str) -> _Extracted:
    import trafilatura

    kwargs = dict(with_metadata=True, include_comments=False, include_tables=True, include_images=False,
                  include_formatting=False, include_links=False,
                  # only dates the page states (meta tags, <time>), no guessing from the page's text
                  date_extraction_params={"extensive_search": False, "original_date": True})

    def attempt(**extra):
        tree = _parse_html(html)  # trafilatura edits the tree it is given: a fresh one per attempt
        try:
            return trafilatura.bare_extraction(tree if tree is not None else html, **kwargs, **extra)
        except RecursionError:  # pathologically deep markup
            return None

    doc = attempt()
    if doc is None or not (doc.text or "").strip():
        doc = attempt(favor_recall=True)
    meta = {}
    if doc is not None:
        for key, attr in (("title", "title"), ("author", "author"), ("date", "date"), ("url", "url"),
                          ("outlet", "sitename")):
            value = getattr(doc, attr, None)
            if value:
                meta[key] = str(value).strip()
    # trafilatura writes one block element (p, h2, li…) per line, lists as "- item".
    text = (doc.text if doc is not None else "") or ""
    if not text.strip():
        tree = _parse_html(html)
        text = _block_text(tree) if tree is not None else ""
    return _Extracted(text, meta, blank_lines=False)


def _html_fragment_blocks(fragment: str) -> list[str]:
    """Text of raw HTML inside Markdown (`<p>…</p>`, `<div>…</div>`), one string per block element."""
    from lxml import etree

    tree = _parse_html(f"<html><body><div>{fragment}</div></body></html>")
    if tree is None:
        return []
    blocks = []
    body = tree.find(".//body")
    root = body[0] if body is not None and len(body) else tree

    def walk(el) -> None:
        # A container (div, section…) yields its loose text and each child block separately.
        loose = (el.text or "").strip()
        if loose:
            blocks.append(" ".join(loose.split()))
        for child in el:
            if not isinstance(child.tag, str) or child.tag in ("script", "style", "template"):
                pass
            elif child.tag in _BLOCKS or not any(isinstance(c.tag, str) for c in child.iter() if c is not child):
                text = " ".join(etree.tostring(child, method="text", encoding="unicode", with_tail=False).split())
                if text:
                    blocks.append(text)
            else:
                walk(child)
            tail = (child.tail or "").strip()
            if tail:
                blocks.append(" ".join(tail.split()))

    walk(root)
    return blocks


def _from_markdown(text: str) -> _Extracted:
    """Markdown -> plain blocks: markup dropped ('#', emphasis, links -> their text, images dropped);
    raw HTML blocks (<p>, <div>) keep their text, one block per HTML paragraph."""
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
        elif tok.type == "html_block" and tok.content.strip():
            blocks.extend(_html_fragment_blocks(tok.content))
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


# Longest text before a full stop that `_ABBREV` can need to see ("approx", "e.g", "U.S.A").
_ABBREV_WINDOW = 12


class Deadline:
    """A per-file time budget, checked between steps and inside the loops over a file's text: a file that
    needs longer (a pathological upload) is skipped with its reason and the batch goes on."""

    def __init__(self, path: str, seconds: float | None):
        self.path, self.seconds = path, seconds
        self.until = None if not seconds or seconds <= 0 else time.monotonic() + seconds

    def check(self) -> None:
        if self.until is not None and time.monotonic() > self.until:
            raise IngestError(self.path, f"took longer than {self.seconds:g} s to read and split "
                              "(ASSISTANT_MAX_FILE_SECONDS); not indexed")


_NO_DEADLINE = Deadline("", None)


def sentence_spans(text: str, deadline: Deadline = _NO_DEADLINE) -> list[tuple[int, int]]:
    """(start, end) of each sentence (and each line) in ``text``; abbreviations like 'Mr.' or 'U.S.' don't end one.

    Linear: the abbreviation test looks only at the few characters before each full stop (it used to
    re-scan the whole sentence so far, quadratic on "A. B. C. …")."""
    spans, start = [], 0
    for n, m in enumerate(_SENTENCE_END.finditer(text)):
        if n % 1024 == 0:
            deadline.check()
        # pos/endpos (not a slice): `$` anchors at the full stop and `\b` still sees the real text before.
        if m.group() != "\n" and _ABBREV.search(text, max(start, m.start() - _ABBREV_WINDOW), m.start()):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _word_spans(text: str, s: int, e: int, max_tokens: int) -> list[tuple[int, int]]:
    """A run-on "sentence" far over the budget (no sentence end anywhere, e.g. a 100 KB list of initials)
    cut at spaces into pieces of about `max_tokens`: an oversized paragraph is unsearchable in practice."""
    out, start, budget = [], s, 0
    for m in re.finditer(r"\S+\s*", text[s:e]):
        budget += count_tokens(m.group())
        if budget > max_tokens and s + m.start() > start:
            out.append((start, s + m.start()))
            start, budget = s + m.start(), count_tokens(m.group())
    out.append((start, e))
    return out


def split_long(text: str, max_tokens: int, deadline: Deadline = _NO_DEADLINE) -> list[str]:
    """Pack whole sentences into parts of at most ``max_tokens``; the text of every part is exact.

    A sentence over the budget is kept whole, unless it is more than 4x over (no sentence end in
    sight): then it is cut at spaces. Linear in the text: each count covers at most one part."""
    if count_tokens(text) <= max_tokens:
        return [text]
    spans: list[tuple[int, int]] = []
    for s, e in sentence_spans(text, deadline):
        n = count_tokens(text[s:e])
        spans += _word_spans(text, s, e, max_tokens) if n > 4 * max_tokens else [(s, e)]
    parts: list[str] = []
    cur_start = cur_end = None
    for i, (s, e) in enumerate(spans):
        if i % 256 == 0:
            deadline.check()
        if cur_start is None:
            cur_start, cur_end = s, e
        elif count_tokens(text[cur_start:e]) <= max_tokens:  # bounded by one part: linear overall
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


def build_article(text: str, path: Path, settings: Settings, content_hash: str = "", *,
                  source: str | None = None, deadline: Deadline = _NO_DEADLINE) -> Article:
    """Decoded text of ``path`` -> Article (metadata resolved, paragraphs numbered and split).
    ``source``: the article's identity (default: the file name). Problems that cost only metadata
    (a bad manifest value, an unreadable date) are ``Article.warnings``, not errors."""
    warnings: list[str] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    extracted = extract(text, path.suffix)
    deadline.check()
    cleaned = clean.strip_boilerplate(extracted.text)
    pieces = clean.units(cleaned.text, extracted.blank_lines)
    deadline.check()

    manifest = manifest_entry(path, warnings)
    given = {**extracted.meta, **manifest}  # manifest wins over front matter / page metadata
    # A headline line becomes metadata only when text follows it: a one-sentence article is an article
    # (its sentence is both its title and its one paragraph), not "no article text".
    if given.get("title") and len(pieces) > 1 and _same(pieces[0], given["title"]):
        title, pieces = given["title"], pieces[1:]
    elif given.get("title"):
        title = given["title"]
    else:
        headline, rest = clean.split_title(pieces)
        if headline and rest:
            title, pieces = headline, rest
        else:
            title = _fallback_title(pieces[0]) if pieces else path.stem

    segments = clean.group(pieces)
    if not segments:
        raise IngestError(str(path), "no article text")

    paragraphs: list[Paragraph] = []
    for number, seg in enumerate(segments, start=1):
        deadline.check()
        for part, chunk in enumerate(split_long(seg.text, settings.max_paragraph_tokens, deadline), start=1):
            paragraphs.append(Paragraph(number=number, text=chunk, tokens=count_tokens(chunk), part=part,
                                        context=seg.context))

    meta = DocumentMeta(
        source=source or path.name,
        title=title,
        outlet=given.get("outlet") or clean.detect_outlet(text) or UNKNOWN_OUTLET,
        author=given.get("author"),
        date=normalize_date(given.get("date"), str(path), warnings),
        url=given.get("url"),
        agency=given.get("agency") or cleaned.agency,
    )
    lang = not_english(" ".join(p.text for p in paragraphs)[:4000])
    if lang:
        warnings.append(f"the text does not look like English ({lang}): " +
                        (ENGLISH_ONLY if settings.embed_model == "minilm-int8" else
                         "answers and claim checks read English only"))
    for w in warnings:
        log.info("%s: %s", path, w)  # the caller reports them (IngestReport.warnings); a library prints nothing
    return Article(meta=meta, paragraphs=tuple(paragraphs), content_hash=content_hash, path=str(path.resolve()),
                   warnings=tuple(warnings))


def load_article(path: Path, settings: Settings, root: Path | None = None) -> Article:
    """Read, decode and parse one file. Raises IngestError(path, reason) for anything unusable.
    ``root``: the folder it is ingested from (default: the documents folder when it is inside it, else
    its own folder); it names the article and bounds the symbolic links that are followed."""
    path = Path(path)
    root = Path(root) if root is not None else root_for(path, settings.documents_dir)
    if path.suffix.lower() not in SUPPORTED:
        raise IngestError(str(path), _unsupported(path))
    why = link_problem(path, root)  # checked again at read time: a link may have changed since discovery
    if why:
        raise IngestError(str(path), why)
    deadline = Deadline(str(path), settings.max_file_seconds)
    raw = _read(path, settings)
    text, _ = decode(raw, str(path))
    deadline.check()
    return build_article(text, path, settings, hashlib.sha256(raw).hexdigest(),
                         source=source_name(path, root), deadline=deadline)


def load_articles(paths: Iterable[str | Path], settings: Settings, progress: bool = False
                  ) -> tuple[list[Article], list[SkippedFile]]:
    """Discover and load every file; a bad file is reported in the skipped list, never fatal.
    `progress` shows a bar per file read (a 10,000-file folder takes about a minute to read and clean)."""
    from tqdm.auto import tqdm

    files, skipped = discover_with_roots(paths, settings.documents_dir)
    articles: list[Article] = []
    by_hash: dict[str, str] = {}
    for path, root in tqdm(files, desc="Reading files", unit="file", disable=not progress or len(files) < 2):
        try:
            article = load_article(path, settings, root)
        except IngestError as e:
            skipped.append(SkippedFile(str(path), e.reason))
            continue
        except RecursionError:
            skipped.append(SkippedFile(str(path), "markup nested too deeply to read"))
            continue
        except Exception as e:  # a parser bug on one odd file must not stop the batch
            log.exception("unexpected error reading %s", path)
            skipped.append(SkippedFile(str(path), f"unexpected error: {type(e).__name__}: {e}"))
            continue
        if article.content_hash in by_hash:
            skipped.append(SkippedFile(str(path), f"duplicate of {by_hash[article.content_hash]}"))
            continue
        by_hash[article.content_hash] = article.meta.source
        articles.append(article)
    return articles, skipped
