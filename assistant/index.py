"""The persistent paragraph index: Chroma (embedded or server) through LlamaIndex's Chroma store.

Two collections: ``<name>`` holds one vector per paragraph (ids derived from content, so re-ingesting an
unchanged file writes nothing and a changed file replaces its old paragraphs); ``<name>-docs`` is a small
registry with one record per article (content hash, metadata, counts), which makes "is this file already
indexed?" and `assistant sources` cheap without scanning every paragraph.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import shutil
import struct
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator
from urllib.parse import urlparse

import chromadb
import numpy as np
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


def get_pages(collection, include: list[str], page: int = 5000) -> Iterator[dict]:
    """Every record of `collection`, one `get()` result per page. chromadb 1.5.9 fails an unpaged `get()`
    of more than 32,766 records ("too many SQL variables": its executor binds one variable per record),
    which a registry of 50,000 articles (1M paragraphs) reaches; a server is never asked for 100k at once."""
    for offset in range(0, collection.count(), page):
        yield collection.get(include=include, limit=page, offset=offset)


def get_all(collection, include: list[str], page: int = 5000) -> dict:
    """`get_pages` joined into one `get()`-shaped result (small collections: the registry, the write log)."""
    out: dict = {"ids": [], **{k: [] for k in include}}
    for got in get_pages(collection, include, page):
        out["ids"] += got["ids"]
        for k in include:
            out[k] += list(got[k])
    return out


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
        self.notices: list[str] = []  # what opening found and did (damage, an interrupted write), for the user
        root = Path(settings.index_dir)
        # Writers of one embedded index take turns across processes (issue 13: two first ingests at once
        # let one read the other's half-made database as corrupt and move it aside). A server index is
        # serialised by its server.
        self.write_lock = _WriteLock(root / "write.lock") if not settings.chroma_url else contextlib.nullcontext()
        self.kept = KeptArticles(root / "articles" / settings.collection, settings.max_paragraph_tokens)
        self.journal = WriteJournal(root / "journal" / settings.collection)
        self._recovering = False
        damage = None
        self._server_emptied = False
        with self.write_lock:
            if not settings.chroma_url:
                damage = self._check_damage()
                self.client = self._connect(damage)
                self._open_collections()
            else:
                self.client = self._connect()
                with self._server_failures("opening the index"):
                    self._open_server()
        self.version = 0  # bumped on every write (registry cache)
        self._registry: tuple[tuple[int, int], dict] | None = None
        self._sources: tuple[tuple, list[SourceInfo]] | None = None
        self._log_times: dict[str, float] = {}
        # The keyword (BM25) index, saved beside the vectors and kept current by every write.
        self.keyword = KeywordIndex(self)
        # The chat UI shares one index between threads: writes and keyword searches take turns.
        self.lock = threading.RLock()
        with self.lock, self.write_lock, self._server_failures("opening the index"):
            if self.damage is not None:
                self._rebuild_after_damage()
            if self._server_emptied:
                self._restore_emptied_server()
            self.recover()
            if not settings.chroma_url:
                self._backfill_kept()
                self._record_health()

    # ---- opening
    @property
    def chroma_path(self) -> Path:
        return Path(self.settings.index_dir) / "chroma"

    @property
    def _health_file(self) -> Path:
        return Path(self.settings.index_dir) / "chroma-checked.json"

    def _collection_names(self) -> list[str]:
        c = self.settings.collection
        return [c, f"{c}-docs", f"{c}-log"]

    def _check_damage(self) -> str | None:
        """Why the embedded store cannot be trusted, or None. Runs before Chroma opens anything (hnswlib
        would segfault on a damaged data_level0.bin). The header and size checks run every time; sqlite's
        quick_check and the HNSW byte checks only for files that changed since they last passed (our own
        writes record their result), so a normal open costs a few stat calls."""
        path = self.chroma_path
        db = path / "chroma.sqlite3"
        had_contents = any(self.kept.keys()) or any(path.glob("*-*-*-*-*/header.bin"))
        if not db.exists() or (db.stat().st_size == 0 and not had_contents):
            # A new index, or one whose store was deleted: nothing to check; kept copies are restored below.
            if had_contents:
                return "chroma.sqlite3 is missing" if not db.exists() else "chroma.sqlite3 is empty (0 bytes)"
            return None
        try:
            checked = json.loads(self._health_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            checked = {}
        now = _chroma_signature(path)
        changed = {k for k, v in now.items() if checked.get(k) != v} | (set(checked) - set(now))
        problem = sqlite_problem(db, deep="chroma.sqlite3" in changed)
        if problem:
            return problem
        try:
            segments = _vector_segments(db, self._collection_names())
        except Exception as e:  # noqa: BLE001 - sqlite3.Error or a schema that is not Chroma's
            return f"chroma.sqlite3 is damaged ({e})"
        space = {self.settings.collection: "cosine"}
        for name, seg, persisted in segments:
            folder = path / seg
            if not persisted and not (folder / "index_metadata.pickle").exists():
                continue  # nothing persisted yet: its vectors are all in Chroma's log
            deep = any(k.startswith(f"{seg}/") for k in changed) or not any(k.startswith(f"{seg}/") for k in now)
            problem = hnsw_problem(folder, space.get(name, "l2"), deep)
            if problem:
                return f"the vector index of {name!r} ({seg}/) is damaged: {problem}"
        return None

    def _record_health(self) -> None:
        """The files as they are now passed the checks (or were just written by us): remember their sizes
        and times, so the next open checks only what changed since."""
        if self.settings.chroma_url:
            return
        try:
            _atomic_write(self._health_file, json.dumps(_chroma_signature(self.chroma_path)))
        except OSError as e:
            log.warning("Could not record the index check in %s (%s).", self._health_file, e)

    def _connect(self, damage: str | None = None):
        self.damage: tuple[str, Path | None, dict | None] | None = None
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
                    "`chroma run --path DIR --port PORT` or unset ASSISTANT_CHROMA_URL to use the local index. "
                    "If `chroma run` exits as it starts (e.g. 'database disk image is malformed'), its data "
                    f"folder is damaged. {self._server_fix()}"
                ) from e
            return client
        if damage:
            return self._start_over(damage)
        self.chroma_path.mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(path=str(self.chroma_path), settings=chroma_settings)
            client.list_collections()
            for name in self._collection_names():  # reading each one fails on a damaged table, not later
                with contextlib.suppress(chromadb.errors.NotFoundError):
                    client.get_collection(name).count()
            return client
        except Exception as e:  # noqa: BLE001 - a corrupt sqlite file surfaces as various errors
            return self._start_over(f"Chroma could not read it: {e}")

    # ---- a Chroma server's data folder damaged (issue 13): the client cannot repair the server's files,
    # so it says what it found and how to fix it; once the server runs on a new folder, it restores the
    # articles it keeps copies of.
    @property
    def _server_file(self) -> Path:
        return Path(self.settings.index_dir) / "chroma-server.json"

    def _server_fix(self) -> str:
        n = len(self.kept.keys())
        start = ("Stop the server, move its data folder (its `--path`) aside for inspection, start `chroma run` "
                 "on a new, empty folder and open Newsdesk here again")
        try:
            recorded = self.settings.collection in json.loads(self._server_file.read_text(encoding="utf-8"))["collections"]
        except (OSError, ValueError, KeyError, TypeError):
            recorded = False
        if not recorded:  # never opened this server with a version that records it: cannot tell it was emptied
            return f"{start}, then ingest the articles again (documents/ is re-added by itself)."
        return (f"{start}: this client then rebuilds the {n} article(s) it keeps copies of (in "
                f"{self.kept.folder}); articles other clients added must be ingested again from those clients.")

    @contextlib.contextmanager
    def _server_failures(self, doing: str):
        """In server mode, a server that dies (hnswlib segfaults on a damaged data_level0.bin) or answers
        with an error while the index is opened is an IndexStateError saying what happened and how to fix
        it, never an httpx or chromadb traceback."""
        if not self.settings.chroma_url:
            yield
            return
        try:
            yield
        except IndexStateError:
            raise
        except Exception as e:  # noqa: BLE001 - httpx and chromadb raise many types here
            url = self.settings.chroma_url
            what = f"{type(e).__name__}: {str(e)[:300]}"
            if _is_transport_error(e):
                raise IndexStateError(
                    f"The Chroma server at {url} dropped the connection while {doing} ({what}). If its process "
                    "died (a segmentation fault or a panic at the end of its log), its data folder is damaged. "
                    f"{self._server_fix()}") from e
            if isinstance(e, chromadb.errors.ChromaError):
                raise IndexStateError(
                    f"The Chroma server at {url} failed while {doing} ({what}); its data folder is probably "
                    f"damaged. {self._server_fix()}") from e
            raise

    def _open_server(self) -> None:
        """Open the collections on the server and check what this client can see of its health: a server
        that has lost every collection this client saw there (its data folder emptied or replaced) is
        refilled from the kept copies; one whose vector index has lost vectors (the HNSW folder deleted:
        dense search would silently miss articles) is an error."""
        url = self.settings.chroma_url
        had = {getattr(c, "name", c) for c in self.client.list_collections()}
        self._open_collections()
        try:
            seen = json.loads(self._server_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            seen = {}
        # Keyed by collection, not by URL: the same server is reached as localhost, an address or a name.
        before = (seen.get("collections") or {}).get(self.settings.collection)
        now = str(self.paragraphs.id)
        # A restore killed half way is taken up again at the next open ("restoring" names the new collection).
        if before and self.kept.keys() and (not had & set(self._collection_names()) or seen.get("restoring") == now):
            self._server_emptied = seen.get("url") or url
            self._record_server(restoring=now)
        problem = self._server_vector_problem()
        if problem:
            raise IndexStateError(
                f"The Chroma server at {url} has lost part of its vector index: {problem}. Dense search would "
                f"silently miss those paragraphs; its data folder's HNSW files are missing or damaged. "
                f"{self._server_fix()}")
        if not self._server_emptied and (before != now or seen.get("url") != url):
            self._record_server()

    def _record_server(self, restoring: str | None = None) -> None:
        """Remember the collection this client uses on the server (chroma-server.json), to tell a server
        that lost its data from a new one."""
        try:
            seen = json.loads(self._server_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            seen = {}
        cols = dict(seen.get("collections") or {})
        if restoring is None:
            cols[self.settings.collection] = str(self.paragraphs.id)
        rec = {"url": self.settings.chroma_url, "collections": cols}
        if restoring is not None:
            rec["restoring"] = restoring
        try:
            self._server_file.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(self._server_file, json.dumps(rec))
        except OSError as e:
            log.warning("Could not record the server's collection in %s (%s).", self._server_file, e)

    def _server_vector_problem(self, windows: int = 4, size: int = 16) -> str | None:
        """A few windows of paragraphs read back with their vectors (about 5 small requests): a server whose
        HNSW files are gone answers "Error finding id" for every vector it no longer has, while counts and
        keyword search look normal."""
        import random

        n = self.paragraphs.count()
        if not n:
            return None
        offsets = sorted({0, max(0, n - size)} | {random.randrange(n) for _ in range(windows - 2)})
        for off in offsets:
            try:
                got = self.paragraphs.get(limit=size, offset=off, include=["embeddings"])
            except chromadb.errors.ChromaError as e:
                return f"paragraphs {off + 1}-{min(n, off + size)} of {n} have no vector ({str(e)[:200]})"
            emb = got.get("embeddings")
            if got["ids"] and (emb is None or len(emb) != len(got["ids"])):
                return f"paragraphs {off + 1}-{min(n, off + size)} of {n} have no vector"
        return None

    def _restore_emptied_server(self) -> None:
        kept = self.kept.all()
        written = self.upsert(kept) if kept else 0
        last = self._server_emptied
        self._record_server()
        where = "" if last == self.settings.chroma_url else f" (last used at {last})"
        note = (f"The Chroma server at {self.settings.chroma_url} had none of the collections this client "
                f"wrote{where}: its data folder was emptied, replaced or damaged. Rebuilt {len(kept)} article(s) "
                f"({written} paragraphs) from the copies this client keeps in {self.kept.folder}; articles "
                "other clients added are not among them: ingest them again from those clients.")
        self.notices.append(note)
        log.warning(note)

    def _start_over(self, problem: str):
        """Move the damaged store aside (kept for inspection) and open a new, empty one; what it held is
        re-written from the kept copies once the collections are open."""
        db = self.chroma_path / "chroma.sqlite3"
        old = _registry_from_sqlite(db, f"{self.settings.collection}-docs") if db.exists() else None
        aside = None
        if self.chroma_path.exists():
            aside = self.chroma_path.with_name(f"chroma.corrupt-{int(time.time())}")
            n = 1
            while aside.exists():
                aside, n = self.chroma_path.with_name(f"chroma.corrupt-{int(time.time())}-{n}"), n + 1
            shutil.move(str(self.chroma_path), aside)
        log.warning("The index at %s is unreadable (%s); moved it to %s and starting a new one.",
                    self.chroma_path, problem, aside)
        self.corrupt_moved_to = aside
        self.damage = (problem, aside, old)
        self._health_file.unlink(missing_ok=True)
        self.chroma_path.mkdir(parents=True)
        # Chroma caches one client system per path; drop ours or the new client reuses the broken one.
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(self.chroma_path), None)
        return chromadb.PersistentClient(path=str(self.chroma_path),
                                         settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True))

    def _rebuild_after_damage(self) -> None:
        """Re-write every article the damaged store held: from its kept copy, else (an index made before
        copies were kept) from its file if that is unchanged; say what could not be restored."""
        problem, aside, old = self.damage
        kept = {a.meta.source: a for a in self.kept.all()}
        restore = list(kept.values())
        lost = []
        for src, rec in sorted((old or {}).items()):
            if src in kept:
                continue
            art = self._load_file(src, rec.get("path"))
            if art is not None and art.content_hash == rec.get("content_hash"):
                restore.append(art)
            else:
                lost.append(src)
        written = self.upsert(restore) if restore else 0
        where = f"; moved it to {aside}" if aside else ""
        note = (f"The index was unreadable: {problem}{where}. Rebuilt {len(restore)} article(s) "
                f"({written} paragraphs) from the copies kept in {self.kept.folder}")
        if lost:
            note += (f"; {len(lost)} could not be restored (no kept copy and the file is gone or changed): "
                     f"{', '.join(lost[:20])}{' …' if len(lost) > 20 else ''} — ingest them again")
        elif self.kept.complete_marker.exists():
            note += "; nothing was lost (every indexed article had a kept copy)"
        elif old is None:
            note += ("; the damaged registry could not be read and this index predates kept copies, so "
                     "articles it held may be missing: ingest them again (documents/ is re-added by itself)")
        else:
            note += "; nothing was lost"
        self.notices.append(note + ".")
        log.warning(note)

    def _load_file(self, source: str, path: str | None) -> Article | None:
        """An article read again from the file it was ingested from, under its indexed id."""
        if not path or not Path(path).is_file():
            return None
        from .errors import IngestError
        from .ingest import load_article

        try:
            art = load_article(Path(path), self.settings, Path(path).parent)
        except (IngestError, OSError, RecursionError):
            return None
        return dataclasses.replace(art, meta=dataclasses.replace(art.meta, source=source))

    # ---- crash recovery
    def recover(self) -> None:
        """Finish or undo the writes a dead writer left half done (its intents are still in the journal):
        an article it was writing is written again, whole, from its kept copy (or its file); without
        either it is taken out, registry and paragraphs alike. A remove is finished."""
        if self._recovering:
            return
        leftovers = self.journal.leftover(live_writers_possible=bool(self.settings.chroma_url))
        if not leftovers:
            return
        self._recovering = True
        try:
            for path, rec in leftovers:
                if rec.get("op") == "reset":
                    restored = self._restore_missing(rec)
                    self.journal.end(path)
                    note = (f"A reindex was interrupted; restored {len(restored)} article(s) it had taken out"
                            f"{': ' + ', '.join(restored[:20]) if restored else ''}.")
                    self.notices.append(note)
                    log.warning(note)
                    continue
                finished, undone, removed = [], [], []
                redo = []
                for src in rec.get("sources", []):
                    art = None if rec.get("op") == "remove" else (
                        self.kept.load(src) or self._load_file(src, (rec.get("paths") or {}).get(src)))
                    if art is not None:
                        redo.append(art)
                        finished.append(src)
                    else:
                        self.remove(src)
                        (removed if rec.get("op") == "remove" else undone).append(src)
                if redo:
                    self.upsert(redo)
                self.journal.end(path)
                parts = []
                if finished:
                    parts.append(f"finished {', '.join(finished)} (written again, whole)")
                if removed:
                    parts.append(f"finished removing {', '.join(removed)}")
                if undone:
                    parts.append(f"took out {', '.join(undone)} (nothing kept to finish it with; ingest it again)")
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(rec.get("t", 0)))
                note = (f"A write to the index was interrupted (process {rec.get('pid')}, started {when}); "
                        + "; ".join(parts) + ".")
                self.notices.append(note)
                log.warning(note)
        finally:
            self._recovering = False

    def _backfill_kept(self) -> None:
        """An index made before copies were kept: write a copy of each article from its stored paragraphs,
        once, so recovery and rebuilds never depend on the files staying where they were."""
        if self.kept.complete_marker.exists():
            return
        have = self.kept.keys()
        missing = [src for src in self.registry() if _source_key(src) not in have]
        if missing:
            reg = self.registry()
            self.kept.save(a for src in missing if (a := self._article_from_store(src, reg[src])) is not None)
        self.kept.folder.mkdir(parents=True, exist_ok=True)
        self.kept.complete_marker.touch()

    def _article_from_store(self, source: str, rec: dict) -> Article | None:
        from .models import DocumentMeta, Paragraph

        nodes = self.nodes_of(source)
        if not nodes:
            return None
        md0 = nodes[0].metadata
        ec = self.settings.embed_context
        paragraphs = []
        for i, n in enumerate(nodes):
            md = n.metadata
            parts = md.get("context", "").split(" / ") if md.get("context") else []
            if "title" in ec and parts and parts[0] == md0.get("title"):
                parts.pop(0)
            if "prev" in ec and i and parts:
                parts.pop()
            heading = " / ".join(parts) if "heading" in ec and parts else None
            paragraphs.append(Paragraph(int(md["paragraph"]), n.get_content(), int(md.get("tokens", 0)),
                                        int(md.get("part", 1)), heading))
        meta = DocumentMeta(source=source, title=md0.get("title", ""), outlet=md0.get("outlet") or "unknown",
                            **{f: md0.get(f) or None for f in ("author", "date", "url", "agency")})
        return Article(meta, tuple(paragraphs), rec.get("content_hash") or "", rec.get("path") or "")

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
        # One record before and one after every write, by any client: how a keyword index (ours in another
        # process, or another client's) learns which articles changed without reading every paragraph.
        self.log = self.client.get_or_create_collection(f"{name}-log", embedding_function=None)
        self.store = ChromaVectorStore(chroma_collection=self.paragraphs)

    def reset(self) -> None:
        """Drop both collections and start empty (used by reindex and after an incompatible index)."""
        with self.lock, self.write_lock:
            # Journalled like a write: a reindex killed half way restores what it had taken out (`recover`).
            prev = self.registry()
            self._reset_intent = self.journal.begin(
                "reset", sources=list(prev), paths={s: m.get("path") or "" for s, m in prev.items()})
            for c in (self.settings.collection, f"{self.settings.collection}-docs", f"{self.settings.collection}-log"):
                try:
                    self.client.delete_collection(c)
                except Exception:  # noqa: BLE001 - missing collection
                    pass
            self._open_collections()
            self._registry = None
            self.keyword.drop()
            self.version += 1
            if self.settings.chroma_url is None and Path(self.chroma_path).is_dir():
                remove_orphan_segments(Path(self.chroma_path))  # delete_collection leaves them on disk

    def finish_reindex(self) -> list[str]:
        """After a reindex re-added its files: restore, from their kept copies, the articles ingested from
        outside the documents folder whose files are gone; drop the copies of the rest. Returns the ids
        restored."""
        intent = getattr(self, "_reset_intent", None)
        if intent is None:
            return []
        with self.lock, self.write_lock:
            restored = self._restore_missing(json.loads(intent.read_text(encoding="utf-8")))
            self.prune_kept()
            self.journal.end(intent)
            self._reset_intent = None
        return restored

    def _restore_missing(self, rec: dict) -> list[str]:
        reg = self.registry()
        docs = Path(os.path.abspath(self.settings.documents_dir))
        todo = []
        for src in rec.get("sources", []):
            path = (rec.get("paths") or {}).get(src) or ""
            if src in reg or (path and Path(path).is_relative_to(docs)):
                continue  # re-added, or in the documents folder (synced from the folder itself)
            art = self._load_file(src, path) or self.kept.load(src)
            if art is not None:
                todo.append(art)
        if todo:
            self.upsert(todo)
        return [a.meta.source for a in todo]

    # ---- registry
    def registry(self) -> dict[str, dict]:
        """source -> its registry record. Cached, kept current by our own writes, and re-read when the write
        log or the record count shows another client's write: claim checks and outlet filters read it on
        every call."""
        cached = self._registry
        key = self._registry_key()
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        got = get_all(self.docs, ["metadatas"])
        reg = {i: m for i, m in zip(got["ids"], got["metadatas"])}
        self._registry = (key, reg)
        return dict(reg)

    def _registry_key(self) -> tuple[int, int]:
        # Every write by any client adds write-log records, so (log count, record count) changes with it.
        return self.log.count(), self.docs.count()

    def _registry_update(self, was_current: bool, upsert: dict[str, dict], removed: Iterable[str] = ()) -> None:
        """Apply our own write to the cached registry (re-reading 5,000 records after every one-article
        write cost ~0.4 s at 100k paragraphs); a cache that was already stale is just dropped."""
        if not was_current or self._registry is None:
            self._registry = None
            return
        reg = self._registry[1]
        reg.update(upsert)
        for src in removed:
            reg.pop(src, None)
        self._registry = (self._registry_key(), reg)

    def sources(self) -> list[SourceInfo]:
        """Every indexed article. Cached with the registry it was made from (an outlet filter reads it twice
        per search: rebuilding 5,000 SourceInfo each time was ~30 ms of a filtered search at 100k)."""
        reg = self.registry()
        cached = self._sources
        if cached is not None and cached[0] is self._registry:
            return list(cached[1])
        out = []
        for src, m in sorted(reg.items()):
            out.append(SourceInfo(
                source=src, outlet=m.get("outlet") or "unknown", title=m.get("title", ""),
                paragraphs=int(m.get("paragraphs", 0)), tokens=int(m.get("tokens", 0)),
                **{f: (m.get(f) or None) for f in ("date", "url", "author", "agency")},
            ))
        self._sources = (self._registry, out)  # the registry tuple is replaced whenever it changes
        return list(out)

    # ---- writes
    def upsert(self, articles: Iterable[Article], progress: Callable[[int], None] | None = None) -> int:
        """Replace each article's paragraphs; returns paragraphs written. `progress(n)` after each batch.

        Articles are grouped so that each Chroma round trip (delete, add, registry upsert) carries a few
        hundred paragraphs: one call per article capped writes at ~135 paragraphs/s (benchmarks)."""
        with self.lock, self.write_lock:
            self.recover()  # a write of ours (or a dead process's) that failed half way: finish it first
        # The next group is embedded while this one is written (journal, kept copies, Chroma add with its
        # HNSW inserts, registry, keyword index: ~20 % of ingest CPU, one thread). Serially the embedding
        # waited for those writes and a core sat idle once the NLP pass beside it was done. Embedding has
        # no side effects, so a crash still leaves each group wholly old or wholly new.
        from concurrent.futures import ThreadPoolExecutor

        written = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-ahead") as pool:
            pending = None
            for group in self._groups(articles):
                ahead = pool.submit(self._embed_group, group)
                if pending is not None:
                    written += self._write_group(*pending.result(), progress)
                pending = ahead
            if pending is not None:
                written += self._write_group(*pending.result(), progress)
        with self.lock, self.write_lock:
            # After the whole batch: a bulk ingest rebuilds once, not per group; a small write that crosses
            # the delta's limit starts a background compaction instead of waiting for it.
            self.keyword.maybe_compact(background=True)
        self.version += 1
        return written

    def _groups(self, articles: Iterable[Article]) -> Iterator[list[Article]]:
        batch = self.settings.embed_batch_size * 8
        group: list[Article] = []
        size = 0
        for article in articles:
            group.append(article)
            size += len(article.paragraphs)
            if size >= batch:
                yield group
                group, size = [], 0
        if group:
            yield group

    def _embed_group(self, group: list[Article]) -> tuple[list[Article], list[TextNode]]:
        """The group's nodes with their vectors (no lock: nothing is written)."""
        nodes = [n for a in group for n in article_nodes(a, self.settings.embed_context)]
        batch = self.settings.embed_batch_size * 8
        for start in range(0, len(nodes), batch):
            chunk = nodes[start : start + batch]
            vecs = self.embedder.embed_texts([n.get_content(metadata_mode=MetadataMode.EMBED) for n in chunk])
            for n, v in zip(chunk, vecs):
                n.embedding = v.tolist()
        return group, nodes

    def _write_group(self, group: list[Article], nodes: list[TextNode],
                     progress: Callable[[int], None] | None) -> int:
        with self.lock, self.write_lock:
            return self._write_group_locked(group, nodes, progress)

    def _log_write(self, sources: list[str]) -> str:
        i, t = uuid.uuid4().hex, time.time()
        self.log.add(ids=[i], embeddings=[[1.0]], metadatas=[{"sources": json.dumps(sources), "t": t}])
        self._log_times[i] = t  # the keyword index records the time with the id (pruning compares it)
        return i

    def _write_group_locked(self, group: list[Article], nodes: list[TextNode],
                            progress: Callable[[int], None] | None) -> int:
        sources = [a.meta.source for a in group]
        self.keyword.ensure(compact=False)  # loaded before the write, so the write lands in it, not a re-read
        current = self._registry is not None and self._registry[0] == self._registry_key()
        # Write-ahead: the intent names these articles before any paragraph changes, and each article's
        # kept copy is its new version; a kill from here until the intent is cleared leaves what the next
        # open needs to write them again, whole (`recover`).
        intent = self.journal.begin("write", group)
        self.kept.save(group)
        before = self._log_write(sources)
        self.paragraphs.delete(where={"source": {"$in": sources}})
        batch = self.settings.embed_batch_size * 8
        for start in range(0, len(nodes), batch):
            chunk = nodes[start : start + batch]
            self.store.add(chunk)
            for n in chunk:
                n.embedding = None  # stored in Chroma; the BM25 corpus needs only text and metadata
            if progress:
                progress(len(chunk))
        records = [{
            "content_hash": a.content_hash, "path": a.path,
            "paragraphs": len({p.number for p in a.paragraphs}),
            "tokens": sum(p.tokens for p in a.paragraphs),
            **{f: getattr(a.meta, f) or "" for f in _META_FIELDS},
        } for a in group]
        self.docs.upsert(ids=sources, embeddings=[[1.0]] * len(group), metadatas=records)
        after = self._log_write(sources)
        self.journal.end(intent)
        self._registry_update(current, dict(zip(sources, records)))
        written: dict[str, list[TextNode]] = {src: [] for src in sources}
        for n in nodes:
            written[n.metadata["source"]].append(n)
        self.keyword.replace(written, (before, after))
        self._record_health()
        return len(nodes)

    def remove(self, source: str) -> None:
        with self.lock, self.write_lock:
            self.keyword.ensure()
            current = self._registry is not None and self._registry[0] == self._registry_key()
            intent = self.journal.begin("remove", sources=[source])
            before = self._log_write([source])
            self.paragraphs.delete(where={"source": source})
            self.docs.delete(ids=[source])
            self.kept.remove(source)
            after = self._log_write([source])
            self.journal.end(intent)
            self.keyword.replace({source: []}, (before, after))
            self._record_health()
            self._registry_update(current, {}, [source])
            self.keyword.maybe_compact(background=True)
            self.version += 1

    # ---- reads
    def count(self) -> int:
        return self.paragraphs.count()

    def all_nodes(self, page: int = 5000) -> list[TextNode]:
        """Every paragraph node (for a keyword index rebuild), read in pages."""
        # Converted page by page: the raw pages of 1M paragraphs are never all held beside their nodes.
        return [n for got in get_pages(self.paragraphs, ["documents", "metadatas"], page) for n in _to_nodes(got)]

    def has_paragraphs(self, source: str) -> bool:
        """Paragraphs of `source` are stored (also when the registry does not list it: an index a crash
        left half-written before writes were journalled)."""
        return bool(self.paragraphs.get(where={"source": source}, limit=1, include=[])["ids"])

    def prune_kept(self) -> None:
        """Drop the kept copies of articles no longer indexed (after a reindex)."""
        live = {_source_key(s) for s in self.registry()}
        for k in self.kept.keys() - live:
            (self.kept.folder / f"{k}.json").unlink(missing_ok=True)

    def nodes_of(self, source: str) -> list[TextNode]:
        nodes = _to_nodes(self.paragraphs.get(where={"source": source}, include=["documents", "metadatas"]))
        return sorted(nodes, key=lambda n: (n.metadata["paragraph"], n.metadata.get("part", 1)))


