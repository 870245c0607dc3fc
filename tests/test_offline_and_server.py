"""Real infrastructure: no network at all, and a shared Chroma server (`chroma run`)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import DOCUMENTS, ROOT

pytestmark = pytest.mark.e2e

SCRIPT = """
from assistant import Assistant
a = Assistant()
hits = a.search("What did Hegseth say about NATO?", k=3)
assert hits, "no hits"
print("OK", len(a.sources()), hits[0].outlet)
"""


def _can_unshare() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def test_builds_and_searches_with_no_network_at_all(tmp_path):
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(tmp_path / "idx"), "ASSISTANT_DOCUMENTS_DIR": str(DOCUMENTS)}
    env.pop("TIKTOKEN_CACHE_DIR", None)
    env.pop("HF_HUB_OFFLINE", None)  # the product must set what it needs itself
    cmd = [sys.executable, "-c", SCRIPT]
    if _can_unshare():
        cmd = ["unshare", "-n", *cmd]  # a network namespace with no interfaces: any download fails
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "OK 5" in proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def chroma_server(tmp_path):
    port = _free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "chroma")
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_two_newsroom_clients_share_one_chroma_server(chroma_server, tmp_path):
    from assistant import Assistant

    first = Assistant(documents_dir=DOCUMENTS, index_dir=tmp_path / "a", chroma_url=chroma_server)
    assert len(first.last_sync.added) == 5
    assert not (tmp_path / "a" / "chroma").exists()  # nothing written locally in server mode
    second = Assistant(documents_dir=DOCUMENTS, index_dir=tmp_path / "b", chroma_url=chroma_server)
    assert second.last_sync.paragraphs == 0  # already indexed by the first client
    hits = second.search("Where in Alaska did Trump and Putin meet?", k=3, outlet="SouthFront")
    assert hits and hits[0].outlet == "SouthFront"


def test_keyword_search_sees_articles_another_client_added(chroma_server, tmp_path):
    from assistant import Assistant

    first = Assistant(documents_dir=DOCUMENTS, index_dir=tmp_path / "a", chroma_url=chroma_server)
    second = Assistant(documents_dir=DOCUMENTS, index_dir=tmp_path / "b", chroma_url=chroma_server)
    assert second.search("zeppelin", mode="bm25") == []  # BM25 built now, before the other client writes
    note = tmp_path / "zeppelins.md"
    note.write_text("# Zeppelins\n\nA fleet of zeppelins crossed the Baltic on Tuesday, officials said.\n")
    assert first.ingest([note]).added == ("zeppelins.md",)
    hits = second.search("zeppelin fleet Baltic", k=3, mode="bm25")
    assert hits and hits[0].source == "zeppelins.md"


def test_a_collection_deleted_under_an_open_client_is_a_clear_error_and_reopening_restores_it(chroma_server, tmp_path):
    """Damage after the client opened the server (here: every collection deleted) is an IndexStateError
    that says what happened and what to do, from search, ask and check alike; opening again restores."""
    import chromadb

    from assistant import Assistant
    from assistant.errors import IndexStateError

    a = Assistant(documents_dir=DOCUMENTS, index_dir=tmp_path / "a", chroma_url=chroma_server)
    host, port = chroma_server.rsplit("/", 1)[1].split(":")
    raw = chromadb.HttpClient(host=host, port=int(port))
    for c in raw.list_collections():
        raw.delete_collection(c.name)
    for call in (lambda: a.search("Alaska summit"), lambda: a.ask("Where did Trump and Putin meet?"),
                 lambda: a.check_claim("Trump and Putin met in Alaska")):
        with pytest.raises(IndexStateError, match="collection is gone from the Chroma server.*Run the command again"):
            call()
    again = Assistant(documents_dir=DOCUMENTS, index_dir=tmp_path / "a", chroma_url=chroma_server)
    assert len(again.sources()) == 5 and again.search("Alaska summit")
    assert any("Rebuilt 5 article" in n for n in again.notices)


# ------------------------------------------------------------------ a server whose data folder is damaged
# Issue 13 item 3 in server mode: the client cannot repair the server's files, so each damage must be a
# clear `error:` (or, for a server that lost everything, a note and a rebuild from the client's kept
# copies), never a traceback or a silent "0 articles". The damage cases are the embedded ones of
# tests/test_faults.py, applied to the `--path` folder of a real `chroma run`.
from tests.test_faults import DAMAGE, TOTAL, _article, _env, build_damage_index  # noqa: E402


def _start_server(data, port: int, log) -> subprocess.Popen:
    exe = os.path.join(os.path.dirname(sys.executable), "chroma")
    proc = subprocess.Popen([exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    return proc  # may have exited: a damaged sqlite stops `chroma run` as it starts


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cli(args: list[str], docs, client, url: str) -> subprocess.Popen:
    env = {**_env(), "ASSISTANT_DOCUMENTS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(client),
           "ASSISTANT_CHROMA_URL": url, "ASSISTANT_EMBED_BATCH_SIZE": "32"}
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def server_index(tmp_path_factory):
    """The damage tests' index (tests/test_faults.build_damage_index) written through a `chroma run`: past
    the HNSW sync threshold, so its vectors are in the server's HNSW files; two of its articles came from
    a folder since deleted. Returns the server folder, the client folder and the documents folder."""
    root = tmp_path_factory.mktemp("server-index")
    port = _free_port()
    with open(root / "build.log", "wb") as log:
        server = _start_server(root / "data", port, log)
        try:
            docs = build_damage_index(root, f"http://127.0.0.1:{port}")
        finally:
            _stop(server)
    assert not (root / "index" / "chroma").exists()  # everything went to the server
    return root, docs


def _damage_server_folder(data, damage) -> None:
    # The damage functions take an index folder holding chroma/; a server's --path is that chroma/ itself.
    damage(data.parent)


@pytest.fixture(scope="module")
def damaged_servers(server_index, tmp_path_factory):
    """Each damage on its own copy of the server folder and the client folder, served by its own `chroma
    run`, and `assistant sources` run against it: all five at once."""
    root, docs = server_index
    runs = {}
    for case, (_reason, damage) in DAMAGE.items():
        base = tmp_path_factory.mktemp("damaged-server")
        shutil.copytree(root / "data", base / "chroma")
        shutil.copytree(root / "index", base / "client")
        _damage_server_folder(base / "chroma", damage)
        port = _free_port()
        log = open(base / "server.log", "wb")
        server = _start_server(base / "chroma", port, log)
        runs[case] = (base, port, server, log, _cli(["sources"], docs, base / "client", f"http://127.0.0.1:{port}"))
    results = {}
    for case, (base, port, server, log, proc) in runs.items():
        out, err = proc.communicate(timeout=600)
        _stop(server)
        log.close()
        results[case] = (base, port, server.returncode, proc.returncode, out, err)
    return results


# What the client must say for each case; every failing case gives the same fix.
SERVER_DAMAGE = {
    "sqlite emptied": ("note", "had none of the collections this client wrote"),
    "sqlite half truncated": ("error", "exits as it starts"),
    "sqlite garbled": ("error", "exits as it starts"),
    "HNSW folder deleted": ("error", "has lost part of its vector index"),
    "random bytes in data_level0.bin": ("error", "dropped the connection while opening the index"),
}


@pytest.mark.parametrize("case", list(SERVER_DAMAGE))
def test_a_damaged_server_folder_is_a_clear_error_or_a_rebuild_never_a_traceback(damaged_servers, case):
    base, _port, server_rc, rc, out, err = damaged_servers[case]
    kind, says = SERVER_DAMAGE[case]
    assert "Traceback" not in err, err[-3000:]
    assert says in err, err[-3000:]
    if kind == "note":  # the server started on an empty database: refilled from the client's kept copies
        assert rc == 0 and "note: " in err and f"Rebuilt 22 article(s) ({TOTAL} paragraphs)" in err, err[-3000:]
        # every article, those whose files are gone too
        assert f"22 articles, {TOTAL} paragraphs" in out and "(upload90.txt)" in out and "(doc19.txt)" in out, out
    else:
        assert rc == 1 and err.startswith("error: ") and "move its data folder (its `--path`) aside" in err
    print(f"\n{case}: server rc {server_rc}; {err.strip()[:220]}")


def test_the_fix_the_error_gives_restores_every_article(damaged_servers, server_index):
    """Do what the error says for the server whose HNSW folder was deleted: a new, empty server folder at
    the same address, open Newsdesk again: every article is back (the two from a deleted folder too) and
    dense search reaches each one's vectors."""
    base, port, *_ = damaged_servers["HNSW folder deleted"]
    root, docs = server_index
    with open(base / "fixed.log", "wb") as log:
        server = _start_server(base / "new-server-folder", port, log)
        try:
            probe = "Item 3: " + _article(90, 1, 20).split("\n\nItem 3: ")[1].split("\n")[0]
            proc = _cli(["search", "--mode", "dense", "-k", "1", "--json", probe], docs, base / "client",
                        f"http://127.0.0.1:{port}")
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err[-3000:]
            assert f"Rebuilt 22 article(s) ({TOTAL} paragraphs)" in err and "Traceback" not in err, err[-3000:]
            assert "upload90.txt" in out, out[:2000]
            proc = _cli(["sources"], docs, base / "client", f"http://127.0.0.1:{port}")
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0 and err == "", err[-3000:]  # once restored, nothing more to say
            assert f"22 articles, {TOTAL} paragraphs" in out and "(upload91.txt)" in out, out
        finally:
            _stop(server)
