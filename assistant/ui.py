"""The Chainlit chat UI: cited answers, one click from each source paragraph.

Run with ``make run`` (``chainlit run assistant/ui.py --headless``). One shared `Assistant` per process is
built in a background thread at import, so the page is up at once and the first question waits for the
index only if it is still being built. Blocking API calls run in worker threads; Chainlit handlers stay
async.

Everything taken from an article is shown as text: it is Markdown-escaped before Chainlit renders it, and
``unsafe_allow_html`` stays false in ``.chainlit/config.toml``.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
import sys
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable

# `chainlit run assistant/ui.py` puts assistant/ (not the project root) on sys.path.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import chainlit as cl  # noqa: E402
from chainlit.input_widget import DatePicker, MultiSelect, Select, Slider  # noqa: E402

from assistant.config import configure_offline_runtime, get_settings  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.feedback import FeedbackDataLayer, FeedbackStore  # noqa: E402
from assistant.models import UNKNOWN_OUTLET, Answer, Citation, ClaimCheck, Passage  # noqa: E402

log = logging.getLogger("assistant.ui")
configure_offline_runtime()
SETTINGS = get_settings()
UPLOAD_TYPES = {".txt", ".md", ".markdown", ".html", ".htm"}
# Plain words: emoji glyphs are missing from many newsroom desktops (and headless Chromium).
STANCE_LABEL = {"supports": "**supports**", "contradicts": "**contradicts**", "not_mentioned": "not mentioned"}

# ---------------------------------------------------------------- the shared Assistant
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="assistant-startup")


def _build_assistant():
    from assistant.api import Assistant

    return Assistant().warm()


_assistant_future: Future = _pool.submit(_build_assistant)


async def get_assistant():
    return await asyncio.wrap_future(_assistant_future)


# ---------------------------------------------------------------- authentication (optional)
if SETTINGS.auth_password or SETTINGS.auth_header:
    # Chainlit signs its session tokens with this secret; a per-process one means a restart logs users out.
    os.environ.setdefault("CHAINLIT_AUTH_SECRET", secrets.token_urlsafe(48))

if SETTINGS.auth_password:
    @cl.password_auth_callback
    async def _password_auth(username: str, password: str):
        if username.strip() and hmac.compare_digest(password.encode(), SETTINGS.auth_password.encode()):
            return cl.User(identifier=username.strip(), metadata={"provider": "password"})
        return None

if SETTINGS.auth_header:
    @cl.header_auth_callback
    async def _header_auth(headers):
        user = (headers.get(SETTINGS.auth_header) or "").strip()
        return cl.User(identifier=user, metadata={"provider": "header"}) if user else None


# ---------------------------------------------------------------- feedback
@cl.data_layer
def _data_layer():
    return FeedbackDataLayer(FeedbackStore(SETTINGS.feedback_db))


# ---------------------------------------------------------------- rendering helpers (pure functions)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$])")
_MARKER = re.compile(r"(\[\d+\])")


def md_escape(text: str) -> str:
    """Article text as literal text: no Markdown, no HTML, no element-name links."""
    return _MD_SPECIAL.sub(r"\\\1", text or "")


def escape_keep_markers(text: str) -> str:
    """Escape answer text but keep the [n] citation markers, which Chainlit turns into element links."""
    return "".join(part if _MARKER.fullmatch(part) else md_escape(part) for part in _MARKER.split(text or ""))


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


def citation_panel(c: Citation, context: list[Passage], also_quoted: Iterable[str] = ()) -> str:
    """Side-panel Markdown: where the paragraph comes from, the paragraph with the cited sentence
    highlighted, and its neighbours for context."""
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
    lines += [f"> ¶{p.paragraph} · cited — {highlight(p.text, [c.quote, *also_quoted])}", ""]
    if after:
        lines += [f"¶{after.paragraph} · {md_escape(after.text)}", ""]
    if c.quote and " ".join(c.quote.split()) not in " ".join(p.text.split()):
        lines += [f"Cited: “{md_escape(c.quote)}”"]
    return "\n".join(lines).strip()


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
            parts.append(f"“{md_escape(title)}” {refs}")
        lines.append(f"- **{md_escape(outlet)}**: " + "; ".join(parts))
    return "\n".join(lines)


async def citation_elements(citations: Iterable[Citation], answer_text: str = "") -> list[cl.Text]:
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
                                content=citation_panel(c, cache[c.source], quoted.get(c.number, ()))))
    return elements


def answer_markdown(ans: Answer) -> str:
    text = escape_keep_markers(ans.text)
    extra = []
    if ans.note:
        text = f"_{md_escape(ans.note)}_\n\n" + text
    if ans.standalone_question and ans.standalone_question.strip() != ans.question.strip():
        extra.append(f"_Searched for: {md_escape(ans.standalone_question)}_")
    if not ans.answered and ans.related:
        extra.append("**Possibly related paragraphs**\n\n" + "\n".join(
            f"- [{i}] {md_escape(outlet_name(p))}, “{md_escape(p.title)}” ¶{p.paragraph}"
            for i, p in enumerate(ans.related, 1)))
    if ans.citations:
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


def claim_markdown(check: ClaimCheck) -> tuple[str, list[Citation]]:
    """A table per claim part: outlet, stance, evidence (clickable [n])."""
    cits: list[Citation] = []
    parts = list(check.part_verdicts) or [(None, check.verdicts)]
    out = [f"**Claim:** {md_escape(check.claim)}", "", md_escape(check.summary)]
    for part, verdicts in parts:
        if part and len(parts) > 1:
            out += ["", f"**Part:** {md_escape(part)}"]
        out += ["", "| Outlet | Article | Stance | Evidence |", "|---|---|---|---|"]
        for v in verdicts:
            refs = []
            for e in v.evidence:
                n = len(cits) + 1
                cits.append(Citation(n, e.passage, e.quote))
                refs.append(f"[{n}] “{md_escape(_short(e.quote or e.passage.text, 140))}”")
            outlet = "Outlet unknown" if v.outlet == UNKNOWN_OUTLET else v.outlet
            confidence = f" ({v.confidence:.0%})" if v.stance != "not_mentioned" else ""
            evidence = "<br>".join(refs) if refs else md_escape(v.reason or "—")
            out.append(f"| {md_escape(outlet)} | {md_escape(_short(v.title, 60))} | "
                       f"{STANCE_LABEL.get(v.stance, v.stance)}{confidence} | {evidence} |")
        if not verdicts:
            out.append("| — | — | no source discusses this | — |")
    return "\n".join(out), cits


def _short(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


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


def _corpus_facts(a) -> tuple[list, list[str], str | None]:
    sources = a.sources()
    outlets = sorted({s.outlet for s in sources if s.outlet and s.outlet != UNKNOWN_OUTLET})
    dates = sorted(s.date for s in sources if s.date)
    span = f"{dates[0]} to {dates[-1]}" if dates else None
    return sources, outlets, span


async def _send_settings(a) -> None:
    _, outlets, _ = await asyncio.to_thread(_corpus_facts, a)
    engines = ["extractive", "llm"] if a.settings.uses_llm else ["extractive"]
    await cl.ChatSettings([
        MultiSelect(id="outlet", label="Only these outlets", values=outlets, initial=[],
                    description="Leave empty to search every outlet."),
        DatePicker(id="dates", label="Published between", mode="range",
                   description="Articles with no known date are left out when a range is set."),
        Slider(id="k", label="Number of sources", initial=a.settings.answer_k, min=1, max=10, step=1),
        Select(id="engine", label="Answer engine", values=engines, initial_value=engines[-1],
               description=("Extractive quotes the sources word for word; LLM writes a summary checked "
                            "against them." if a.settings.uses_llm else
                            "Extractive (offline). Set ASSISTANT_LLM_PROVIDER to add an LLM.")),
    ]).send()


def _date_range(value) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    if isinstance(value, dict):
        value = (value.get("from") or value.get("start"), value.get("to") or value.get("end"))
    if isinstance(value, str):
        value = (value, None)
    start, end = (list(value) + [None, None])[:2]
    return (str(start)[:10] if start else None), (str(end)[:10] if end else None)


# ---------------------------------------------------------------- Chainlit hooks
@cl.set_starters
async def starters(user=None, language=None):
    a = await get_assistant()
    sources = await asyncio.to_thread(a.sources)
    picked, seen = [], set()
    for s in sorted(sources, key=lambda s: (s.outlet == UNKNOWN_OUTLET, s.source)):
        if s.outlet in seen and len(sources) > 4:
            continue
        seen.add(s.outlet)
        title = " ".join(s.title.split())
        picked.append(cl.Starter(label=_short(title, 48), message=f"What do the articles report about: {title}?"))
        if len(picked) == 3:
            break
    picked.append(cl.Starter(label="Check a claim", message="/check Trump and Putin met in Alaska"))
    picked.append(cl.Starter(label=f"What do you know? ({len(sources)} articles)", message="/sources"))
    return picked


@cl.on_chat_start
async def on_chat_start():
    a = await get_assistant()
    await _new_chat({"k": a.settings.answer_k})
    await _send_settings(a)
    await cl.context.emitter.set_commands([
        {"id": "check", "icon": "scale", "description": "Check a claim against every source",
         "button": True, "persistent": False},
        {"id": "sources", "icon": "library", "description": "List the indexed articles",
         "button": False, "persistent": False},
    ])
    for notice in a.notices:
        await cl.Message(content=f"**Note:** {md_escape(notice)}", author="Newsdesk").send()
    # No welcome message: any message hides the starters. The live facts about the collection are one
    # click away instead (the "What do you know?" starter, or /sources); chainlit.md stays generic.


@cl.on_settings_update
async def on_settings_update(values: dict[str, Any]):
    date_from, date_to = _date_range(values.get("dates"))
    outlets = values.get("outlet") or None
    filters = {"outlet": outlets, "date_from": date_from, "date_to": date_to, "k": int(values.get("k") or 5),
               "engine": values.get("engine") or "extractive"}
    await _new_chat(filters)


@cl.on_message
async def on_message(message: cl.Message):
    try:
        files = [e for e in (message.elements or []) if getattr(e, "path", None)]
        text = (message.content or "").strip()
        if files:
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


def md_escape_stream(chunk: str) -> str:
    # Streamed chunks are shown raw for a moment; keep [n] readable, neutralise HTML and emphasis.
    return re.sub(r"([\\`*_<>~|])", r"\\\1", chunk)


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
    msg.content = answer_markdown(ans)
    msg.elements = await citation_elements(answer_citations(ans), ans.text if ans.answered else "")
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
    outlets = _filters().get("outlet")
    async with cl.Step(name="Checking the claim against every source", type="tool") as step:
        check: ClaimCheck = await asyncio.to_thread(a.check_claim, claim, outlets)
        step.output = f"{len(check.verdicts)} source verdicts"
    content, cits = claim_markdown(check)
    await cl.Message(content=content, elements=await citation_elements(cits), author="Newsdesk").send()


async def handle_sources() -> None:
    a = await get_assistant()
    sources, outlets, span = await asyncio.to_thread(_corpus_facts, a)
    unknown = sum(1 for s in sources if s.outlet == UNKNOWN_OUTLET)
    lines = [f"I answer from **{len(sources)} articles**: {', '.join(md_escape(o) for o in outlets) or 'no named outlet'}"
             + (f", and {unknown} whose outlet is unknown" if unknown else "")
             + (f"; published {span}." if span else "; publication dates unknown."), "",
             "Every sentence of an answer cites its paragraph: click a marker like [1] to read it. "
             "Check a claim with `/check <claim>`; attach a .txt, .md or .html file to add an article.", ""]
    for s in sorted(sources, key=lambda s: (s.outlet, s.title)):
        o = "Outlet unknown" if s.outlet == UNKNOWN_OUTLET else s.outlet
        lines.append(f"- **{md_escape(o)}** — {md_escape(s.title)} ({s.paragraphs} paragraphs"
                     + (f", {s.date}" if s.date else "") + ")")
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
        async with cl.Step(name=f"Indexing {len(accepted)} file(s)", type="tool") as step:
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
        lines.append(f"**Added** to the collection: {names} — {report.paragraphs} paragraphs, citable from now on.")
    if report and report.unchanged:
        lines.append(f"Already indexed, unchanged: {', '.join(md_escape(n) for n in report.unchanged)}.")
    if rejected:
        lines.append("**Not added** (nothing else was changed):\n" + "\n".join(f"- {r}" for r in rejected))
    await cl.Message(content="\n\n".join(lines) or "Nothing to add.", author="Newsdesk").send()
