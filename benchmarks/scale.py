"""Store-scale runs: 1k/10k/100k generated paragraphs through the product's ParagraphIndex and search.

Paragraph vectors are deterministic random unit vectors (dimension 384): embedding 100k paragraphs for
real would take ~15-25 minutes, and index/search cost does not depend on what the vectors mean. Query
vectors are real (the ONNX MiniLM), so search latency includes query embedding.

Each size runs in a fresh subprocess (`python -m benchmarks.scale --size N`) so its RSS is its own; after
the writer's measurements, a second fresh process (`--probe`) opens the same index as a newsroom's next
process would (the keyword index memory-mapped from disk) and times its first search, a write, and latency,
with its own RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import QUESTIONS, ROOT, dir_size_mb, latency_stats, load_jsonl, peak_rss_mb, rss_mb, timer
from .corpus import OUTLETS, generated_articles, queries, to_articles


def _random_vector_embedder(seed: int):
    """The product's LocalEmbedding (real query vectors), but paragraph batches get seeded random ones."""
    from assistant.embeddings import DIMENSION, LocalEmbedding

    class RandomParagraphVectors(LocalEmbedding):
        def embed_texts(self, texts):
            rng = np.random.default_rng([seed, len(texts), sum(map(len, texts))])
            v = rng.standard_normal((len(texts), DIMENSION)).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    return RandomParagraphVectors()


DATE_FROM = "2025-08-01"
BULK_MAX = 10_000  # the bulk-write comparison stops here: at 100k it would add ~2.5 min per store


def bulk_add(index, articles, embedder, batch: int = 5000) -> int:
    """Write paragraphs through the index's own LlamaIndex ChromaVectorStore, thousands per call, and the
    article registry in bulk (what ParagraphIndex.upsert does, minus its per-article round trips)."""
    from llama_index.core.schema import MetadataMode

    from assistant.index import _META_FIELDS, article_nodes

    batch = min(batch, index.client.get_max_batch_size())
    nodes = [n for art in articles for n in article_nodes(art, index.settings.embed_context)]
    for i in range(0, len(nodes), batch):
        chunk = nodes[i:i + batch]
        vecs = embedder.embed_texts([n.get_content(metadata_mode=MetadataMode.EMBED) for n in chunk])
        for n, v in zip(chunk, vecs):
            n.embedding = v.tolist()
        index.store.add(chunk)
    for i in range(0, len(articles), batch):
        arts = articles[i:i + batch]
        index.docs.upsert(ids=[x.meta.source for x in arts], embeddings=[[1.0]] * len(arts), metadatas=[{
            "content_hash": x.content_hash, "path": x.path, "paragraphs": len(x.paragraphs),
            "tokens": sum(p.tokens for p in x.paragraphs),
            **{f: getattr(x.meta, f) or "" for f in _META_FIELDS}} for x in arts])
    index.version += 1
    return len(nodes)  # (no write log: this side collection is never searched)


