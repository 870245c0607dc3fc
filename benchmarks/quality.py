"""Retrieval quality on the labelled questions: BM25, dense, hybrid (the product) and the LlamaIndex
peer a user would otherwise build, plus embed_context variants and a small fusion grid.

Metrics, per answerable question with labels, averaged over questions:
  Recall@k  - share of the question's labelled passages found in the top k;
  MRR@10    - 1 / rank of the first relevant unit in the top 10 (0 if none);
  tokens@5  - mean size (tiktoken) of the top-5 units, the reading cost of a hit.
"""
from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Callable

from .common import DOCUMENTS, matches

# A retrieved unit for scoring: (source file name, text).
Unit = tuple[str, str]


def labelled(questions: list[dict]) -> list[dict]:
    return [q for q in questions if q.get("answerable", True) and q.get("relevant")]


def score(ranked: list[list[Unit]], questions: list[dict]) -> dict:
    """Recall@1/@5, MRR@10 and tokens@5 of ranked units (one list per question)."""
    from assistant.ingest import count_tokens

    r1 = r5 = mrr = tok = 0.0
    per_q = []
    for units, q in zip(ranked, questions):
        rels = q["relevant"]
        found_at = [next((i for i, (s, t) in enumerate(units[:10]) if matches(s, t, rel)), None) for rel in rels]
        r1 += sum(1 for f in found_at if f is not None and f < 1) / len(rels)
        r5 += sum(1 for f in found_at if f is not None and f < 5) / len(rels)
        first = min((f for f in found_at if f is not None), default=None)
        mrr += 1 / (first + 1) if first is not None else 0.0
        tok += sum(count_tokens(t) for _, t in units[:5]) / max(1, min(5, len(units)))
        per_q.append({"id": q.get("id"), "first_relevant_rank": None if first is None else first + 1})
    n = max(1, len(questions))
    return {"n": len(questions), "recall@1": r1 / n, "recall@5": r5 / n, "mrr@10": mrr / n,
            "tokens@5": tok / n, "per_question": per_q}


def passage_units(passages) -> list[Unit]:
    """A search hit counts with every near-duplicate copy merged into it (same text, other outlets)."""
    out = []
    for p in passages:
        out.append((p.source, p.text))
        # Merged copies share the rank of the hit that lists them.
        out.extend((c.source, c.text) for c in p.also_in)
    return out


def rank_all(search: Callable[[str], list[Unit]], questions: list[dict]) -> list[list[Unit]]:
    return [search(q["question"]) for q in questions]


def product_retrievers(assistant, questions: list[dict]) -> dict[str, dict]:
    out = {}
    for mode in ("bm25", "dense", "hybrid"):
        out[mode] = score(rank_all(lambda q: passage_units(assistant.search(q, k=10, mode=mode)), questions),
                          questions)
    return out


def _nltk_data_without_hardlinks() -> None:
    """SentenceSplitter reads NLTK's punkt/stopwords from LlamaIndex's bundled cache, but uv installs
    package files as hard links and NLTK's path security refuses any file with st_nlink > 1
    ("refusing multiply-linked file"). A private copy of the cache (fresh inodes) fixes that."""
    import os
    import shutil

    import llama_index.core

    if os.environ.get("NLTK_DATA"):
        return
    src = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
    dst = Path(tempfile.gettempdir()) / "newsdesk-bench-nltk"
    if not dst.exists():
        shutil.copytree(src, dst, copy_function=shutil.copy)
    os.environ["NLTK_DATA"] = str(dst)


def llamaindex_peer(questions: list[dict], chunk_size: int | None = None) -> dict:
    """Plain `VectorStoreIndex` over the raw article files (SimpleDirectoryReader), SentenceSplitter with
    its defaults (or `chunk_size`), in-memory store, same local embedding model, top 10."""
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    from assistant.embeddings import LocalEmbedding

    _nltk_data_without_hardlinks()
    docs = SimpleDirectoryReader(str(DOCUMENTS), required_exts=[".txt"]).load_data()
    splitter = SentenceSplitter() if chunk_size is None else SentenceSplitter(chunk_size=chunk_size, chunk_overlap=20)
    index = VectorStoreIndex.from_documents(docs, embed_model=LocalEmbedding(), transformations=[splitter])
    retriever = index.as_retriever(similarity_top_k=10)

    def search(q: str) -> list[Unit]:
        return [(n.node.metadata.get("file_name", ""), n.node.get_content()) for n in retriever.retrieve(q)]

    res = score(rank_all(search, questions), questions)
    res["chunks"] = len(index.docstore.docs)
    res["chunk_size"] = splitter.chunk_size
    return res


