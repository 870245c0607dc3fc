"""The keyword (BM25) index lives on disk beside the vectors: loaded at start without reading every paragraph
back, kept current by writes (an in-memory delta), rebuilt only when missing, damaged or out of step, and
caught up with another client's writes at the next search."""
from __future__ import annotations

import json
import logging
import shutil

import pytest

from assistant import Assistant
from assistant import index as index_mod
from assistant.index import ParagraphIndex
from tests.conftest import DOCUMENTS

FILES = ("000_e00ab10b201d0fb9.txt", "003_8d4f28670e7e466b.txt")
QUERIES = ("Trump Putin Alaska summit", "NATO membership Ukraine", "sanctions oil price", "Hegseth said")


@pytest.fixture()
def docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    for name in FILES:
        shutil.copy(DOCUMENTS / name, d / name)
    return d


def _note(tmp_path, name="zeppelins.md"):
    p = tmp_path / name
    p.write_text("# Zeppelins\n\nA fleet of zeppelins crossed the Baltic on Tuesday, officials in Riga said.\n",
                 encoding="utf-8")
    return p


def _ids(a, q, **kw):
    return [p.id for p in a.search(q, k=5, mode="bm25", **kw)]


@pytest.fixture()
def no_read_back(monkeypatch):
    """Counts full read-backs of the store (the rebuild path) instead of forbidding them outright."""
    calls = []
    real = ParagraphIndex.all_nodes

    def counted(self, *a, **kw):
        calls.append(1)
        return real(self, *a, **kw)

    monkeypatch.setattr(ParagraphIndex, "all_nodes", counted)
    return calls


def test_a_new_process_loads_the_saved_keyword_index_without_reading_paragraphs_back(docs, tmp_path, no_read_back):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    before = {q: _ids(a, q) for q in QUERIES}
    assert (tmp_path / "idx" / "keyword" / a.settings.collection / "manifest.json").exists()
    no_read_back.clear()
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")  # a new Assistant = what a fresh process opens
    assert {q: _ids(b, q) for q in QUERIES} == before  # same index, same results
    assert not no_read_back and b.index.keyword.rebuilds == 0


def test_a_write_is_in_the_next_keyword_search_without_a_rebuild(docs, tmp_path, monkeypatch, no_read_back):
    monkeypatch.setattr(index_mod, "SMALL_CORPUS", 0)  # keep the write in the delta, as at 100k paragraphs
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    a.search("warm up", mode="bm25")
    kw = a.index.keyword
    rebuilds, compactions = kw.rebuilds, kw.compactions
    assert a.ingest([_note(tmp_path)]).added == ("zeppelins.md",)
    hits = a.search("zeppelin fleet Baltic", k=3, mode="bm25")
    assert hits and hits[0].source == "zeppelins.md"
    assert (kw.rebuilds, kw.compactions) == (rebuilds, compactions) and kw.delta
    a.remove("zeppelins.md")
    assert all(p.source != "zeppelins.md" for p in a.search("zeppelin fleet Baltic", k=3, mode="bm25"))


def test_delta_scores_rank_like_a_rebuild(docs, tmp_path, monkeypatch):
    monkeypatch.setattr(index_mod, "SMALL_CORPUS", 0)
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx", sync=False)
    a.ingest([docs / FILES[0]])
    a.search("warm up", mode="bm25")
    a.ingest([docs / FILES[1], _note(tmp_path)])  # most of the corpus arrives as a delta
    assert a.index.keyword.delta
    delta = {q: _ids(a, q) for q in QUERIES + ("zeppelins Riga",)}
    filtered = _ids(a, "Trump Putin", source=FILES[1])
    a.index.keyword.compact()
    assert not a.index.keyword.delta
    rebuilt = {q: _ids(a, q) for q in delta}
    for q in delta:  # statistics differ slightly until compaction: the top hits agree
        assert delta[q][:2] == rebuilt[q][:2], q
    assert filtered[:2] == _ids(a, "Trump Putin", source=FILES[1])[:2]