# ---- keyword index
KEYWORD_FORMAT = 1
# A write goes into an in-memory "delta" scored with the persisted index's statistics; the whole index is
# rebuilt (from the texts already held, never a read-back of the store) when the delta outgrows a share of
# it, or at once while the corpus is small enough that a rebuild costs ~0.1 s (then results are exact).
COMPACT_SHARE = 0.10
COMPACT_MIN = 2000
SMALL_CORPUS = 2000
# The write log is pruned after a compaction once it holds more than LOG_PRUNE_AT records: records older
# than LOG_RETAIN_S (and older than the saved index's last full read of the log) go, and a marker record
# (PRUNE_MARK) keeps the cut-off time. A process whose last full read of the log is older than the cut-off
# (idle for a day) may have missed a pruned record, so it reloads from disk (or rebuilds) instead of
# guessing; any other process just forgets the pruned ids.
LOG_PRUNE_AT = 1000
# A compaction that a small write (or a catch-up) triggers runs in a background thread: searches go on with
# the delta meanwhile, and the writes made during the build are carried over onto the new index. A bulk
# write (more than COMPACT_MIN paragraphs not yet tokenized) still compacts at the end of its own upsert.
BACKGROUND_COMPACTION = True
LOG_RETAIN_S = 86400.0
LOG_MARGIN_S = 60.0  # a record's time is taken just before it is written: allow for the write's delay
PRUNE_MARK = "pruned"
# Chroma hands float metadata back with about 16 significant digits: ~13 % of time.time() values return one
# unit in the last place off, up or down. A prune cut-off read from the log is compared with a synced_at
# read from a JSON manifest, and the two are often the same number by construction; without this slack a
# cut-off returned one ulp high made a fresh process rebuild its keyword index for nothing.
CLOCK_SLACK_S = 0.001
_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_STOPWORDS = "en_plus"  # bm25s "en" has only 33 stopwords; "en_plus" is NLTK-sized (the query side matches it)


