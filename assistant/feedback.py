"""The thumbs up/down of the chat, read back for the team: ``python -m assistant.feedback [--down]``.

Ratings, like the conversations they judge, are stored by Chainlit's own SQLAlchemy data layer (see
``assistant/ui.py``: SQLite ``<index_dir>/chat.sqlite3`` unless ``ASSISTANT_DATABASE_URL`` names another
database). Chainlit puts the thumbs on the "run" step of a reply; the reply's text is in the assistant
messages under it. The UI stores with each reply what the reader saw as plain text (``metadata.plain``:
no Markdown escapes, sources as footnotes) and the active filters (``metadata.filters``); this module
joins each rating to its question and that text.
"""
from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash before ASCII punctuation (CommonMark)
_EMPHASIS = re.compile(r"(?<!\\)(\*\*|_)")  # the UI's own bold/italic markers; article text has them escaped


def markdown_to_text(md: str | None) -> str | None:
    """A reply as the reader saw it: the UI escapes every punctuation mark of article text and puts
    invisible word joiners into URLs so the page renders them literally; the text is "(1)", "-", not
    "\\(1\\)", "\\-"."""
    if md is None:
        return None
    return _ESCAPED.sub(r"\1", md).replace("\u2060", "")


def plain_text(md: str | None) -> str | None:
    """`markdown_to_text` without the UI's bold and italic markers."""
    return None if md is None else markdown_to_text(_EMPHASIS.sub("", md))


def database_url(settings) -> str:
    """The chat database: ASSISTANT_DATABASE_URL, else the SQLite file beside the index."""
    if settings.database_url:
        return settings.database_url
    path = (Path(settings.index_dir) / "chat.sqlite3").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


@dataclass(frozen=True)
class FeedbackRow:
    id: str
    value: int  # 1 = thumbs up, 0 = thumbs down
    comment: str | None
    question: str | None
    answer: str | None  # plain text, sources as footnotes
    filters: str | None  # the Filters line shown on the answer, if any
    for_id: str
    thread_id: str | None
    created_at: str | None


def _meta(raw: Any) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


async def _rows(url: str, only_down: bool) -> list[FeedbackRow]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            feedbacks = (await conn.execute(text(
                'SELECT f."id", f."forId", f."threadId", f."value", f."comment", s."threadId" AS "stepThread", '
                's."createdAt", s."type", s."output", s."metadata" FROM feedbacks f '
                'LEFT JOIN steps s ON s."id" = f."forId"'
                + (' WHERE f."value" = 0' if only_down else "")))).mappings().all()
            rows = []
            for f in feedbacks:
                thread = f["stepThread"] or f["threadId"]
                replies = (await conn.execute(text(
                    'SELECT "output", "metadata" FROM steps WHERE "parentId" = :id AND "type" = \'assistant_message\' '
                    'ORDER BY "createdAt"'), {"id": f["forId"]})).mappings().all()
                if not replies and f["type"] == "assistant_message":  # the thumbs on the message itself
                    replies = [f]
                question = (await conn.execute(text(
                    'SELECT "output" FROM steps WHERE "threadId" = :t AND "type" = \'user_message\' '
                    'AND "createdAt" <= :at ORDER BY "createdAt" DESC LIMIT 1'),
                    {"t": thread, "at": f["createdAt"] or "9999"})).scalar()
                metas = [_meta(r["metadata"]) for r in replies]
                answer = "\n\n".join(m.get("plain") or plain_text(r["output"]) or "" for m, r in zip(metas, replies))
                filters = next((m["filters"] for m in metas if m.get("filters")), None)
                # Ids as text: PostgreSQL (asyncpg) returns its UUID columns as uuid.UUID, SQLite as text.
                rows.append(FeedbackRow(str(f["id"]), int(f["value"]), f["comment"], question, answer or None,
                                        filters, str(f["forId"]), _text(thread), f["createdAt"]))
    finally:
        await engine.dispose()
    rows.sort(key=lambda r: r.created_at or "", reverse=True)
    rows.sort(key=lambda r: r.value)  # stable: thumbs-down first, each newest first
    return rows


def report(url: str, only_down: bool = False) -> list[FeedbackRow]:
    """Every rating (thumbs-down first, newest first) with its question and the answer's plain text."""
    from concurrent.futures import ThreadPoolExecutor

    # On its own thread: callable from code that already runs an event loop (a test driving a browser).
    with ThreadPoolExecutor(max_workers=1) as ex:
        return ex.submit(asyncio.run, _rows(url, only_down)).result()


def main() -> None:
    """Print the answers journalists rated, thumbs-down first."""
    import argparse

    from .config import get_settings

    ap = argparse.ArgumentParser(prog="python -m assistant.feedback", description=main.__doc__)
    ap.add_argument("--db", default=None, help="database URL (default: ASSISTANT_DATABASE_URL, else the SQLite "
                                               "file <index_dir>/chat.sqlite3)")
    ap.add_argument("--down", action="store_true", help="only thumbs-down")
    args = ap.parse_args()
    url = args.db or database_url(get_settings())
    if "://" not in url:  # a plain file name
        url = f"sqlite+aiosqlite:///{Path(url).resolve()}"
    rows = report(url, only_down=args.down)
    if not rows:
        print("No feedback yet.")
    for r in rows:
        print(f"{'DOWN' if r.value == 0 else 'UP  '} {r.created_at or ''}  Q: {r.question or '?'}")
        if r.filters:
            print(f"   {r.filters}")
        print("   A: " + (r.answer or "?")[:300].replace("\n", "\n      "))
        if r.comment:
            print(f"   comment: {r.comment}")


if __name__ == "__main__":
    main()
