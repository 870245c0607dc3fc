"""The Chainlit chat UI: cited answers, one click from each source paragraph.

Run with ``make run`` (``chainlit run assistant/ui.py --headless``). One shared `Assistant` per process is
built in a background thread at import, so the page is up at once and the first question waits for the
index only if it is still being built. Blocking API calls run in worker threads; Chainlit handlers stay
async.

Everything taken from an article is shown as text: every ASCII punctuation mark is backslash-escaped
before Chainlit renders it (streamed chunks too), ``unsafe_allow_html`` stays false in
``.chainlit/config.toml`` and user messages are not rendered as Markdown. Nothing on the page is fetched
from outside the machine: Chainlit's CDN fonts and KaTeX stylesheet are dropped from its page (see
`_offline_page`). ``public/newsdesk.js`` keeps the source panel closed until a citation marker is clicked.
"""
from __future__ import annotations

import asyncio
import getpass
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import sys
import time
from collections import OrderedDict
from dataclasses import replace
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

# `chainlit run assistant/ui.py` puts assistant/ (not the project root) on sys.path.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import chainlit as cl  # noqa: E402
from chainlit.config import ChainlitConfig, config as cl_config  # noqa: E402
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer  # noqa: E402
from chainlit.data.storage_clients.base import BaseStorageClient  # noqa: E402
from chainlit.input_widget import DatePicker, MultiSelect, Select, Slider  # noqa: E402

from assistant.config import configure_offline_runtime, get_settings  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.feedback import database_url, plain_text  # noqa: E402
from assistant.models import UNKNOWN_OUTLET, Answer, Citation, ClaimCheck, Passage  # noqa: E402

log = logging.getLogger("assistant.ui")


class _NoTranslationNotice(logging.Filter):
    """Chainlit warns on every page load that there is no chainlit_<language>.md; chainlit.md serves every
    language here on purpose, so the warning is noise in the server log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Translated markdown file for ")


logging.getLogger("chainlit").addFilter(_NoTranslationNotice())
configure_offline_runtime()
SETTINGS = get_settings()
UPLOAD_TYPES = {".txt", ".md", ".markdown", ".html", ".htm"}
# Plain words: emoji glyphs are missing from many newsroom desktops (and headless Chromium).
STANCE_LABEL = {"supports": "**supports**", "contradicts": "**contradicts**", "not_mentioned": "not mentioned"}

# ---------------------------------------------------------------- the shared Assistant
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="assistant-startup")
_assistant_future: Future | None = None


def _build_assistant():
    from assistant.api import Assistant

    return Assistant().warm()


def _start_build() -> Future:
    global _assistant_future
    if _assistant_future is None:
        _assistant_future = _pool.submit(_build_assistant)
    return _assistant_future


async def get_assistant():
    return await asyncio.wrap_future(_start_build())


# Under `chainlit run` the index is built at once, so the page is up while it builds; a plain import (the
# unit tests of the rendering helpers) builds nothing.
if cl_config.run.module_name:
    _start_build()


# ---------------------------------------------------------------- who is chatting
# Chainlit keeps a conversation history only for a signed-in user. Three ways in, first match wins:
# ASSISTANT_AUTH_PASSWORD (any user name + the shared password: each name has its own history),
# ASSISTANT_AUTH_HEADER (a proxy's user header), or, when the server listens on this machine only, the local
# user signed in without a form (one person's own laptop: `make run`, chats there after a reload or restart).
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def local_user_name() -> str:
    try:
        return getpass.getuser() or "newsdesk"
    except Exception:  # no login name (some containers)
        return "newsdesk"


def auth_mode(settings=SETTINGS, host: str | None = None) -> str | None:
    """'password', 'header', 'local' or None (nobody signed in: answers and ratings, no history)."""
    if settings.auth_password:
        return "password"
    if settings.auth_header:
        return "header"
    host = host if host is not None else os.environ.get("CHAINLIT_HOST", "127.0.0.1")
    return "local" if host in _LOOPBACK else None


AUTH_MODE = auth_mode()
if AUTH_MODE:
    # Chainlit signs its session tokens with this secret; a per-process one means a restart logs users out
    # (the local user is signed in again without noticing).
    os.environ.setdefault("CHAINLIT_AUTH_SECRET", secrets.token_urlsafe(48))
elif cl_config.run.module_name:
    log.warning("Listening beyond this machine with no sign-in: conversations are not kept. Set "
                "ASSISTANT_AUTH_PASSWORD (or ASSISTANT_AUTH_HEADER behind an authenticating proxy).")

if AUTH_MODE == "password":
    @cl.password_auth_callback
    async def _password_auth(username: str, password: str):
        if username.strip() and hmac.compare_digest(password.encode(), SETTINGS.auth_password.encode()):
            return cl.User(identifier=username.strip(), metadata={"provider": "password"})
        return None

elif AUTH_MODE == "header":
    @cl.header_auth_callback
    async def _header_auth(headers):
        user = (headers.get(SETTINGS.auth_header) or "").strip()
        return cl.User(identifier=user, metadata={"provider": "header"}) if user else None

elif AUTH_MODE == "local":
    @cl.header_auth_callback
    async def _local_auth(headers):
        # Chainlit's page asks /auth/header by itself: no sign-in form for the only user of this machine.
        return cl.User(identifier=local_user_name(), metadata={"provider": "local"})


# ---------------------------------------------------------------- conversations, citations, ratings
def chat_files_dir(settings=SETTINGS) -> Path:
    return Path(settings.chat_files_dir or Path(settings.index_dir) / "chat_files")


# The tables Chainlit 2.12's SQLAlchemyDataLayer reads and writes (chainlit/data/sql_alchemy.py: it inserts
# every non-empty key of a step, element or feedback dict as a column, e.g. a step's "autoCollapse" and
# "modes", which its documented PostgreSQL schema lacks). Chainlit creates none of them. Types per dialect:
# SQLite stores JSON and lists as text; PostgreSQL gets the documented UUID/JSONB/TEXT[] types.
_CHAT_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    "id" {uuid} PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE, "metadata" {json} NOT NULL, "createdAt" TEXT);
CREATE TABLE IF NOT EXISTS threads (
    "id" {uuid} PRIMARY KEY, "createdAt" TEXT, "name" TEXT, "userId" {uuid}, "userIdentifier" TEXT,
    "tags" {array}, "metadata" {json}, FOREIGN KEY ("userId") REFERENCES users("id") ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS steps (
    "id" {uuid} PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL, "threadId" {uuid} NOT NULL,
    "parentId" {uuid}, "streaming" BOOLEAN NOT NULL, "waitForAnswer" BOOLEAN, "isError" BOOLEAN,
    "metadata" {json}, "tags" {array}, "input" TEXT, "output" TEXT, "createdAt" TEXT, "command" TEXT,
    "modes" {json}, "start" TEXT, "end" TEXT, "generation" {json}, "showInput" TEXT, "language" TEXT,
    "indent" INT, "defaultOpen" BOOLEAN, "autoCollapse" BOOLEAN,
    FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS elements (
    "id" {uuid} PRIMARY KEY, "threadId" {uuid}, "type" TEXT, "url" TEXT, "chainlitKey" TEXT, "name" TEXT NOT NULL,
    "display" TEXT, "objectKey" TEXT, "size" TEXT, "page" INT, "language" TEXT, "forId" {uuid}, "mime" TEXT,
    "props" {json}, "autoPlay" BOOLEAN, "playerConfig" {json},
    FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS feedbacks (
    "id" {uuid} PRIMARY KEY, "forId" {uuid} NOT NULL, "threadId" {uuid}, "value" INT NOT NULL, "comment" TEXT,
    FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS steps_thread ON steps("threadId");
CREATE INDEX IF NOT EXISTS elements_thread ON elements("threadId");
CREATE INDEX IF NOT EXISTS feedbacks_for ON feedbacks("forId");
"""
_TYPES = {"postgresql": {"uuid": "UUID", "json": "JSONB", "array": "TEXT[]"}}


