"""Many readers on one shared index (issue 12 item 4): N client processes searching and asking against one
`chroma run` server while one more process ingests new articles.

    .venv/bin/python -m benchmarks.load_server                      # clients 1,2,4,8; 40 s per step
    .venv/bin/python -m benchmarks.load_server --clients 1,8 --seconds 20 --out results/load.json

What it does: starts `chroma run` on 127.0.0.1 over a temporary folder (benchmarks.scale.ChromaServer),
indexes the bundled articles through one client, then for each client count N starts N reader processes
and one writer process, all with their own index folder (each keeps its own keyword index beside it, as
every newsroom machine would) and the same server. Readers alternate `search` and `ask` on the labelled
questions for the step's duration. The writer ingests a new small article every `--write-every` seconds
(real embedding, the product's ingest path), each carrying one made-up word no other article has; after an
ingest returns it appends {word, source, done_at} to a shared file. Before every operation a reader checks
that file: for each article finished before the operation started that it has not yet checked, its next
search is for that word, and the article must be the top hit of that very search ("seen within one search").

Reported per client count: operations, errors (any exception in any process), freshness (articles checked
/ seen in the first search), and per-operation p50/p95 for search and ask (all readers pooled, and the
worst reader's p95). Not part of the default test run; tests/test_bench_smoke.py runs a one-step smoke
(`--clients 1 --seconds 5 --write-every 1.5`).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import DOCUMENTS, QUESTIONS, ROOT, latency_stats, load_jsonl
from .scale import ChromaServer

COLLECTION = "load"


def _assistant(index_dir: Path, url: str):
    from assistant import Assistant

    return Assistant(documents_dir=index_dir / "empty", index_dir=index_dir, chroma_url=url,
                     collection=COLLECTION, sync=False)


def _word(i: int, run: str) -> str:
    # A made-up word (letters only: the keyword tokenizer keeps it whole, the stemmer leaves it alone).
    letters = "bcdfghjklmnpqrstvwxz"
    tail = "".join(letters[int(c, 16) % len(letters)] for c in f"{i:04x}{run}")
    return f"qzv{tail}"


def writer(url: str, index_dir: Path, status: Path, seconds: float, every: float, run: str) -> dict:
    """Ingest one new article every `every` seconds for `seconds`; announce each when it is written."""
    a = _assistant(index_dir, url)
    folder = index_dir / "new"
    folder.mkdir(parents=True, exist_ok=True)
    out = {"written": 0, "errors": [], "ingest": []}
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        t0 = time.time()
        word = _word(i, run)
        p = folder / f"load-{run}-{i:04d}.md"
        p.write_text(f"---\ntitle: Harbour notice {i}\noutlet: Load Wire\ndate: 2025-09-0{1 + i % 9}\n---\n\n"
                     f"# Harbour notice {i}\n\nThe harbour office confirmed that the {word} schedule changes "
                     f"on Monday, officials said.\n\nA second paragraph repeats that the {word} schedule "
                     f"applies to every berth.\n", encoding="utf-8")
        try:
            rep = a.ingest([p], progress=False)
            done = time.time()
            src = rep.added[0] if rep.added else p.name
            with open(status, "a", encoding="utf-8") as f:
                f.write(json.dumps({"word": word, "source": src, "done_at": done}) + "\n")
            out["written"] += 1
            out["ingest"].append(done - t0)
        except Exception as e:  # noqa: BLE001 - every error is reported, none stops the run
            out["errors"].append(f"{type(e).__name__}: {e}")
        i += 1
        time.sleep(max(0.0, every - (time.time() - t0)))
    out["ingest"] = latency_stats(out["ingest"]) if out["ingest"] else {}
    return out


def reader(url: str, index_dir: Path, status: Path, seconds: float, seed: int) -> dict:
    """Alternate search and ask; check every announced article with the next search."""
    a = _assistant(index_dir, url)
    rng = random.Random(seed)
    qs = [q["question"] for q in load_jsonl(QUESTIONS)]
    checked: set[str] = set()
    lat = {"search": [], "ask": [], "fresh_search": []}
    out = {"errors": [], "fresh_checked": 0, "fresh_seen": 0, "fresh_missed": []}
    a.search(qs[0], k=5)  # opening (keyword index load) and the first ask's model loads are not operations
    a.ask(qs[1])
    end = time.time() + seconds
    n = 0
    last = False
    while True:
        started = time.time()
        if started >= end:
            # The window is closed: one last check of the articles finished before it closed, so a short
            # run (the smoke test) still checks every article its writer wrote in time.
            if last:
                break
            last, started = True, end
        due = []
        try:
            for ln in status.read_text(encoding="utf-8").splitlines():
                e = json.loads(ln)
                if e["word"] not in checked and e["done_at"] < started:
                    due.append(e)
        except (OSError, ValueError):
            pass
        try:
            if due:
                for e in due:
                    t0 = time.perf_counter()
                    hits = a.search(f"{e['word']} schedule", k=5)
                    lat["fresh_search"].append(time.perf_counter() - t0)
                    checked.add(e["word"])
                    out["fresh_checked"] += 1
                    if hits and hits[0].source == e["source"]:
                        out["fresh_seen"] += 1
                    else:
                        out["fresh_missed"].append(e["word"])
            elif last:
                break
            elif n % 2 == 0:
                t0 = time.perf_counter()
                a.search(rng.choice(qs), k=5)
                lat["search"].append(time.perf_counter() - t0)
            else:
                t0 = time.perf_counter()
                a.ask(rng.choice(qs))
                lat["ask"].append(time.perf_counter() - t0)
        except Exception as e:  # noqa: BLE001
            out["errors"].append(f"{type(e).__name__}: {e}")
        n += 1
    out["latency_s"] = lat
    return out


def _spawn(role: str, url: str, index_dir: Path, status: Path, seconds: float, extra: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "benchmarks.load_server", "--role", role, "--url", url, "--index-dir",
           str(index_dir), "--status", str(status), "--seconds", str(seconds), *extra]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})


def _collect(p: subprocess.Popen, timeout: float) -> dict:
    try:
        so, se = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        so, se = p.communicate()
        return {"errors": [f"timed out after {timeout:.0f} s"]}
    lines = [ln for ln in so.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"errors": [(se.strip().splitlines() or [f"exit {p.returncode}, no output"])[-1]]}
    return json.loads(lines[-1])


def _ms(stats: dict) -> dict:
    return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in stats.items()}


def run(client_counts: list[int], seconds: float, write_every: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    t_start = time.time()
    result = {"clients": {}, "seconds_per_step": seconds, "write_every_s": write_every,
              "cpus": os.cpu_count(), "load_at_start": os.getloadavg()}
    try:
        with ChromaServer() as server:
            seed = _assistant(work / "seed", server.url)
            seed.ingest(sorted(p for p in DOCUMENTS.iterdir() if p.is_file()), progress=False)
            result["seed_paragraphs"] = seed.index.count()
            del seed
            for n in client_counts:
                status = work / f"status-{n}.jsonl"
                status.write_text("", encoding="utf-8")
                w = _spawn("writer", server.url, work / f"writer-{n}", status, seconds,
                           ["--write-every", str(write_every), "--run", f"{n:x}"])
                rs = [_spawn("reader", server.url, work / f"reader-{n}-{i}", status, seconds, ["--seed", str(i)])
                      for i in range(n)]
                reads = [_collect(p, seconds + 300) for p in rs]
                wrote = _collect(w, seconds + 300)
                pooled = {k: [x for r in reads for x in r.get("latency_s", {}).get(k, [])]
                          for k in ("search", "ask", "fresh_search")}
                row = {
                    "readers": n,
                    "operations": sum(len(v) for v in pooled.values()),
                    "errors": [e for r in reads for e in r.get("errors", [])] + wrote.get("errors", []),
                    "articles_written": wrote.get("written", 0),
                    "ingest_s": _ms(wrote.get("ingest", {})) if wrote.get("ingest") else {},
                    "fresh_checked": sum(r.get("fresh_checked", 0) for r in reads),
                    "fresh_seen_first_search": sum(r.get("fresh_seen", 0) for r in reads),
                    "fresh_missed": [m for r in reads for m in r.get("fresh_missed", [])],
                }
                for k, v in pooled.items():
                    if v:
                        row[f"{k}_ms"] = _ms(latency_stats(v))
                worst = [latency_stats(r["latency_s"]["search"])["p95_ms"] for r in reads
                         if r.get("latency_s", {}).get("search")]
                if worst:
                    row["search_p95_worst_reader_ms"] = round(max(worst), 1)
                result["clients"][str(n)] = row
                print(json.dumps({"step": n, **{k: row[k] for k in ("operations", "fresh_checked",
                      "fresh_seen_first_search")}, "errors": len(row["errors"]),
                      "search_p95_ms": row.get("search_ms", {}).get("p95_ms"),
                      "ask_p95_ms": row.get("ask_ms", {}).get("p95_ms")}), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_at_end"] = os.getloadavg()
    result["total_s"] = time.time() - t_start
    return result


def table(res: dict) -> str:
    rows = ["| readers (+1 writer) | operations | errors | new articles seen in the first search | "
            "search p50 / p95 ms | worst reader's search p95 ms | ask p50 / p95 ms | fresh-check search p95 ms |",
            "|---|---|---|---|---|---|---|---|"]
    for n, r in res["clients"].items():
        s, a, f = r.get("search_ms", {}), r.get("ask_ms", {}), r.get("fresh_search_ms", {})
        rows.append(f"| {n} | {r['operations']} | {len(r['errors'])} | {r['fresh_seen_first_search']} / "
                    f"{r['fresh_checked']} | {s.get('p50_ms', '–')} / {s.get('p95_ms', '–')} | "
                    f"{r.get('search_p95_worst_reader_ms', '–')} | {a.get('p50_ms', '–')} / {a.get('p95_ms', '–')} | "
                    f"{f.get('p95_ms', '–')} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default="1,2,4,8")
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--write-every", type=float, default=3.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--role", choices=["reader", "writer"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--status", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--run", default="0", help=argparse.SUPPRESS)
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    if args.role == "writer":
        print(json.dumps(writer(args.url, args.index_dir, args.status, args.seconds, args.write_every, args.run)))
        return
    if args.role == "reader":
        print(json.dumps(reader(args.url, args.index_dir, args.status, args.seconds, args.seed)))
        return
    res = run([int(x) for x in args.clients.split(",")], args.seconds, args.write_every)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(table(res))


if __name__ == "__main__":
    main()