@pytest.mark.parametrize("damage", ["missing", "manifest", "scores"])
def test_a_missing_or_damaged_keyword_folder_is_rebuilt_with_a_message(docs, tmp_path, caplog, damage):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    before = {q: _ids(a, q) for q in QUERIES}
    folder = tmp_path / "idx" / "keyword" / a.settings.collection
    manifest = json.loads((folder / "manifest.json").read_text())
    if damage == "missing":
        shutil.rmtree(folder)
    elif damage == "manifest":
        (folder / "manifest.json").write_text("{not json")
    else:
        (folder / manifest["base"] / "data.csc.index.npy").write_bytes(b"\x00garbage")
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    with caplog.at_level(logging.WARNING, logger="assistant.index"):
        assert {q: _ids(b, q) for q in QUERIES} == before
    assert b.index.keyword.rebuilds == 1
    assert "Rebuilding the keyword index" in caplog.text
    c = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")  # and the rebuilt one was saved
    c.search("warm up", mode="bm25")
    assert c.index.keyword.rebuilds == 0


def test_a_store_changed_behind_the_log_is_rebuilt(docs, tmp_path, caplog):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    a.search("warm up", mode="bm25")
    a.index.paragraphs.delete(where={"source": FILES[0]})  # bypasses the write log (a crash, a foreign tool)
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx", sync=False)
    with caplog.at_level(logging.WARNING, logger="assistant.index"):
        assert all(p.source != FILES[0] for p in b.search("Trump Putin Alaska", k=5, mode="bm25"))
    assert b.index.keyword.rebuilds == 1 and "holds" in caplog.text


def test_another_clients_write_is_seen_at_the_next_search(docs, tmp_path, monkeypatch, no_read_back):
    monkeypatch.setattr(index_mod, "SMALL_CORPUS", 0)
    first = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    second = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert second.search("zeppelin", mode="bm25") == []  # loaded now, before the other client writes
    no_read_back.clear()
    assert first.ingest([_note(tmp_path)]).added == ("zeppelins.md",)
    hits = second.search("zeppelin fleet Baltic", k=3, mode="bm25")
    assert hits and hits[0].source == "zeppelins.md"
    first.index.remove("zeppelins.md")
    assert all(p.source != "zeppelins.md" for p in second.search("zeppelin fleet Baltic", k=3, mode="bm25"))
    assert not no_read_back and second.index.keyword.rebuilds == 0  # only the changed article was read


@pytest.mark.parametrize("delta_file", ["kept", "lost"])
def test_a_write_not_yet_compacted_is_found_at_start(docs, tmp_path, monkeypatch, no_read_back, delta_file):
    monkeypatch.setattr(index_mod, "SMALL_CORPUS", 0)
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    a.search("warm up", mode="bm25")
    a.ingest([_note(tmp_path)])  # in a's delta (and delta.jsonl); the saved index predates it
    assert a.index.keyword.delta_file.exists()
    if delta_file == "lost":  # then the write log names the article to re-read from the store
        a.index.keyword.delta_file.unlink()
    no_read_back.clear()
    c = Assistant(documents_dir=docs, index_dir=tmp_path / "idx", sync=False)
    hits = c.search("zeppelin fleet Baltic", k=3, mode="bm25")
    assert hits and hits[0].source == "zeppelins.md"
    assert not no_read_back and c.index.keyword.rebuilds == 0


def _dense_pair(a, filters, k):
    """(the post-filtered dense retriever a filtered search uses, Chroma's own filtered query) for k."""
    from assistant.retrieve import _PostFilteredDense

    where = a.searcher.vector_index.as_retriever(similarity_top_k=k, filters=filters.llama())
    return _PostFilteredDense(a.index, a.index.count(), where, filters, k), where


def _ranked(retriever, q):
    return [(h.node.node_id, round(h.score, 6)) for h in retriever.retrieve(q)]


