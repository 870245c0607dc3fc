"""The persistent paragraph index: Chroma (embedded or server) through LlamaIndex's Chroma store.

Two collections: ``<name>`` holds one vector per paragraph (ids derived from content, so re-ingesting an
unchanged file writes nothing and a changed file replaces its old paragraphs); ``<name>-docs`` is a small
registry with one record per article (content hash, metadata, counts), which makes "is this file already
indexed?" and `assistant sources` cheap without scanning every paragraph.
"""
from __future__ import annotations

import hashlib
import re
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import MetadataMode, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from .config import Settings
from .embeddings import DIMENSION, LocalEmbedding
from .errors import IndexStateError
from .models import Article, Passage, SourceInfo

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
_META_FIELDS = ("outlet", "title", "author", "date", "url", "agency")


def paragraph_id(source: str, number: int, part: int, text: str) -> str:
    return hashlib.sha256(f"{source}\x00{number}\x00{part}\x00{text}".encode()).hexdigest()[:32]


def date_int(date: str | None, end: bool = False) -> int:
    """'2025-08-15' -> 20250815 (Chroma range filters need numbers); unknown -> 0.

    A partial date as a range end ('2025-08', end=True) means its last day: 20250899 sorts after it."""
    if not date:
        return 0
    digits = "".join(ch for ch in date if ch.isdigit())[:8]
    return int(digits.ljust(8, "9" if end else "0")) if len(digits) >= 4 else 0


def _lead_in(text: str, words: int = 40) -> str:
    """The last sentence (at most `words` words) of the previous paragraph: it often names the speaker
    of a quote ("…Pete Hegseth." / "the former Fox News host said: “…”")."""
    tail = re.split(r"(?<=[.!?\u201d\"])\s+", text.strip())[-1]
    return " ".join(tail.split()[-words:])


def article_nodes(article: Article, embed_context: str = "heading") -> list[TextNode]:
    m = article.meta
    nodes = []
    prev = None
    for p in article.paragraphs:
        context = []
        if "title" in embed_context:
            context.append(m.title)
        if "heading" in embed_context and p.context:
            context.append(p.context)
        if "prev" in embed_context and prev is not None:
            context.append(_lead_in(prev.text))
        prev = p
        meta = {
            "source": m.source,
            "paragraph": p.number,
            "part": p.part,
            "tokens": p.tokens,
            "date_int": date_int(m.date),
            "content_hash": article.content_hash,
            **{f: getattr(m, f) or "" for f in _META_FIELDS},  # Chroma metadata cannot hold None
            "context": " / ".join(context),
        }
        node = TextNode(id_=paragraph_id(m.source, p.number, p.part, p.text), text=p.text, metadata=meta)
        # Metadata is for filtering and citing; the embedding and BM25 see the paragraph text plus its
        # `context` (heading, lead-in), so a quote whose speaker is named just before it is still found.
        node.excluded_embed_metadata_keys = [k for k in meta if k != "context"]
        node.excluded_llm_metadata_keys = list(meta)
        node.metadata_template = "{value}"
        node.text_template = "{metadata_str}\n{content}"
        nodes.append(node)
    return nodes


def node_to_passage(node, score: float = 0.0) -> Passage:
    md = node.metadata
    opt = lambda k: md.get(k) or None  # noqa: E731
    return Passage(
        id=node.node_id, source=md["source"], outlet=md.get("outlet") or "unknown", title=md.get("title", ""),
        paragraph=int(md["paragraph"]), part=int(md.get("part", 1)), text=node.get_content(),
        score=float(score or 0.0), tokens=int(md.get("tokens", 0)), date=opt("date"), url=opt("url"),
        author=opt("author"), agency=opt("agency"),
    )


def _to_nodes(got: dict) -> list[TextNode]:
    """A Chroma `get` result (ids, documents, metadatas) back into LlamaIndex nodes."""
    nodes = []
    for i, doc, md in zip(got["ids"], got["documents"], got["metadatas"]):
        node = metadata_dict_to_node(md, text=doc)
        node.id_ = i
        nodes.append(node)
    return nodes


