"""Thumbs up/down on chat answers, kept in a local SQLite file (``settings.feedback_db``).

Chainlit shows feedback buttons only when a data layer is configured, and sends each click to the data
layer's ``upsert_feedback``. `FeedbackDataLayer` is the smallest data layer that does that job without a
database server: it stores feedback plus the text of chat messages (so a thumbs-down can be read next to
the question and the answer it judged) and signed-in user names; thread history stays off (the other
hooks are no-ops).

The team reads the results with ``python -m assistant.feedback`` (failed answers first) or any SQLite
client: ``SELECT * FROM feedback_report``.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

from chainlit.data.base import BaseDataLayer
from chainlit.types import Feedback, PageInfo, PaginatedResponse, Pagination, ThreadFilter
from chainlit.user import PersistedUser, User

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, thread_id TEXT, parent_id TEXT, type TEXT, text TEXT, created_at TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY, message_id TEXT NOT NULL, thread_id TEXT, value INTEGER NOT NULL,
    comment TEXT, created_at TEXT, updated_at TEXT
);
-- Signed-in users (only with password/header authentication): Chainlit wants a persisted user.
CREATE TABLE IF NOT EXISTS users (
    identifier TEXT PRIMARY KEY, id TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_message ON feedback(message_id);
-- One row per judged answer, with the question asked just before it in the same conversation. Chainlit
-- puts the thumbs on the "run" step of a reply; the answer text is in the assistant messages under it.
CREATE VIEW IF NOT EXISTS feedback_report AS
SELECT f.id, f.value, CASE f.value WHEN 1 THEN 'up' ELSE 'down' END AS verdict, f.comment, f.updated_at,
       (SELECT q.text FROM messages q WHERE q.thread_id = COALESCE(m.thread_id, f.thread_id)
          AND q.type = 'user_message' AND q.created_at <= COALESCE(m.created_at, f.created_at)
          ORDER BY q.created_at DESC LIMIT 1) AS question,
       COALESCE((SELECT group_concat(a.text, char(10) || char(10)) FROM messages a
                 WHERE a.parent_id = f.message_id AND a.type = 'assistant_message'),
                CASE WHEN m.type = 'assistant_message' THEN m.text END) AS answer,
       f.message_id, f.thread_id
FROM feedback f LEFT JOIN messages m ON m.id = f.message_id;
"""


@dataclass(frozen=True)
class FeedbackRow:
    id: str
    value: int  # 1 = thumbs up, 0 = thumbs down
    comment: str | None
    question: str | None
    answer: str | None
    message_id: str
    updated_at: str


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash before ASCII punctuation (CommonMark)


def markdown_to_text(md: str | None) -> str | None:
    """A reply as the reader saw it: the UI escapes every punctuation mark of article text and puts
    invisible word joiners into URLs so the page renders them literally; the store keeps the text
    ("(1)", "-"), not "\\(1\\)", "\\-"."""
    if md is None:
        return None
    return _ESCAPED.sub(r"\1", md).replace("\u2060", "")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class FeedbackStore:
    """The SQLite file. One connection per call: SQLite handles the locking, and Chainlit calls us from
    several event-loop tasks and worker threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def record_message(self, message_id: str, thread_id: str | None, type_: str, text: str | None,
                       created_at: str | None = None, parent_id: str | None = None) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO messages(id, thread_id, parent_id, type, text, created_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET text = COALESCE(excluded.text, messages.text)",
                (message_id, thread_id, parent_id, type_, text, created_at or _now()))

    def upsert(self, message_id: str, value: int, comment: str | None = None, thread_id: str | None = None,
               feedback_id: str | None = None) -> str:
        """One verdict per message: a second click on the same answer replaces the first."""
        if value not in (0, 1):
            raise ValueError("feedback value must be 0 (thumbs down) or 1 (thumbs up)")
        with self._lock, self._connect() as db:
            row = db.execute("SELECT id FROM feedback WHERE id = ? OR message_id = ?",
                             (feedback_id or "", message_id)).fetchone()
            fid = row["id"] if row else (feedback_id or str(uuid.uuid4()))
            now = _now()
            db.execute(
                "INSERT INTO feedback(id, message_id, thread_id, value, comment, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET value = excluded.value, "
                "comment = excluded.comment, updated_at = excluded.updated_at",
                (fid, message_id, thread_id, value, comment, now, now))
        return fid

    def user(self, identifier: str, create: bool = False) -> tuple[str, str] | None:
        """(id, created_at) of a signed-in user; created on first sign-in."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT id, created_at FROM users WHERE identifier = ?", (identifier,)).fetchone()
            if row is None and create:
                row = (str(uuid.uuid4()), _now())
                db.execute("INSERT INTO users(identifier, id, created_at) VALUES (?,?,?)", (identifier, *row))
        return tuple(row) if row else None

    def delete(self, feedback_id: str) -> bool:
        with self._lock, self._connect() as db:
            return db.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,)).rowcount > 0

    def report(self, only_down: bool = False) -> list[FeedbackRow]:
        sql = "SELECT * FROM feedback_report" + (" WHERE value = 0" if only_down else "")
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY value ASC, updated_at DESC").fetchall()
        return [FeedbackRow(r["id"], r["value"], r["comment"], r["question"], r["answer"], r["message_id"],
                            r["updated_at"]) for r in rows]