def chat_schema(dialect: str) -> list[str]:
    sql = _CHAT_SCHEMA.format(**_TYPES.get(dialect, {"uuid": "TEXT", "json": "TEXT", "array": "TEXT"}))
    return [stmt.strip() for stmt in sql.split(";") if stmt.strip()]


def create_chat_tables(url: str) -> None:
    """Create the tables if missing (idempotent). Runs on its own event loop in a worker thread, because
    Chainlit asks for the data layer from synchronous code, sometimes inside its running loop."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def create():
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                if engine.dialect.name == "sqlite":  # readers do not wait for the writer
                    await conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                for stmt in chat_schema(engine.dialect.name):
                    await conn.execute(text(stmt))
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as ex:
        ex.submit(asyncio.run, create()).result()


class LocalStorageClient(BaseStorageClient):
    """Chainlit's data layer keeps an element (here: a citation's side panel) only through a storage client,
    and Chainlit ships clients for S3, Azure and Google Cloud only. This one writes each element to a local
    folder, read back through /newsdesk/chat-files/ by the user who owns it, so the citations of an earlier
    conversation open offline."""

    prefix = "/newsdesk/chat-files/"

    def __init__(self, root: Path):
        self.root = Path(root)

    @staticmethod
    def _parts(object_key: str) -> list[str]:
        # Chainlit's keys are "<user id>/<element id>/<element name>": names like "[1]" are quoted, and no
        # part can climb out of the folder.
        return [quote(p, safe="") for p in object_key.split("/") if p not in ("", ".", "..")]

    def path(self, object_key: str) -> Path:
        return self.root.joinpath(*self._parts(object_key))

    def url(self, object_key: str) -> str:
        return self.prefix + "/".join(self._parts(object_key))  # the route gets the key unquoted

    async def upload_file(self, object_key: str, data, mime: str = "application/octet-stream",
                          overwrite: bool = True, content_disposition: str | None = None) -> dict[str, Any]:
        path = self.path(object_key)
        if overwrite or not path.exists():
            raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)

            def write():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".part")
                tmp.write_bytes(raw)
                tmp.replace(path)  # a reader never sees half a panel

            await asyncio.to_thread(write)
        return {"object_key": object_key, "url": self.url(object_key)}

    async def delete_file(self, object_key: str) -> bool:
        path = self.path(object_key)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return True

    async def get_read_url(self, object_key: str) -> str:
        return self.url(object_key)

    async def close(self) -> None:
        return None


_storage = LocalStorageClient(chat_files_dir())


class ChatDataLayer(SQLAlchemyDataLayer):
    """Chainlit's SQLAlchemy data layer, but a thread is never renamed to "": Chainlit names a thread after
    the text of its first message, from a task of its own, and a message that is only an attachment has
    none; that "" must not replace the name `on_message` gives the thread, whichever is written first."""

    async def update_thread(self, thread_id: str, name: str | None = None, user_id: str | None = None,
                            metadata: dict | None = None, tags: list[str] | None = None):
        if name is not None and not name.strip():
            name = None
        return await super().update_thread(thread_id, name=name, user_id=user_id, metadata=metadata, tags=tags)


@cl.data_layer
def _data_layer():
    url = database_url(SETTINGS)
    create_chat_tables(url)
    # SQLite: wait for a busy writer instead of failing (Chainlit writes steps and elements from parallel tasks).
    connect_args = {"timeout": 30} if url.startswith("sqlite") else None
    return ChatDataLayer(url, connect_args=connect_args, storage_provider=_storage)


# ---------------------------------------------------------------- rendering helpers (pure functions)
# Every ASCII punctuation mark (CommonMark lets each be backslash-escaped). Escaping only the Markdown
# syntax characters is not enough: Chainlit also parses `:word` as a directive (it ate ":alert" of
# "javascript:alert(1)"), and bare URLs and e-mail addresses become links.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_MARKER = re.compile(r"(\[\d+\])")


_WJ = "\u2060"  # WORD JOINER: invisible, and breaks what a backslash cannot
# Chainlit's GFM extension turns bare URLs, "www." and e-mail addresses into links even when ":" "/" "." "@"
# are escaped; an invisible word joiner inside each keeps them text.
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")


def md_escape(text: str) -> str:
    """Article text as literal text: no Markdown, no HTML, no directive, no link, no element-name link."""
    # Chainlit's Markdown turns U+200B into its blinking streaming cursor; U+2060 is just as invisible.
    text = (text or "").replace("\u200b", _WJ)
    text = _AUTOLINK.sub(lambda m: m.group(1)[0] + _WJ + m.group(1)[1:] if m.group(1) != "@" else _WJ + "@", text)
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_keep_markers(text: str) -> str:
    """Escape answer text but keep the [n] citation markers, which Chainlit turns into element links."""
    return "".join(part if _MARKER.fullmatch(part) else md_escape(part) for part in _MARKER.split(text or ""))


def md_escape_stream(chunk: str) -> str:
    """A streamed chunk is rendered as it arrives (before the final, fully escaped update), so it is
    escaped the same way: an image in an article must not be fetched even for a moment. Escaping is per
    character, so a chunk boundary inside a marker or a link cannot reopen any syntax."""
    return escape_keep_markers(chunk)


def outlet_name(p: Passage) -> str:
    name = "Outlet unknown" if (p.outlet or UNKNOWN_OUTLET) == UNKNOWN_OUTLET else p.outlet
    return f"{name} (via {p.agency})" if p.agency and p.agency != p.outlet else name


def _safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"https?://[^\s<>()]+$", url) else None


def highlight(text: str, quotes: Iterable[str]) -> str:
    """The paragraph, escaped, with every cited sentence in bold."""
    flat = " ".join(text.split())
    spans = []
    for quote in quotes:
        q = " ".join((quote or "").split()).rstrip(".")
        start = flat.find(q) if len(q) > 3 else -1
        if start >= 0:
            spans.append((start, start + len(q)))
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:  # overlapping quotes: extend the bold run
            start = pos
        if end <= pos:
            continue
        out += [md_escape(flat[pos:start]), f"**{md_escape(flat[start:end])}**"]
        pos = end
    out.append(md_escape(flat[pos:]))
    return "".join(out)


_QUOTED = re.compile(r"[“\"]([^“”\"]{4,})[”\"]")


def quotes_for_markers(answer_text: str) -> dict[int, list[str]]:
    """What the answer attributes to each [n]: the quoted text (or the whole sentence) right before each
    occurrence of the marker. One citation can back several sentences of an answer."""
    found: dict[int, list[str]] = {}
    parts = _MARKER.split(answer_text or "")
    for i in range(1, len(parts), 2):
        segment = parts[i - 1].strip()  # the text between the previous marker and this one
        quoted = _QUOTED.findall(segment)
        if segment:
            found.setdefault(int(parts[i][1:-1]), []).append(quoted[-1] if quoted else segment.strip(" ."))
    return found


def citation_panel(c: Citation, context: list[Passage], also_quoted: Iterable[str] = (), cited: bool = True) -> str:
    """Side-panel Markdown: where the paragraph comes from, the paragraph with the cited sentence
    highlighted, and its neighbours for context. `cited=False` for the "possibly related" paragraphs of
    a refusal: nothing was cited, so nothing is labelled or highlighted as cited."""
    p = c.passage
    facts = [f"¶{p.paragraph}" + (f" (part {p.part})" if p.part > 1 else "")]
    facts += [x for x in (p.date, f"by {p.author}" if p.author else None) if x]
    lines = [f"**{md_escape(outlet_name(p))}**", "",
             f"*{md_escape(p.title)}*", "", " · ".join(md_escape(f) for f in facts)]
    if url := _safe_url(p.url):
        lines += ["", f"[Open the original article]({url})"]
    else:
        lines += ["", f"Source file: `{p.source.replace('`', '')}`"]
    if p.also_in:
        others = ", ".join(sorted({outlet_name(o) for o in p.also_in}))
        lines += ["", f"Also carried by: {md_escape(others)}"]
    pos = next((i for i, q in enumerate(context) if (q.paragraph, q.part) == (p.paragraph, p.part)), None)
    before = context[pos - 1] if pos is not None and pos > 0 else None
    after = context[pos + 1] if pos is not None and pos + 1 < len(context) else None
    lines += ["", "---", ""]
    if before:
        lines += [f"¶{before.paragraph} · {md_escape(before.text)}", ""]
    if cited:
        lines += [f"> ¶{p.paragraph} · cited — {highlight(p.text, [c.quote, *also_quoted])}", ""]
    else:
        lines += [f"> ¶{p.paragraph} · possibly related, not cited — {md_escape(p.text)}", ""]
    if after:
        lines += [f"¶{after.paragraph} · {md_escape(after.text)}", ""]
    if cited and c.quote and " ".join(c.quote.split()) not in " ".join(p.text.split()):
        lines += [f"Cited: “{md_escape(c.quote)}”"]
    return "\n".join(lines).strip()


def article_ref(title: str, date: str | None = None, url: str | None = None) -> str:
    """“Headline” (date, link to the original): the date and the link only when known."""
    extra = [md_escape(date[:10])] if date else []
    if link := _safe_url(url):
        extra.append(f"[original]({link})")
    return f"“{md_escape(title)}”" + (f" ({', '.join(extra)})" if extra else "")


def verdict_summary(verdicts) -> str:
    """The claim summary recounted after the chat's date range removed verdicts."""
    def who(stance):
        found = [v for v in verdicts if v.stance == stance]
        names = ", ".join(sorted({_outlet_label(v.outlet) for v in found}))
        return f"{_plural(len(found), 'source')}" + (f" ({names})" if found else "")
    silent = sum(1 for v in verdicts if v.stance == "not_mentioned")
    return f"Supported by {who('supports')}, contradicted by {who('contradicts')}, {silent} silent."


