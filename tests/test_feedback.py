"""Conversations, their citations and the thumbs up/down are kept by Chainlit's own SQLAlchemy data layer
(issue 11.7): the tables the UI creates are the ones that layer reads and writes, stored citation panels
come back from the local storage client, and the team's report reads each rating with its question, the
answer as plain text and the filters it was given under. Every store test runs on SQLite (the default) and
on a real PostgreSQL server (the shared deployment's ASSISTANT_DATABASE_URL; binaries from the pgserver
wheel, marked e2e)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

pytest.importorskip("aiosqlite")

from chainlit.context import ChainlitContext, context_var  # noqa: E402
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer  # noqa: E402
from chainlit.session import HTTPSession  # noqa: E402
from chainlit.types import Feedback, Pagination, ThreadFilter  # noqa: E402
from chainlit.user import User  # noqa: E402

from assistant import feedback  # noqa: E402
from assistant.ui import (ChatDataLayer, LocalStorageClient, chat_schema, create_chat_tables,  # noqa: E402
                          escape_keep_markers)
from tests.ui_helpers import create_database  # noqa: E402

T0 = "2026-01-01T10:00:00.000Z"


def _run(coro):
    return asyncio.run(coro)


def _url(path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def store(request, tmp_path):
    if request.param == "sqlite":
        db = tmp_path / "chat.sqlite3"
        url = _url(db)
    else:
        url = create_database(request.getfixturevalue("postgres"), "t_" + uuid.uuid4().hex[:12])
        db = url
    create_chat_tables(url)
    create_chat_tables(url)  # idempotent: every start runs it
    return {"db": db, "url": url, "dialect": request.param, "files": LocalStorageClient(tmp_path / "files")}


def _sql(store, query: str) -> list[tuple]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run():
        engine = create_async_engine(store["url"])
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.execute(text(query))).all()]
        finally:
            await engine.dispose()

    return _run(run())


async def _in_session(store, work, layer_class=SQLAlchemyDataLayer):
    """Run `work(layer)` as Chainlit does, inside a (non-websocket) session context."""
    context_var.set(ChainlitContext(HTTPSession(id=str(uuid.uuid4()), thread_id="t", client_type="webapp")))
    layer = layer_class(store["url"], storage_provider=store["files"])
    try:
        return await work(layer)
    finally:
        await layer.close()


def _ids():
    return {k: str(uuid.uuid4()) for k in ("thread", "q", "run", "a")}


async def _conversation(layer, ids, answer_md, meta, user="alice"):
    """What Chainlit persists for one exchange: the user, the thread, the question, the run step the thumbs
    belong to and the answer (created empty, then updated when the stream ends)."""
    persisted = await layer.create_user(User(identifier=user))
    await layer.update_thread(ids["thread"], name="What did Hegseth say?", user_id=persisted.id)
    await layer.create_step({"id": ids["q"], "threadId": ids["thread"], "type": "user_message", "name": user,
                             "output": "What did Hegseth say?", "createdAt": T0, "streaming": False,
                             "metadata": {}})
    await layer.create_step({"id": ids["run"], "threadId": ids["thread"], "type": "run", "name": "on_message",
                             "output": "", "createdAt": "2026-01-01T10:00:00.100Z", "streaming": False,
                             "autoCollapse": False, "defaultOpen": False, "showInput": "json"})
    step = {"id": ids["a"], "threadId": ids["thread"], "parentId": ids["run"], "type": "assistant_message",
            "name": "Newsdesk", "output": "", "createdAt": "2026-01-01T10:00:00.200Z", "streaming": True,
            "metadata": {}}
    await layer.create_step(step)
    await layer.update_step({**step, "output": answer_md, "streaming": False, "metadata": meta})
    return persisted


PLAIN = "Zelensky (in Kyiv) said a cease-fire \u2014 \u201cnot now\u201d \u2014 was off: see https://example.org [1]."


def test_rating_is_reported_with_question_plain_answer_and_filters(store):
    ids = _ids()
    shown = f"_Filters: only The Bugle \u2014 3 of 5 articles left out\\._\n\n{escape_keep_markers(PLAIN)}"
    meta = {"plain": "Filters: only The Bugle \u2014 3 of 5 articles left out.\n\n" + PLAIN
                     + "\n\nSources\n[1] The Bugle, \u201cTalks\u201d, paragraph 2",
            "filters": "Filters: only The Bugle \u2014 3 of 5 articles left out."}

    async def work(layer):
        await _conversation(layer, ids, shown, meta)
        return await layer.upsert_feedback(Feedback(forId=ids["run"], value=0, threadId=ids["thread"],
                                                    comment="wrong quote"))

    fid = _run(_in_session(store, work))
    rows = feedback.report(store["url"])
    assert len(rows) == 1
    r = rows[0]
    assert (r.id, r.value, r.comment, r.question) == (fid, 0, "wrong quote", "What did Hegseth say?")
    assert r.filters == "Filters: only The Bugle \u2014 3 of 5 articles left out."
    assert PLAIN in r.answer and "\\" not in r.answer and "[1] The Bugle" in r.answer
    # Chainlit's own table holds the rating; no other feedback store is left.
    assert _sql(store, 'SELECT "value", "comment" FROM feedbacks') == [(0, "wrong quote")]
    if store["dialect"] == "sqlite":
        tables = {t for (t,) in _sql(store, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    else:
        tables = {t for (t,) in _sql(store, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        # The documented column types, as the server reports them.
        types = dict(_sql(store, "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = 'public'"))
        assert (types["threads.id"], types["threads.metadata"], types["threads.tags"]) == ("uuid", "jsonb", "ARRAY")
        assert types["feedbacks.forId"] == "uuid" and types["steps.metadata"] == "jsonb"
    assert tables == {"users", "threads", "steps", "elements", "feedbacks"}


def test_an_answer_without_stored_plain_text_is_reported_unescaped(store):
    ids = _ids()

    async def work(layer):
        await _conversation(layer, ids, escape_keep_markers(PLAIN), {})
        await layer.upsert_feedback(Feedback(forId=ids["run"], value=1, threadId=ids["thread"]))

    _run(_in_session(store, work))
    assert feedback.report(store["url"])[0].answer == PLAIN


def test_changing_a_vote_replaces_it_and_deleting_removes_it(store):
    ids = _ids()

    async def work(layer):
        await _conversation(layer, ids, "x", {})
        first = await layer.upsert_feedback(Feedback(forId=ids["run"], value=0, threadId=ids["thread"]))
        again = await layer.upsert_feedback(Feedback(forId=ids["run"], value=1, threadId=ids["thread"], id=first))
        assert again == first
        assert [r.value for r in await feedback._rows(store["url"], False)] == [1]
        assert await feedback._rows(store["url"], True) == []
        await layer.delete_feedback(first)

    _run(_in_session(store, work))
    assert feedback.report(store["url"]) == []


def test_thread_history_and_stored_citation_panels_come_back(store, tmp_path):
    """The sidebar lists the user's threads; a resumed thread has its messages, and each citation panel
    is read back from the local storage client (Chainlit's S3/Azure/GCS clients need a network)."""
    import chainlit as cl

    ids = _ids()

    async def work(layer):
        user = await _conversation(layer, ids, "He said so [1].", {"standalone": "What did Hegseth say?"})
        panel = cl.Text(name="[1]", content="**The Bugle**\n\n> \u00b62 \u00b7 cited \u2014 He said so.",
                        display="side", thread_id=ids["thread"], for_id=ids["a"])
        await layer.create_element(panel)
        listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=user.id))
        thread = await layer.get_thread(ids["thread"])
        other = await layer.create_user(User(identifier="bob"))
        bobs = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=other.id))
        return user, listed, thread, bobs

    user, listed, thread, bobs = _run(_in_session(store, work))
    assert [t["id"] for t in listed.data] == [ids["thread"]] and bobs.data == []
    assert thread["userIdentifier"] == "alice"
    assert [s["type"] for s in thread["steps"]] == ["user_message", "run", "assistant_message"]
    assert thread["steps"][-1]["output"] == "He said so [1]."
    (element,) = thread["elements"]
    assert element["name"] == "[1]" and element["forId"] == ids["a"] and element["display"] == "side"
    assert element["url"].startswith("/newsdesk/chat-files/" + user.id + "/")
    key = element["objectKey"]
    assert key.startswith(user.id + "/") and store["files"].path(key).read_text(encoding="utf-8").startswith(
        "**The Bugle**")
    assert store["files"].path(key).is_relative_to(tmp_path / "files")


