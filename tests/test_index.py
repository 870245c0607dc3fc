"""Index lifecycle: idempotent ingest, replacement of changed files, duplicates, bad files, a corrupt or
incompatible index, and the documents folder staying in sync."""
from __future__ import annotations

import shutil

import pytest

from assistant import Assistant
from tests.conftest import DOCUMENTS

EXPRESS = "000_e00ab10b201d0fb9.txt"


@pytest.fixture()
def docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    for name in (EXPRESS, "003_8d4f28670e7e466b.txt"):
        shutil.copy(DOCUMENTS / name, d / name)
    if (DOCUMENTS / "manifest.json").exists():
        shutil.copy(DOCUMENTS / "manifest.json", d / "manifest.json")
    return d


def test_first_open_builds_then_reopen_reuses(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert set(a.last_sync.added) == {EXPRESS, "003_8d4f28670e7e466b.txt"}
    n = a.index.count()
    assert n > 20
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert b.last_sync.paragraphs == 0 and b.index.count() == n


def test_reingesting_unchanged_files_writes_nothing(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    n = a.index.count()
    report = a.ingest([docs])
    assert report.paragraphs == 0 and set(report.unchanged) == {EXPRESS, "003_8d4f28670e7e466b.txt"}
    assert a.index.count() == n


def test_changed_file_replaces_its_old_paragraphs(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    before = a.index.count()
    path = docs / EXPRESS
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Read Entire Article", "A brand new closing paragraph about zeppelins."),
                    encoding="utf-8")
    report = a.ingest([path])
    assert report.updated == (EXPRESS,)
    assert any("zeppelins" in p.text for p in a.search("zeppelins", k=3))
    assert a.index.count() == before + 1  # old paragraphs replaced, not duplicated


def test_same_content_under_another_name_is_reported_as_duplicate(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    copy = tmp_path / "copy_of_express.txt"
    shutil.copy(docs / EXPRESS, copy)
    report = a.ingest([copy])
    assert not report.ok and "duplicate" in report.skipped[0].reason


def test_one_bad_file_does_not_spoil_the_batch(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "empty.txt").write_text("")
    (extra / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (extra / "good.md").write_text("# Zeppelin news\n\nA fleet of zeppelins crossed the Baltic on Tuesday, "
                                    "officials in Riga said.\n", encoding="utf-8")
    report = a.ingest([extra])
    assert report.added == ("good.md",)
    reasons = {s.path.split("/")[-1]: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt"}
    assert any("zeppelins" in p.text for p in a.search("zeppelins Baltic", k=2))


def test_wire_copy_in_two_outlets_comes_back_once_with_both(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    para = next(p for p in a.paragraphs("003_8d4f28670e7e466b.txt") if "security presence" in p.text)
    wire = tmp_path / "wire.md"
    wire.write_text(f"---\noutlet: Wire Daily\ntitle: Hegseth in Brussels\n---\n\n{para.text}\n\n"
                    "Other news of the day followed in a separate report about weather.\n", encoding="utf-8")
    assert a.ingest([wire]).added == ("wire.md",)
    hits = a.search("US troops would not be part of any security presence in Ukraine", k=5)
    copies = [h for h in hits if "security presence" in h.text]
    assert len(copies) == 1
    assert set(copies[0].outlets) == {"The Straits Times", "Wire Daily"}


def test_deleted_document_leaves_the_index_on_next_open(docs, tmp_path):
    Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    (docs / EXPRESS).unlink()
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert [s.source for s in b.sources()] == ["003_8d4f28670e7e466b.txt"]


def test_index_from_another_embedding_model_is_rebuilt_not_mixed(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    n = a.index.count()
    a.index.paragraphs.modify(metadata={"embedding_model": "some-other-model", "schema": 1})
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert any("Rebuilt" in note for note in b.notices)
    assert b.index.count() == n
    assert (b.index.paragraphs.metadata or {}).get("embedding_model") != "some-other-model"


def test_corrupt_index_is_moved_aside_and_rebuilt(docs, tmp_path):
    Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    sqlite = tmp_path / "idx" / "chroma" / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a database" * 100)
    b = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    assert any("unreadable" in note for note in b.notices)
    assert len(b.sources()) == 2
    assert list((tmp_path / "idx").glob("chroma.corrupt-*"))  # kept for inspection, nothing lost


def test_reindex_keeps_files_ingested_from_elsewhere(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    extra = tmp_path / "note.txt"
    extra.write_text("Lapland notes\n\nZeppelin sightings rose sharply over Lapland this winter, a survey found.\n")
    a.ingest([extra])
    report = a.reindex()
    assert set(report.added) == {EXPRESS, "003_8d4f28670e7e466b.txt", "note.txt"}
    # The same Assistant keeps working after the rebuild.
    assert any("Lapland" in p.text for p in a.search("zeppelin sightings Lapland", k=3))


def test_same_file_name_from_another_folder_is_kept_beside_the_first(docs, tmp_path):
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / EXPRESS).write_text("Other desk\n\nZeppelin sightings rose sharply over Lapland, a survey found.\n")
    report = a.ingest([other / EXPRESS])
    assert len(report.added) == 1 and report.added[0] != EXPRESS and report.added[0].endswith(".txt")
    names = {s.source for s in a.sources()}
    assert EXPRESS in names and report.added[0] in names
    assert Assistant(documents_dir=docs, index_dir=tmp_path / "idx").last_sync.paragraphs == 0


def test_remove_explains_what_it_cannot_do(docs, tmp_path):
    from assistant.errors import AssistantError

    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    with pytest.raises(AssistantError, match="not indexed"):
        a.remove("nope.txt")
    with pytest.raises(AssistantError, match="documents folder"):
        a.remove(EXPRESS)
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nZeppelin sightings rose sharply over Lapland, a survey found.\n")
    a.ingest([note])
    a.remove("note.md")
    assert "note.md" not in {s.source for s in a.sources()}


def test_reindex_through_the_api_leaves_no_orphaned_segment_folders(tmp_path):
    import re
    import sqlite3

    from assistant import Assistant

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Bridge Budget\n\nThe council approved a $12 million bridge budget on Tuesday.\n",
                                encoding="utf-8")
    a = Assistant(documents_dir=docs, index_dir=tmp_path / "idx")
    a.reindex()
    a.reindex()
    chroma = tmp_path / "idx" / "chroma"
    with sqlite3.connect(chroma / "chroma.sqlite3") as con:
        live = {row[0] for row in con.execute("SELECT id FROM segments")}
    folders = {d.name for d in chroma.iterdir() if d.is_dir() and re.fullmatch(r"[0-9a-f-]{36}", d.name)}
    assert folders <= live, folders - live
    assert a.search("bridge budget", k=1)


def test_a_registry_past_chromas_variable_limit_is_read_in_pages(tmp_path):
    """chromadb 1.5.9 fails an unpaged get() of > 32,766 records ("too many SQL variables"); the 1M
    benchmark's 50,000-article registry hit it."""
    import chromadb

    from assistant.index import get_all

    col = chromadb.PersistentClient(str(tmp_path)).create_collection("many")
    n = 33_000
    for start in range(0, n, 5000):
        ids = [f"a{i}" for i in range(start, min(n, start + 5000))]
        col.add(ids=ids, embeddings=[[1.0]] * len(ids), metadatas=[{"n": i} for i in range(len(ids))])
    got = get_all(col, ["metadatas"])
    assert len(got["ids"]) == len(set(got["ids"])) == n and len(got["metadatas"]) == n