def sources_block(citations: Iterable[Citation]) -> str:
    """The sources under an answer, grouped by outlet, then by article."""
    groups: OrderedDict[str, OrderedDict[str, list[Citation]]] = OrderedDict()
    for c in citations:
        groups.setdefault(outlet_name(c.passage), OrderedDict()).setdefault(c.passage.title, []).append(c)
    if not groups:
        return ""
    lines = ["**Sources**", ""]
    for outlet, articles in groups.items():
        parts = []
        for title, cits in articles.items():
            refs = ", ".join(f"¶{c.paragraph} [{c.number}]" for c in cits)
            p = cits[0].passage
            parts.append(f"{article_ref(title, p.date, p.url)} {refs}")
        lines.append(f"- **{md_escape(outlet)}**: " + "; ".join(parts))
    return "\n".join(lines)


async def citation_elements(citations: Iterable[Citation], answer_text: str = "", cited: bool = True) -> list[cl.Text]:
    """One side-panel element per citation, named like its marker so Chainlit links the marker."""
    quoted = quotes_for_markers(answer_text)
    a = await get_assistant()
    cache: dict[str, list[Passage]] = {}
    elements = []
    for c in citations:
        if c.source not in cache:
            try:
                cache[c.source] = await asyncio.to_thread(a.paragraphs, c.source)
            except Exception:  # context is a nicety: the cited paragraph itself is still shown
                log.exception("could not load paragraphs of %s", c.source)
                cache[c.source] = []
        elements.append(cl.Text(name=f"[{c.number}]", display="side",
                                content=citation_panel(c, cache[c.source], quoted.get(c.number, ()), cited)))
    return elements


