"""Bounded loopback load test of the chat UI: N concurrent Chainlit sessions over socket.io.

Each simulated journalist opens a session exactly as the browser does (socket.io at /ws/socket.io,
`connection_successful`, wait for on_chat_start), then asks a fixed number of questions one after another
and measures the time from sending a question to the end of the answer (the server's `task_end`, i.e.
streamed text, citation elements and sources all delivered). Everything is bounded: a fixed number of
questions per session, a per-answer timeout and a hard overall timeout.

    .venv/bin/python scripts/ui_load.py                       # starts its own app, tries 1,2,4,8,16 sessions
    .venv/bin/python scripts/ui_load.py --url http://127.0.0.1:8000 --sessions 4 8 --questions 5

Prints one line per concurrency level (p50/p95/max latency, errors) and the largest level with p95 < 1 s;
`--json` writes the numbers to a file.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What did Hegseth say about NATO membership for Ukraine?",
    "What did Putin want from the talks?",
    "Where did Trump and Putin meet?",
    "What concessions to Russia worried Ukraine's allies?",
    "What did the White House say about the goal of the meeting?",
    "Why did European leaders criticise the talks?",
    "What did Trump say about sanctions on Russia?",
    "How did Zelensky react to the phone call?",
]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


async def one_session(url: str, n_questions: int, offset: int, answer_timeout: float) -> list[float | None]:
    """Latencies (seconds) of this session's answers; None for an answer that failed or timed out."""
    sio = socketio.AsyncClient(reconnection=False)
    ready = asyncio.Event()
    done = asyncio.Event()
    events: dict[str, int] = {}

    @sio.on("set_commands")
    async def _ready(_data):  # our on_chat_start sends the commands once the session is set up
        ready.set()

    state = {"waiting": False, "started": False}

    # The server also sends task_end right after connecting; only the one closing our question counts.
    @sio.on("task_start")
    async def _task_start(*_):
        if state["waiting"]:
            state["started"] = True

    @sio.on("task_end")
    async def _task_end(*_):
        if state["started"]:
            done.set()

    @sio.on("*")
    async def _any(event, *_):
        events[event] = events.get(event, 0) + 1

    session_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())
    await sio.connect(url, socketio_path="/ws/socket.io", transports=["websocket"],
                      auth={"clientType": "webapp", "sessionId": session_id, "threadId": thread_id,
                            "userEnv": "{}", "chatProfile": None})
    latencies: list[float | None] = []
    try:
        await sio.emit("connection_successful")
        await asyncio.wait_for(ready.wait(), answer_timeout)
        for i in range(n_questions):
            q = QUESTIONS[(offset + i) % len(QUESTIONS)]
            done.clear()
            state.update(waiting=True, started=False)
            t0 = time.perf_counter()
            await sio.emit("client_message", {"message": {
                "id": str(uuid.uuid4()), "threadId": thread_id, "name": "User", "type": "user_message",
                "output": q, "createdAt": _now()}, "fileReferences": []})
            try:
                await asyncio.wait_for(done.wait(), answer_timeout)
                latencies.append(time.perf_counter() - t0)
                state.update(waiting=False, started=False)
            except asyncio.TimeoutError:
                latencies.append(None)
    finally:
        await sio.disconnect()
    return latencies


async def level(url: str, sessions: int, n_questions: int, answer_timeout: float) -> dict:
    t0 = time.perf_counter()
    results = await asyncio.gather(*(one_session(url, n_questions, i, answer_timeout) for i in range(sessions)),
                                   return_exceptions=True)
    wall = time.perf_counter() - t0
    lat = sorted(x for r in results if isinstance(r, list) for x in r if x is not None)
    errors = sum(1 for r in results if not isinstance(r, list)) * n_questions + \
        sum(1 for r in results if isinstance(r, list) for x in r if x is None)

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] if lat else float("nan")

    return {"sessions": sessions, "answers": len(lat), "errors": errors, "p50": pct(50), "p95": pct(95),
            "max": lat[-1] if lat else float("nan"), "mean": statistics.fmean(lat) if lat else float("nan"),
            "throughput_per_s": len(lat) / wall if wall else 0.0, "wall_s": wall}


async def run(args) -> list[dict]:
    rows = []
    deadline = time.monotonic() + args.hard_timeout
    # Warm-up: the first answer after start-up pays for building the index and loading models.
    first = await one_session(args.url, 1, 0, args.answer_timeout)
    if args.started_at is not None:
        print(f"first answer {time.perf_counter() - args.started_at:.1f} s after the app was started "
              f"(that answer: {first[0] or float('nan'):.2f} s)", flush=True)
    await one_session(args.url, 2, 1, args.answer_timeout)
    for n in args.sessions:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            print("hard timeout reached; stopping", file=sys.stderr)
            break
        try:
            row = await asyncio.wait_for(level(args.url, n, args.questions, args.answer_timeout), remaining)
        except asyncio.TimeoutError:
            print(f"{n} sessions: hard timeout reached; stopping", file=sys.stderr)
            break
        row["loadavg_1m"] = os.getloadavg()[0]
        rows.append(row)
        print(f"{n:3d} sessions: {row['answers']:3d} answers, p50 {row['p50']*1000:6.0f} ms, "
              f"p95 {row['p95']*1000:6.0f} ms, max {row['max']*1000:6.0f} ms, "
              f"{row['throughput_per_s']:.1f} answers/s, errors {row['errors']}, "
              f"load avg {row['loadavg_1m']:.1f}", flush=True)
        if row["p95"] > args.stop_above or row["errors"]:
            break  # past the knee: larger levels only take longer
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running app (default: start one on a free port with a temp index)")
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--questions", type=int, default=5, help="questions per session per level")
    ap.add_argument("--answer-timeout", type=float, default=60.0)
    ap.add_argument("--hard-timeout", type=float, default=300.0, help="whole run, seconds")
    ap.add_argument("--stop-above", type=float, default=3.0, help="stop raising load once p95 exceeds this")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()

    args.started_at = None
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run", flush=True)
    if args.url:
        rows = asyncio.run(run(args))
    else:
        sys.path.insert(0, str(ROOT))
        from tests.ui_helpers import running_app

        with tempfile.TemporaryDirectory() as tmp:
            env = {"ASSISTANT_INDEX_DIR": f"{tmp}/index", "ASSISTANT_FEEDBACK_DB": f"{tmp}/feedback.sqlite3"}
            args.started_at = t0 = time.perf_counter()
            with running_app(env, Path(tmp) / "chainlit.log") as url:
                print(f"app up in {time.perf_counter() - t0:.1f} s at {url}", flush=True)
                args.url = url
                rows = asyncio.run(run(args))
    ok = [r["sessions"] for r in rows if r["p95"] < 1.0 and not r["errors"]]
    print(f"largest tested concurrency with p95 < 1 s: {max(ok) if ok else 'none'}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
