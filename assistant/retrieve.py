"""Hybrid retrieval: dense (Chroma) + BM25 over the same paragraphs, fused.

LlamaIndex supplies the parts: ``VectorIndexRetriever`` (Chroma, with metadata filters pushed down to
Chroma's `where`), a keyword retriever over the index's persisted bm25s index (``index.KeywordIndex``:
stemmed, filtered with a per-query weight mask, memory-mapped from disk; bm25s directly rather than
``BM25Retriever``, whose persistence cannot take writes) and ``QueryFusionRetriever`` (default:
relative-score fusion, BM25 weighted 2:1 — the best of the modes and weights measured in
benchmarks/README.md). Its built-in RRF has a fixed k=60 and ignores retriever
weights, so :class:`HybridFusionRetriever` overrides just that one method for users who choose RRF.
"""
from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Dict, List, Tuple

from llama_index.core import VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from .config import Settings
from .errors import QuestionError
from .index import ParagraphIndex, _to_nodes, date_int, node_to_passage
from .models import Passage

_WORD = re.compile(r"\w+")
# Largest unfiltered candidate pool worth fetching instead of Chroma's filtered query (~200 ms at 100k);
# a filter keeping under ~2% of a large corpus uses Chroma's `where` directly.
POST_FILTER_POOL_MAX = 2000


class HybridFusionRetriever(QueryFusionRetriever):
    """QueryFusionRetriever whose reciprocal-rank fusion honours `retriever_weights` and a tunable k."""

    def __init__(self, *args, rrf_k: float = 60.0, **kwargs):
        super().__init__(*args, **kwargs)
        self._rrf_k = rrf_k

    def _reciprocal_rerank_fusion(self, results: Dict[Tuple[str, int], List[NodeWithScore]]) -> List[NodeWithScore]:
        fused: dict[str, float] = {}
        by_id: dict[str, NodeWithScore] = {}
        for (_, retriever_idx), hits in results.items():
            w = self._retriever_weights[retriever_idx]
            for rank, hit in enumerate(sorted(hits, key=lambda h: h.score or 0.0, reverse=True)):
                nid = hit.node.node_id
                by_id.setdefault(nid, hit)
                fused[nid] = fused.get(nid, 0.0) + w / (self._rrf_k + rank + 1)
        out = []
        for nid, score in sorted(fused.items(), key=lambda kv: kv[1], reverse=True):
            out.append(NodeWithScore(node=by_id[nid].node, score=score))
        return out


_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def _valid_date(value: str) -> str:
    if not _DATE.fullmatch(value.strip()):
        raise QuestionError(f"Dates look like 2025, 2025-08 or 2025-08-15; got {value!r}.")
    return value.strip()


def _as_list(v) -> list[str] | None:
    if v is None or v == "" or v == []:
        return None
    return [v] if isinstance(v, str) else list(v)


class Filters:
    """The user's restrictions, in both forms the two retrievers need."""

    def __init__(self, outlet=None, source=None, date_from: str | None = None, date_to: str | None = None):
        self.outlets = _as_list(outlet)
        self.sources = _as_list(source)
        self.date_from = date_int(_valid_date(date_from)) if date_from else None
        self.date_to = date_int(_valid_date(date_to), end=True) if date_to else None

    @property
    def empty(self) -> bool:
        return not (self.outlets or self.sources or self.date_from or self.date_to)

    def matches(self, md: dict) -> bool:
        """The same restrictions as `llama()`, checked in Python on one node's metadata."""
        date = int(md.get("date_int", 0) or 0)
        return ((not self.outlets or md.get("outlet") in self.outlets)
                and (not self.sources or md.get("source") in self.sources)
                and (not self.date_from or date >= self.date_from)
                and (not self.date_to or 0 < date <= self.date_to))

    def llama(self) -> MetadataFilters | None:
        f: list[MetadataFilter] = []
        if self.outlets:
            f.append(MetadataFilter(key="outlet", value=self.outlets, operator=FilterOperator.IN))
        if self.sources:
            f.append(MetadataFilter(key="source", value=self.sources, operator=FilterOperator.IN))
        if self.date_from:
            f.append(MetadataFilter(key="date_int", value=self.date_from, operator=FilterOperator.GTE))
        if self.date_to:
            f.append(MetadataFilter(key="date_int", value=self.date_to, operator=FilterOperator.LTE))
            f.append(MetadataFilter(key="date_int", value=0, operator=FilterOperator.GT))
        return MetadataFilters(filters=f) if f else None