class ParagraphIndex:
    """Owns the Chroma client, both collections and the write path (embedding in batches)."""

    def __init__(self, settings: Settings, embedder: LocalEmbedding):
        self.settings = settings
        self.embedder = embedder
        self.client = self._connect()
        self._open_collections()
        self.version = 0  # bumped on every write so retrievers know to refresh
        # Every paragraph node by article, for BM25: read from Chroma once, then kept current by our own
        # writes, so a write costs a BM25 re-index but not a read-back of the whole collection.
        self._corpus: dict[str, list[TextNode]] | None = None
        self._registry: tuple[int, int, dict] | None = None
        self._flat: tuple[int, list[TextNode]] | None = None
        # The chat UI shares one index between threads: writes and corpus reads take turns.
        self.lock = threading.RLock()

    # ---- opening
    @property
    def chroma_path(self) -> Path:
        return Path(self.settings.index_dir) / "chroma"

    def _connect(self):
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if self.settings.chroma_url:
            u = urlparse(self.settings.chroma_url)
            try:
                client = chromadb.HttpClient(
                    host=u.hostname or "localhost", port=u.port or (443 if u.scheme == "https" else 8000),
                    ssl=u.scheme == "https", settings=chroma_settings,
                )
                client.heartbeat()
            except Exception as e:  # noqa: BLE001 - chromadb raises many types here
                raise IndexStateError(
                    f"Cannot reach the Chroma server at {self.settings.chroma_url} ({e}). Start it with "
                    "`chroma run --path DIR --port PORT` or unset ASSISTANT_CHROMA_URL to use the local index."
                ) from e
            return client
        self.chroma_path.mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(path=str(self.chroma_path), settings=chroma_settings)
            client.list_collections()
            return client
        except Exception as e:  # noqa: BLE001 - a corrupt sqlite file surfaces as various errors
            aside = self.chroma_path.with_name(f"chroma.corrupt-{int(time.time())}")
            log.warning("The index at %s is unreadable (%s); moved it to %s and starting a new one.",
                        self.chroma_path, e, aside)
            shutil.move(str(self.chroma_path), aside)
            self.corrupt_moved_to = aside
            self.chroma_path.mkdir(parents=True)
            # Chroma caches one client system per path; drop ours or the new client reuses the broken one.
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(self.chroma_path), None)
            return chromadb.PersistentClient(path=str(self.chroma_path), settings=chroma_settings)

    def _open_collections(self) -> None:
        # Everything that changes what is stored: an index built otherwise must be rebuilt, never mixed.
        built_with = {"embedding_model": self.embedder.model_name, "schema": SCHEMA_VERSION,
                      "embed_context": self.settings.embed_context,
                      "max_paragraph_tokens": self.settings.max_paragraph_tokens}
        name = self.settings.collection
        self.paragraphs = self.client.get_or_create_collection(
            name, metadata={**built_with, "dimension": DIMENSION, "hnsw:space": "cosine"}, embedding_function=None)
        found = self.paragraphs.metadata or {}
        diff = [f"{k} {found.get(k)!r} -> {v!r}" for k, v in built_with.items() if found.get(k) != v]
        self.incompatible = f"the index was built differently ({'; '.join(diff)})" if diff else None
        self.docs = self.client.get_or_create_collection(f"{name}-docs", embedding_function=None)
        self.store = ChromaVectorStore(chroma_collection=self.paragraphs)

    def reset(self) -> None:
        """Drop both collections and start empty (used by reindex and after an incompatible index)."""
        with self.lock:
            for c in (self.settings.collection, f"{self.settings.collection}-docs"):
                try:
                    self.client.delete_collection(c)
                except Exception:  # noqa: BLE001 - missing collection
                    pass
            self._open_collections()
            self._corpus = {}
            self.version += 1

    # ---- registry
    def registry(self) -> dict[str, dict]:
        """source -> its registry record. Cached until our next write, or until the record count changes
        (another client of a shared server): claim checks and outlet filters read it on every call."""
        cached = self._registry
        if cached is not None and cached[0] == self.version and cached[1] == self.docs.count():
            return dict(cached[2])
        got = self.docs.get(include=["metadatas"])
        reg = {i: m for i, m in zip(got["ids"], got["metadatas"])}
        self._registry = (self.version, len(reg), reg)
        return dict(reg)

    def sources(self) -> list[SourceInfo]:
        out = []
        for src, m in sorted(self.registry().items()):
            out.append(SourceInfo(
                source=src, outlet=m.get("outlet") or "unknown", title=m.get("title", ""),
                paragraphs=int(m.get("paragraphs", 0)), tokens=int(m.get("tokens", 0)),
                **{f: (m.get(f) or None) for f in ("date", "url", "author", "agency")},
            ))
        return out

    # ---- writes
    def upsert(self, articles: Iterable[Article], progress: Callable[[int], None] | None = None) -> int:
        """Replace each article's paragraphs; returns paragraphs written. `progress(n)` after each batch.

        Articles are grouped so that each Chroma round trip (delete, add, registry upsert) carries a few
        hundred paragraphs: one call per article capped writes at ~135 paragraphs/s (benchmarks)."""
        written = 0
        batch = self.settings.embed_batch_size * 8
        group: list[Article] = []
        size = 0
        for article in articles:
            group.append(article)
            size += len(article.paragraphs)
            if size >= batch:
                written += self._write_group(group, progress)
                group, size = [], 0
        if group:
            written += self._write_group(group, progress)
        self.version += 1
        return written

    def _write_group(self, group: list[Article], progress: Callable[[int], None] | None) -> int:
        with self.lock:
            return self._write_group_locked(group, progress)

    def _write_group_locked(self, group: list[Article], progress: Callable[[int], None] | None) -> int:
        sources = [a.meta.source for a in group]
        self.paragraphs.delete(where={"source": {"$in": sources}})
        nodes = [n for a in group for n in article_nodes(a, self.settings.embed_context)]
        batch = self.settings.embed_batch_size * 8
        for start in range(0, len(nodes), batch):
            chunk = nodes[start : start + batch]
            vecs = self.embedder.embed_texts([n.get_content(metadata_mode=MetadataMode.EMBED) for n in chunk])
            for n, v in zip(chunk, vecs):
                n.embedding = v.tolist()
            self.store.add(chunk)
            for n in chunk:
                n.embedding = None  # stored in Chroma; the BM25 corpus needs only text and metadata
            if progress:
                progress(len(chunk))
        if self._corpus is not None:
            for src in sources:
                self._corpus[src] = []
            for n in nodes:
                self._corpus[n.metadata["source"]].append(n)
        self.docs.upsert(ids=sources, embeddings=[[1.0]] * len(group), metadatas=[{
            "content_hash": a.content_hash, "path": a.path,
            "paragraphs": len({p.number for p in a.paragraphs}),
            "tokens": sum(p.tokens for p in a.paragraphs),
            **{f: getattr(a.meta, f) or "" for f in _META_FIELDS},
        } for a in group])
        return len(nodes)

    def remove(self, source: str) -> None:
        with self.lock:
            self.paragraphs.delete(where={"source": source})
            self.docs.delete(ids=[source])
            if self._corpus is not None:
                self._corpus.pop(source, None)
            self.version += 1

    # ---- reads
    def count(self) -> int:
        return self.paragraphs.count()

    def corpus(self) -> list[TextNode]:
        """Every paragraph node, from the in-memory copy; re-read when another client (a shared Chroma
        server) changed the collection behind our back."""
        with self.lock:
            if self._corpus is None or sum(map(len, self._corpus.values())) != self.count():
                grouped: dict[str, list[TextNode]] = {}
                for n in self.all_nodes():
                    grouped.setdefault(n.metadata["source"], []).append(n)
                self._corpus = grouped
                self.version += 1
            if self._flat is None or self._flat[0] != self.version:  # flattened once per change, not per search
                self._flat = (self.version, [n for nodes in self._corpus.values() for n in nodes])
            return self._flat[1]

    def all_nodes(self, page: int = 5000) -> list[TextNode]:
        """Every paragraph node (for BM25), read in pages so a server is never asked for 100k at once."""
        nodes: list[TextNode] = []
        total = self.paragraphs.count()
        for offset in range(0, total, page):
            nodes += _to_nodes(self.paragraphs.get(include=["documents", "metadatas"], limit=page, offset=offset))
        return nodes

    def nodes_of(self, source: str) -> list[TextNode]:
        nodes = _to_nodes(self.paragraphs.get(where={"source": source}, include=["documents", "metadatas"]))
        return sorted(nodes, key=lambda n: (n.metadata["paragraph"], n.metadata.get("part", 1)))
