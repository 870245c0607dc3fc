"""`python -m benchmarks`: quality, speed and scale of Newsdesk in one run; see benchmarks/README.md.

Writes a table to the terminal and report.json, report.md and PNG plots to results/<timestamp>/.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from . import models, quality, report, scale, speed
from .common import CLAIMS, DOCUMENTS, QUESTIONS, ROOT, load_jsonl, peak_rss_mb
from .corpus import queries

EMBED_CONTEXTS = ["none", "heading", "heading+prev", "title+heading+prev"]
SECTIONS = ["quality", "answers", "speed", "models", "scale"]
# --quick is the smoke test's run: it must stay well under a minute, so it leaves out the model
# comparison (a second model and a second index); `--quick --only models` runs that one alone.
QUICK_SKIPS = {"models"}


def machine() -> str:
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    import psutil

    return (f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, no GPU, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def loadavg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="bundled corpus, 12 questions, 15 queries, scale 1k only, no model comparison (~40 s)")
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated generated corpus sizes")
    ap.add_argument("--queries", type=int, default=200, help="queries per latency measurement")
    ap.add_argument("--chroma-server", action="store_true", help="also run the largest size against `chroma run`")
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: " + ",".join(SECTIONS))
    ap.add_argument("--only", default="", help="comma-separated sections to run (overrides --skip)")
    ap.add_argument("--out", type=Path, help="output folder (default results/<timestamp>)")
    args = ap.parse_args(argv)

    from assistant.config import configure_offline_runtime

    configure_offline_runtime()
    logging.disable(logging.WARNING)  # library chatter would bury the table
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    n_queries = 15 if args.quick else args.queries
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    skip = (set(SECTIONS) - only) if only else ({s.strip() for s in args.skip.split(",") if s.strip()}
                                                | (QUICK_SKIPS if args.quick else set()))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or ROOT / "results" / stamp
    t_start = time.perf_counter()
    res: dict = {"meta": {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
                          "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
                          "loadavg_start": loadavg(), "quick": args.quick},
                 "notes": []}
    notes = res["notes"]

    from assistant import Assistant

    questions = quality.labelled(load_jsonl(QUESTIONS))
    if not questions:
        notes.append(f"No labelled questions at {QUESTIONS.relative_to(ROOT)}: retrieval quality skipped.")
    if args.quick:
        questions = questions[:12]

    with tempfile.TemporaryDirectory(prefix="bench-main-") as tmp:
        log("building the bundled-corpus index")
        a = Assistant(documents_dir=DOCUMENTS, index_dir=Path(tmp) / "index")
        res["corpus"] = {"articles": len(a.sources()), "paragraphs": a.index.count()}

        if questions and "quality" not in skip:
            log(f"retrieval quality on {len(questions)} questions")
            r = res["retrieval"] = quality.product_retrievers(a, questions)
            log("LlamaIndex peer")
            r["llamaindex_default"] = quality.llamaindex_peer(questions)
            if not args.quick:
                r["llamaindex_200"] = quality.llamaindex_peer(questions, chunk_size=200)
                log("embed_context variants")
                r["embed_context"] = quality.embed_context_variants(
                    questions, EMBED_CONTEXTS,
                    reuse={a.settings.embed_context: {m: r[m] for m in ("hybrid", "dense", "bm25")}})
                log("fusion grid")
                r["fusion"] = quality.fusion_grid(a, questions)

        if "answers" not in skip:
            res["answers"] = answer_section(a, load_jsonl(QUESTIONS), notes, args.quick)
            res["claims"] = claims_section(a, notes, args.quick)

        if "speed" not in skip:
            sp = res["speed"] = {}
            log("embedding throughput grid")
            sample = models.sample_texts(64 if args.quick else 256, a.settings.embed_context)
            grid = [{"threads": 2, "batch": 32, "sorted": True}] if args.quick else [
                {"threads": t, "batch": b, "sorted": True} for t in (1, 2) for b in (8, 32, 64)
            ] + [{"threads": 2, "batch": 32, "sorted": False}, {"threads": 2, "batch": 1, "sorted": False}]
            sp["embedding_grid"] = speed.embedding_grid(sample, grid)
            log("ingest vs raw model")
            # Two sizes: on a few hundred paragraphs per-call overhead (index open, registry, BM25
            # invalidation) weighs more than on an archive-sized batch.
            sp["ingest"] = speed.ingest_vs_raw(120 if args.quick else 1000)
            if not args.quick:
                sp["ingest_small"] = speed.ingest_vs_raw(200)
            labelled_q = [q["question"] for q in load_jsonl(QUESTIONS)]
            qs = queries(n_queries, labelled_q)
            log(f"search latency ({len(qs)} queries)")
            a.search(qs[0])
            sp["search"] = speed.latency(lambda q: a.search(q), qs)
            try:
                a.ask(qs[0])
                sp["ask"] = speed.latency(lambda q: a.ask(q), qs)
            except (ImportError, AttributeError, NotImplementedError) as e:
                sp["ask"] = f"not measured: ask() is not available yet ({type(e).__name__}: {e})"
            log("cold start")
            sp["cold_start"] = speed.cold_start(DOCUMENTS, Path(tmp) / "index", runs=1 if args.quick else 3)

        if "models" not in skip:
            log("embedding models compared: " + ", ".join(models.MODELS))
            reuse = None
            if res.get("retrieval") and a.settings.embed_model == models.MODELS[0]:
                reuse = {m: res["retrieval"][m] for m in ("bm25", "dense", "hybrid")}
            res["models"] = models.compare(questions, 64 if args.quick else 256, n_queries, reuse_default=reuse)

    if "scale" not in skip:
        res["scale"] = []
        for size in sizes:
            log(f"scale {size:,} paragraphs (embedded Chroma)")
            res["scale"].append(scale.run_in_subprocess(size, n_queries))
        if args.chroma_server:
            size = max(sizes)
            log(f"scale {size:,} paragraphs (Chroma server)")
            try:
                with scale.ChromaServer() as server:
                    row = scale.run_in_subprocess(size, n_queries, chroma_url=server.url)
                    row["disk_mb"] = server.disk_mb()
            except RuntimeError as e:
                row = {"size": size, "mode": "server", "error": str(e)}
            res["scale"].append(row)
        notes.append("Scale corpora: paragraphs are sentences of the bundled articles recombined with a seeded "
                     "RNG (20 per article, 8 outlets); their vectors are seeded random unit vectors (384-d), "
                     "not embeddings (embedding 100k paragraphs would take ~15-25 min); query vectors are real. "
                     "Each size runs in a fresh subprocess so its RSS is its own. The generated text reuses "
                     "~190 sentences, so BM25 posting lists are longer than in a real archive.")

    res["peak_rss_mb"] = peak_rss_mb()
    res["total_s"] = time.perf_counter() - t_start
    res["meta"]["loadavg_end"] = loadavg()
    report.write(res, out)
    print(report.terminal(res))
    print(f"\nreport: {out / 'report.md'}")
    return res


def answer_section(a, rows: list[dict], notes: list[str], quick: bool) -> dict | None:
    """Citation precision/recall, fact coverage, abstention accuracy from assistant.answer_eval."""
    try:
        from assistant import answer_eval
    except ImportError:
        notes.append("Answer quality skipped: assistant/answer_eval.py does not exist yet.")
        return None
    if not rows:
        return None
    import dataclasses

    items = rows[:12] if quick else rows
    try:
        answers, ms = [], []
        for item in items:
            t0 = time.perf_counter()
            answers.append(a.ask(item["question"]))
            ms.append((time.perf_counter() - t0) * 1000)
        rep = dataclasses.asdict(answer_eval.evaluate(items, answers, latencies_ms=ms))
        rep["failures"] = (rep.get("failures") or [])[:15]
        rep["answer_k"] = a.settings.answer_k  # ask() defaults: the passages the answer engine reads
        return rep
    except Exception as e:  # noqa: BLE001 - a sibling module in progress must not sink the whole run
        notes.append(f"Answer quality failed: {type(e).__name__}: {e}")
        return None


def claims_section(a, notes: list[str], quick: bool) -> dict | None:
    """Claim-check stance accuracy (macro recall over supports/contradicts/not_mentioned)."""
    rows = load_jsonl(CLAIMS)
    if not rows:
        notes.append(f"Claim check skipped: no {CLAIMS.relative_to(ROOT)}.")
        return None
    try:
        from assistant import claims_eval

        class _Checker:
            check = staticmethod(a.check_claim)

        got = claims_eval.evaluate(_Checker(), rows[:6] if quick else rows)
        got["failures"] = got.get("failures", [])[:10]
        return got
    except Exception as e:  # noqa: BLE001
        notes.append(f"Claim check failed: {type(e).__name__}: {e}")
        return None


if __name__ == "__main__":
    main()
