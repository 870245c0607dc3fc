"""The Python API: `Assistant` is the one object the CLI, the chat UI and developers use."""
from __future__ import annotations

import functools
import hashlib
import logging
import numbers
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Iterable

from .config import MAX_K, Settings, configure_offline_runtime, get_settings
from .errors import AssistantError, IndexStateError, QuestionError
from .models import Answer, ClaimCheck, IngestReport, Passage, SkippedFile, SourceInfo
from .retrieve import HybridSearcher

log = logging.getLogger(__name__)


class NewsdeskWarning(UserWarning):
    """Something a caller should see that is not an error: an empty index, articles a filter left out."""


class SearchResult(list):
    """The passages of `Assistant.search` (a list), with `notices`: what the caller should know about what
    was searched (an empty index; undated articles a date filter excluded, counted in `excluded_undated`)."""

    def __init__(self, passages=(), notices: tuple[str, ...] = (), excluded_undated: int = 0):
        super().__init__(passages)
        self.notices = tuple(notices)
        self.excluded_undated = excluded_undated


def _server_errors(method):
    """A Chroma server that dies mid-command is an IndexStateError that says so, not an httpx traceback."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except AssistantError:
            raise
        except Exception as e:
            url = self.settings.chroma_url or "the Chroma server"
            if self.settings.chroma_url and _is_gone(e):
                raise IndexStateError(
                    f"The index's collection is gone from the Chroma server at {url} (another client deleted "
                    "it, or the server's data folder was emptied or replaced while this one had it open). "
                    "Run the command again: on opening, Newsdesk restores it from its kept copies.") from e
            if self.settings.chroma_url and _is_server_failure(e):
                # the server answered, but with its own failure: in practice a data folder damaged after
                # this client opened it (the checks at open cover the rest)
                raise IndexStateError(
                    f"The Chroma server at {url} failed ({type(e).__name__}: {e}). Its data folder may be "
                    "damaged: see 'Crash safety and index damage' in the README for the fix, then run the command again.") from e
            if not _is_connection_error(e):
                raise
            raise IndexStateError(
                f"Lost the connection to the Chroma server at {url} ({type(e).__name__}: {e}). Check that it "
                "is running (`chroma run --path DIR --port PORT`) and run the command again.") from e

    return wrapper


def _is_gone(e: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(e, NotFoundError)


def _is_server_failure(e: BaseException) -> bool:
    from chromadb.errors import InternalError

    return isinstance(e, InternalError)


def _is_connection_error(e: BaseException) -> bool:
    import httpx

    seen = set()
    while e is not None and id(e) not in seen:  # chromadb sometimes wraps the transport error
        seen.add(id(e))
        if isinstance(e, (httpx.TransportError, ConnectionError)):
            return True
        e = e.__cause__ or e.__context__
    return False


@dataclass(frozen=True)
class Restriction:
    """What a search, answer, chat or claim check is restricted to, as the user asked for it. One object
    for all four, resolved against the index by one resolver (`Assistant.filters`, `Assistant._resolve`)
    at each call, so outlets and agencies added since still count."""

    outlet: tuple[str, ...] = ()  # outlet or wire-agency names as typed, any case, partial allowed
    source: tuple[str, ...] = ()  # article ids as `sources()` lists them
    date_from: str | None = None
    date_to: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.outlet or self.source or self.date_from or self.date_to)


def _names(value, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    for v in values:
        if not isinstance(v, str) or not v.strip():
            # An empty name used to match every article without an agency, silently dropping wire copy.
            raise QuestionError(f"An empty {what} name was given ({v!r}); leave the {what} filter out "
                                f"to search every {what}.")
    return tuple(" ".join(v.split()) for v in values)


def check_k(k, default: int) -> int:
    """k (passages) as asked for: None -> `default`; a whole number 1..MAX_K, else a clear error."""
    if k is None:
        return default
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k (the number of passages) must be a whole number from 1 to {MAX_K}; got {k!r}.")
    return int(k)


def clean_text_input(text) -> str:
    """A question as text: lone surrogates (invalid UTF-8 from a terminal arrives as U+DC80-U+DCFF) are
    turned back into their bytes and decoded (cp1252 where not UTF-8), other lone surrogates and
    control characters dropped; bytes are decoded the same way."""
    from .ingest import decode_mixed

    if isinstance(text, (bytes, bytearray)):
        text = decode_mixed(bytes(text))
    if text is None:
        return ""
    if not isinstance(text, str):
        raise QuestionError(f"The question must be text, not {type(text).__name__}.")
    if re.search("[\ud800-\udfff]", text):
        try:  # a surrogate pair split into two code units is one character
            text = text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            pass
        out = bytearray()
        for ch in text:
            if "\udc80" <= ch <= "\udcff":
                out.append(ord(ch) - 0xDC00)  # surrogateescape: the original byte
            elif not "\ud800" <= ch <= "\udfff":
                out += ch.encode("utf-8")
        text = decode_mixed(bytes(out))
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", text)


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
        # What happened to the index while opening (damage found and rebuilt, an interrupted write finished
        # or undone), for the CLI/UI to show.
        self.notices: list[str] = list(self.index.notices)
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
        for skip in (self.last_sync.skipped if self.last_sync else ()):
            # a file of the documents folder left out says so where every surface shows notices
            self.notices.append(f"Skipped {skip.path}: {skip.reason}.")

    def warm(self) -> "Assistant":
        """Do the one-off work of the first question now (keyword index, answer engine), e.g. while a UI
        starts up, so the first user does not wait for it."""
        self.searcher._ensure_bm25()
        _ = self.answerer
        return self

    # ---- ingestion
    @_server_errors
    def sync_documents(self) -> IngestReport:
        """Bring the index in line with documents_dir: new/changed files in, deleted files out."""
        docs = Path(self.settings.documents_dir)
        if not docs.is_dir():
            return IngestReport()
        from .ingest import discover, source_name

        files, left_out = discover([docs], docs)  # links out of the folder, loops: named, not dropped
        registry = self.index.registry()
        by_path = {str(Path(m["path"]).resolve()): (src, m.get("content_hash"))
                   for src, m in registry.items() if m.get("path")}
        stale = [f for f in files if by_path.get(str(f.resolve()), (None, None))[1] != _sha256(f)]
        present = {str(f.resolve()) for f in files}
        # On a shared server another client's folder may hold files ours lacks: only add, never delete.
        for path, (src, _) in ({} if self.settings.chroma_url else by_path).items():
            if Path(path).is_relative_to(docs.resolve()) and path not in present:
                self.index.remove(src)
        if stale:
            report = self._ingest_paths(stale)
            return replace(report, skipped=tuple(left_out) + report.skipped)
        return IngestReport(unchanged=tuple(by_path.get(str(f.resolve()), (source_name(f, docs),))[0] for f in files),
                            skipped=tuple(left_out))

    @_server_errors
    def ingest(self, paths: Iterable[str | Path], progress: bool | None = None) -> IngestReport:
        """Index files or folders. Idempotent: unchanged files are not re-embedded. Bad files are
        reported in `IngestReport.skipped` (with the reason) and never stop the others; files indexed
        with some metadata left out are in `IngestReport.warnings`."""
        return self._ingest_paths(list(paths), progress)

    def _ingest_paths(self, paths: list, progress: bool | None = None,
                      keep_ids: dict[str, str] | None = None) -> IngestReport:
        from tqdm.auto import tqdm

        from .ingest import load_articles

        show = self.progress if progress is None else progress
        articles, skipped = load_articles(paths, self.settings, progress=show)
        registry = self.index.registry()
        known_hashes = {m.get("content_hash"): src for src, m in registry.items()}
        # An article keeps the id it was indexed under (indexes built before subfolders counted used the
        # bare file name; `reindex` passes the ids it dropped), so its citations stay the same.
        id_of_path = {str(Path(m["path"]).resolve()): src for src, m in registry.items() if m.get("path")}
        id_of_path.update(keep_ids or {})
        added, updated, unchanged, todo = [], [], [], []
        skipped = list(skipped)
        warnings = []
        batch: dict[str, str] = {}  # id -> path, this call: two files may never share an id
        for art in articles:
            src = id_of_path.get(art.path, art.meta.source)
            prev = registry.get(src)
            if (prev and _other_file(prev.get("path"), art.path)) or batch.get(src, art.path) != art.path:
                # Another file with the same name is indexed: keep both, under distinct names.
                name = PurePosixPath(src)
                tag = hashlib.sha256(art.path.encode()).hexdigest()[:6]
                src = str(name.with_name(f"{name.stem}-{tag}{name.suffix}"))
                prev = registry.get(src)
            if src != art.meta.source:
                art = replace(art, meta=replace(art.meta, source=src))
            batch[src] = art.path
            warnings += [SkippedFile(art.path, w) for w in art.warnings]
            if prev and prev.get("content_hash") == art.content_hash:
                unchanged.append(src)
            elif art.content_hash in known_hashes and known_hashes[art.content_hash] != src:
                skipped.append(SkippedFile(art.path, f"duplicate of already indexed {known_hashes[art.content_hash]}"))
            else:
                (updated if prev else added).append(src)
                todo.append(art)
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
        return IngestReport(tuple(added), tuple(updated), tuple(unchanged), tuple(skipped), written,
                            warnings=tuple(warnings))

    def _analyse(self, articles) -> None:
        """The NLP pass (spaCy: sentences, speakers, entities) once per new article, stored beside the
        index, so no question waits for it. A failure here costs only speed: answers analyse on demand."""
        from .text import article_info

        for art in articles:
            try:
                article_info([p.text for p in art.paragraphs])
            except Exception as e:  # noqa: BLE001 - never lose an ingest for the analysis cache
                log.warning("could not analyse %s now (%s); it will be analysed on first use", art.meta.source, e)

    @_server_errors
    def reindex(self, progress: bool | None = None) -> IngestReport:
        """Drop the index and rebuild it from documents_dir plus every file ingested from elsewhere (those
        keep the ids they had)."""
        old = {str(Path(m["path"]).resolve()): src for src, m in self.index.registry().items() if m.get("path")}
        self.index.reset()
        self.searcher = HybridSearcher(self.index, self.settings)  # the old one holds the dropped collection
        docs = Path(self.settings.documents_dir)
        extra = {p: src for p, src in old.items() if Path(p).exists() and not Path(p).is_relative_to(docs.resolve())}
        report = self._ingest_paths(([docs] if docs.is_dir() else []) + list(extra), progress, keep_ids=extra)
        restored = self.index.finish_reindex()  # articles whose files are gone come back from their kept copies
        return replace(report, added=report.added + tuple(restored)) if restored else report

    @_server_errors
    def remove(self, source: str) -> None:
        """Take one article out of the index (by its id, as `sources()` lists it; a bare file name is
        enough when only one article has it)."""
        registry = self.index.registry()
        if source not in registry:
            same_name = [s for s in registry if PurePosixPath(s).name == source]
            if len(same_name) > 1:
                raise AssistantError(f"{source!r} names {len(same_name)} articles ({', '.join(sorted(same_name))}); "
                                     "give the one to remove.")
            source = same_name[0] if same_name else source
        entry = registry.get(source)
        if entry is None and self.index.has_paragraphs(source):
            self.index.remove(source)  # paragraphs without a registry record: what an old crash left
            return
        if entry is None:
            raise AssistantError(f"{source!r} is not indexed; `assistant sources` lists what is.")
        path = Path(entry.get("path") or "")
        if path.exists() and path.resolve().is_relative_to(Path(self.settings.documents_dir).resolve()):
            raise AssistantError(f"{source} is in the documents folder and would be indexed again on the next "
                                 f"start: delete or move {path} instead.")
        self.index.remove(source)

    @_server_errors
    def sources(self) -> list[SourceInfo]:
        return self.index.sources()

    # ---- retrieval
    def filters(self, outlet: str | list[str] | None = None, source: str | list[str] | None = None,
                date_from: str | None = None, date_to: str | None = None,
                filters: Restriction | None = None) -> Restriction:
        """The one filter object of search, ask, chat and check_claim, checked now: an empty or unknown
        outlet name, or a malformed date, is a QuestionError before any search."""
        if filters is not None:
            if outlet or source or date_from or date_to:
                raise QuestionError("Give either filters= or outlet/source/date_from/date_to, not both.")
            r = filters
        else:
            r = Restriction(_names(outlet, "outlet"), _names(source, "source"), date_from or None,
                            date_to or None)
        self._resolve(r)
        return r

    def _resolve(self, r: Restriction):
        """Restriction -> the retriever's Filters over stored names, or None when no article can match."""
        from .retrieve import Filters

        outlets, sources = None, list(r.source) or None
        if r.outlet:
            outlets, sources = self._resolve_outlets(r.outlet, sources)
            if sources == []:  # the outlets and sources asked for have no article in common
                return None
        return Filters(outlets, sources, r.date_from, r.date_to)

    @_server_errors
    def search(self, query: str, k: int | None = None, outlet: str | list[str] | None = None,
               date_from: str | None = None, date_to: str | None = None,
               source: str | list[str] | None = None, mode: str = "hybrid",
               filters: Restriction | None = None) -> list[Passage]:
        """Best paragraphs for `query` (hybrid dense + BM25, fused), near-duplicates merged.
        `k`: 1..MAX_K (100); the filters as keywords or one `filters=Restriction` (see `filters()`)."""
        query = self._check_question(query)
        k = check_k(k, self.settings.top_k)
        r = self.filters(outlet, source, date_from, date_to, filters=filters)
        resolved = self._resolve(r)
        notices, undated = self._search_notices(r)
        for n in notices:  # a script that never reads .notices still hears why nothing came back
            warnings.warn(n, NewsdeskWarning, stacklevel=3)
        if resolved is None or self._index_is_empty():
            return SearchResult((), notices, undated)
        return SearchResult(self.searcher.search(query, k, resolved, mode=mode), notices, undated)

    def _index_is_empty(self) -> bool:
        return not self.index.registry()

    def empty_index_notice(self) -> str | None:
        """The message for an index with no articles (None when it has some)."""
        if not self._index_is_empty():
            return None
        return (f"The index is empty: no articles are indexed in {self.settings.index_dir}. Put articles in "
                f"{self.settings.documents_dir} or add them with `assistant ingest PATH` "
                "(Python: `Assistant.ingest([...])`), then ask again.")

    def excluded_undated(self, filters: Restriction | None = None) -> int:
        """How many undated articles a date restriction leaves out (among those its outlets/sources keep):
        an undated article never matches date_from/date_to."""
        r = filters or Restriction()
        if not (r.date_from or r.date_to):
            return 0
        infos = [i for i in self.sources() if not i.date]
        if r.outlet:
            outlets, _, by_agency = self._outlet_matches(r.outlet)
            infos = [i for i in infos if i.outlet in outlets or i.source in by_agency]
        if r.source:
            infos = [i for i in infos if i.source in r.source]
        return len(infos)

    def _search_notices(self, r: Restriction) -> tuple[tuple[str, ...], int]:
        empty = self.empty_index_notice()
        if empty:
            return (empty,), 0
        undated = self.excluded_undated(r)
        if not undated:
            return (), 0
        words = " and ".join(f"{k} {v}" for k, v in (("from", r.date_from), ("to", r.date_to)) if v)
        return (f"The date filter ({words}) excluded {undated} undated article{'s' if undated != 1 else ''}: "
                "an article without a date never matches a date filter.",), undated

    def _outlet_matches(self, wanted, infos=None) -> tuple[set[str], set[str], set[str]]:
        """(stored outlet names, agency names, sources by agency) each wanted name selects; an unknown
        name is an error listing the known ones. Names ignore case and spacing; a part of an outlet's
        name ("straits") selects it when no outlet or agency has that exact name."""
        infos = self.sources() if infos is None else infos
        outlets, agencies, by_agency = set(), set(), set()
        for name in _names(wanted, "outlet"):
            n = name.casefold()
            exact = {i.outlet for i in infos if i.outlet.casefold() == n}
            agency = {i.source for i in infos if (i.agency or "").casefold() == n}
            partial = {i.outlet for i in infos if n in i.outlet.casefold()}
            if not (exact or agency or partial):
                known = sorted({i.outlet for i in infos} | {i.agency for i in infos if i.agency})
                raise QuestionError(f"No indexed outlet matches {name!r}. Known outlets: {', '.join(known)}.")
            outlets |= exact or (partial if not agency else set())
            by_agency |= agency
            agencies |= {i.agency for i in infos if (i.agency or "").casefold() == n}
        return outlets, agencies, by_agency

    def _resolve_outlets(self, wanted, source):
        """Map what a user typed ("straits times", "Reuters") to the stored outlet names, ignoring case;
        an agency name selects the articles it wrote. Unknown names are an error that lists the known."""
        infos = self.sources()
        outlets, _, by_agency = self._outlet_matches(wanted, infos)
        if not by_agency:
            return sorted(outlets), source
        # An agency filter is a set of articles; express the outlets the same way so both combine (OR).
        chosen = by_agency | {i.source for i in infos if i.outlet in outlets}
        if source:
            chosen &= set([source] if isinstance(source, str) else source)
        return None, sorted(chosen)

    @_server_errors
    def paragraphs(self, source: str) -> list[Passage]:
        """Every stored paragraph of one article, in order (for context around a citation)."""
        from .index import node_to_passage

        return [node_to_passage(n) for n in self.index.nodes_of(source)]

    def _check_question(self, text: str) -> str:
        text = clean_text_input(text).strip()
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

    @_server_errors
    def ask(self, question: str, k: int | None = None, engine: str | None = None, **filters) -> Answer:
        """A cited answer; `Answer.answered` is False (with `related` passages) when the corpus has none.
        `k`: passages read (default `answer_k`, at most MAX_K); `engine`: "extractive" or "llm" (default:
        the configured one); filters as for `search`."""
        question = self._check_question(question)
        k = check_k(k, self.settings.answer_k)
        eng = self.answerer.get(engine)  # an unknown engine fails before any search
        hits = self.search(question, k=k, **filters)
        if self._index_is_empty():  # say so rather than "I could not find this"
            return Answer(question, hits.notices[0], answered=False, engine=eng.name, notices=hits.notices)
        ans = eng.answer(question, hits)
        return replace(ans, notices=ans.notices + hits.notices) if hits.notices else ans

    @_server_errors
    def ask_stream(self, question: str, k: int | None = None, engine: str | None = None, **filters):
        """Like `ask`, but yields verified text chunks; the final Answer is `.answer` on the stream."""
        question = self._check_question(question)
        k = check_k(k, self.settings.answer_k)
        eng = self.answerer.get(engine)
        hits = self.search(question, k=k, **filters)
        if not hits.notices:
            return eng.stream(question, hits)
        from .answer.base import AnswerStream

        empty = self._index_is_empty()
        inner = None if empty else eng.stream(question, hits)

        def chunks(st):
            if empty:
                yield hits.notices[0]
                st.answer = Answer(question, hits.notices[0], answered=False, engine=eng.name,
                                   notices=hits.notices)
                return
            yield from inner
            st.answer = replace(inner.answer, notices=inner.answer.notices + hits.notices)

        return AnswerStream(chunks)

    @_server_errors
    def chat(self, k: int | None = None, engine: str | None = None, **filters):
        """A conversation: follow-up questions are rewritten into stand-alone ones before retrieval.
        `k` and `engine` as for `ask`, for every turn; the filters are checked now (an unknown outlet
        fails here, not at the first question) and resolved again at each turn."""
        from .chat import ChatSession

        if k is not None:
            k = check_k(k, self.settings.answer_k)
        restriction = self.filters(**filters)
        return _noticed(ChatSession)(self, k=k, engine=engine,
                                     **({} if restriction.empty else {"filters": restriction}))

    @_server_errors
    def check_claim(self, claim: str, outlet: str | list[str] | None = None, *,
                    filters: Restriction | None = None) -> ClaimCheck:
        """Per source: supports / contradicts / not_mentioned, with the evidence quoted. `outlet` is
        resolved exactly as in `search` (any case, partial names, agencies; unknown names are an error)."""
        claim = self._check_question(claim)
        r = self.filters(outlet=outlet, filters=filters)
        if r.source or r.date_from or r.date_to:
            raise QuestionError("A claim check can be restricted to outlets only (not to sources or dates).")
        names = None
        if r.outlet:
            # The checker matches stored outlet and agency names exactly: hand it what the resolver chose.
            outlets, agencies, _ = self._outlet_matches(r.outlet)
            names = sorted(outlets | agencies)
        if self._claims is None:
            from .claims import ClaimChecker

            self._claims = ClaimChecker(self.settings, self.embedder, self.search, self.paragraphs,
                                        self.sources, llm=self.llm)
        return self._claims.check(claim, outlet=names)


@functools.cache
def _noticed(session_cls):
    """The chat session with each answer carrying its search's notices (empty index, undated excluded),
    as `ask` does; an empty index answers with its notice, not "I could not find this"."""

    class NoticedSession(session_cls):
        _notices: tuple[str, ...] = ()

        def _retrieve(self, question):
            standalone, passages = super()._retrieve(question)
            self._notices = getattr(passages, "notices", ())
            return standalone, passages

        def _record(self, question, standalone, ans):
            if self._notices:
                ans = replace(ans, notices=ans.notices + self._notices)
                if self.assistant._index_is_empty():
                    ans = replace(ans, text=self._notices[0], answered=False, related=())
            return super()._record(question, standalone, ans)

        def ask_stream(self, question):
            inner = super().ask_stream(question)  # retrieves now, so the notices are known
            if not self.assistant._index_is_empty():
                return inner

            def chunks(st):  # the notice, not a streamed "I could not find this" replaced afterwards
                yield self._notices[0]
                for _ in inner:
                    pass
                st.answer = inner.answer

            return type(inner)(chunks)

    return NoticedSession


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
