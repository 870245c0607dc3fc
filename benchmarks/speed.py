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


NEWS = ROOT / "tests" / "data" / "news"


def real_articles(dst: Path, min_paragraphs: int) -> int:
    """Write real articles into `dst` until they hold >= `min_paragraphs` paragraphs as the product
    reads them: the held-out news articles and the five bundled ones, as found (front matter,
    boilerplate, hard wrapping; ~860 paragraphs). Past those, copies follow with each body's blocks
    rotated (title first): real text, and a new article to the NLP pass and its cache (an article's
    analysis is keyed by its paragraphs), the same texts to the embedding model. Returns the paragraphs."""
    import re

    from assistant.config import Settings
    from assistant.errors import IngestError
    from assistant.ingest import load_article

    settings = Settings(documents_dir=dst, index_dir=dst.parent / "unused-index")
    files = sorted(NEWS.glob("*/articles/*.txt")) + sorted((ROOT / "documents").glob("0*.txt"))
    dst.mkdir(parents=True, exist_ok=True)
    paragraphs = 0
    for copy in range(50):
        for f in files:
            raw = f.read_text(encoding="utf-8")
            m = re.match(r"\A---\n.*?\n---\n", raw, re.S)
            head, body = (m.group(), raw[m.end():]) if m else ("", raw)
            blocks = [b for b in re.split(r"\n\s*\n", body.strip()) if b.strip()]
            if copy and len(blocks) < 4:
                continue  # too short to rotate into a new article
            if copy:
                rest = blocks[1:]
                r = 1 + (copy - 1) % (len(rest) - 1)
                raw = head + "\n\n".join(blocks[:1] + rest[r:] + rest[:r]) + "\n"
            path = dst / f"{f.stem}-{copy}.txt"
            path.write_text(raw, encoding="utf-8")
            try:
                paragraphs += len(load_article(path, settings, dst).paragraphs)
            except IngestError:
                path.unlink()
            if paragraphs >= min_paragraphs:
                return paragraphs
    return paragraphs


def _cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def ingest_vs_raw(n_paragraphs: int, reps: int | None = None) -> dict:
    """Bulk ingest (read files, clean, split, embed, NLP pass, Chroma + keyword index + journal) of a
    folder of >= `n_paragraphs` real-text paragraphs vs its floor: the embedding model on exactly the
    texts the index embeds plus the NLP pass (`analyse_article`) on exactly the articles' paragraphs,
    each alone, with the product's threads and batch size. Each of `reps` rounds times embedding, NLP,
    ingest (fresh index), embedding, NLP in that order on one machine state; a round's floor uses the
    faster of its two timings of each model (a floor measured slow would flatter the ingest). The
    figures are the round with the median share. `raw_*` = the embedding model alone. `reps` defaults
    to 3 from 500 paragraphs, else 1 (the quick run's 120)."""
    reps = reps or (3 if n_paragraphs >= 500 else 1)
    from llama_index.core.schema import MetadataMode

    from assistant import Assistant
    from assistant.embeddings import load_model
    from assistant.index import article_nodes
    from assistant.ingest import load_articles
    from assistant.text.annotate import analyse_article

    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        docs = Path(tmp) / "docs"
        real_articles(docs, n_paragraphs)
        for r in range(reps):
            a = Assistant(documents_dir=Path(tmp) / "empty", index_dir=Path(tmp) / f"index-{r}", sync=False)
            articles, _ = load_articles([docs], a.settings)
            paras = [[p.text for p in art.paragraphs] for art in articles]
            texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for art in articles
                     for n in article_nodes(art, a.settings.embed_context)]
            model = load_model(a.settings.embed_threads, a.settings.embed_model)
            model.embed(texts[:64], a.settings.embed_batch_size)  # warm-up: first runs allocate
            analyse_article(paras[0])  # loads spaCy

            cpu = {"embed": [], "nlp": [], "ingest": []}

            def timed(key: str, fn):
                c0 = _cpu_s()
                with timer() as t:
                    out = fn()
                cpu[key].append(_cpu_s() - c0)
                return t(), out

            def embed() -> float:
                return timed("embed", lambda: model.embed(texts, a.settings.embed_batch_size))[0]

            def nlp() -> float:
                return timed("nlp", lambda: [analyse_article(p) for p in paras])[0]

            e1, n1 = embed(), nlp()
            t_ingest, report = timed("ingest", lambda: a.ingest([docs]))
            e2, n2 = embed(), nlp()
            embed_s, nlp_s = min(e1, e2), min(n1, n2)
            n = report.paragraphs
            floor_cpu = min(cpu["embed"]) + min(cpu["nlp"])
            rounds.append({"paragraphs": n, "articles": len(articles), "ingest_s": t_ingest,
                           "embed_s": [e1, e2], "nlp_s": [n1, n2], "cpu_s": cpu,
                           "ingest_paragraphs_per_s": n / t_ingest, "raw_texts": len(texts), "raw_s": embed_s,
                           "raw_paragraphs_per_s": len(texts) / embed_s, "nlp_paragraphs_per_s": n / nlp_s,
                           "floor_s": embed_s + nlp_s, "floor_paragraphs_per_s": n / (embed_s + nlp_s),
                           "ingest_share_of_floor": (embed_s + nlp_s) / t_ingest,
                           # CPU-seconds (all threads) of the floor's work / of ingest's: what a busy
                           # machine's scheduler does not blur. Below 1 = work ingest adds, or burns waiting.
                           "ingest_cpu_share_of_floor": floor_cpu / cpu["ingest"][0],
                           "ingest_share_of_raw": (n / t_ingest) / (len(texts) / embed_s)})
            del a
    shares = sorted(r["ingest_share_of_floor"] for r in rounds)
    mid = next(r for r in rounds if r["ingest_share_of_floor"] == shares[len(shares) // 2])
    return {**mid, "text": "real", "rounds": rounds, "shares_of_floor": [r["ingest_share_of_floor"] for r in rounds],
            "cpu_shares_of_floor": [r["ingest_cpu_share_of_floor"] for r in rounds],
            "loadavg": list(__import__("os").getloadavg())}


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


def main() -> None:
    """`python -m benchmarks.speed --ingest 1000 --reps 5 --out DIR`: the ingest-vs-floor measurement
    alone (about a minute a round on the 2 shared cores), with its plot and JSON in DIR."""
    import argparse

    from . import report

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--ingest", type=int, default=1000, help="real-text paragraphs at least")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "ingest-floor")
    args = ap.parse_args()
    from assistant.config import configure_offline_runtime
    import logging

    configure_offline_runtime()
    logging.disable(logging.WARNING)
    row = ingest_vs_raw(args.ingest, args.reps)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest.json").write_text(json.dumps(row, indent=1), encoding="utf-8")
    report.plots({"speed": {"ingest": row}}, args.out)
    print(report.ingest_line(row))
    print(json.dumps({k: row[k] for k in ("shares_of_floor", "cpu_shares_of_floor", "loadavg")}))


__all__ = ["embedding_grid", "ingest_vs_raw", "real_articles", "latency", "cold_start", "percentile"]


if __name__ == "__main__":
    main()
