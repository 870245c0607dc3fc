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