def keyword_tokens(texts: list[str], stemmer) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords=_STOPWORDS, stemmer=stemmer, token_pattern=_TOKEN_PATTERN,
                          return_ids=False, show_progress=False)


class _Base:
    """One persisted bm25s index (memory-mapped) and the per-row columns filter masks are computed from."""

    def __init__(self, folder: Path, manifest: dict):
        import bm25s

        self.folder = folder
        self.bm25 = bm25s.BM25.load(str(folder), load_corpus=True, mmap=True, show_progress=False, verbosity=0)
        self.corpus = self.bm25.corpus
        self.n = int(manifest["docs"])
        if len(self.corpus) != self.n or int(self.bm25.scores["num_docs"]) != self.n:
            raise IndexStateError(f"keyword index holds {len(self.corpus)} rows, manifest says {self.n}")
        self.avgdl = float(manifest["avgdl"])
        cols = json.loads((folder / "columns.json").read_text(encoding="utf-8"))
        self.outlets, self.sources = cols["outlets"], cols["sources"]
        self.outlet = np.load(folder / "outlet.npy")
        self.source = np.load(folder / "source.npy")
        self.date = np.load(folder / "date.npy")
        if not (len(self.outlet) == len(self.source) == len(self.date) == self.n):
            raise IndexStateError("keyword index columns do not match its rows")
        indptr = self.bm25.scores["indptr"]
        self.df = np.diff(np.asarray(indptr))  # documents per token: the delta's IDF starts from these
        self._rows_of: dict[str, np.ndarray] | None = None
        self._ids: tuple[np.ndarray, np.ndarray] | None = None

    def rows_by_id(self, ids: list[str]) -> np.ndarray:
        """Row of each paragraph id in this index (-1: not in it). The ids are saved beside the index
        (ids.npy, sorted once at first use); an index saved before they were is read from its corpus once."""
        if self._ids is None:
            try:
                arr = np.load(self.folder / "ids.npy")
            except OSError:
                arr = np.array([self.corpus[i]["node_id"] for i in range(self.n)])
                try:
                    np.save(self.folder / "ids.npy", arr)
                except OSError:
                    pass
            order = np.argsort(arr, kind="stable")
            self._ids = (arr[order], order)
        sorted_ids, order = self._ids
        if not len(sorted_ids):
            return np.full(len(ids), -1, dtype=np.int64)
        q = np.asarray(ids, dtype=sorted_ids.dtype)
        pos = np.minimum(np.searchsorted(sorted_ids, q), len(sorted_ids) - 1)
        return np.where(sorted_ids[pos] == q, order[pos], -1)

    def rows_of(self, source: str) -> np.ndarray:
        if self._rows_of is None:  # built on the first write only, not at load
            order = np.argsort(self.source, kind="stable")
            codes, starts = np.unique(self.source[order], return_index=True)
            ends = list(starts[1:]) + [len(order)]
            self._rows_of = {self.sources[c]: order[s:e] for c, s, e in zip(codes, starts, ends)}
        return self._rows_of.get(source, np.empty(0, dtype=np.int64))

    def mask(self, filters) -> np.ndarray | None:
        if filters is None or filters.empty:
            return None
        m = np.ones(self.n, dtype=bool)
        if filters.outlets:
            m &= np.isin(self.outlet, [i for i, o in enumerate(self.outlets) if o in set(filters.outlets)])
        if filters.sources:
            m &= np.isin(self.source, [i for i, s in enumerate(self.sources) if s in set(filters.sources)])
        if filters.date_from:
            m &= self.date >= filters.date_from
        if filters.date_to:
            m &= (self.date <= filters.date_to) & (self.date > 0)
        return m