def run_size(size: int, n_queries: int, chroma_url: str | None = None) -> dict:
    """Index `size` generated paragraphs, then time searches. Returns one result row."""
    from assistant import Assistant

    rss0 = rss_mb()
    work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{size}-"))
    try:
        with timer() as t_gen:
            articles = to_articles(generated_articles(size, seed=size))
        a = Assistant(documents_dir=work / "empty", index_dir=work / "index", chroma_url=chroma_url,
                      collection=f"bench-{size}", sync=False)
        row = {"size": size, "mode": "server" if chroma_url else "embedded", "articles": len(articles),
               "generate_s": t_gen()}
        fake = _random_vector_embedder(size)
        real, a.index.embedder = a.index.embedder, fake
        # The product's write path (ParagraphIndex.upsert, batched across articles) fills the collection
        # that is searched; it is also what a newsroom ingesting its archive runs.
        with timer() as t_up:
            written = a.index.upsert(articles)
        a.index.embedder = real
        row.update(paragraphs=written, upsert_s=t_up(), upsert_paragraphs_per_s=written / t_up())
        if size <= BULK_MAX:
            # The store's floor for comparison: the same ChromaVectorStore.add, 5,000 paragraphs per call,
            # in a collection of its own (dropped after).
            b = Assistant(documents_dir=work / "empty", index_dir=work / "index", chroma_url=chroma_url,
                          collection=f"bench-bulk-{size}", sync=False)
            with timer() as t_bulk:
                bulk_add(b.index, articles, fake)
            row.update(index_s=t_bulk(), index_paragraphs_per_s=written / t_bulk())
            for c in (b.index.paragraphs.name, b.index.docs.name):
                b.index.client.delete_collection(c)
            del b
        if not chroma_url:
            row["disk_mb"] = dir_size_mb(work / "index")
        # The first query loads the HNSW index from disk: time it alone with a precomputed vector.
        v0 = a.embedder.get_query_embedding("Trump and Putin meet in Alaska")
        with timer() as t_cold:
            a.index.paragraphs.query(query_embeddings=[v0], n_results=30)
        row["first_chroma_query_s"] = t_cold()

        # What a full keyword rebuild costs (first build, or a damaged/mismatched keyword folder): reading
        # every paragraph back (ParagraphIndex.all_nodes), then bm25s indexing. No search pays it any more.
        with timer() as t_read:
            nodes = a.index.all_nodes()
        from llama_index.retrievers.bm25 import BM25Retriever
        import Stemmer

        with timer() as t_bm25:
            BM25Retriever.from_defaults(nodes=nodes, stemmer=Stemmer.Stemmer("english"), language="en_plus",
                                        similarity_top_k=30)
        del nodes
        row["bm25_read_all_nodes_s"] = t_read()
        row["bm25_build_s"] = t_bm25()

        labelled = [q["question"] for q in load_jsonl(QUESTIONS)]
        qs = queries(n_queries, labelled, seed=size)
        with timer() as t_first:
            a.search(qs[0], k=5)
        row["first_search_writer_s"] = t_first()  # the writer already holds its keyword index
        # A write in a warm process (one article of 20 paragraphs re-ingested, as a newsroom adding today's
        # story would): it goes into the keyword index's in-memory delta, no re-index of the corpus.
        a.index.embedder = fake
        with timer() as t_write:
            a.index.upsert(articles[:1])
        a.index.embedder = real
        with timer() as t_after:
            a.search(qs[1 % len(qs)], k=5)
        row["write_one_article_s"] = t_write()
        row["search_after_write_s"] = t_after()

        def lat(fn, n: int | None = None) -> dict:
            out = []
            for q in qs[:n]:
                t0 = time.perf_counter()
                fn(q)
                out.append(time.perf_counter() - t0)
            return latency_stats(out)

        row["hybrid"] = lat(lambda q: a.search(q, k=5))
        row["dense"] = lat(lambda q: a.search(q, k=5, mode="dense"), len(qs) // 2)
        row["bm25"] = lat(lambda q: a.search(q, k=5, mode="bm25"), len(qs) // 2)
        row["query_embedding"] = lat(lambda q: a.embedder.get_query_embedding(q), len(qs) // 2)
        # A filtered search pushes `outlet IN (...)` into Chroma's where clause and masks BM25.
        row["hybrid_outlet_filter"] = lat(lambda q: a.search(q, k=5, outlet=OUTLETS[0]), len(qs) // 2)
        # A date filter (the generated dates spread over 2025: this one keeps ~5/12 of the corpus).
        row["hybrid_date_filter"] = lat(lambda q: a.search(q, k=5, date_from=DATE_FROM), len(qs) // 2)
        # The raw Chroma query (precomputed vector) = the store's floor, without LlamaIndex around it.
        vecs = [a.embedder.get_query_embedding(q) for q in qs[:50]]
        raw = []
        for v in vecs:
            t0 = time.perf_counter()
            a.index.paragraphs.query(query_embeddings=[v], n_results=30)
            raw.append(time.perf_counter() - t0)
        row["chroma_query_raw"] = latency_stats(raw)
        row["rss_mb"] = rss_mb()
        row["rss_start_mb"] = rss0
        row["peak_rss_mb"] = peak_rss_mb()
        probe = run_probe(work / "index", a.settings.collection, size, n_queries, chroma_url)
        row["fresh_process"] = probe
        if "first_search_s" in probe:
            row["first_search_s"] = probe["first_search_s"]  # the figure that matters: a new process's first search
        if chroma_url:
            a.index.client.delete_collection(a.index.paragraphs.name)
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def probe(index_dir: Path, collection: str, size: int, n_queries: int, chroma_url: str | None) -> dict:
    """A fresh process on an existing index: open, first search, one-article write, latency, RSS."""
    t_start = time.perf_counter()
    from assistant import Assistant

    rss0 = rss_mb()
    with timer() as t_open:
        a = Assistant(documents_dir=index_dir.parent / "empty", index_dir=index_dir, chroma_url=chroma_url,
                      collection=collection, sync=False)
    labelled = [q["question"] for q in load_jsonl(QUESTIONS)]
    qs = queries(n_queries, labelled, seed=size + 1)
    a.embedder.get_query_embedding(qs[0])  # the model's first call is not the index's cost
    with timer() as t_chroma:
        a.index.count()  # Chroma's own first touch of the collection (loads its segments)
    with timer() as t_first:
        a.search(qs[0], k=5)  # keyword index load (memory-mapped) + first dense query
    out = {"import_open_s": t_open(), "first_chroma_call_s": t_chroma(), "first_search_after_s": t_first(),
           "first_search_s": t_chroma() + t_first(), "since_start_s": time.perf_counter() - t_start,
           "rebuilds": a.index.keyword.rebuilds, "rss_start_mb": rss0}
    articles = to_articles(generated_articles(20, seed=size + 7))  # one new 20-paragraph article
    fake = _random_vector_embedder(size + 7)
    real, a.index.embedder = a.index.embedder, fake
    with timer() as t_write:
        a.index.upsert(articles[:1])
    a.index.embedder = real
    with timer() as t_after:
        a.search(qs[1 % len(qs)], k=5)
    out.update(write_one_article_s=t_write(), search_after_write_s=t_after())

    def lat(fn, items) -> dict:
        t = []
        for q in items:
            t0 = time.perf_counter()
            fn(q)
            t.append(time.perf_counter() - t0)
        return latency_stats(t)

    out["hybrid"] = lat(lambda q: a.search(q, k=5), qs)
    out["hybrid_outlet_filter"] = lat(lambda q: a.search(q, k=5, outlet=OUTLETS[0]), qs[: len(qs) // 2])
    out["hybrid_date_filter"] = lat(lambda q: a.search(q, k=5, date_from=DATE_FROM), qs[: len(qs) // 2])
    a.index.remove(articles[0].meta.source)  # leave the index as found
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_probe(index_dir: Path, collection: str, size: int, n_queries: int, chroma_url: str | None,
              timeout: float | None = None) -> dict:
    timeout = timeout or max(600.0, size * 0.006)  # 1M: 100 min (its first search and latency loops)
    cmd = [sys.executable, "-m", "benchmarks.scale", "--size", str(size), "--queries", str(n_queries),
           "--probe", str(index_dir), "--collection", collection]
    if chroma_url:
        cmd += ["--chroma-url", chroma_url]
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"error": (p.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """`chroma run` on 127.0.0.1:<free port> over a temporary folder, for the duration of a with-block."""

    def __init__(self):
        self.path = Path(tempfile.mkdtemp(prefix="bench-chroma-server-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ChromaServer":
        exe = Path(sys.executable).with_name("chroma")
        self.proc = subprocess.Popen([str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        import urllib.request

        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with code {self.proc.returncode}")
            try:
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1)
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("chroma run did not answer within 60 s")

    def disk_mb(self) -> float:
        return dir_size_mb(self.path)

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.path, ignore_errors=True)


def run_in_subprocess(size: int, n_queries: int, chroma_url: str | None = None, timeout: float | None = None) -> dict:
    """Run `run_size` in a fresh interpreter and return its row (or an error row). The default timeout
    grows with the size (100k: 50 min; 1M: 8 h): the 1M upsert alone is ~1 h at ~300 paragraphs/s on a
    quiet machine, and several times that on a loaded one (a 100k server run timed out at 20 min)."""
    timeout = timeout or max(900.0, size * 0.03)
    cmd = [sys.executable, "-m", "benchmarks.scale", "--size", str(size), "--queries", str(n_queries)]
    if chroma_url:
        cmd += ["--chroma-url", chroma_url]
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"size": size, "mode": "server" if chroma_url else "embedded", "error": f"timed out after {timeout} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"size": size, "mode": "server" if chroma_url else "embedded",
                "error": (p.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--chroma-url")
    ap.add_argument("--chroma-server", action="store_true",
                    help="start a `chroma run` on a free port for this size (its disk is measured), stop it after")
    ap.add_argument("--probe", type=Path, help="time a fresh process on this existing index folder")
    ap.add_argument("--collection")
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    if args.probe:
        print(json.dumps(probe(args.probe, args.collection, args.size, args.queries, args.chroma_url)))
    elif args.chroma_server:
        with ChromaServer() as server:
            row = run_in_subprocess(args.size, args.queries, chroma_url=server.url)
            row["disk_mb"] = server.disk_mb()
        print(json.dumps(row))
    else:
        print(json.dumps(run_size(args.size, args.queries, args.chroma_url)))


if __name__ == "__main__":
    main()