def embed_context_variants(questions: list[dict], variants: list[str], reuse: dict | None = None) -> dict:
    """Hybrid and dense quality with each `embed_context` setting (each builds its own small index)."""
    from assistant import Assistant

    out = dict(reuse or {})
    for v in variants:
        if v in out:
            continue
        with tempfile.TemporaryDirectory(prefix="bench-ctx-") as tmp:
            a = Assistant(documents_dir=DOCUMENTS, index_dir=Path(tmp), embed_context=v)
            out[v] = {m: score(rank_all(lambda q: passage_units(a.search(q, k=10, mode=m)), questions), questions)
                      for m in ("hybrid", "dense", "bm25")}
    return out


FUSION_GRID = {
    "mode": ["relative_score", "dist_based_score", "reciprocal_rerank"],
    "rrf_k": [20, 60],  # only reciprocal_rerank reads it
    "weights": [(1.0, 1.0), (1.0, 2.0), (1.0, 0.5), (1.0, 4.0)],
    "candidate_k": [30, 60],  # search() asks each retriever for max(candidate_k, 3k) = 30 at k=10 anyway
}


def _grid():
    for mode, (wd, wb), cand in itertools.product(FUSION_GRID["mode"], FUSION_GRID["weights"],
                                                  FUSION_GRID["candidate_k"]):
        for rrf_k in FUSION_GRID["rrf_k"] if mode == "reciprocal_rerank" else [None]:
            yield mode, rrf_k, wd, wb, cand


def fusion_grid(assistant, questions: list[dict]) -> dict:
    """MRR@10 of hybrid search for each (fusion mode, rrf_k, dense/bm25 weights, candidate_k) on the built
    index, and a 2-fold cross-check (pick the best on odd questions, score it on even ones and vice
    versa) because choosing among ~30 settings on ~67 questions overfits."""
    from assistant.retrieve import Filters, HybridSearcher

    rows = []
    for mode, rrf_k, wd, wb, cand in _grid():
        upd = {"fusion_mode": mode, "dense_weight": wd, "bm25_weight": wb, "candidate_k": cand}
        if rrf_k is not None:
            upd["rrf_k"] = rrf_k
        s = assistant.settings.model_copy(update=upd)
        searcher = HybridSearcher(assistant.index, s)
        ranked = rank_all(lambda q: passage_units(searcher.search(q, 10, Filters())), questions)
        sc = score(ranked, questions)
        rows.append({"mode": mode, "rrf_k": rrf_k, "dense_weight": wd, "bm25_weight": wb, "candidate_k": cand,
                     "recall@1": sc["recall@1"], "recall@5": sc["recall@5"], "mrr@10": sc["mrr@10"],
                     "_per_q": [1 / r["first_relevant_rank"] if r["first_relevant_rank"] else 0.0
                                for r in sc["per_question"]]})
    cur = assistant.settings
    # Weights only matter as a ratio, so 0.5:1 is the same ranking as 1:2.
    current = next((r for r in rows if r["mode"] == cur.fusion_mode and r["candidate_k"] == cur.candidate_k
                    and r["rrf_k"] in (None, cur.rrf_k)
                    and abs(r["bm25_weight"] / r["dense_weight"] - cur.bm25_weight / cur.dense_weight) < 1e-9),
                   None)
    best = max(rows, key=lambda r: r["mrr@10"])

    def fold_mean(r, parity):
        xs = [x for i, x in enumerate(r["_per_q"]) if i % 2 == parity]
        return sum(xs) / max(1, len(xs))

    held_out = []
    for train, test in ((0, 1), (1, 0)):
        pick = max(rows, key=lambda r: fold_mean(r, train))
        held_out.append(fold_mean(pick, test))
    for r in rows:
        del r["_per_q"]
    return {"rows": sorted(rows, key=lambda r: -r["mrr@10"]), "best": best, "current": current,
            "cv_mrr@10_of_picked": sum(held_out) / 2}