def answer_markdown(ans: Answer, filters: str | None = None, sources: bool = True) -> str:
    """The reply as shown; `sources=False` leaves out the Sources list (the copy has footnotes instead)."""
    text = escape_keep_markers(ans.text)
    extra = []
    if filters:  # first, so the reader knows what was searched before reading the answer
        text = f"_{filters}_\n\n" + text
    if ans.note:
        text = f"_{md_escape(ans.note)}_\n\n" + text
    for notice in ans.notices:
        # An empty index is already the answer's text; the filters line already counts undated articles.
        if notice != ans.text and not (filters and notice.startswith("The date filter")):
            text = f"_{md_escape(notice)}_\n\n" + text
    if ans.standalone_question and ans.standalone_question.strip() != ans.question.strip():
        extra.append(f"_Searched for: {md_escape(ans.standalone_question)}_")
    if not ans.answered and ans.related:
        extra.append("**Possibly related paragraphs** (not an answer)\n\n" + "\n".join(
            f"- [{i}] {md_escape(outlet_name(p))}, “{md_escape(p.title)}” ¶{p.paragraph}"
            for i, p in enumerate(ans.related, 1)))
    if ans.citations and sources:
        extra.append(sources_block(ans.citations))
    if ans.dropped:
        n = len(ans.dropped)
        extra.append(f"_{n} sentence{'s' if n > 1 else ''} left out: not supported word for word by a source._")
    return "\n\n".join([text, *extra])


def answer_citations(ans: Answer) -> list[Citation]:
    if ans.citations:
        return list(ans.citations)
    # An abstention lists related paragraphs; make them clickable the same way.
    return [Citation(i, p, "") for i, p in enumerate(ans.related, 1)]


def footnote(c: Citation) -> str:
    """[n] Outlet, “Headline”, paragraph N, date, link: one source of a copied answer, as plain text."""
    p = c.passage
    bits = [outlet_name(p), f"“{' '.join(p.title.split())}”", f"paragraph {p.paragraph}"]
    bits += [x for x in (p.date and p.date[:10], _safe_url(p.url)) if x]
    return f"[{c.number}] " + ", ".join(bits)


def copy_text(markdown: str, citations: Iterable[Citation] = ()) -> str:
    """What the copy button puts on the clipboard: the reply as read (no Markdown escapes or markers) and
    its sources as footnotes."""
    notes = [footnote(c) for c in citations]
    return plain_text(markdown).strip() + ("\n\nSources\n" + "\n".join(notes) if notes else "")


def previews(citations: Iterable[Citation], cited: bool = True) -> dict[str, str]:
    """The tooltip of each [n] marker: where it comes from and the cited sentence (a related paragraph's
    opening when nothing was cited)."""
    out = {}
    for c in citations:
        p = c.passage
        quote = " ".join((c.quote if cited and c.quote else p.text).split())
        out[str(c.number)] = f"{outlet_name(p)}, ¶{p.paragraph}: “{_short(quote, 300)}”"
    return out


_WORDS = re.compile(r"[^\W_]+")
_STOP = {"the", "and", "for", "that", "with", "was", "were", "are", "has", "have", "had", "his", "her", "its",
         "their", "this", "from", "not", "but", "than", "more", "less", "said", "says", "will", "would"}


