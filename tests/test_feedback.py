"""Thumbs up/down from the chat end up in a local SQLite file the team can read."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from assistant.feedback import FeedbackDataLayer, FeedbackStore


def _run(coro):
    return asyncio.run(coro)


@pytest.fixture
def layer(tmp_path):
    return FeedbackDataLayer(FeedbackStore(tmp_path / "sub" / "feedback.sqlite3"))


def _conversation(layer, thread="t1"):
    # What Chainlit persists for one exchange: the question, the run step the thumbs belong to, the answer.
    _run(layer.create_step({"id": "q1", "threadId": thread, "type": "user_message",
                            "output": "What did Hegseth say?", "createdAt": "2026-01-01T10:00:00.000Z"}))
    _run(layer.create_step({"id": "run1", "threadId": thread, "type": "run", "output": "",
                            "createdAt": "2026-01-01T10:00:00.100Z", "parentId": None}))
    _run(layer.create_step({"id": "a1", "threadId": thread, "type": "assistant_message", "output": "",
                            "createdAt": "2026-01-01T10:00:00.200Z", "parentId": "run1"}))
    # The streamed answer arrives as an update of the same step.
    _run(layer.update_step({"id": "a1", "threadId": thread, "type": "assistant_message",
                            "output": "He said NATO membership was unrealistic [1].", "parentId": "run1",
                            "createdAt": "2026-01-01T10:00:00.200Z"}))


def test_thumbs_down_is_reported_with_its_question_and_answer(layer):
    from chainlit.types import Feedback

    _conversation(layer)
    fid = _run(layer.upsert_feedback(Feedback(forId="run1", value=0, threadId="t1", comment="wrong quote")))
    rows = layer.store.report()
    assert len(rows) == 1
    r = rows[0]
    assert (r.id, r.value, r.comment) == (fid, 0, "wrong quote")
    assert r.question == "What did Hegseth say?"
    assert r.answer == "He said NATO membership was unrealistic [1]."


def test_changing_a_vote_replaces_it_and_deleting_removes_it(layer):
    from chainlit.types import Feedback

    _conversation(layer)
    first = _run(layer.upsert_feedback(Feedback(forId="run1", value=0, threadId="t1")))
    second = _run(layer.upsert_feedback(Feedback(forId="run1", value=1, threadId="t1", id=first)))
    assert second == first
    assert [r.value for r in layer.store.report()] == [1]
    assert layer.store.report(only_down=True) == []
    assert _run(layer.delete_feedback(first)) is True
    assert layer.store.report() == []


def test_feedback_survives_a_restart_and_is_plain_sqlite(tmp_path):
    from chainlit.types import Feedback

    db = tmp_path / "feedback.sqlite3"
    layer = FeedbackDataLayer(FeedbackStore(db))
    _conversation(layer)
    _run(layer.upsert_feedback(Feedback(forId="run1", value=1, threadId="t1")))
    reopened = FeedbackStore(db)  # schema creation is idempotent
    assert [r.question for r in reopened.report()] == ["What did Hegseth say?"]
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT verdict FROM feedback_report").fetchall() == [("up",)]


def test_invalid_value_is_rejected(tmp_path):
    with pytest.raises(ValueError):
        FeedbackStore(tmp_path / "f.sqlite3").upsert("m1", 5)


def test_report_command_prints_failed_answers(tmp_path, capsys, monkeypatch):
    from chainlit.types import Feedback

    from assistant import feedback

    db = tmp_path / "feedback.sqlite3"
    layer = FeedbackDataLayer(FeedbackStore(db))
    _conversation(layer)
    _run(layer.upsert_feedback(Feedback(forId="run1", value=0, threadId="t1", comment="missed the point")))
    monkeypatch.setattr("sys.argv", ["feedback", "--db", str(db), "--down"])
    feedback.main()
    out = capsys.readouterr().out
    assert "What did Hegseth say?" in out and "missed the point" in out


def test_signed_in_users_are_persisted_once(layer):
    from chainlit.user import User

    assert _run(layer.get_user("alice")) is None
    created = _run(layer.create_user(User(identifier="alice")))
    again = _run(layer.get_user("alice"))
    assert created.id == again.id and again.identifier == "alice"


def test_answer_text_is_stored_without_markdown_escapes(layer):
    # Issue 11.8/11.7: the UI escapes every punctuation mark; the store keeps what the reader saw.
    from chainlit.types import Feedback

    from assistant.ui import escape_keep_markers

    plain = "Zelensky (in Kyiv) said a cease-fire \u2014 \u201cnot now\u201d \u2014 was off: see https://example.org [1]."
    _conversation(layer)
    _run(layer.update_step({"id": "a1", "threadId": "t1", "type": "assistant_message", "parentId": "run1",
                            "output": escape_keep_markers(plain), "createdAt": "2026-01-01T10:00:00.200Z"}))
    _run(layer.upsert_feedback(Feedback(forId="run1", value=0, threadId="t1")))
    answer = layer.store.report()[0].answer
    assert answer == plain and "\\(" not in answer and "\\-" not in answer
    # A question is stored exactly as typed, backslashes included.
    _run(layer.create_step({"id": "q2", "threadId": "t2", "type": "user_message", "output": r"what is \(x\)?",
                            "createdAt": "2026-01-01T11:00:00.000Z"}))
    with sqlite3.connect(layer.store.path) as db:
        assert db.execute("SELECT text FROM messages WHERE id = 'q2'").fetchone()[0] == r"what is \(x\)?"