class KeywordIndex:
    """BM25 over every paragraph, persisted with bm25s in ``<index_dir>/keyword/<collection>/`` and
    memory-mapped at start, so no process reads every paragraph back to build it.

    ``manifest.json`` names the current saved index and the write-log records (``<collection>-log`` in
    Chroma, one before and one after every write, by any client) it includes. Writes of this process go
    into an in-memory delta; another client's writes are found at the next search by the log's count and
    their articles are re-read from Chroma (only those). A missing, damaged or mismatched folder, or a
    paragraph count that disagrees with the store, is rebuilt from the store once and saved.
    """

    def __init__(self, index: "ParagraphIndex"):
        import Stemmer

        self.index = index
        self.stemmer = Stemmer.Stemmer("english")
        self.folder = Path(index.settings.index_dir) / "keyword" / index.settings.collection
        self.rebuilds = 0  # full rebuilds from a read-back of the store (tests count them)
        self.compactions = 0
        self.pruned = 0  # write-log records this process pruned
        self.background_compactions = 0
        self._bg: threading.Thread | None = None
        self._bg_changed: set[str] | None = None  # sources written while a background build runs
        self._epoch = 0
        self.version = 0
        self.loaded = False
        self._clear()

    def _clear(self) -> None:
        self.base: _Base | None = None
        self.dead = np.zeros(0, dtype=bool)  # base rows replaced or removed since it was saved
        self.dead_n = 0
        self.delta: dict[str, list[tuple[TextNode, list[str]]]] = {}
        self.postings: dict[str, dict[tuple[str, int], int]] = {}
        self.delta_len: dict[tuple[str, int], int] = {}
        self.seen: dict[str, float] = {}  # write-log ids already reflected here -> the record's time
        self.synced_at = 0.0  # when the whole log was last known to be reflected here
        self.prune_gen: int | None = None  # the prune marker's generation at that time
        self.pending = False  # the delta outgrew the limit untokenized: compact before the next search
        self._delta_ids_cache: tuple[int | None, dict] = (None, {})
        self._mask_cache: tuple = (None, None)
        self._epoch = getattr(self, "_epoch", 0) + 1  # a background build of an older state is dropped

    # ---- sizes
    @property
    def size(self) -> int:
        return (self.base.n if self.base else 0) - self.dead_n + len(self.delta_len)

    def share(self, filters) -> float:
        """Share of live paragraphs the filters keep (sizes the dense post-filter pool)."""
        if not self.size:
            return 0.0
        kept = 0
        if self.base is not None:
            m = self._live_mask(filters)
            kept += self.base.n - self.dead_n if m is None else int(m[0].sum())
        kept += sum(1 for nodes in self.delta.values() for n, _ in nodes if filters.matches(n.metadata))
        return kept / self.size

    def matching(self, ids: list[str], filters) -> list[bool | None]:
        """Whether each stored paragraph id passes the filters, from the columns held here (no metadata
        read from Chroma); None for an id this index does not hold (a write it has not caught up with)."""
        out: list[bool | None] = [None] * len(ids)
        rest = []
        if self.delta:
            by_id = self._delta_ids()
            for j, i in enumerate(ids):
                n = by_id.get(i)
                if n is not None:
                    out[j] = filters.matches(n.metadata)
                else:
                    rest.append(j)
        else:
            rest = list(range(len(ids)))
        if self.base is not None and rest:
            rows = self.base.rows_by_id([ids[j] for j in rest])
            live = self._live_mask(filters)
            for j, r in zip(rest, rows.tolist()):
                if r >= 0 and not self.dead[r]:
                    out[j] = True if live is None else bool(live[0][r])
        return out

    def _live_mask(self, filters) -> tuple[np.ndarray, np.ndarray] | None:
        """(bool, float32) mask of the base rows that are live and pass the filters, None for all rows;
        computed once per filter and state (a filtered search needs it three times)."""
        key = (None if filters is None or filters.empty else
               (tuple(filters.outlets or ()), tuple(filters.sources or ()), filters.date_from, filters.date_to),
               self.version, id(self.base))
        if self._mask_cache[0] == key:
            return self._mask_cache[1]
        m = self.base.mask(filters)
        if self.dead_n:
            m = ~self.dead if m is None else m & ~self.dead
        live = None if m is None else (m, m.astype(np.float32))
        self._mask_cache = (key, live)
        return live

    def _delta_ids(self) -> dict[str, TextNode]:
        if self._delta_ids_cache[0] != self.version:
            self._delta_ids_cache = (self.version, {n.node_id: n for entries in self.delta.values()
                                                    for n, _ in entries})
        return self._delta_ids_cache[1]

    # ---- opening and syncing (callers hold index.lock)
    def ensure(self, compact: bool = True) -> "KeywordIndex":
        """Load at first use, then catch up with writes made through other clients."""
        if not self.loaded:
            self._open()
            self.loaded = True
        else:
            self._catch_up()
        if self.pending and compact:
            self.maybe_compact(background=True)
        return self

    def _read_log(self) -> tuple[dict[str, tuple[list[str], float]], tuple[float, int | None]]:
        """(record id -> (sources, time), (prune cut-off, prune generation))."""
        got = get_all(self.index.log, ["metadatas"])
        recs, mark = {}, (0.0, None)
        for i, m in zip(got["ids"], got["metadatas"]):
            m = m or {}
            if i == PRUNE_MARK:
                mark = (float(m.get("before", 0.0)), int(m.get("gen", 0)))
            else:
                recs[i] = (json.loads(m.get("sources") or "[]"), float(m.get("t", 0.0)))
        return recs, mark

    def _read_mark(self) -> tuple[float, int | None]:
        got = self.index.log.get(ids=[PRUNE_MARK], include=["metadatas"])
        if not got["ids"]:
            return 0.0, None
        m = got["metadatas"][0] or {}
        return float(m.get("before", 0.0)), int(m.get("gen", 0))

    def _forget_pruned(self, recs: dict, mark: tuple[float, int | None]) -> str | None:
        """Drop from `seen` the ids the log no longer holds. "reset" when one of them is not older than the
        prune cut-off (the log was dropped), "stale" when records this state may never have seen were pruned."""
        cut = mark[0]
        missing = [i for i in self.seen if i not in recs]
        if any(self.seen[i] >= cut for i in missing):
            return "reset"
        for i in missing:
            del self.seen[i]
        if mark[1] is not None and cut > self.synced_at - LOG_MARGIN_S + CLOCK_SLACK_S:
            return "stale"
        return None

    def _open(self) -> None:
        manifest_path = self.folder / "manifest.json"
        reason = None
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("format") != KEYWORD_FORMAT or manifest.get("collection_id") != str(self.index.paragraphs.id):
                reason = "it was built for another index"
            else:
                base = _Base(self.folder / manifest["base"], manifest) if manifest["docs"] else None
                self._clear()
                self.base = base
                self.dead = np.zeros(base.n if base else 0, dtype=bool)
                seen = manifest["seen"]  # a list before the log was pruned (times unknown)
                self.seen = {i: 0.0 for i in seen} if isinstance(seen, list) else {i: float(t) for i, t in seen.items()}
                self.synced_at = float(manifest.get("synced_at", manifest.get("saved", 0.0)))
        except FileNotFoundError:
            reason = "it is missing"
        except Exception as e:  # noqa: BLE001 - any unreadable file means the same: rebuild
            reason = f"it is damaged ({type(e).__name__}: {e})"
        if reason is None:
            self.loaded = True  # from here on, writes found in the log land in the delta
            t_read = time.time()
            recs, mark = self._read_log()
            why = self._forget_pruned(recs, mark)
            if why == "reset":
                reason = "it includes writes the store does not know"
            elif why == "stale":
                reason = "the write log was pruned past it"
            else:
                self._load_delta_file(recs)
                self._apply_log(recs)
                self.synced_at, self.prune_gen = t_read, mark[1]
                if self.size != self.index.count():
                    reason = f"it holds {self.size} paragraphs and the store {self.index.count()}"
        if reason is not None:
            if self.index.count():  # an empty store just starts an empty index
                log.warning("Rebuilding the keyword index at %s: %s.", self.folder, reason)
            self.rebuild()
        else:
            self.maybe_compact(background=True)

    @property
    def delta_file(self) -> Path:
        return self.folder / "delta.jsonl"

    def _save_delta(self, by_source: dict[str, list[TextNode]], log_ids: list[str]) -> None:
        """Append this write to delta.jsonl, so the next process need not re-read it from the store
        (a cache only: the write log stays the truth, and a lost line costs a re-read of its articles)."""
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        line = json.dumps({"t": time.time(), "log": log_ids, "sources": {
            src: [node_to_metadata_dict(n) | {"node_id": n.node_id} for n in nodes] for src, nodes in by_source.items()}})
        try:
            with open(self.delta_file, "a", encoding="utf-8") as f:
                f.write(line + "\n")  # one write per line: appends from two processes do not interleave
        except OSError as e:
            log.warning("Could not record a write in %s (%s); the next start re-reads it.", self.delta_file, e)

    def _load_delta_file(self, recs: dict) -> None:
        try:
            lines = self.delta_file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        entries = []
        for ln in lines:
            try:
                entries.append(json.loads(ln))
            except ValueError:
                continue  # a torn last line: its articles come back through the log
        for e in sorted(entries, key=lambda e: e.get("t", 0)):
            if set(e["log"]) <= self.seen.keys() or not set(e["log"]) <= recs.keys():
                continue  # already in the saved index (a pruned record was in it when it was saved)
            self.replace({src: [metadata_dict_to_node(d) for d in nodes] for src, nodes in e["sources"].items()}, ())
            self.seen.update({i: recs[i][1] for i in e["log"]})

    def _catch_up(self) -> None:
        t_check = time.time()
        count, mark = self.index.log.count(), self._read_mark()  # two cheap calls per search
        if mark[1] == self.prune_gen and count == len(self.seen) + (mark[1] is not None):
            self.synced_at = t_check  # nothing written since: the whole log is reflected here
            return
        recs, mark = self._read_log()
        why = self._forget_pruned(recs, mark)
        if why == "reset":  # the log was dropped (reset by another client)
            log.warning("The store was reset by another client; rebuilding the keyword index.")
            self.rebuild()
            return
        if why == "stale":
            log.info("The write log was pruned past this keyword index; reloading it from %s.", self.folder)
            self._clear()
            self.loaded = False
            self._open()
            self.loaded = True
            return
        self._apply_log(recs)
        self.synced_at, self.prune_gen = t_check, mark[1]
        self.maybe_compact(background=True)

    def _apply_log(self, recs: dict[str, tuple[list[str], float]]) -> None:
        """Re-read from Chroma the articles named by write-log records not yet seen (another client's, or
        ours from a process that stopped before saving)."""
        new = [i for i in recs if i not in self.seen]
        if not new:
            return
        sources = sorted({s for i in new for s in recs[i][0]})
        got: dict[str, list[TextNode]] = {s: [] for s in sources}
        for start in range(0, len(sources), 100):
            chunk = sources[start:start + 100]
            for n in _to_nodes(self.index.paragraphs.get(where={"source": {"$in": chunk}},
                                                         include=["documents", "metadatas"])):
                got[n.metadata["source"]].append(n)
        self.seen.update({i: recs[i][1] for i in new})
        self.replace(got, ())

    # ---- writes
    def replace(self, by_source: dict[str, list[TextNode]], log_ids: Iterable[str], hold: bool = True) -> None:
        """These articles now hold exactly these paragraphs (an empty list: removed)."""
        log_ids = list(log_ids)
        self.seen.update({i: self.index._log_times.pop(i, time.time()) for i in log_ids})
        if not self.loaded:
            return  # loaded (and caught up through the log) at first search
        if self._bg_changed is not None:
            self._bg_changed.update(by_source)
        incoming = sum(map(len, by_source.values()))
        if self.pending or (hold and len(self.delta_len) + self.dead_n + incoming > self._limit()):
            # A compaction follows anyway (bulk ingest): hold the nodes, skip tokenizing them twice.
            self.pending = True
            for src, nodes in by_source.items():
                self._drop(src)
                if nodes:
                    self.delta[src] = [(n, []) for n in nodes]
                self.delta_len.update({(src, i): 0 for i in range(len(nodes))})
            self.version += 1
            return
        if log_ids:  # our own write
            self._save_delta(by_source, log_ids)
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for nodes in by_source.values() for n in nodes]
        tokens = iter(keyword_tokens(texts, self.stemmer) if texts else [])
        for src, nodes in by_source.items():
            self._drop(src)
            entries = [(n, next(tokens)) for n in nodes]
            if entries:
                self.delta[src] = entries
            for i, (_, toks) in enumerate(entries):
                key = (src, i)
                self.delta_len[key] = len(toks) or 1  # bm25s gives an empty paragraph one empty token
                for t in toks:
                    post = self.postings.setdefault(t, {})
                    post[key] = post.get(key, 0) + 1
        self.version += 1

    def _drop(self, src: str) -> None:
        for i, (_, toks) in enumerate(self.delta.pop(src, ())):
            key = (src, i)
            self.delta_len.pop(key, None)
            for t in set(toks):
                post = self.postings.get(t)
                if post is not None:
                    post.pop(key, None)
                    if not post:
                        del self.postings[t]
        if self.base is not None:
            rows = self.base.rows_of(src)
            if len(rows):
                fresh = rows[~self.dead[rows]]
                self.dead[fresh] = True
                self.dead_n += len(fresh)

    def _limit(self) -> float:
        return max(COMPACT_MIN, COMPACT_SHARE * (self.base.n if self.base else 0))

    def _needs_compaction(self) -> bool:
        changed = len(self.delta_len) + self.dead_n
        return self.pending or (changed > 0 and (self.size <= SMALL_CORPUS or changed > self._limit()))

    def maybe_compact(self, background: bool = False) -> None:
        """Compact when the delta has outgrown its limit: in a background thread when asked and the corpus
        is large (a bulk write's untokenized paragraphs are compacted here, at once: the build tokenizes
        them anyway)."""
        if not (self.loaded and self._needs_compaction()):
            return
        untokenized = sum(1 for entries in self.delta.values() for _, toks in entries if not toks)
        if (background and BACKGROUND_COMPACTION and self.size > SMALL_CORPUS
                and (not self.pending or untokenized <= COMPACT_MIN)):
            if self.pending:
                self._tokenize_pending()
            self._compact_in_background()
        else:
            self.compact()

    def _tokenize_pending(self) -> None:
        """Give the held (untokenized) paragraphs of a write their postings, so searches find them."""
        held = {src: [n for n, _ in entries] for src, entries in self.delta.items()
                if any(not toks for _, toks in entries)}
        self.pending = False
        self.replace(held, (), hold=False)

    def compacting(self) -> bool:
        return self._bg is not None and self._bg.is_alive()

    def wait_compaction(self, timeout: float | None = None) -> bool:
        """Wait for a background compaction (benchmarks and tests); True when none is running."""
        bg = self._bg
        if bg is not None:
            bg.join(timeout)
        return not self.compacting()

    def _compact_in_background(self) -> None:
        if self.compacting():
            return  # the running build carries on; writes since are carried over when it lands
        base = self.base
        live = np.flatnonzero(~self.dead) if base is not None else np.empty(0, dtype=np.int64)
        delta_nodes = [n for entries in self.delta.values() for n, _ in entries]
        snapshot = (self._epoch, dict(self.seen), self.synced_at)
        self._bg_changed = set()
        self._bg = threading.Thread(target=self._background_build, args=(base, live, delta_nodes, snapshot),
                                    name="keyword-compaction", daemon=True)
        self._bg.start()

    def _background_build(self, base, live, delta_nodes, snapshot) -> None:
        import Stemmer

        epoch, seen, synced_at = snapshot
        name = f"base-{uuid.uuid4().hex[:12]}"
        try:
            nodes = [metadata_dict_to_node(base.corpus[int(i)]) for i in live] if base is not None else []
            nodes += delta_nodes
            avgdl = self._write_base(name, nodes, Stemmer.Stemmer("english")) if nodes else 0.0
            with self.index.lock:
                if self._epoch != epoch or not nodes:  # rebuilt, reset or compacted meanwhile
                    shutil.rmtree(self.folder / name, ignore_errors=True)
                    return
                self._install(name, len(nodes), avgdl, seen, synced_at)
        except Exception as e:  # noqa: BLE001 - the delta still serves every search; retried later
            log.warning("Background compaction of the keyword index failed (%s: %s).", type(e).__name__, e)
            shutil.rmtree(self.folder / f"tmp-{name}", ignore_errors=True)
        finally:
            with self.index.lock:
                self._bg_changed = None

    def _install(self, name: str, docs: int, avgdl: float, seen: dict, synced_at: float) -> None:
        """Swap in a base built in the background (callers hold index.lock): save its manifest, keep the
        delta lines of writes it does not include, and carry those writes over onto it."""
        self._save_manifest(name, docs, avgdl, seen, synced_at)
        try:
            lines = self.delta_file.read_text(encoding="utf-8").splitlines()
            keep = []
            for ln in lines:
                try:
                    if not set(json.loads(ln)["log"]) <= seen.keys():
                        keep.append(ln)
                except ValueError:
                    continue
            _atomic_write(self.delta_file, "".join(x + "\n" for x in keep))
        except OSError:
            pass
        self._prune(keep=name)
        changed = self._bg_changed or set()
        carry = {src: self.delta.get(src, []) for src in changed}
        self.base = _Base(self.folder / name, {"docs": docs, "avgdl": avgdl})
        self.dead = np.zeros(docs, dtype=bool)
        self.dead_n = 0
        self.delta, self.postings, self.delta_len = {}, {}, {}
        for src, entries in carry.items():
            self._drop(src)
            if entries:
                self.delta[src] = entries
            for i, (_, toks) in enumerate(entries):
                key = (src, i)
                self.delta_len[key] = len(toks) or 1
                for t in toks:
                    post = self.postings.setdefault(t, {})
                    post[key] = post.get(key, 0) + 1
        self._bg_changed = None
        self.version += 1
        self.compactions += 1
        self.background_compactions += 1
        self.prune_log(included=seen)

    # ---- building and saving
    def rebuild(self) -> None:
        """From a read-back of every paragraph: only for a first build, a damaged or mismatched folder."""
        self.rebuilds += 1
        t_read = time.time()
        recs, mark = self._read_log()
        nodes = self.index.all_nodes()
        self._build(nodes, {i: t for i, (_, t) in recs.items()}, t_read, mark[1])

    def compact(self) -> None:
        """Rebuild from the texts already held (the saved corpus and the delta), then save."""
        self.compactions += 1
        nodes: list[TextNode] = []
        if self.base is not None:
            live = np.flatnonzero(~self.dead)
            nodes = [metadata_dict_to_node(self.base.corpus[int(i)]) for i in live]
        nodes += [n for entries in self.delta.values() for n, _ in entries]
        self._build(nodes, dict(self.seen), self.synced_at, self.prune_gen)

    def _build(self, nodes: list[TextNode], seen: dict[str, float], synced_at: float, prune_gen: int | None) -> None:
        self._clear()
        self.seen, self.synced_at, self.prune_gen = seen, synced_at, prune_gen
        self.loaded = True
        self.version += 1
        name = f"base-{uuid.uuid4().hex[:12]}"
        manifest = {"docs": len(nodes), "avgdl": 0.0}
        try:
            if nodes:
                manifest["avgdl"] = self._write_base(name, nodes, self.stemmer)
            self._save_manifest(name, len(nodes), manifest["avgdl"], seen, synced_at)
            self.delta_file.unlink(missing_ok=True)  # all in the new index (anything else: via the log)
            self._prune(keep=name)
        except OSError as e:  # a read-only or full disk costs speed at the next start, not the search
            log.warning("Could not save the keyword index to %s (%s); it stays in memory.", self.folder, e)
            grouped: dict[str, list[TextNode]] = {}
            for n in nodes:
                grouped.setdefault(n.metadata["source"], []).append(n)
            self.replace(grouped, ())
            return
        self.base = _Base(self.folder / name, manifest) if nodes else None
        self.dead = np.zeros(len(nodes), dtype=bool)
        self.prune_log(included=seen)

    def prune_log(self, force: bool = False, included: dict | None = None) -> int:
        """Delete write-log records the saved index includes and every client has had a day to read (see
        LOG_PRUNE_AT); the marker is written first, so a reader never mistakes a prune for a reset."""
        try:
            if not force and self.index.log.count() <= LOG_PRUNE_AT:
                return 0
            recs, mark = self._read_log()
            cut = min(time.time() - LOG_RETAIN_S, self.synced_at - LOG_MARGIN_S)
            included = self.seen if included is None else included  # what the index on disk includes
            old = [i for i, (_, t) in recs.items() if t < cut and i in included and i in self.seen]
            if not old:
                return 0
            gen = (mark[1] or 0) + 1
            with self.index.write_lock:
                self.index.log.upsert(ids=[PRUNE_MARK], embeddings=[[1.0]],
                                      metadatas=[{"before": max(cut, mark[0]), "gen": gen, "t": time.time()}])
                for start in range(0, len(old), 5000):
                    self.index.log.delete(ids=old[start:start + 5000])
            for i in old:
                self.seen.pop(i, None)
            self.prune_gen = gen
            self.pruned += len(old)
            return len(old)
        except Exception as e:  # noqa: BLE001 - pruning is housekeeping: never fail the write for it
            log.warning("Could not prune the write log (%s: %s); it is tried again after the next compaction.",
                        type(e).__name__, e)
            return 0

    def _write_base(self, name: str, nodes: list[TextNode], stemmer) -> float:
        """Index `nodes` with bm25s and save it with its filter columns in <folder>/<name>; returns the mean
        paragraph length. Touches no state of this object (a background build runs it outside the lock)."""
        import bm25s
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        tmp = self.folder / f"tmp-{name}"
        tok = bm25s.tokenize([n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes],
                             stopwords=_STOPWORDS, stemmer=stemmer, token_pattern=_TOKEN_PATTERN,
                             show_progress=False)
        avgdl = sum(map(len, tok.ids)) / len(nodes)
        bm25 = bm25s.BM25()
        bm25.index(tok, show_progress=False)
        md = [n.metadata for n in nodes]
        outlets = sorted({m.get("outlet", "") for m in md})
        sources = sorted({m.get("source", "") for m in md})
        o_code = {o: i for i, o in enumerate(outlets)}
        s_code = {s: i for i, s in enumerate(sources)}
        tmp.mkdir(parents=True, exist_ok=True)
        bm25.save(str(tmp), corpus=[node_to_metadata_dict(n) | {"node_id": n.node_id} for n in nodes],
                  show_progress=False)
        (tmp / "columns.json").write_text(json.dumps({"outlets": outlets, "sources": sources}), encoding="utf-8")
        np.save(tmp / "outlet.npy", np.array([o_code[m.get("outlet", "")] for m in md], dtype=np.int32))
        np.save(tmp / "source.npy", np.array([s_code[m.get("source", "")] for m in md], dtype=np.int32))
        np.save(tmp / "date.npy", np.array([int(m.get("date_int", 0) or 0) for m in md], dtype=np.int64))
        np.save(tmp / "ids.npy", np.array([n.node_id for n in nodes]))
        os.replace(tmp, self.folder / name)
        return avgdl

    def _save_manifest(self, name: str, docs: int, avgdl: float, seen: dict, synced_at: float) -> None:
        manifest = {"format": KEYWORD_FORMAT, "collection_id": str(self.index.paragraphs.id), "base": name,
                    "docs": docs, "avgdl": avgdl, "seen": seen, "synced_at": synced_at, "saved": time.time()}
        self.folder.mkdir(parents=True, exist_ok=True)
        # The manifest is replaced in one step: a reader sees the old index or the new, never half.
        part = self.folder / f"manifest.json.{name}"
        part.write_text(json.dumps(manifest), encoding="utf-8")
        os.replace(part, self.folder / "manifest.json")

    def _prune(self, keep: str) -> None:
        for p in self.folder.iterdir():
            # Another process may still be loading an older index: leave those younger than a minute.
            if p.name != keep and p.name.startswith(("base-", "tmp-")) and time.time() - p.stat().st_mtime > 60:
                shutil.rmtree(p, ignore_errors=True)

    def drop(self) -> None:
        """The store was reset: forget everything (the next search builds an empty index)."""
        self._clear()
        self.loaded = False
        self.version += 1

    # ---- search
    def search(self, query: str, k: int, filters=None) -> list[tuple[TextNode, float]]:
        """Top-k paragraphs by BM25 (bm25s "lucene" scoring) among those the filters keep."""
        from bm25s.selection import topk

        q = keyword_tokens([query], self.stemmer)[0]
        if not q:
            return []
        hits: list[tuple[float, int, object]] = []  # (score, order, row or delta key)
        if self.base is not None and self.base.n:
            ids = self.base.bm25.get_tokens_ids(q)
            if ids:
                live = self._live_mask(filters)
                scores = self.base.bm25.get_scores_from_ids(ids, weight_mask=None if live is None else live[1])
                top_s, top_i = topk(scores, min(k, self.base.n), backend="numpy", sorted=True)
                hits += [(float(s), n, int(i)) for n, (s, i) in enumerate(zip(top_s, top_i)) if s > 0]
        if self.delta_len:
            hits += self._delta_hits(q, filters, start=len(hits))
        hits.sort(key=lambda h: (-h[0], h[1]))
        out = []
        for score, _, ref in hits[:k]:
            if isinstance(ref, int):
                out.append((metadata_dict_to_node(self.base.corpus[ref]), score))
            else:
                out.append((self.delta[ref[0]][ref[1]][0], score))
        return out

    def _delta_hits(self, q: list[str], filters, start: int) -> list:
        """BM25 of the delta's paragraphs with the saved index's statistics (N, document frequencies,
        mean length) plus the delta's own, so their scores rank beside the saved index's."""
        k1, b = 1.5, 0.75
        base = self.base
        n_docs = self.size
        avgdl = base.avgdl if base is not None and base.n else (sum(self.delta_len.values()) / len(self.delta_len))
        scores: dict[tuple[str, int], float] = {}
        for t in q:
            post = self.postings.get(t)
            if not post:
                continue
            df = len(post)
            if base is not None and t in base.bm25.vocab_dict:
                df += int(base.df[base.bm25.vocab_dict[t]])
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            for key, tf in post.items():
                dl = self.delta_len[key]
                scores[key] = scores.get(key, 0.0) + idf * tf / (k1 * ((1 - b) + b * dl / avgdl) + tf)
        out = []
        for key, s in scores.items():
            if s > 0 and (filters is None or filters.empty or filters.matches(self.delta[key[0]][key[1]][0].metadata)):
                out.append((float(np.float32(s)), start + len(out), key))
        return out