def token_set(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def near_duplicate(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= threshold


class HybridSearcher:
    """Builds the retrievers over a ParagraphIndex and turns fused nodes into Passages."""

    def __init__(self, index: ParagraphIndex, settings: Settings):
        self.index = index
        self.settings = settings
        self.vector_index = VectorStoreIndex.from_vector_store(index.store, embed_model=index.embedder)

    # The keyword index lives on disk beside the vectors (index.KeywordIndex): loaded memory-mapped at the
    # first search, current through this process's writes, caught up with other clients' at every search.
    def _ensure_bm25(self):
        with self.index.lock:
            return self.index.keyword.ensure()

    def retrievers(self, filters: Filters, k: int):
        """(dense, bm25) retrievers for one query; bm25 is None when nothing can match, both when the
        index is empty (the keyword index knows its size: no extra Chroma call)."""
        kw = self._ensure_bm25()
        if not kw.size:
            return None, None
        dense = self.vector_index.as_retriever(similarity_top_k=k, filters=filters.llama())
        share = 1.0
        if not filters.empty:
            with self.index.lock:
                share = kw.share(filters)
            # Pool size that should hold k matches at the filter's share of the corpus, with a margin.
            pool = int(1.5 * k / max(share, 1e-9)) + 1
            if pool <= POST_FILTER_POOL_MAX:
                dense = _PostFilteredDense(self.index, pool, dense, filters, k)
        bm25 = (_KeywordRetriever(self.index, min(k, kw.size), None if filters.empty else filters)
                if share > 0 else None)
        return dense, bm25

    def search(self, query: str, k: int, filters: Filters, mode: str = "hybrid") -> list[Passage]:
        cand = max(self.settings.candidate_k, k * 3)
        dense, bm25 = self.retrievers(filters, cand)
        if dense is None:  # empty index
            return []
        if mode == "dense":
            nodes = dense.retrieve(query)
        elif mode == "bm25":
            nodes = bm25.retrieve(query) if bm25 else []
        else:
            parts = [dense] + ([bm25] if bm25 else [])
            weights = [self.settings.dense_weight] + ([self.settings.bm25_weight] if bm25 else [])
            fusion = HybridFusionRetriever(
                parts, llm=MockLLM(), mode=self.settings.fusion_mode, similarity_top_k=cand, num_queries=1,
                use_async=False, retriever_weights=weights, rrf_k=self.settings.rrf_k,
            )
            nodes = fusion.retrieve(query)
        return self._dedupe([node_to_passage(n.node, n.score) for n in nodes], k)

    def _dedupe(self, ranked: list[Passage], k: int) -> list[Passage]:
        """Collapse near-identical paragraphs (wire copy in two outlets) into one hit listing every copy."""
        kept: list[Passage] = []
        sets: list[frozenset[str]] = []
        ids: set[str] = set()
        for p in ranked:
            if p.id in ids:  # fusion keys on node hashes; never show one paragraph twice
                continue
            ids.add(p.id)
            ts = token_set(p.text)
            for i, other in enumerate(sets):
                if kept[i].source != p.source and near_duplicate(ts, other, self.settings.duplicate_threshold):
                    kept[i] = replace(kept[i], also_in=kept[i].also_in + (p,))
                    break
            else:
                if len(kept) < k:
                    kept.append(p)
                    sets.append(ts)
        return kept


class _PostFilteredDense(BaseRetriever):
    """Dense retrieval under a filter. Chroma's filtered query (`where`) costs 150-600 ms at 100k
    paragraphs, and so does reading the metadata of a large unfiltered pool; its nearest ids alone cost a
    few ms. So: ask Chroma for the ids and distances of a pool sized from the filter's share, keep those the
    keyword index's columns say pass the filter (outlet, source, date per paragraph, already in memory), and
    read only the k kept paragraphs. Exact whenever the pool holds k matches (anything outside the pool
    ranks below all of them), with the same scores as LlamaIndex's Chroma store (exp(-distance)); only very
    selective filters fall back to Chroma's own `where`."""

    def __init__(self, index: ParagraphIndex, pool: int, filtered, filters: Filters, k: int):
        super().__init__()
        self._index, self._pool, self._filtered, self._filters, self._k = index, pool, filtered, filters, k

    def _retrieve(self, query_bundle: QueryBundle) -> List[NodeWithScore]:
        if query_bundle.embedding is None:
            query_bundle.embedding = self._index.embedder.get_agg_embedding_from_queries(
                query_bundle.embedding_strs)
        coll = self._index.paragraphs
        got = coll.query(query_embeddings=[query_bundle.embedding], n_results=self._pool, include=["distances"])
        ids, dists = got["ids"][0], got["distances"][0]
        with self._index.lock:
            keep = self._index.keyword.matching(ids, self._filters)
        unknown = [i for i, ok in zip(ids, keep) if ok is None]
        if unknown:  # written by another client since this search caught up: read their metadata
            md = dict(zip(*(lambda g: (g["ids"], g["metadatas"]))(coll.get(ids=unknown, include=["metadatas"]))))
            keep = [ok if ok is not None else (i in md and self._filters.matches(md[i] or {}))
                    for i, ok in zip(ids, keep)]
        top = [(i, d) for i, d, ok in zip(ids, dists, keep) if ok][: self._k]
        if len(top) < self._k:
            return self._filtered.retrieve(query_bundle)
        nodes = {n.node_id: n for n in _to_nodes(coll.get(ids=[i for i, _ in top],
                                                          include=["documents", "metadatas"]))}
        return [NodeWithScore(node=nodes[i], score=math.exp(-d)) for i, d in top if i in nodes]


class _KeywordRetriever(BaseRetriever):
    """The index's keyword search as a LlamaIndex retriever, with its own k and filters. Zero-score
    padding is never a hit, and the query drops the same English stopwords as the paragraphs did."""

    def __init__(self, index: ParagraphIndex, k: int, filters: Filters | None):
        super().__init__()
        self._index, self._k, self._filters = index, k, filters

    def _retrieve(self, query_bundle: QueryBundle) -> List[NodeWithScore]:
        with self._index.lock:
            hits = self._index.keyword.ensure().search(query_bundle.query_str, self._k, self._filters)
        return [NodeWithScore(node=n, score=s) for n, s in hits]