def test_storage_keys_cannot_leave_the_folder(tmp_path):
    files = LocalStorageClient(tmp_path / "files")
    assert files.path("../../etc/passwd").is_relative_to(tmp_path / "files")
    assert files.path("u/e/[1]").name == "%5B1%5D"
    assert files.url("u/e/[1]") == "/newsdesk/chat-files/u/e/%5B1%5D"


def test_postgresql_gets_the_documented_column_types():
    sql = " ".join(chat_schema("postgresql"))
    assert '"metadata" JSONB' in sql and '"tags" TEXT[]' in sql and '"id" UUID PRIMARY KEY' in sql
    assert "JSONB" not in " ".join(chat_schema("sqlite"))


def test_report_command_prints_failed_answers(store, capsys, monkeypatch):
    ids = _ids()

    async def work(layer):
        await _conversation(layer, ids, "x", {"plain": "He said so [1].", "filters": "Filters: only X."})
        await layer.upsert_feedback(Feedback(forId=ids["run"], value=0, threadId=ids["thread"],
                                             comment="missed the point"))

    _run(_in_session(store, work))
    monkeypatch.setattr("sys.argv", ["feedback", "--db", str(store["db"]), "--down"])  # a file name or a URL
    feedback.main()
    out = capsys.readouterr().out
    assert "What did Hegseth say?" in out and "missed the point" in out and "Filters: only X." in out