class FeedbackDataLayer(BaseDataLayer):
    """Chainlit data layer that persists feedback (and the message texts it refers to) and nothing else."""

    def __init__(self, store: FeedbackStore):
        self.store = store

    async def upsert_feedback(self, feedback: Feedback) -> str:
        return self.store.upsert(feedback.forId, int(feedback.value), feedback.comment, feedback.threadId,
                                 feedback.id)

    async def delete_feedback(self, feedback_id: str) -> bool:
        return self.store.delete(feedback_id)

    async def create_step(self, step_dict) -> None:
        kind = step_dict.get("type")
        if kind in ("user_message", "assistant_message", "run"):
            text = step_dict.get("output") if kind != "run" else None
            if kind == "assistant_message":  # replies are escaped Markdown; a question is stored as typed
                text = markdown_to_text(text)
            self.store.record_message(step_dict["id"], step_dict.get("threadId"), kind, text,
                                      step_dict.get("createdAt"), step_dict.get("parentId"))

    async def update_step(self, step_dict) -> None:
        await self.create_step(step_dict)

    async def get_user(self, identifier: str) -> Optional[PersistedUser]:
        row = self.store.user(identifier)
        return PersistedUser(id=row[0], createdAt=row[1], identifier=identifier) if row else None

    async def create_user(self, user: User) -> Optional[PersistedUser]:
        row = self.store.user(user.identifier, create=True)
        return PersistedUser(id=row[0], createdAt=row[1], identifier=user.identifier, metadata=user.metadata)

    # --- everything below: no thread history or stored elements (the index holds the articles)
    async def create_element(self, element) -> None:
        return None

    async def get_element(self, thread_id: str, element_id: str):
        return None

    async def delete_element(self, element_id: str, thread_id: Optional[str] = None) -> None:
        return None

    async def delete_step(self, step_id: str) -> None:
        return None

    async def get_thread_author(self, thread_id: str) -> str:
        return ""

    async def delete_thread(self, thread_id: str) -> None:
        return None

    async def list_threads(self, pagination: Pagination, filters: ThreadFilter) -> PaginatedResponse:
        return PaginatedResponse(data=[], pageInfo=PageInfo(hasNextPage=False, startCursor=None, endCursor=None))

    async def get_thread(self, thread_id: str):
        return None

    async def update_thread(self, thread_id: str, name: Optional[str] = None, user_id: Optional[str] = None,
                            metadata: Optional[Dict] = None, tags: Optional[List[str]] = None) -> None:
        return None

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        return None

    async def get_favorite_steps(self, user_id: str) -> list:
        return []


def main() -> None:
    """Print the answers journalists marked, thumbs-down first."""
    import argparse

    from .config import get_settings

    ap = argparse.ArgumentParser(prog="python -m assistant.feedback", description=main.__doc__)
    ap.add_argument("--db", default=None, help="feedback SQLite file (default: ASSISTANT_FEEDBACK_DB)")
    ap.add_argument("--down", action="store_true", help="only thumbs-down")
    args = ap.parse_args()
    store = FeedbackStore(args.db or get_settings().feedback_db)
    rows = store.report(only_down=args.down)
    if not rows:
        print("No feedback yet.")
    for r in rows:
        print(f"{'👎' if r.value == 0 else '👍'} {r.updated_at}  Q: {r.question or '?'}")
        print(f"   A: {(r.answer or '?')[:300]}")
        if r.comment:
            print(f"   comment: {r.comment}")


if __name__ == "__main__":
    main()
