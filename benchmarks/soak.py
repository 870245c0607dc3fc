"""Memory soak of `Assistant.ask()` (issue 13, "memory flat over a 10-minute soak"): one process asks the
labelled questions (and some made-up variants, so caches see new text too) over and over and samples its
RSS; the growth from the end of the warm-up to the end must stay under 5 %.

    .venv/bin/python -m benchmarks.soak                         # 10 minutes after a 60 s warm-up
    .venv/bin/python -m benchmarks.soak --minutes 1 --warmup 20 --out benchmarks/results/soak.json

What it does: copies the bundled articles into a temporary folder, builds a fresh index there (real local
embedding model, offline), then calls `ask()` in a loop for `--warmup` seconds (caches and the allocator
settle) and then for `--minutes`. RSS (psutil) is sampled every 5 s. "start" is the median of the first
three samples after the warm-up, "end" the median of the last three (one sample is noisy on a shared
machine). Every ask() must return an Answer; any exception counts as an error. Exit status 1 when growth
>= --max-growth percent or any error happened. Not part of the default test run.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .common import DOCUMENTS, QUESTIONS, latency_stats, load_jsonl, rss_mb

VARIANTS = ["What did {w} say?", "Who is {w}?", "When did {w} happen?", "Where was the {w} meeting?",
            "How many {w} were there?"]
WORDS = ["Putin", "the summit", "the ceasefire", "tariffs", "the senator", "the storm", "the court",
         "the minister", "the election", "the company"]


def questions(seed: int = 13) -> list[str]:
    base = [q["question"] for q in load_jsonl(QUESTIONS)]
    rng = random.Random(seed)
    made = [rng.choice(VARIANTS).format(w=rng.choice(WORDS)) for _ in range(40)]
    return base + made


def run(minutes: float, warmup: float, sample_every: float = 5.0) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from assistant import Assistant

    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        docs = tmp / "documents"
        shutil.copytree(DOCUMENTS, docs)
        a = Assistant(documents_dir=docs, index_dir=tmp / "index")
        qs = questions()
        rng = random.Random(1)
        errors: list[str] = []
        lat: list[float] = []
        samples: list[tuple[float, float]] = []
        calls = 0
        t0 = time.monotonic()
        warm_end = t0 + warmup
        end = warm_end + minutes * 60
        next_sample = warm_end
        while True:
            now = time.monotonic()
            if now >= next_sample:
                gc.collect()
                samples.append((round(now - warm_end, 1), rss_mb()))
                next_sample += sample_every
            if now >= end:
                break
            q = rng.choice(qs)
            s = time.perf_counter()
            try:
                ans = a.ask(q)
                if not hasattr(ans, "text"):
                    errors.append(f"{q!r}: no Answer ({type(ans).__name__})")
            except Exception as e:  # noqa: BLE001 - the soak counts every failure
                errors.append(f"{q!r}: {type(e).__name__}: {e}")
            if now >= warm_end:
                lat.append(time.perf_counter() - s)
                calls += 1
        rss = [r for _, r in samples]
        start_mb = statistics.median(rss[:3])
        end_mb = statistics.median(rss[-3:])
        return {
            "minutes": minutes, "warmup_s": warmup, "asks": calls, "errors": len(errors),
            "error_examples": errors[:5], "ask": latency_stats(lat),
            "rss_start_mb": round(start_mb, 1), "rss_end_mb": round(end_mb, 1),
            "rss_max_mb": round(max(rss), 1),
            "growth_pct": round(100 * (end_mb - start_mb) / start_mb, 2),
            "samples": samples, "cpus": os.cpu_count(),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=60.0, help="seconds of asking before RSS 'start'")
    p.add_argument("--max-growth", type=float, default=5.0, help="percent")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    r = run(args.minutes, args.warmup)
    summary = {k: v for k, v in r.items() if k != "samples"}
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(r, indent=1) + "\n")
    ok = r["errors"] == 0 and r["growth_pct"] < args.max_growth
    print("PASS" if ok else "FAIL", f"RSS {r['rss_start_mb']} -> {r['rss_end_mb']} MB ({r['growth_pct']:+.2f} %),",
          f"{r['asks']} asks, {r['errors']} errors, p95 {r['ask']['p95_ms']:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
