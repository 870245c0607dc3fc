"""The Python API: `Assistant` is the one object the CLI, the chat UI and developers use."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from .config import Settings, configure_offline_runtime, get_settings
from .errors import AssistantError, IndexStateError, QuestionError
from .models import Answer, ClaimCheck, IngestReport, Passage, SkippedFile, SourceInfo
from .retrieve import HybridSearcher

log = logging.getLogger(__name__)


class Assistant:
    """Opens (or builds on first use) the index and answers questions over it.

    >>> a = Assistant()                       # documents/ -> indexes/, built on first use
    >>> hits = a.search("What did Hegseth say about NATO?", k=5)
    """

    def __init__(self, documents_dir: str | Path | None = None, index_dir: str | Path | None = None,
                 settings: Settings | None = None, progress: bool = False, sync: bool = True, **overrides):
        configure_offline_runtime()
        base = settings or get_settings()
        upd = {k: v for k, v in dict(documents_dir=documents_dir, index_dir=index_dir, **overrides).items()
               if v is not None}
        if "documents_dir" in upd:
            upd["documents_dir"] = Path(upd["documents_dir"])
        if "index_dir" in upd:
            upd["index_dir"] = Path(upd["index_dir"])
        self.settings = base.model_copy(update=upd) if upd else base
        self.progress = progress

        from .embeddings import LocalEmbedding
        from .index import ParagraphIndex
        from .text import use_cache_folder

        # Article analyses (sentences, speakers, entities) are kept beside the index, computed at ingest.
        use_cache_folder(Path(self.settings.index_dir) / "analysis")

        self.embedder = LocalEmbedding(threads=self.settings.embed_threads, model=self.settings.embed_model,
                                       embed_batch_size=self.settings.embed_batch_size)
        self.index = ParagraphIndex(self.settings, self.embedder)
        self.notices: list[str] = []  # what happened to the index while opening, for the CLI/UI to show
        if getattr(self.index, "corrupt_moved_to", None):
            self.notices.append(f"The index was unreadable; it was moved to {self.index.corrupt_moved_to} "
                                "and rebuilt.")
        if self.index.incompatible and self.settings.chroma_url and sync:  # `reindex` opens with sync=False
            raise IndexStateError(f"Cannot use the shared index: {self.index.incompatible}. Run "
                                  "`assistant reindex` to rebuild it with this version.")
        self.searcher = HybridSearcher(self.index, self.settings)
        self._answerer = None
        self._claims = None
        self.last_sync: IngestReport | None = None
        if self.index.incompatible and not self.settings.chroma_url:
            self.notices.append(f"Rebuilt the index: {self.index.incompatible}.")
            self.last_sync = self.reindex()
        if sync:
            self.last_sync = self.sync_documents()

    def warm(self) -> "Assistant":
        """Do the one-off work of the first question now (keyword index, answer engine), e.g. while a UI
        starts up, so the first user does not wait for it."""
        self.searcher._ensure_bm25()
        _ = self.answerer
        return self

    # ---- ingestion
    def sync_documents(self) -> IngestReport:
        """Bring the index in line with documents_dir: new/changed files in, deleted files out."""
        docs = Path(self.settings.documents_dir)
        if not docs.is_dir():
            return IngestReport()
        from .ingest import discover

        files, _ = discover([docs])
        registry = self.index.registry()
        by_path = {str(Path(m["path"]).resolve()): (src, m.get("content_hash"))
                   for src, m in registry.items() if m.get("path")}
        stale = [f for f in files if by_path.get(str(f.resolve()), (None, None))[1] != _sha256(f)]
        present = {str(f.resolve()) for f in files}
        # On a shared server another client's folder may hold files ours lacks: only add, never delete.
        for path, (src, _) in ({} if self.settings.chroma_url else by_path).items():
            if Path(path).is_relative_to(docs.resolve()) and path not in present:
                self.index.remove(src)
        return self._ingest_paths(stale) if stale else IngestReport(unchanged=tuple(f.name for f in files))

    def ingest(self, paths: Iterable[str | Path], progress: bool | None = None) -> IngestReport:
        """Index files or folders. Idempotent: unchanged files are not re-embedded. Bad files are
        reported in `IngestReport.skipped` (with the reason) and never stop the others."""
        return self._ingest_paths(list(paths), progress)

    def _ingest_paths(self, paths: list, progress: bool | None = None) -> IngestReport:
        from tqdm.auto import tqdm

        from .ingest import load_articles

        articles, skipped = load_articles(paths, self.settings)
        registry = self.index.registry()
        known_hashes = {m.get("content_hash"): src for src, m in registry.items()}
        added, updated, unchanged, todo = [], [], [], []
        skipped = list(skipped)
        for art in articles:
            src = art.meta.source
            prev = registry.get(src)
            if prev and _other_file(prev.get("path"), art.path):
                # Another file with the same name is indexed: keep both, under distinct names.
                src = f"{Path(src).stem}-{hashlib.sha256(art.path.encode()).hexdigest()[:6]}{Path(src).suffix}"
                art = replace(art, meta=replace(art.meta, source=src))
                prev = registry.get(src)
            if prev and prev.get("content_hash") == art.content_hash:
                unchanged.append(src)
            elif art.content_hash in known_hashes and known_hashes[art.content_hash] != src:
                skipped.append(SkippedFile(art.path, f"duplicate of already indexed {known_hashes[art.content_hash]}"))
            else:
                (updated if prev else added).append(src)
                todo.append(art)
        show = self.progress if progress is None else progress
        total = sum(len(a.paragraphs) for a in todo)
        # The NLP pass runs beside the embedding/writes (onnxruntime and spaCy's numpy both release the
        # GIL), so ingest waits for the slower of the two rather than for their sum.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            analysis = pool.submit(self._analyse, todo) if todo else None
            with tqdm(total=total, desc="Indexing paragraphs", unit="para", disable=not show or not total) as bar:
                written = self.index.upsert(todo, progress=bar.update)
            if analysis is not None:
                analysis.result()
        return IngestReport(tuple(added), tuple(updated), tuple(unchanged), tuple(skipped), written)

    def _analyse(self, articles) -> None:
        """The NLP pass (spaCy: sentences, speakers, entities) once per new article, stored beside the
        index, so no question waits for it. A failure here costs only speed: answers analyse on demand."""
        from .text import article_info

        for art in articles:
            try:
                article_info([p.text for p in art.paragraphs])
            except Exception as e:  # noqa: BLE001 - never lose an ingest for the analysis cache
                log.warning("could not analyse %s now (%s); it will be analysed on first use", art.meta.source, e)

    def reindex(self, progress: bool | None = None) -> IngestReport:
        """Drop the index and rebuild it from documents_dir plus every file ingested from elsewhere."""
        paths = [m.get("path") for m in self.index.registry().values() if m.get("path")]
        self.index.reset()
        self.searcher = HybridSearcher(self.index, self.settings)  # the old one holds the dropped collection
        docs = Path(self.settings.documents_dir)
        extra = [p for p in paths if Path(p).exists() and not Path(p).resolve().is_relative_to(docs.resolve())]
        return self._ingest_paths(([docs] if docs.is_dir() else []) + extra, progress)

    def remove(self, source: str) -> None:
        """Take one article out of the index (by its file name, as `sources()` lists it)."""
        entry = self.index.registry().get(source)
        if entry is None:
            raise AssistantError(f"{source!r} is not indexed; `assistant sources` lists what is.")
        path = Path(entry.get("path") or "")
        if path.exists() and path.resolve().is_relative_to(Path(self.settings.documents_dir).resolve()):
            raise AssistantError(f"{source} is in the documents folder and would be indexed again on the next "
                                 f"start: delete or move {path} instead.")
        self.index.remove(source)

    def sources(self) -> list[SourceInfo]:
        return self.index.sources()

    # ---- retrieval
    def search(self, query: str, k: int | None = None, outlet: str | list[str] | None = None,
               date_from: str | None = None, date_to: str | None = None,
               source: str | list[str] | None = None, mode: str = "hybrid") -> list[Passage]:
        """Best paragraphs for `query` (hybrid dense + BM25, fused), near-duplicates merged."""
        from .retrieve import Filters

        query = self._check_question(query)
        if outlet:
            outlet, source = self._resolve_outlets(outlet, source)
            if source == []:  # the outlets and sources asked for have no article in common
                return []
        return self.searcher.search(query, k or self.settings.top_k,
                                    Filters(outlet, source, date_from, date_to), mode=mode)

    def _resolve_outlets(self, wanted, source):
        """Map what a user typed ("straits times", "Reuters") to the stored outlet names, ignoring case;
        an agency name selects the articles it wrote. Unknown names are an error that lists the known."""
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        infos = self.sources()
        outlets, by_agency = set(), set()
        for name in wanted:
            n = " ".join(name.split()).casefold()
            exact = {i.outlet for i in infos if i.outlet.casefold() == n}
            agency = {i.source for i in infos if (i.agency or "").casefold() == n}
            partial = {i.outlet for i in infos if n and n in i.outlet.casefold()}
            if not (exact or agency or partial):
                known = sorted({i.outlet for i in infos} | {i.agency for i in infos if i.agency})
                raise QuestionError(f"No indexed outlet matches {name!r}. Known outlets: {', '.join(known)}.")
            outlets |= exact or (partial if not agency else set())
            by_agency |= agency
        if not by_agency:
            return sorted(outlets), source
        # An agency filter is a set of articles; express the outlets the same way so both combine (OR).
        chosen = by_agency | {i.source for i in infos if i.outlet in outlets}
        if source:
            chosen &= set([source] if isinstance(source, str) else source)
        return None, sorted(chosen)

    def paragraphs(self, source: str) -> list[Passage]:
        """Every stored paragraph of one article, in order (for context around a citation)."""
        from .index import node_to_passage

        return [node_to_passage(n) for n in self.index.nodes_of(source)]

    def _check_question(self, text: str) -> str:
        text = (text or "").strip()
        if not text:
            raise QuestionError("The question is empty: type what you want to know, e.g. "
                                "\"What did Hegseth say about NATO?\"")
        if len(text) > self.settings.max_question_chars:
            raise QuestionError(f"The question is {len(text)} characters long; the limit is "
                                f"{self.settings.max_question_chars} (ASSISTANT_MAX_QUESTION_CHARS). "
                                "Ask something shorter.")
        return text

    # ---- answers, chat, claims
    @property
    def llm(self):
        if not hasattr(self, "_llm"):
            from .llm import build_llm

            self._llm = build_llm(self.settings)
        return self._llm

    @property
    def answerer(self):
        if self._answerer is None:
            from .answer import Answerer

            self._answerer = Answerer(self.settings, self.embedder, llm=self.llm, paragraphs=self.paragraphs)
        return self._answerer

    def ask(self, question: str, k: int | None = None, engine: str | None = None, **filters) -> Answer:
        """A cited answer; `Answer.answered` is False (with `related` passages) when the corpus has none.
        `k`: passages read (default `answer_k`); `engine`: "extractive" or "llm" (default: the configured one)."""
        question = self._check_question(question)
        eng = self.answerer.get(engine)  # an unknown engine fails before any search
        return eng.answer(question, self.search(question, k=k or self.settings.answer_k, **filters))

    def ask_stream(self, question: str, k: int | None = None, engine: str | None = None, **filters):
        """Like `ask`, but yields verified text chunks; the final Answer is `.answer` on the stream."""
        question = self._check_question(question)
        eng = self.answerer.get(engine)
        return eng.stream(question, self.search(question, k=k or self.settings.answer_k, **filters))

    def chat(self, k: int | None = None, engine: str | None = None, **filters):
        """A conversation: follow-up questions are rewritten into stand-alone ones before retrieval.
        `k` and `engine` as for `ask`, for every turn."""
        from .chat import ChatSession

        return ChatSession(self, k=k, engine=engine, **filters)

    def check_claim(self, claim: str, outlet: str | list[str] | None = None) -> ClaimCheck:
        """Per source: supports / contradicts / not_mentioned, with the evidence quoted."""
        claim = self._check_question(claim)
        if self._claims is None:
            from .claims import ClaimChecker

            self._claims = ClaimChecker(self.settings, self.embedder, self.search, self.paragraphs,
                                        self.sources, llm=self.llm)
        return self._claims.check(claim, outlet=outlet)


def _other_file(indexed_path: str | None, path: str) -> bool:
    """True when `indexed_path` is a different file that still exists (not this file, moved or edited)."""
    if not indexed_path or Path(indexed_path).resolve() == Path(path).resolve():
        return False
    return Path(indexed_path).exists()


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