class _WriteLock:
    """An exclusive lock on `<index_dir>/write.lock` (fcntl.flock) held while writing; re-entrant within a
    thread, and released by the OS if the process dies, so a crash never leaves the index locked."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def __enter__(self):
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            import fcntl

            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.fd = fd
        self._local.depth = depth + 1
        return self

    def __exit__(self, *exc):
        self._local.depth -= 1
        if self._local.depth == 0:
            import fcntl

            fcntl.flock(self._local.fd, fcntl.LOCK_UN)
            os.close(self._local.fd)
        return False


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def remove_orphan_segments(chroma_dir: Path) -> list[str]:
    """Delete the segment folders of dropped collections: Chroma's delete_collection leaves each one on
    disk, so every reindex left two more. A folder is kept unless it is named like a segment id and
    chroma.sqlite3 no longer lists that segment. Returns the names removed."""
    import sqlite3

    db = chroma_dir / "chroma.sqlite3"
    if not db.is_file():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            live = {row[0] for row in con.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return []  # a schema we do not know: leave everything as it is
    removed = []
    for d in chroma_dir.iterdir():
        if d.is_dir() and _UUID.fullmatch(d.name) and d.name not in live:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d.name)
    return removed


# ---- crash safety: kept copies of every article and a write-ahead journal
KEPT_FORMAT = 1


def _source_key(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _atomic_write(path: Path, text: str, sync: bool = False) -> None:
    """Write a whole file or nothing: a kill mid-write leaves the old file (or none), never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def article_record(article: Article, max_paragraph_tokens: int) -> dict:
    m = article.meta
    return {"format": KEPT_FORMAT, "source": m.source, "content_hash": article.content_hash, "path": article.path,
            "max_paragraph_tokens": max_paragraph_tokens, "warnings": list(article.warnings),
            "meta": {f: getattr(m, f) for f in ("title",) + _META_FIELDS},
            "paragraphs": [[p.number, p.part, p.tokens, p.context, p.text] for p in article.paragraphs]}


