"""Loopback load test of the chat UI (issue 13, "Load"): N concurrent chat users for a fixed time, asking
questions and checking claims through the real Chainlit server and its real socket.io protocol.

    .venv/bin/python -m benchmarks.load_ui                                  # 50 users, 120 s
    .venv/bin/python -m benchmarks.load_ui --users 5 --seconds 15           # the smoke (tests/test_robustness.py)
    .venv/bin/python -m benchmarks.load_ui --out benchmarks/results/load_ui.json
    .venv/bin/python -m benchmarks.load_ui --users 20 --seconds 60 --password  # password sign-in

What it does: copies the bundled articles into a temporary folder and starts `chainlit run assistant/ui.py
--headless --host 127.0.0.1` on a free port (tests/ui_helpers.running_app: loopback, so the local user is
signed in by Chainlit's `POST /auth/header`, as the page does; with --password the server gets a random
ASSISTANT_AUTH_PASSWORD and each user signs in through `POST /login` as `load-user-<n>`). Each user is one coroutine with its own
cookie, its own socket.io connection (`/ws/socket.io`, websocket transport, `auth` = sessionId/clientType
as the page sends) and so its own Chainlit session and thread. After on_chat_start (its `set_commands`) a user loops until
the time is up: think 1-5 s (seeded), then send one `client_message` - a labelled question, or `/check
<claim>` every third turn - and wait for `task_end`. Users start on different offsets of the question and
claim lists, so at any moment they ask different things.

What is checked, per reply (any failure is counted as an error, with an example kept):
- the reply arrives (a `task_end` within --timeout s), the connection never drops;
- no Chainlit "Error" message and no "Something went wrong" text;
- exactly the reply messages of this turn: no assistant message arrives while the user has nothing
  outstanding, every `stream_token` names a message this chat was sent;
- it is the answer to *this* question: an answer's metadata carries the question it answered
  (`standalone`), which must be the question sent or, for a follow-up, exactly the rule rewrite of it over
  this chat's own earlier questions (`assistant.chat.rule_rewrite`, what the server's ChatSession runs); a
  check starts with "**Claim:** <this claim>"; and every answer to the same searched question is the same,
  whichever chat asked it (the first one seen is the reference), so a reply computed for another user's
  question cannot pass. `ChatUser.judge` does this on what arrived; tests/test_robustness.py feeds it
  swapped transcripts to show it fires.

Reported: users, seconds, turns, errors, lost (no reply), mixed (reply to another question), and p50/p95/max
of send -> `task_end` for questions and checks. Exit status 1 on any error. Not in the default test run.
Timings depend on the machine: it is shared and has 2 cores here, so figures are an upper bound.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .common import CLAIMS, DOCUMENTS, QUESTIONS, ROOT, latency_stats, load_jsonl


def _unescape(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)


@dataclass
class Stats:
    turns: int = 0
    errors: list[str] = field(default_factory=list)
    lost: int = 0
    mixed: int = 0
    ask_s: list[float] = field(default_factory=list)
    check_s: list[float] = field(default_factory=list)
    reference: dict[str, str] = field(default_factory=dict)  # question -> the first answer text seen
    started: float = 0.0
    per_user: dict[int, int] = field(default_factory=dict)

    def error(self, who: str, what: str) -> None:
        self.errors.append(f"user {who}: {what}")


class ChatUser:
    def __init__(self, n: int, url: str, stats: Stats, questions: list[str], claims: list[str], seed: int,
                 timeout: float, password: str | None = None):
        self.n, self.url, self.stats, self.timeout, self.password = n, url, stats, timeout, password
        self.questions, self.claims = questions, claims
        self.rng = random.Random(seed * 1000 + n)
        self.known_ids: set[str] = set()
        self.outstanding: str | None = None  # the text sent, while a reply is awaited
        self.replies: list[dict] = []
        self.done = asyncio.Event()
        self.welcome = asyncio.Event()
        self.asked: list[str] = []
        self.standalones: list[str] = []  # what the server searched for, per question (its rewrite history)

    async def sign_in(self) -> str:
        import httpx

        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            if self.password is None:
                r = await http.post("/auth/header")  # loopback: the local user, as the page does
            else:  # the sign-in form: a user name of its own (its own history) and the shared password
                r = await http.post("/login", data={"username": f"load-user-{self.n}", "password": self.password})
            r.raise_for_status()
            return "; ".join(f"{k}={v}" for k, v in http.cookies.items())

    def _on_step(self, kind: str, step: dict) -> None:
        sid = step.get("id")
        if kind in ("new_message", "stream_start"):
            self.known_ids.add(sid)
        elif sid not in self.known_ids:
            self.stats.error(self.n, f"{kind} for a message this chat was never sent ({sid})")
        if step.get("type") != "assistant_message":
            return
        if step.get("name") == "Error" or "something went wrong" in (step.get("output") or "").lower():
            self.stats.error(self.n, f"error reply to {self.outstanding!r}: {(step.get('output') or '')[:200]}")
        if (step.get("output") or "").startswith("**Note:**"):
            return  # an index notice of on_chat_start (e.g. a repaired index), not a reply
        if self.outstanding is None:
            if not self.asked:
                self.stats.error(self.n, f"message before the first question: {(step.get('output') or '')[:120]!r}")
            else:
                self.stats.error(self.n, f"assistant message with nothing outstanding: {(step.get('output') or '')[:120]!r}")
            return
        if kind in ("new_message", "update_message"):
            self.replies.append(step)

    async def run(self, clock: dict, all_ready: asyncio.Event, offset: int) -> None:
        import socketio

        cookie = await self.sign_in()
        sio = socketio.AsyncClient(reconnection=False)
        dropped = asyncio.Event()
        for ev in ("new_message", "update_message", "stream_start"):
            sio.on(ev, (lambda ev: lambda data: self._on_step(ev, data))(ev))

        @sio.on("stream_token")
        def _token(data):
            if data.get("id") not in self.known_ids:
                self.stats.error(self.n, f"stream_token for a message this chat was never sent ({data.get('id')})")

        @sio.on("set_commands")
        def _ready(_data=None):
            self.welcome.set()  # the last thing on_chat_start sends (it sends no welcome message)

        @sio.on("task_end")
        def _end(_data=None):
            self.done.set()

        @sio.on("disconnect")
        def _gone(*_a):
            dropped.set()

        await sio.connect(self.url, headers={"Cookie": cookie}, transports=["websocket"],
                          socketio_path="/ws/socket.io",
                          auth={"sessionId": str(uuid.uuid4()), "clientType": "webapp", "userEnv": "{}",
                                "chatProfile": None, "threadId": None}, wait_timeout=30)
        try:
            await sio.emit("connection_successful")
            try:
                await asyncio.wait_for(self.welcome.wait(), max(self.timeout, 300))
            except asyncio.TimeoutError:
                self.stats.error(self.n, "the chat did not start (no set_commands)")
            clock["ready"] += 1
            if clock["ready"] == clock["users"]:
                clock["until"] = time.monotonic() + clock["seconds"]
                self.stats.started = time.monotonic()
                all_ready.set()
            await all_ready.wait()  # the timed phase starts when every chat is open
            until = clock["until"]
            turn = 0
            while time.monotonic() < until:
                await asyncio.sleep(self.rng.uniform(1.0, 5.0))
                if time.monotonic() >= until:
                    break
                is_check = turn % 3 == 2
                pool = self.claims if is_check else self.questions
                item = pool[(offset + turn) % len(pool)]
                text = f"/check {item}" if is_check else item
                turn += 1
                await self._turn(sio, text, item, is_check, dropped)
                if dropped.is_set():
                    self.stats.error(self.n, "connection dropped")
                    return
        finally:
            await sio.disconnect()

    async def _turn(self, sio, text: str, item: str, is_check: bool, dropped: asyncio.Event) -> None:
        self.done.clear()
        self.replies = []
        self.outstanding = text
        self.asked.append(item)
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        t0 = time.perf_counter()
        await sio.emit("client_message", {"message": {
            "id": str(uuid.uuid4()), "name": "User", "type": "user_message", "output": text,
            "createdAt": now}, "fileReferences": []})
        try:
            await asyncio.wait_for(self.done.wait(), self.timeout)
        except asyncio.TimeoutError:
            self.stats.lost += 1
            self.stats.error(self.n, f"no reply within {self.timeout} s to {text!r}")
            self.outstanding = None
            return
        elapsed = time.perf_counter() - t0
        self.outstanding = None
        self.stats.turns += 1
        self.stats.per_user[self.n] = self.stats.per_user.get(self.n, 0) + 1
        (self.stats.check_s if is_check else self.stats.ask_s).append(elapsed)
        self.judge(text, item, is_check)

    def judge(self, text: str, item: str, is_check: bool) -> None:
        """Is what arrived in this turn (self.replies) the one reply to `item`, this chat's own? Counts a
        lost or mixed-up reply in the stats. Separate from the socket so a test can feed it a transcript
        (tests/test_robustness.py proves it catches a reply delivered to the wrong chat)."""
        # The final state of each assistant message of this turn (updates replace the first send).
        final: dict[str, dict] = {}
        for step in self.replies:
            final[step["id"]] = step
        if not final:
            self.stats.lost += 1
            self.stats.error(self.n, f"task ended with no reply to {text!r}")
            return
        if len(final) != 1:
            self.stats.error(self.n, f"{len(final)} replies to {text!r}")
        reply = list(final.values())[-1]
        out = reply.get("output") or ""
        if is_check:
            head = _unescape(out.splitlines()[0]) if out else ""
            if head != f"**Claim:** {item}":
                self.stats.mixed += 1
                self.stats.error(self.n, f"check of {item!r} answered {head[:150]!r}")
            return
        meta = reply.get("metadata") or {}
        asked = meta.get("standalone") or ""
        # The question this chat's session should have searched for: `item` itself, or, for a follow-up,
        # the rule rewrite of it over this chat's own earlier questions (the UI's ChatSession runs the same
        # rule; the load test has no LLM). Another chat's question is neither.
        from assistant.chat import rule_rewrite

        expected = rule_rewrite(item, self.standalones)
        # The server's session history holds what it searched for this chat, never another chat's question.
        self.standalones.append(asked if asked in (item, expected) else expected)
        if asked not in (item, expected):
            self.stats.mixed += 1
            self.stats.error(self.n, f"{item!r} answered as {asked!r}")
            return
        ref = self.stats.reference.setdefault(asked, out)
        if ref != out:
            self.stats.mixed += 1
            self.stats.error(self.n, f"answer to {asked!r} differs from the first one seen: {out[:150]!r}")

async def _load(url: str, users: int, seconds: float, timeout: float, seed: int,
                password: str | None = None) -> Stats:
    questions = [q["question"] for q in load_jsonl(QUESTIONS)]
    claims = [c["claim"] for c in load_jsonl(CLAIMS)]
    stats = Stats()
    clock = {"users": users, "ready": 0, "until": 0.0, "seconds": seconds}
    all_ready = asyncio.Event()
    chats = [ChatUser(i, url, stats, questions, claims, seed, timeout, password) for i in range(users)]
    spread = max(1, len(questions) // users)
    results = await asyncio.gather(*(c.run(clock, all_ready, i * spread + i) for i, c in enumerate(chats)),
                                   return_exceptions=True)
    for i, r in enumerate(results):
        if isinstance(r, BaseException):
            stats.error(i, f"{type(r).__name__}: {r}")
    return stats


def run(users: int = 50, seconds: float = 120.0, timeout: float = 120.0, seed: int = 13,
        log_dir: Path | None = None, password: str | None = None) -> dict:
    sys.path.insert(0, str(ROOT))
    from tests.ui_helpers import running_app

    tmp = Path(tempfile.mkdtemp(prefix="load-ui-"))
    try:
        docs = tmp / "documents"
        shutil.copytree(DOCUMENTS, docs)
        env = {"ASSISTANT_DOCUMENTS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(tmp / "index")}
        if password is not None:
            env["ASSISTANT_AUTH_PASSWORD"] = password
        log = (log_dir or tmp) / "chainlit-load.log"
        with running_app(env, log, timeout=300) as url:
            stats = asyncio.run(_load(url, users, seconds, timeout, seed, password))
            wall = time.monotonic() - stats.started if stats.started else 0.0
        idle = [i for i in range(users) if not stats.per_user.get(i)]
        if idle:
            stats.error(idle[0], f"{len(idle)} users got no reply at all")
        server_errors = [ln for ln in log.read_text(errors="replace").splitlines()
                         if "Traceback" in ln or " - ERROR - " in ln or "chat handler failed" in ln]
        return {
            "users": users, "seconds": seconds, "login": "password" if password is not None else "local",
            "wall_s": round(wall, 1), "turns": stats.turns,
            "errors": len(stats.errors) + len(server_errors), "lost": stats.lost, "mixed": stats.mixed,
            "error_examples": stats.errors[:10], "server_log_errors": server_errors[:10],
            "ask": latency_stats(stats.ask_s), "check": latency_stats(stats.check_s),
            "all": latency_stats(stats.ask_s + stats.check_s),
            "distinct_questions_answered": len(stats.reference), "replies_per_user": stats.per_user,
            "cpus": os.cpu_count(),
            "loadavg_end": os.getloadavg()[0],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a user waits for one reply")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--password", action="store_true",
                   help="sign each user in with ASSISTANT_AUTH_PASSWORD (the sign-in form, a user name each) "
                        "instead of the loopback local user")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    password = secrets.token_urlsafe(16) if args.password else None
    r = run(args.users, args.seconds, args.timeout, args.seed, password=password)
    print(json.dumps(r, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(r, indent=1) + "\n")
    fmt = lambda s: f"p50 {s['p50_ms']:.0f} / p95 {s['p95_ms']:.0f} ms" if s["n"] else "none"  # noqa: E731
    print("PASS" if r["errors"] == 0 else "FAIL", f"{r['users']} users ({r['login']} login), {r['seconds']:.0f} s, {r['turns']} replies,",
          f"{r['errors']} errors ({r['lost']} lost, {r['mixed']} mixed); ask {fmt(r['ask'])}; check {fmt(r['check'])}")
    return 0 if r["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
