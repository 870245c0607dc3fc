"""Speed on this machine: embedding throughput (the floor), ingest throughput, search/ask latency,
cold start."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, latency_stats, percentile, timer
from .corpus import generated_articles, write_files


def embedding_grid(texts: list[str], configs: list[dict]) -> list[dict]:
    """Raw ONNX MiniLM paragraphs/s for each {threads, batch, sorted}. `sorted=False` feeds the model
    batches in corpus order (the model's own length sort then only acts inside each batch)."""
    from assistant.embeddings import load_model

    out = []
    for cfg in configs:
        model = load_model(cfg["threads"])
        model.embed(texts[:8])  # warm-up: first run allocates
        bs = cfg["batch"]
        with timer() as t:
            if cfg["sorted"]:
                model.embed(texts, bs)
            else:
                for i in range(0, len(texts), bs):
                    model.embed(texts[i:i + bs], bs)
        out.append({**cfg, "texts": len(texts), "seconds": t(), "paragraphs_per_s": len(texts) / t()})
    return out


def ingest_vs_raw(n_paragraphs: int) -> dict:
    """Full ingest (read files, clean, split, embed, write Chroma) of generated articles vs the raw model
    embedding exactly the texts the index embeds, with the product's default threads and batch size."""
    from llama_index.core.schema import MetadataMode

    from assistant import Assistant
    from assistant.embeddings import load_model
    from assistant.index import article_nodes
    from assistant.ingest import load_articles

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        docs = Path(tmp) / "docs"
        write_files(generated_articles(n_paragraphs, seed=1), docs)
        a = Assistant(documents_dir=Path(tmp) / "empty", index_dir=Path(tmp) / "index", sync=False)
        articles, _ = load_articles([docs], a.settings)
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for art in articles
                 for n in article_nodes(art, a.settings.embed_context)]
        model = load_model(a.settings.embed_threads, a.settings.embed_model)

        def raw() -> float:
            with timer() as t:
                model.embed(texts, a.settings.embed_batch_size)
            return t()

        # The raw floor is the faster of a run before and after ingest: a loaded machine slows either
        # one at random, and a floor measured slow would flatter the ingest share.
        raw_before = raw()
        with timer() as t_ingest:
            report = a.ingest([docs])
        raw_s = min(raw_before, raw())
    ingest_pps = report.paragraphs / t_ingest()
    raw_pps = len(texts) / raw_s
    return {"paragraphs": report.paragraphs, "ingest_s": t_ingest(), "ingest_paragraphs_per_s": ingest_pps,
            "raw_texts": len(texts), "raw_s": raw_s, "raw_paragraphs_per_s": raw_pps,
            "ingest_share_of_raw": ingest_pps / raw_pps}


def latency(fn, items: list[str]) -> dict:
    out = []
    for q in items:
        t0 = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t0)
    return latency_stats(out)


_COLD = r"""
import json, sys, time
t0 = time.perf_counter()
from assistant import Assistant
t1 = time.perf_counter()
a = Assistant(documents_dir=sys.argv[1], index_dir=sys.argv[2])
t2 = time.perf_counter()
a.search("What did Hegseth say about NATO?", k=5)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "open_s": t2 - t1, "first_search_s": t3 - t2}))
"""


def cold_start(documents_dir: Path, index_dir: Path, runs: int = 3) -> dict:
    """Fresh interpreter: import + open an existing index (checking documents are in sync) + first search.
    The median run of `runs`; `wall_s` includes interpreter start-up."""
    rows = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", _COLD, str(documents_dir), str(index_dir)], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
        rows.append({**json.loads(p.stdout.strip().splitlines()[-1]), "wall_s": wall})
    rows.sort(key=lambda r: r["wall_s"])
    return {**rows[len(rows) // 2], "runs": runs, "wall_s_all": [r["wall_s"] for r in rows]}


__all__ = ["embedding_grid", "ingest_vs_raw", "latency", "cold_start", "percentile"]