def test_the_hand_written_feedback_store_is_gone():
    assert not hasattr(feedback, "FeedbackStore") and not hasattr(feedback, "FeedbackDataLayer")


def test_a_thread_is_not_renamed_to_nothing(store):
    """A chat that begins with an attachment alone: Chainlit writes the first message's text, "", as the
    thread's name from a task of its own, racing the name the UI gives it ("Add to the collection: x.txt");
    in either order the UI's name stays (the history listed such a chat as "Untitled Conversation")."""
    name = "Add to the collection: bridge.md"

    async def work(layer):
        user = await layer.create_user(User(identifier="alice"))
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        await layer.update_thread(first, name="", user_id=user.id)  # Chainlit's first
        await layer.update_thread(first, name=name)
        await layer.update_thread(second, name=name)  # the UI's first
        await layer.update_thread(second, name="", user_id=user.id)
        listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=user.id))
        return {t["id"]: t["name"] for t in listed.data}, first, second

    names, first, second = _run(_in_session(store, work, ChatDataLayer))
    assert names == {first: name, second: name}


def test_an_empty_first_interaction_is_not_sent_to_the_page():
    """The page disables the thumbs of a chat whose first interaction is "" (an attachment alone); Chainlit's
    own task sending it could arrive after the UI's real name on a busy server (CI), so it is not sent."""
    from types import SimpleNamespace

    from chainlit.emitter import ChainlitEmitter

    calls = []

    class Emitter:
        session = SimpleNamespace(thread_id="t1")

        async def flush_thread_queues(self, interaction):
            calls.append(("flush", interaction))

        async def emit(self, event, data):
            calls.append((event, data))

    _run(ChainlitEmitter.init_thread(Emitter(), ""))
    assert calls == [("flush", "")]  # the thread's queued writes still go out
    calls.clear()
    _run(ChainlitEmitter.init_thread(Emitter(), "What did Hegseth say?"))
    assert calls == [("flush", "What did Hegseth say?"),
                     ("first_interaction", {"interaction": "What did Hegseth say?", "thread_id": "t1"})]
