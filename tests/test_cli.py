"""The `assistant` command, run as a user runs it (a real subprocess)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DOCUMENTS, ROOT

pytestmark = pytest.mark.e2e


def run(*args, index_dir: Path, check_rc: int | None = 0, env_extra=None):
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_DOCUMENTS_DIR": str(DOCUMENTS),
           **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=180)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-index")
    run("sources", index_dir=d)  # builds it
    return d


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "--help"], capture_output=True, text=True,
                         cwd=ROOT).stdout
    for cmd in ("ingest", "search", "ask", "chat", "check", "sources", "reindex"):
        assert cmd in out


def test_search_prints_outlet_title_paragraph_and_text(index_dir):
    out = run("search", "Where did Trump and Putin meet in Alaska?", "-k", "3", index_dir=index_dir).stdout
    assert "1. " in out and "\u00b6" in out and "Elmendorf" in out


def test_search_json_is_machine_readable(index_dir):
    out = run("search", "minerals deal", "--json", "--outlet", "The Straits Times", index_dir=index_dir).stdout
    hits = json.loads(out)
    assert hits and all(h["outlet"] == "The Straits Times" for h in hits)
    assert {"source", "title", "paragraph", "text", "score"} <= set(hits[0])


def test_sources_table(index_dir):
    out = run("sources", index_dir=index_dir).stdout
    assert "Daily Express" in out and "SouthFront" in out and "5 articles" in out


def test_ingest_with_a_bad_file_names_it_and_exits_nonzero(index_dir, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Zeppelins\n\nA fleet of zeppelins crossed the Baltic on Tuesday, officials said.\n")
    (tmp_path / "empty.txt").write_text("")
    proc = run("ingest", str(tmp_path), "--no-progress", index_dir=index_dir, check_rc=1)
    assert "empty.txt" in proc.stderr and "good.txt" in proc.stdout


def test_empty_question_is_a_readable_error(index_dir):
    proc = run("search", "  ", index_dir=index_dir, check_rc=1)
    assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


def test_unreachable_chroma_server_is_a_readable_error(index_dir):
    proc = run("sources", index_dir=index_dir, check_rc=1,
               env_extra={"ASSISTANT_CHROMA_URL": "http://127.0.0.1:9"})
    assert "Chroma server" in proc.stderr and "Traceback" not in proc.stderr