def evidence_excerpt(quote: str, claim: str, width: int = 220) -> str:
    """The deciding words of a piece of evidence: the whole quote when short, else the `width`-character
    window with the most of the claim's words and of the quote's numbers (a cut at the start would hide
    "2 hours and 45 minutes" at the end of a long sentence), marked with "…" where it was cut."""
    flat = " ".join((quote or "").split())
    if len(flat) <= width:
        return flat
    wanted = {w.lower() for w in _WORDS.findall(claim or "") if len(w) > 2 and w.lower() not in _STOP}
    hits = [(m.start(), 2 if m.group().isdigit() else 1) for m in _WORDS.finditer(flat)
            if m.group().isdigit() or m.group().lower() in wanted]
    best, best_score = 0, -1
    for start in sorted({0, *(max(0, h - width // 4) for h, _ in hits)}):
        score = sum(w for h, w in hits if start <= h < start + width - 10)
        if score > best_score:
            best, best_score = start, score
    start = flat.rfind(" ", 0, best) + 1 if best else 0
    end = start + width
    if end < len(flat):
        end = flat.rfind(" ", start, end) if flat.rfind(" ", start, end) > start else end
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")


def _outlet_label(outlet: str) -> str:
    return "Outlet unknown" if outlet == UNKNOWN_OUTLET else outlet


def claim_markdown(check: ClaimCheck, filters: str | None = None,
                   summary: str | None = None) -> tuple[str, list[Citation]]:
    """A table per claim part of the sources that take a side (source, stance, the deciding words of the
    evidence, clickable [n]); the silent articles are one line under it, not a row each."""
    cits: list[Citation] = []
    parts = list(check.part_verdicts) or [(None, check.verdicts)]
    out = [f"**Claim:** {md_escape(check.claim)}", ""]
    if filters:
        out += [f"_{filters}_", ""]
    out.append(md_escape(summary or check.summary))
    for part, verdicts in parts:
        if part and len(parts) > 1:
            out += ["", f"**Part:** {md_escape(part)}"]
        taking_side = [v for v in verdicts if v.stance != "not_mentioned" or v.evidence]
        silent = [v for v in verdicts if v not in taking_side]
        if taking_side:
            out += ["", "| Source | Stance | Evidence |", "|---|---|---|"]
        for v in taking_side:
            refs = []
            for e in v.evidence:
                n = len(cits) + 1
                cits.append(Citation(n, e.passage, e.quote))
                refs.append(f"[{n}] “{md_escape(evidence_excerpt(e.quote or e.passage.text, part or check.claim))}”")
            confidence = f" ({v.confidence:.0%})" if v.stance != "not_mentioned" else ""
            # No <br> in a cell: with HTML off it showed as text ("SouthFront<br>European ...").
            evidence = " · ".join(refs) if refs else md_escape(v.reason or "—")
            out.append(f"| **{md_escape(_outlet_label(v.outlet))}** — *{md_escape(_short(v.title, 90))}* | "
                       f"{STANCE_LABEL.get(v.stance, v.stance)}{confidence} | {evidence} |")
        if silent:
            names = "; ".join(f"{md_escape(_outlet_label(v.outlet))} (“{md_escape(_short(v.title, 60))}”)"
                              for v in silent)
            out += ["", f"Not mentioned by {len(silent)} article{'s' if len(silent) > 1 else ''}: {names}."]
        if not verdicts:
            out += ["", "No indexed source discusses this."]
    return "\n".join(out), cits


def _short(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


# ---------------------------------------------------------------- what is indexed, what is filtered
def corpus_facts(sources) -> dict[str, Any]:
    outlets = sorted({s.outlet for s in sources if s.outlet and s.outlet != UNKNOWN_OUTLET})
    dates = sorted(s.date[:10] for s in sources if s.date)
    return {"articles": len(sources), "outlets": outlets,
            "unknown_outlet": sum(1 for s in sources if (s.outlet or UNKNOWN_OUTLET) == UNKNOWN_OUTLET),
            "dated": len(dates), "undated": len(sources) - len(dates),
            "first": dates[0] if dates else None, "last": dates[-1] if dates else None}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def collection_summary(facts: dict[str, Any]) -> str:
    """One plain sentence (no Markdown): what the answers come from, with the undated articles counted
    (a range "2025-03-04 to 2025-03-04" alone hides that seven of eight articles have no date)."""
    n = facts["articles"]
    if not n:
        return "Nothing is indexed yet: attach a .txt, .md or .html article to start."
    outlets = facts["outlets"]
    text = f"{_plural(n, 'article')} from {_plural(len(outlets), 'named outlet')}"
    if outlets:
        text += f" ({', '.join(outlets[:6])}{', …' if len(outlets) > 6 else ''})"
    if facts["unknown_outlet"]:
        text += f", {facts['unknown_outlet']} with the outlet unknown"
    if not facts["dated"]:
        text += "; no publication dates are known"
    else:
        span = facts["first"] if facts["first"] == facts["last"] else f"{facts['first']} to {facts['last']}"
        text += f"; published {span}"
        if facts["undated"]:
            text += f", {facts['undated']} of {n} undated"
    return text + "."


def _in_filters(s, filters: dict[str, Any]) -> bool:
    outlets = filters.get("outlet") or []
    if outlets and s.outlet not in outlets and (s.agency or "") not in outlets:
        return False
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_from or date_to:  # articles with no known date are left out of a date range
        d = (s.date or "")[:10]
        return bool(d) and (not date_from or d >= date_from) and (not date_to or d <= date_to)
    return True


def filter_line(filters: dict[str, Any], sources) -> str | None:
    """The active restrictions as one escaped line, with how many articles they leave out; None when
    nothing is restricted."""
    outlets = filters.get("outlet") or []
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if not (outlets or date_from or date_to):
        return None
    bits = []
    if outlets:
        bits.append("only " + ", ".join(outlets))
    if date_from or date_to:
        bits.append("published " + (f"{date_from} to {date_to}" if date_from and date_to else
                                    f"from {date_from}" if date_from else f"up to {date_to}"))
    left_out = [s for s in sources if not _in_filters(s, filters)]
    undated = sum(1 for s in left_out if not s.date) if (date_from or date_to) else 0
    tail = f"{len(left_out)} of {len(sources)} articles left out"
    if undated:
        tail += f" ({undated} undated)"
    return md_escape(f"Filters: {'; '.join(bits)} — {tail}.")


def error_text(exc: BaseException) -> str:
    """What the journalist sees instead of a stack trace."""
    if isinstance(exc, AssistantError):
        return f"**Sorry:** {md_escape(str(exc))}"
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return ("**Sorry:** the language model could not be reached. Switch the answer engine to *extractive* in "
                "the chat settings, or check ASSISTANT_LLM_BASE_URL.")
    return (f"**Sorry:** something went wrong ({type(exc).__name__}). Nothing was lost; try again or rephrase. "
            "Details are in the server log.")


# ---------------------------------------------------------------- session state
def _filters() -> dict[str, Any]:
    return cl.user_session.get("filters") or {}


_SEARCH_FILTERS = ("outlet", "date_from", "date_to")


async def _new_chat(filters: dict[str, Any]):
    from assistant.chat import ChatSession

    a = await get_assistant()
    cl.user_session.set("filters", filters)
    cl.user_session.set("chat", ChatSession(a, k=max(1, int(filters.get("k") or a.settings.answer_k)),
                                            engine=filters.get("engine") or None,
                                            **{k: v for k, v in filters.items() if k in _SEARCH_FILTERS and v}))


async def _send_settings(a, filters: dict[str, Any] | None = None) -> None:
    """The settings panel; a resumed conversation's panel shows the filters it was restored with."""
    filters = filters or {}
    facts = corpus_facts(await asyncio.to_thread(a.sources))
    engines = ["extractive", "llm"] if a.settings.uses_llm else ["extractive"]
    dates = (filters.get("date_from"), filters.get("date_to"))
    await cl.ChatSettings([
        MultiSelect(id="outlet", label="Only these outlets", values=facts["outlets"],
                    initial=[o for o in filters.get("outlet") or [] if o in facts["outlets"]],
                    description="Leave empty to search every outlet."),
        DatePicker(id="dates", label="Published between", mode="range",
                   initial=dates if dates[0] and dates[1] else None,
                   description=f"Articles with no known date ({facts['undated']} of {facts['articles']}) "
                               "are left out when a range is set."),
        Slider(id="k", label="Number of sources", initial=int(filters.get("k") or min(a.settings.answer_k, 10)),
               min=1, max=10, step=1),
        Select(id="engine", label="Answer engine", values=engines,
               initial_value=filters.get("engine") if filters.get("engine") in engines else engines[-1],
               description=("Extractive quotes the sources word for word; LLM writes a summary checked "
                            "against them." if a.settings.uses_llm else
                            "Extractive (offline). Set ASSISTANT_LLM_PROVIDER to add an LLM.")),
    ]).send()


async def _filter_line() -> str | None:
    filters = _filters()
    if not (filters.get("outlet") or filters.get("date_from") or filters.get("date_to")):
        return None
    a = await get_assistant()
    return filter_line(filters, await asyncio.to_thread(a.sources))


def _date_range(value) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    if isinstance(value, dict):
        value = (value.get("from") or value.get("start"), value.get("to") or value.get("end"))
    if isinstance(value, str):
        value = (value, None)
    start, end = (list(value) + [None, None])[:2]
    return (str(start)[:10] if start else None), (str(end)[:10] if end else None)


# ---------------------------------------------------------------- starters
STARTERS_FILE = _ROOT / "public" / "starters.json"
_starters_future: Future | None = None
_CLEAN = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|https?://\S+|[<>\[\]()!*_`#|~\\]")


def plain(text: str) -> str:
    """Text for a starter button or message: Markdown images/links and URLs dropped, one line."""
    return " ".join(_CLEAN.sub(lambda m: m.group(1) or " ", text or "").split())


def _verified_starters(a) -> list[dict[str, str]]:
    """Starters that this index answers: the curated questions and claims of public/starters.json (written
    for the bundled articles) kept only when the question gets a cited answer or the claim a supporting or
    contradicting source; for another collection, headlines checked as claims. Run once, in a worker."""
    import json

    picked: list[dict[str, str]] = []
    try:
        curated = json.loads(STARTERS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        curated = []
    for item in curated:
        try:
            msg = item["message"]
            if msg.startswith("/check "):
                ok = any(v.stance != "not_mentioned" for v in a.check_claim(msg[7:]).verdicts)
            else:
                ans = a.ask(msg)
                ok = ans.answered and bool(ans.citations)
        except Exception:  # a starter is a nicety: never let one stop the page
            log.exception("starter %r could not be checked", item)
            ok = False
        if ok:
            picked.append({"label": item["label"], "message": msg})
        if len(picked) == 4:
            return picked
    if picked:
        return picked
    seen = set()
    for info in sorted(a.sources(), key=lambda i: (i.outlet == UNKNOWN_OUTLET, i.source)):
        headline = plain(info.title)
        if info.outlet in seen or len(headline.split()) < 4:
            continue
        seen.add(info.outlet)
        try:
            if not any(v.stance == "supports" for v in a.check_claim(headline).verdicts):
                continue
        except Exception:
            log.exception("headline starter %r could not be checked", headline)
            continue
        who = "an article" if info.outlet == UNKNOWN_OUTLET else plain(info.outlet)
        picked.append({"label": f"Check a headline from {who}"[:60], "message": f"/check {headline}"})
        if len(picked) == 3:
            break
    return picked


async def _starters() -> list[dict[str, str]]:
    global _starters_future
    a = await get_assistant()
    if _starters_future is None:
        _starters_future = _pool.submit(_verified_starters, a)
    return await asyncio.wrap_future(_starters_future)


@cl.set_starters
async def starters(user=None, language=None):
    picked = [cl.Starter(label=s["label"], message=s["message"]) for s in await _starters()]
    picked.append(cl.Starter(label="What is indexed?", message="/sources"))
    return picked


# ---------------------------------------------------------------- branding, welcome, offline page
def engine_note(settings) -> str:
    """The footer under the message box: what writes the answers, honestly."""
    if settings.uses_llm:
        return (f"Answers are written by the LLM {settings.llm_model} and checked against the cited paragraphs; "
                "an LLM can still make mistakes. Open the cited paragraph before you publish.")
    return ("Extractive engine, no LLM: answers quote the indexed articles word for word. "
            "Open the cited paragraph before you publish.")


_load_translation = ChainlitConfig.load_translation


def _newsdesk_translation(self, language: str):
    # Chainlit's footer says "LLMs can make mistakes" whatever the engine; ours says which engine is used.
    translation = _load_translation(self, language)
    chat = translation.setdefault("chat", {})
    chat["watermark"] = engine_note(SETTINGS)
    chat.setdefault("input", {})["placeholder"] = "Ask about the news, or /check a claim"
    return translation


ChainlitConfig.load_translation = _newsdesk_translation

# Chainlit's page loads the Inter font from Google Fonts and a KaTeX stylesheet from jsDelivr (LaTeX is
# off here): offline they fail, and online they tell third parties who reads what. The page uses the
# system fonts instead (public/newsdesk.css).
_CDN_LINK = re.compile(r"<link\b[^>]*(?:fonts\.googleapis\.com|fonts\.gstatic\.com|cdn\.jsdelivr\.net)[^>]*>\s*")


def offline_page(html: str) -> str:
    return _CDN_LINK.sub("", html)


def _install_offline_page() -> None:
    import chainlit.server as server

    if getattr(server.get_html_template, "_newsdesk", False):
        return
    original = server.get_html_template

    def get_html_template(root_path):
        return offline_page(original(root_path))

    get_html_template._newsdesk = True
    server.get_html_template = get_html_template  # `serve` looks the name up at each request

    from chainlit.auth import get_current_user
    from fastapi import Depends, HTTPException
    from fastapi.responses import FileResponse

    async def welcome(current_user=Depends(get_current_user)):
        # Read by public/newsdesk.js for the welcome line under the logo (behind the sign-in when one is set).
        a = await get_assistant()
        return {"collection": collection_summary(corpus_facts(await asyncio.to_thread(a.sources))),
                "engine": "llm" if SETTINGS.uses_llm else "extractive"}

    async def chat_file(key: str, current_user=Depends(get_current_user)):
        # A stored citation panel of an earlier conversation, to its owner only: Chainlit's object keys
        # start with the id of the user whose thread it is.
        if current_user is None:
            raise HTTPException(status_code=404)
        if getattr(current_user, "id", None) != key.split("/", 1)[0] and not await _owns_element(key, current_user):
            raise HTTPException(status_code=404)
        path = _storage.path(key)
        if not path.is_file():
            raise HTTPException(status_code=404)
        # Always text: a stored element is never rendered by the browser as a page of this site.
        return FileResponse(path, media_type="text/plain; charset=utf-8",
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"})

    async def _owns_element(key: str, current_user) -> bool:
        # Chainlit names the key after the thread's user id, or "unknown/..." when the element is stored
        # before its thread row (a race on a busy server): then the element's thread decides who owns it.
        from chainlit.data import get_data_layer

        parts = key.split("/")
        layer = get_data_layer()
        if len(parts) < 2 or layer is None or not hasattr(layer, "execute_sql"):
            return False
        rows = await layer.execute_sql('SELECT "threadId" FROM elements WHERE "id" = :id', {"id": parts[1]})
        if not isinstance(rows, list) or not rows or not rows[0].get("threadId"):
            return False
        try:
            return await layer.get_thread_author(rows[0]["threadId"]) == current_user.identifier
        except ValueError:
            return False

    async def message_info(step_id: str, current_user=Depends(get_current_user)):
        # public/newsdesk.js: the copy with footnotes and the marker tooltips of one reply, live or resumed.
        from chainlit.auth import require_login
        from chainlit.data import get_data_layer

        layer = get_data_layer()
        step = await layer.get_step(step_id) if layer else None
        if not step:
            raise HTTPException(status_code=404)
        if require_login():
            try:
                owner = await layer.get_thread_author(step["threadId"])
            except ValueError:
                owner = None
            if current_user is None or owner != current_user.identifier:
                raise HTTPException(status_code=404)
        meta = _step_meta(step)
        return {"plain": meta.get("plain"), "previews": meta.get("previews") or {}}

    server.app.add_api_route("/newsdesk/welcome", welcome, methods=["GET"])
    server.app.add_api_route(LocalStorageClient.prefix + "{key:path}", chat_file, methods=["GET"])
    server.app.add_api_route("/newsdesk/message/{step_id}", message_info, methods=["GET"])
    # Before Chainlit's catch-all page route, which would answer these paths with the page.
    routes = server.app.router.routes
    routes[:0] = [routes.pop() for _ in range(3)]


_install_offline_page()


def _private_session_files() -> Path:
    """Chainlit keeps every session's files (uploads, the panels shown in this run) under <project>/.files/
    and deletes that whole folder when a server stops, so stopping one Newsdesk server (a second one over
    another index, the old process of a restart) took the folder from under any other server of the same
    checkout: its next answer could not attach a citation panel and failed, and uploads failed. Each server
    gets a folder of its own instead, removed when it stops (Chainlit's shutdown removes it, not .files/)."""
    import tempfile

    import chainlit.config
    import chainlit.server

    own = Path(tempfile.mkdtemp(prefix="newsdesk-session-files-"))
    chainlit.config.FILES_DIRECTORY = own  # read at each use by the session (chainlit/session.py)
    chainlit.server.FILES_DIRECTORY = own  # the folder its shutdown removes
    return own


if cl_config.run.module_name:
    _private_session_files()


# ---------------------------------------------------------------- Chainlit hooks
@cl.on_chat_start
async def on_chat_start():
    a = await get_assistant()
    await _new_chat({"k": a.settings.answer_k})
    await _send_settings(a)
    await _set_commands()
    for notice in a.notices:
        await cl.Message(content=f"**Note:** {md_escape(notice)}", author="Newsdesk").send()
    # No welcome message: any message hides the starters. The welcome line under the logo comes from
    # /newsdesk/welcome (public/newsdesk.js).


async def _set_commands() -> None:
    # Only `check` is a command: a "/sources" typed in full is sent by one Enter (as a command, the menu
    # took the first Enter), and the "Tools" menu does not open on a single item.
    await cl.context.emitter.set_commands([
        {"id": "check", "icon": "scale", "description": "Check a claim against every source",
         "button": True, "persistent": False},
    ])


def _step_meta(step) -> dict:
    raw = step.get("metadata")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    return raw if isinstance(raw, dict) else {}


@cl.on_chat_resume
async def on_chat_resume(thread):
    """An earlier conversation, opened from the history: Chainlit shows its messages and their stored
    citation panels; this restores the filters (kept in the thread's metadata with the user session) and
    the conversation the next follow-up question is rewritten against."""
    a = await get_assistant()
    filters = cl.user_session.get("filters") or {"k": a.settings.answer_k}
    await _new_chat(filters)
    asked = [m["standalone"] for m in map(_step_meta, thread.get("steps") or []) if m.get("standalone")]
    # ChatSession offers no public way to seed its history; the rewrite reads only these questions.
    cl.user_session.get("chat")._standalone = asked
    cl.user_session.set("interacted", True)  # the thread has its name
    await _send_settings(a, filters)
    await _set_commands()


@cl.on_settings_update
async def on_settings_update(values: dict[str, Any]):
    date_from, date_to = _date_range(values.get("dates"))
    outlets = values.get("outlet") or None
    filters = {"outlet": outlets, "date_from": date_from, "date_to": date_to, "k": int(values.get("k") or 5),
               "engine": values.get("engine") or "extractive"}
    # Before any await: a question sent right after "Confirm" must not be answered with the old filters.
    cl.user_session.set("filters", filters)
    cl.user_session.set("chat", None)
    await _new_chat(filters)


@cl.on_message
async def on_message(message: cl.Message):
    try:
        files = [e for e in (message.elements or []) if getattr(e, "path", None)]
        text = (message.content or "").strip()
        first = not cl.user_session.get("interacted")
        cl.user_session.set("interacted", True)
        if files:
            if not text:
                # The bubble of a message with only attachments is empty: say what the message does.
                message.content = "Add to the collection: " + ", ".join(Path(f.name or "upload").name for f in files)
                await message.update()
                if first:
                    await _name_thread(message.content)
            await handle_upload(files)
            if not text:
                return
        command = message.command or ""
        if not command and text.startswith("/"):
            command, _, text = text[1:].partition(" ")
            text = text.strip()
        if command == "check":
            await handle_check(text)
        elif command == "sources":
            await handle_sources()
        else:
            await handle_question(message.content or "")
    except Exception as exc:  # the journalist sees a sentence, the log keeps the trace
        log.exception("chat handler failed")
        await cl.Message(content=error_text(exc), author="Newsdesk").send()


async def _name_thread(name: str) -> None:
    """Name a chat that began with an attachment alone. Chainlit names a thread after its first message's
    text, so such a chat was "Untitled Conversation" in the history, and the page, told that the first
    interaction was "", kept the thumbs of every later answer in it disabled."""
    from chainlit.data import get_data_layer

    session = cl.context.session
    layer = get_data_layer()
    if layer is not None and session.thread_id:
        try:
            await layer.update_thread(thread_id=session.thread_id, name=name)
        except Exception:  # the upload itself must still go ahead
            log.exception("could not name the thread")
    await cl.context.emitter.emit("first_interaction", {"interaction": name, "thread_id": session.thread_id})


def _install_quiet_empty_first_interaction() -> None:
    """Chainlit tells the page the first message's text as the chat's "first interaction"; for a message that
    is only an attachment that is "", which disables the thumbs of every later answer in the chat. Its
    task can finish after `_name_thread` has sent the real name (a busy server: CI saw the thumbs disabled),
    so an empty one is not sent at all; the thread's queued writes are still flushed."""
    from chainlit.emitter import ChainlitEmitter

    original = ChainlitEmitter.init_thread
    if getattr(original, "_newsdesk", False):
        return

    async def init_thread(self, interaction: str):
        if (interaction or "").strip():
            return await original(self, interaction)
        await self.flush_thread_queues(interaction)

    init_thread._newsdesk = True
    ChainlitEmitter.init_thread = init_thread


_install_quiet_empty_first_interaction()


async def _stream(iterable, msg: cl.Message) -> None:
    """Iterate a blocking stream in a worker thread, forwarding each chunk to the browser."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def pump():
        try:
            for chunk in iterable:
                loop.call_soon_threadsafe(queue.put_nowait, ("chunk", chunk))
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
        except BaseException as exc:  # re-raised in the event loop
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

    worker = loop.run_in_executor(None, pump)
    while True:
        kind, value = await queue.get()
        if kind == "chunk":
            await msg.stream_token(md_escape_stream(value))
        elif kind == "error":
            await worker
            raise value
        else:
            await worker
            return


async def handle_question(question: str) -> None:
    chat = cl.user_session.get("chat")
    if chat is None:
        await _new_chat(_filters())
        chat = cl.user_session.get("chat")
    # Ask first: an empty or oversized question fails here, before an empty reply bubble is shown.
    t0 = time.perf_counter()
    stream = await asyncio.to_thread(chat.ask_stream, question)
    t1 = time.perf_counter()
    msg = cl.Message(content="", author="Newsdesk")
    await msg.send()
    await _stream(stream, msg)
    t2 = time.perf_counter()
    ans: Answer = stream.answer
    filters = await _filter_line()
    msg.content = answer_markdown(ans, filters)
    cits = answer_citations(ans)
    msg.elements = await citation_elements(cits, ans.text if ans.answered else "", cited=bool(ans.citations))
    # Kept with the message by the data layer: the copy (sources as footnotes), the marker tooltips, the
    # filters for the ratings report, and the stand-alone question for follow-ups after a resume.
    msg.metadata = {
        "plain": copy_text(answer_markdown(ans, filters, sources=False), ans.citations) if ans.citations
        else copy_text(msg.content),
        "filters": plain_text(filters), "previews": previews(cits, cited=bool(ans.citations)),
        "standalone": ans.standalone_question or ans.question}
    t3 = time.perf_counter()
    await msg.update()
    log.info("answer timing: retrieve %.3f s, stream %.3f s, elements %.3f s, update %.3f s",
             t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3)


async def handle_check(claim: str) -> None:
    if not claim:
        await cl.Message(content="Type the claim after the command, e.g. `/check Putin wants Ukraine to "
                                 "abandon its NATO ambitions`.", author="Newsdesk").send()
        return
    a = await get_assistant()
    filters = _filters()
    async with cl.Step(name="Checking the claim against every source", type="tool") as step:
        check: ClaimCheck = await asyncio.to_thread(a.check_claim, claim, filters.get("outlet"))
        step.output = f"{len(check.verdicts)} source verdicts"
    summary = None
    if filters.get("date_from") or filters.get("date_to"):
        # check_claim takes outlets only; the date range of the chat settings is applied here, to the
        # verdicts, so the table and its counts agree with the filter line above them.
        keep = {s.source for s in await asyncio.to_thread(a.sources) if _in_filters(s, filters)}
        check = replace(check, verdicts=tuple(v for v in check.verdicts if v.source in keep),
                        part_verdicts=tuple((p, tuple(v for v in vs if v.source in keep))
                                            for p, vs in check.part_verdicts))
        summary = verdict_summary(check.verdicts)
    filters_line = await _filter_line()
    content, cits = claim_markdown(check, filters_line, summary)
    await cl.Message(content=content, elements=await citation_elements(cits), author="Newsdesk",
                     metadata={"plain": copy_text(content, cits), "filters": plain_text(filters_line),
                               "previews": previews(cits)}).send()


async def handle_sources() -> None:
    a = await get_assistant()
    sources = await asyncio.to_thread(a.sources)
    lines = [f"I answer from {md_escape(collection_summary(corpus_facts(sources)))}", "",
             "Every sentence of an answer cites its paragraph: click a marker like [1] to read it. "
             "Check a claim with `/check <claim>`; attach a .txt, .md or .html file to add an article.", ""]
    for s in sorted(sources, key=lambda s: (s.outlet, s.title)):
        lines.append(f"- **{md_escape(_outlet_label(s.outlet))}** — {article_ref(s.title, s.date, s.url)} "
                     f"({s.paragraphs} paragraphs)")
    await cl.Message(content="\n".join(lines), author="Newsdesk").send()


def upload_dir() -> Path:
    # Uploads live beside the index (not in documents/): they stay citable across restarts and a
    # `reindex` re-reads them, without mixing journalists' files into the bundled corpus.
    d = Path(SETTINGS.index_dir) / "uploads"
    d.mkdir(parents=True, exist_ok=True)
    return d


async def handle_upload(files: list) -> None:
    a = await get_assistant()
    accepted, rejected = [], []
    for f in files:
        name = Path(f.name or "upload").name
        if Path(name).suffix.lower() not in UPLOAD_TYPES:
            rejected.append(f"**{md_escape(name)}**: only .txt, .md and .html articles can be added")
            continue
        # One folder per content hash: two journalists' "article.html" never overwrite each other, and a
        # bad file cannot replace a good one (same-named articles are kept apart by Assistant.ingest).
        digest = await asyncio.to_thread(lambda p=f.path: hashlib.sha256(Path(p).read_bytes()).hexdigest()[:12])
        dest = upload_dir() / digest / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, f.path, dest)
        accepted.append(dest)
    report = None
    if accepted:
        # No parentheses in a step name: the page asks for /avatars/<step name>, and Chainlit answers 400
        # to a name with "(".
        async with cl.Step(name=f"Indexing {_plural(len(accepted), 'file')}", type="tool") as step:
            step.input = ", ".join(p.name for p in accepted)
            report = await asyncio.to_thread(a.ingest, accepted)
            step.output = (f"{len(report.added)} added, {len(report.updated)} updated, "
                           f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
                           f"{report.paragraphs} paragraphs indexed")
        for s in report.skipped:
            rejected.append(f"**{md_escape(Path(s.path).name)}**: {md_escape(s.reason)}")
            bad = Path(s.path)
            if bad.parent.parent == upload_dir():  # only the copy this upload made
                bad.unlink(missing_ok=True)
                if not any(bad.parent.iterdir()):
                    bad.parent.rmdir()
    lines = []
    if report and (report.added or report.updated):
        names = ", ".join(md_escape(n) for n in (*report.added, *report.updated))
        lines.append(f"**Added** to the collection: {names} — {_plural(report.paragraphs, 'paragraph')}, citable from now on.")
    if report and report.unchanged:
        lines.append(f"Already indexed, unchanged: {', '.join(md_escape(n) for n in report.unchanged)}.")
    if rejected:
        lines.append("**Not added** (nothing else was changed):\n" + "\n".join(f"- {r}" for r in rejected))
    await cl.Message(content="\n\n".join(lines) or "Nothing to add.", author="Newsdesk").send()