def test_filtered_dense_search_ranks_like_chromas_where_without_reading_pool_metadata(tmp_path, monkeypatch):
    """The filtered dense side keeps a pool's ids by the keyword index's columns (no metadata read from
    Chroma) and must give exactly what Chroma's `where` gives: the same ids, order and scores, also for a
    write still in the delta and for another client's write this process has not caught up with."""
    from assistant.retrieve import Filters
    from tests.conftest import DOCUMENTS as ALL

    monkeypatch.setattr(index_mod, "SMALL_CORPUS", 0)
    a = Assistant(documents_dir=ALL, index_dir=tmp_path / "idx")
    reads = []
    real_get = type(a.index.paragraphs).get

    def counted_get(self, *args, **kw):
        reads.append(len(kw.get("ids") or []))
        return real_get(self, *args, **kw)

    cases = [Filters(outlet="SouthFront"), Filters(outlet=["Daily Express", "The Straits Times"]),
             Filters(outlet="unknown"), Filters(date_to="2025-12-31")]
    monkeypatch.setattr(type(a.index.paragraphs), "get", counted_get)
    for f in cases[:3]:
        for q in QUERIES:
            post, where = _dense_pair(a, f, 4)
            assert _ranked(post, q) == _ranked(where, q)
    assert reads and max(reads) <= 4  # only the kept paragraphs are read, never the pool
    monkeypatch.setattr(type(a.index.paragraphs), "get", real_get)

    note = tmp_path / "zeppelins.md"
    note.write_text("---\noutlet: Zeppelin Gazette\ndate: 2025-03-04\n---\n\n# Zeppelins\n\nA fleet of zeppelins "
                    "crossed the Baltic on Tuesday, officials in Riga said.\n", encoding="utf-8")
    a.ingest([note])
    assert a.index.keyword.delta  # our own write, held in the delta
    other = Assistant(documents_dir=ALL, index_dir=tmp_path / "idx")
    late = tmp_path / "airships.md"
    late.write_text("---\noutlet: Zeppelin Gazette\ndate: 2025-03-05\n---\n\n# Airships\n\nAirships over the "
                    "Baltic were grounded by fog, the Riga office said.\n", encoding="utf-8")
    other.ingest([late])  # `a` has not caught up with this write: its ids are unknown to its columns
    f = Filters(outlet="Zeppelin Gazette")
    post, where = _dense_pair(a, f, 2)
    got = _ranked(post, "zeppelins airships over the Baltic")
    assert got == _ranked(where, "zeppelins airships over the Baltic") and len(got) == 2
    for f in cases:
        post, where = _dense_pair(a, f, 3)
        assert _ranked(post, "Trump Putin Alaska summit") == _ranked(where, "Trump Putin Alaska summit")


_NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


def _zeppelin(tmp_path, i):
    p = tmp_path / f"z{i}.md"
    p.write_text(f"# Zeppelin {_NAMES[i]}\n\nZeppelin {_NAMES[i]} crossed the Baltic, officials in Riga said.\n",
                 encoding="utf-8")
    return p


def test_the_write_log_is_pruned_after_a_compaction_and_no_reader_rebuilds(docs, tmp_path, monkeypatch, no_read_back):
    """Old write-log records go once a saved index includes them; a process that keeps searching just forgets
    them, a new process opens the saved index without reading paragraphs back, and results are unchanged."""
    monkeypatch.setattr(index_mod, "LOG_PRUNE_AT", 4)
    monkeypatch.setattr(index_mod, "LOG_RETAIN_S", 0.0)
    monkeypatch.setattr(index_mod, "LOG_MARGIN_S", 0.0)
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")  # another process on the same index
    b.search("warm up", mode="bm25")
    for i in range(4):
        a.ingest([_zeppelin(tmp_path, i)])  # small corpus: every write compacts, then prunes
        b.search("zeppelin", mode="bm25")
    assert a.index.keyword.pruned > 0
    left = a.index.log.get()["ids"]
    assert index_mod.PRUNE_MARK in left and len(left) < 1 + 2 * 5  # 5 writes' records would be 10
    no_read_back.clear()
    hits = b.search("Zeppelin delta crossed the Baltic", k=3, mode="bm25")
    assert hits and hits[0].source == "z3.md" and b.index.keyword.rebuilds == 0
    c = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert _ids(c, "Zeppelin charlie crossed") == _ids(a, "Zeppelin charlie crossed")
    assert not no_read_back and c.index.keyword.rebuilds == 0
    a.ingest([_zeppelin(tmp_path, 9)])  # a write after the prune is still seen by the others at once
    assert b.search("Zeppelin juliet", k=1, mode="bm25")[0].source == "z9.md"
    assert c.search("Zeppelin juliet", k=1, mode="bm25")[0].source == "z9.md"