def article_from_record(rec: dict) -> Article:
    from .models import DocumentMeta, Paragraph

    meta = DocumentMeta(source=rec["source"], **rec["meta"])
    paragraphs = tuple(Paragraph(number=n, part=part, tokens=tok, context=ctx, text=text)
                       for n, part, tok, ctx, text in rec["paragraphs"])
    return Article(meta, paragraphs, rec["content_hash"], rec["path"], tuple(rec.get("warnings", ())))


def resplit(article: Article, max_tokens: int) -> Article:
    """A kept article split for another paragraph token budget: the parts of each paragraph rejoined and
    split again, as ingest would have done."""
    from .ingest import count_tokens, split_long
    from .models import Paragraph

    out = []
    for number in sorted({p.number for p in article.paragraphs}):
        parts = [p for p in article.paragraphs if p.number == number]
        text = " ".join(p.text for p in parts)
        pieces = split_long(text, max_tokens) if count_tokens(text) > max_tokens else [text]
        out += [Paragraph(number, t, count_tokens(t), i, parts[0].context) for i, t in enumerate(pieces, 1)]
    return dataclasses.replace(article, paragraphs=tuple(out))


class KeptArticles:
    """A copy of every indexed article as it was written (metadata and numbered paragraphs), one JSON file
    per article in ``<index_dir>/articles/<collection>/``. Recovery after a crash and a rebuild after
    index damage re-write articles from these, so an article ingested from outside documents/ (or whose
    file has since gone) is never lost with the store."""

    def __init__(self, folder: Path, max_paragraph_tokens: int):
        self.folder = folder
        self.max_paragraph_tokens = max_paragraph_tokens

    def file(self, source: str) -> Path:
        return self.folder / f"{_source_key(source)}.json"

    def save(self, articles: Iterable[Article]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for a in articles:
            _atomic_write(self.file(a.meta.source),
                          json.dumps(article_record(a, self.max_paragraph_tokens), ensure_ascii=False))

    def load(self, source: str) -> Article | None:
        return self._read(self.file(source))

    def _read(self, path: Path) -> Article | None:
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
            art = article_from_record(rec)
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001 - a damaged copy: the caller falls back to the file
            log.warning("The kept copy %s is unreadable (%s).", path, e)
            return None
        if rec.get("max_paragraph_tokens") not in (None, self.max_paragraph_tokens):
            art = resplit(art, self.max_paragraph_tokens)
        return art

    def remove(self, source: str) -> None:
        self.file(source).unlink(missing_ok=True)

    def keys(self) -> set[str]:
        try:
            return {p.stem for p in self.folder.iterdir() if p.suffix == ".json" and not p.name.startswith(".")}
        except FileNotFoundError:
            return set()

    def all(self) -> list[Article]:
        return [a for k in sorted(self.keys()) if (a := self._read(self.folder / f"{k}.json")) is not None]

    @property
    def complete_marker(self) -> Path:
        return self.folder / ".complete"


_LIVE_INTENTS: set[str] = set()  # intents this process has begun and not ended


class WriteJournal:
    """Write-ahead intents in ``<index_dir>/journal/<collection>/``: one small file naming the articles a
    write (or a remove) is about to change, made before the first paragraph is touched and deleted once
    the registry names the new version. A file left behind means the writer died mid-write."""

    def __init__(self, folder: Path):
        self.folder = folder

    def begin(self, op: str, articles: list[Article] | None = None, sources: list[str] | None = None,
              paths: dict[str, str] | None = None) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        sources = [a.meta.source for a in articles] if articles is not None else list(sources or ())
        paths = {a.meta.source: a.path for a in articles} if articles is not None else dict(paths or {})
        path = self.folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
        # fsync: the one record that must be on disk before the store changes (one per write group).
        _atomic_write(path, json.dumps({"op": op, "sources": sources, "paths": paths, "pid": os.getpid(),
                                        "host": os.uname().nodename, "t": time.time()}), sync=True)
        _LIVE_INTENTS.add(str(path))
        return path

    @staticmethod
    def end(path: Path) -> None:
        path.unlink(missing_ok=True)
        _LIVE_INTENTS.discard(str(path))

    def leftover(self, live_writers_possible: bool) -> list[tuple[Path, dict]]:
        """Intents of writers that are gone. Under the embedded index's write lock every intent is one;
        a client of a shared server skips those of a process of this machine that is still running."""
        try:
            files = sorted(p for p in self.folder.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except FileNotFoundError:
            return []
        out = []
        for p in files:
            try:
                rec = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # written atomically, so only a foreign file: leave it
            if str(p) in _LIVE_INTENTS:
                continue  # this process is in the middle of it (a reindex spans several writes)
            if live_writers_possible and rec.get("host") == os.uname().nodename and rec.get("pid") != os.getpid() \
                    and _alive(rec.get("pid")):
                continue
            out.append((p, rec))
        return out


def _is_transport_error(e: BaseException) -> bool:
    import httpx

    seen = set()
    while e is not None and id(e) not in seen:  # chromadb wraps some transport errors
        seen.add(id(e))
        if isinstance(e, (httpx.TransportError, ConnectionError)):
            return True
        e = e.__cause__ or e.__context__
    return False


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


# ---- index damage: cheap checks at every open, deep ones when a file changed outside our writes
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HNSW_HEADER = struct.Struct("<iQQQQQQiIQQQdQ")  # chroma-hnswlib's header.bin (persistence version 1)
_HNSW_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin")


def sqlite_problem(db: Path, deep: bool) -> str | None:
    """What is wrong with chroma.sqlite3, or None. The header and size checks cost one read of 100 bytes;
    `deep` adds sqlite's own structural check (PRAGMA quick_check)."""
    import sqlite3

    try:
        size = db.stat().st_size
        with open(db, "rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        return "chroma.sqlite3 is missing"
    except OSError as e:
        return f"chroma.sqlite3 cannot be read ({e.strerror or e})"
    if size == 0:
        return "chroma.sqlite3 is empty (0 bytes)"
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        return "chroma.sqlite3 is not a SQLite database any more (its first bytes were overwritten)"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    if head[24:28] == head[92:96] and pages and size < pages * page:  # the page count is valid: compare
        return f"chroma.sqlite3 is truncated ({size:,} of {pages * page:,} bytes)"
    if not deep:
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            rows = [r[0] for r in con.execute("PRAGMA quick_check(5)")]
            con.execute("SELECT count(*) FROM segments").fetchone()
    except sqlite3.Error as e:
        return f"chroma.sqlite3 is damaged ({e})"
    if rows != ["ok"]:
        return f"chroma.sqlite3 is damaged ({'; '.join(rows)[:300]})"
    return None


def hnsw_problem(folder: Path, space: str, deep: bool) -> str | None:
    """What is wrong with one persisted HNSW segment folder, or None, checked from its bytes (never by
    letting hnswlib load it: random bytes in data_level0.bin made it segfault). Cheap: files present,
    header sane, sizes agreeing with it. Deep: every neighbour id in range, every link count within its
    bound, vectors finite (unit length for cosine), labels unique and matching Chroma's id map."""
    for name in _HNSW_FILES + ("index_metadata.pickle",):
        if not (folder / name).is_file():
            return f"{name} is missing" if folder.is_dir() else "the folder is missing"
    raw = (folder / "header.bin").read_bytes()
    if len(raw) != _HNSW_HEADER.size:
        return f"header.bin has {len(raw)} bytes, not {_HNSW_HEADER.size}"
    (version, off0, max_el, cur, per, label_off, data_off, max_level, enter, max_m, max_m0, m, _mult,
     _ef) = _HNSW_HEADER.unpack(raw)
    dim = (label_off - data_off) // 4
    if not (version == 1 and off0 == 0 and cur <= max_el and 0 < max_m0 <= 4096 and 0 < max_m <= 4096
            and data_off == 4 + 4 * max_m0 and label_off > data_off and (label_off - data_off) % 4 == 0
            and per == label_off + 8 and -1 <= max_level < 64 and (cur == 0 or enter < cur)):
        return "header.bin does not describe an HNSW index (overwritten)"
    sizes = {n: (folder / n).stat().st_size for n in _HNSW_FILES}
    if sizes["data_level0.bin"] != cur * per:
        return f"data_level0.bin has {sizes['data_level0.bin']:,} bytes, the header says {cur * per:,}"
    if sizes["length.bin"] != cur * 4:
        return f"length.bin has {sizes['length.bin']:,} bytes, the header says {cur * 4:,}"
    if not deep or cur == 0:
        return None
    data = np.memmap(folder / "data_level0.bin", dtype=np.uint8, mode="r", shape=(cur, per))
    counts = np.ascontiguousarray(data[:, 0:2]).view(np.uint16).ravel()
    if int(counts.max()) > max_m0:
        return "data_level0.bin holds impossible link counts (overwritten)"
    links = np.ascontiguousarray(data[:, 4:data_off]).view(np.uint32)
    used = np.arange(max_m0)[None, :] < counts[:, None]
    if bool((links[used] >= cur).any()):
        return "data_level0.bin links to elements that do not exist (overwritten)"
    vectors = np.ascontiguousarray(data[:, data_off:label_off]).view(np.float32)
    if not bool(np.isfinite(vectors).all()):
        return "data_level0.bin holds vectors that are not numbers (overwritten)"
    if space == "cosine" and dim > 1:
        norms = np.linalg.norm(vectors, axis=1)
        if bool((np.abs(norms - 1) > 1e-2).any()):
            return "data_level0.bin holds vectors that are not unit length (overwritten)"
    labels = np.ascontiguousarray(data[:, label_off:label_off + 8]).view(np.uint64).ravel()
    if len(np.unique(labels)) != cur:
        return "data_level0.bin holds duplicate labels (overwritten)"
    del data, links, vectors
    # Upper levels: per element a 4-byte size, then that many bytes of (count, maxM ids) blocks.
    ll = (folder / "link_lists.bin").read_bytes()
    block = 4 + 4 * max_m
    pos, top = 0, -1
    for i in range(cur):
        if pos + 4 > len(ll):
            return "link_lists.bin is truncated"
        (n,) = struct.unpack_from("<I", ll, pos)
        pos += 4
        if n:
            if n % block or pos + n > len(ll) or n // block > max_level:
                return "link_lists.bin is damaged"
            arr = np.frombuffer(ll, dtype=np.uint32, count=n // 4, offset=pos).reshape(-1, block // 4)
            cnt = arr[:, 0] & 0xFFFF
            if int(cnt.max()) > max_m or bool((arr[:, 1:][np.arange(max_m)[None, :] < cnt[:, None]] >= cur).any()):
                return "link_lists.bin links to elements that do not exist (overwritten)"
            top = max(top, n // block) if i != enter else top
            pos += n
    if pos != len(ll):
        return "link_lists.bin has bytes the index does not account for"
    try:
        with open(folder / "index_metadata.pickle", "rb") as f:
            meta = _MapUnpickler(f).load()
        label_to_id = meta.__dict__.get("label_to_id", {}) if hasattr(meta, "__dict__") else meta["label_to_id"]
        known = np.fromiter(label_to_id.keys(), dtype=np.uint64, count=len(label_to_id))
    except Exception as e:  # noqa: BLE001 - any unreadable map means the same
        return f"index_metadata.pickle is unreadable ({type(e).__name__})"
    if len(known) and not bool(np.isin(known, labels).all()):
        return "index_metadata.pickle names vectors the index does not hold"
    return None


class _Plain:
    """Stands in for Chroma's PersistentData class: only its fields are read, no class is imported."""

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {})


def _map_unpickler():
    import pickle

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            return _Plain

    return Unpickler


def _MapUnpickler(f):  # noqa: N802 - reads like the class it makes
    return _map_unpickler()(f)


def _chroma_signature(chroma_dir: Path) -> dict[str, list[int]]:
    """(size, mtime) of chroma.sqlite3 and every segment file: what the deep checks were last run on."""
    sig = {}
    for p in [chroma_dir / "chroma.sqlite3"] + [f for d in sorted(chroma_dir.glob("*-*-*-*-*")) if d.is_dir()
                                                  for f in sorted(d.iterdir())]:
        try:
            st = p.stat()
        except OSError:
            continue
        sig[p.relative_to(chroma_dir).as_posix()] = [st.st_size, st.st_mtime_ns]
    return sig


def _vector_segments(db: Path, collections: Iterable[str]) -> list[tuple[str, str, bool]]:
    """(collection name, vector segment id, has it persisted vectors?) read straight from chroma.sqlite3,
    without opening Chroma. A segment that never persisted (under hnsw:sync_threshold records) legitimately
    has no files: its vectors are still in Chroma's log."""
    import sqlite3

    names = list(collections)
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        rows = con.execute(
            "SELECT c.name, s.id, EXISTS(SELECT 1 FROM max_seq_id m WHERE m.segment_id = s.id) FROM segments s "
            f"JOIN collections c ON c.id = s.collection WHERE s.scope = 'VECTOR' AND c.name IN "
            f"({','.join('?' * len(names))})", names).fetchall()
    return [(n, str(s), bool(p)) for n, s, p in rows]


def _registry_from_sqlite(db: Path, docs_collection: str) -> dict[str, dict] | None:
    """The registry's article ids and paths read straight from chroma.sqlite3 (a damaged store's, before
    it is moved aside): which articles had no kept copy. None when the file cannot be read."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            rows = con.execute(
                "SELECT e.embedding_id, m.key, m.string_value FROM embeddings e "
                "JOIN segments s ON s.id = e.segment_id JOIN collections c ON c.id = s.collection "
                "LEFT JOIN embedding_metadata m ON m.id = e.id AND m.key IN ('path', 'content_hash') "
                "WHERE c.name = ? AND s.scope = 'METADATA'", (docs_collection,)).fetchall()
    except sqlite3.Error:
        return None
    out: dict[str, dict] = {}
    for src, key, value in rows:
        rec = out.setdefault(src, {})
        if key:
            rec[key] = value
    return out