def test_a_process_idle_past_the_prune_cut_off_reloads_instead_of_missing_writes(docs, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(index_mod, "SMALL_CORPUS", 0)  # writes stay in the delta (and its file)
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    b.search("warm up", mode="bm25")
    b.index.keyword.synced_at -= 3 * 86400  # b last read the log three days ago
    a.ingest([_zeppelin(tmp_path, 1)])
    a.index.keyword.compact()  # saves the write in the index on disk
    monkeypatch.setattr(index_mod, "LOG_RETAIN_S", 0.0)
    monkeypatch.setattr(index_mod, "LOG_MARGIN_S", 0.0)
    a.search("zeppelin", mode="bm25")  # a has read the whole log since its write
    assert a.index.keyword.prune_log(force=True) > 0  # the zeppelin's own records go too
    with caplog.at_level(logging.INFO, logger="assistant.index"):
        hits = b.search("Zeppelin bravo crossed the Baltic", k=1, mode="bm25")
    assert hits and hits[0].source == "z1.md"  # reloaded from the saved index, not missed
    assert "pruned past" in caplog.text


def test_a_prune_cut_off_that_comes_back_a_hair_high_does_not_make_a_new_process_rebuild(docs, tmp_path, no_read_back):
    """Chroma returns float metadata with about 16 significant digits, so a cut-off at exactly the saved index's
    synced_at less the margin (a compaction's own prune, when every client is recent) can be read back a few
    hundred nanoseconds above it."""
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    a.search("warm up", mode="bm25")
    manifest = json.loads((a.index.keyword.folder / "manifest.json").read_text(encoding="utf-8"))
    a.index.log.upsert(ids=[index_mod.PRUNE_MARK], embeddings=[[1.0]],
                       metadatas=[{"before": manifest["synced_at"] - index_mod.LOG_MARGIN_S + 1e-6, "gen": 1, "t": manifest["synced_at"]}])
    no_read_back.clear()
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert _ids(b, "NATO membership Ukraine") == _ids(a, "NATO membership Ukraine")
    assert not no_read_back and b.index.keyword.rebuilds == 0


def test_a_small_write_crossing_the_limit_compacts_in_the_background(docs, tmp_path, monkeypatch):
    """The write that takes the delta past its limit returns at once; searches go on with the delta while
    the new index is built; writes and removals made during the build are carried over onto it; the saved
    index and its delta file give a new process the same results."""
    import threading

    monkeypatch.setattr(index_mod, "SMALL_CORPUS", 0)
    monkeypatch.setattr(index_mod, "COMPACT_MIN", 3)
    monkeypatch.setattr(index_mod, "COMPACT_SHARE", 0.0)
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    a.search("warm up", mode="bm25")
    kw = a.index.keyword
    gate, building = threading.Event(), threading.Event()
    real_write = index_mod.KeywordIndex._write_base

    def slow_write(self, *args):
        if threading.current_thread().name == "keyword-compaction":
            building.set()
            assert gate.wait(60)
        return real_write(self, *args)

    monkeypatch.setattr(index_mod.KeywordIndex, "_write_base", slow_write)
    compactions = kw.compactions
    for i in range(4):  # 4 one-paragraph articles: the 4th passes the limit of 3
        a.ingest([_zeppelin(tmp_path, i)])
    assert building.wait(30) and kw.compacting() and kw.compactions == compactions  # the write did not wait
    a.ingest([_zeppelin(tmp_path, 7)])  # written during the build
    a.remove("z0.md")  # removed during the build (it is in the snapshot being built)
    assert a.search("Zeppelin hotel", k=1, mode="bm25")[0].source == "z7.md"
    assert "z0.md" not in {p.source for p in a.search("Zeppelin alpha", k=5, mode="bm25")}
    gate.set()
    assert kw.wait_compaction(60) and kw.background_compactions == 1
    assert set(kw.delta) == {"z7.md"}  # the write made during the build, carried over
    after = {q: _ids(a, q) for q in ("Zeppelin hotel", "Zeppelin alpha", "Zeppelin charlie") + QUERIES}
    assert a.search("Zeppelin hotel", k=1, mode="bm25")[0].source == "z7.md"
    assert "z0.md" not in {p.source for p in a.search("Zeppelin alpha", k=5, mode="bm25")}
    fresh = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert {q: _ids(fresh, q) for q in after} == after and fresh.index.keyword.rebuilds == 0
