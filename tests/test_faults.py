"""Issue 13 items 3 and 5, as a user meets them: a real ingest process killed (SIGKILL) at seeded random
moments leaves every article wholly old or wholly new, with the registry, the paragraphs, the keyword
index and the kept copies agreeing once the next start has finished or undone the interrupted write; and
a damaged index (chroma.sqlite3 emptied, truncated or garbled, the HNSW folder deleted, random bytes in
data_level0.bin) is detected before Chroma loads it, named, and rebuilt with nothing lost, articles
ingested from outside documents/ (whose files are gone) included.

Every index here is opened in a subprocess: a damaged HNSW file used to segfault the process that loaded
it, and pytest must survive to report it."""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("council budget harbour ferry bridge storm river election court ruling minister vote strike "
         "airport runway market price wheat flood rescue").split()

# Opens the index (recovery runs here), prints what it holds, then ingests `folder` and removes what is no
# longer in it, the way a user's `assistant ingest` and `assistant remove` would.
WORKER = textwrap.dedent("""
    import json, sys, warnings
    from pathlib import Path
    warnings.simplefilter("ignore")
    from assistant import Assistant

    folder, index, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    a = Assistant(documents_dir=folder / "no-documents", index_dir=index, sync=False)
    reg = a.index.registry()
    got = a.index.paragraphs.get(include=["metadatas"])
    stored = {}
    for md in got["metadatas"]:
        stored.setdefault(md["source"], []).append(md["content_hash"])
    with a.index.lock:
        keyword = a.index.keyword.ensure().size
    state = {"notices": a.notices, "count": a.index.count(), "keyword": keyword,
             "registry": {s: {"hash": m["content_hash"], "paragraphs": int(m["paragraphs"])} for s, m in reg.items()},
             "stored": stored, "kept": {k.meta.source: k.content_hash for k in a.index.kept.all()},
             "intents": len(list(a.index.journal.folder.glob("*.json")))}
    print("STATE " + json.dumps(state), flush=True)
    if mode == "check":
        sys.exit(0)
    print("WRITING", flush=True)
    a.ingest([folder])
    present = {p.name for p in folder.iterdir()}
    for src in list(a.index.registry()):
        if src not in present:
            a.remove(src)
    print("DONE", flush=True)
""")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    # Small embedding batches: one article spans several Chroma writes, so a kill can land inside it.
    env.update(ASSISTANT_EMBED_BATCH_SIZE="4", HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               PYTHONPATH=str(ROOT))
    return env


def _article(i: int, version: int, paragraphs: int) -> str:
    r = random.Random(i * 1000 + version)
    body = "\n\n".join(f"Item {j}: the {r.choice(WORDS)} {r.choice(WORDS)} of report {i} "
                       f"(version {version}) goes on." for j in range(1, paragraphs + 1))
    return f"Report {i} version {version}\n\n{body}\n"


# The kill loop's workers are forks of one process that has imported Newsdesk and nothing more (no Chroma
# client, no model, one thread): each point is still a real process running a real ingest, opened from
# scratch and SIGKILLed by pid, but without paying ~3-8 s of imports 22 times on a loaded machine.
FORK_SERVER = textwrap.dedent("""
    import json, os, sys, traceback, warnings
    warnings.simplefilter("ignore")
    from assistant import Assistant  # noqa: F401 - the imports every worker shares
    from llama_index.core import Settings
    Settings.node_parser  # LlamaIndex loads its tokenizer on first use: ~0.45 s of each worker's open
    assert len(os.listdir("/proc/self/task")) == 1, "a thread before fork"
    for line in sys.stdin:
        cmd = json.loads(line)
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(go_w)
            os.read(go_r, 1)  # wait until the parent has announced this pid
            os.environ.update(cmd["env"])
            sys.argv = ["worker", *cmd["argv"]]
            code = 0
            try:
                exec(compile(cmd["code"], "worker", "exec"), {"__name__": "__main__"})
            except SystemExit as e:
                code = e.code or 0
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(code)
        os.close(go_r)
        print(f"PID {pid}", flush=True)
        os.write(go_w, b"x")
        os.close(go_w)
        _, status = os.waitpid(pid, 0)
        print(f"EXIT {os.waitstatus_to_exitcode(status)}", flush=True)
""")


class ForkServer:
    """Starts workers as forks of FORK_SERVER, one at a time; `start` returns a Popen-like handle."""

    def __init__(self, err_path: Path):
        self.err_path = err_path
        self._err = open(err_path, "wb")
        # One BLAS thread: numpy's thread pool would otherwise be running at the fork.
        self.proc = subprocess.Popen([sys.executable, "-c", FORK_SERVER], cwd=ROOT,
                                     env={**_env(), "OPENBLAS_NUM_THREADS": "1"},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err)
        self._buf = b""
        self.current: _Forked | None = None

    def line(self, timeout: float | None) -> str | None:
        import select

        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"the fork server died: {self.stderr()}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode() + "\n"

    def stderr(self) -> str:
        self._err.flush()
        return self.err_path.read_text(errors="replace")[-3000:]

    def start(self, code: str, argv: list[str], env: dict | None = None) -> "_Forked":
        if self.current is not None and self.current.returncode is None:
            self.current.communicate(120)  # the previous worker's remaining output and its exit
        self.proc.stdin.write((json.dumps({"code": code, "argv": argv, "env": env or {}}) + "\n").encode())
        self.proc.stdin.flush()
        first = self.line(60)
        assert first and first.startswith("PID "), (first, self.stderr())
        self.current = _Forked(self, int(first.split()[1]))
        return self.current

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)
        self._err.close()


class _Forked:
    """What the tests use of a Popen: readline, poll, send_signal, wait, communicate."""

    def __init__(self, server: ForkServer, pid: int):
        self.server, self.pid, self.returncode = server, pid, None
        self._pending: list[str] = []

    def _next(self, timeout: float | None) -> str | None:
        if self._pending:
            return self._pending.pop(0)
        return self._from_server(timeout)

    def _from_server(self, timeout: float | None) -> str | None:
        if self.returncode is not None:
            return ""
        line = self.server.line(timeout)
        if line is not None and line.startswith("EXIT "):
            self.returncode = int(line.split()[1])
            return ""
        return line

    def readline(self) -> str:
        return self._next(120) or ""

    def poll(self) -> int | None:
        # Reads past the pending lines (through _next it would pop and re-append the same line forever).
        while self.returncode is None:
            line = self._from_server(0)
            if line is None:
                break
            if line:
                self._pending.append(line)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def wait(self, timeout: float = 60) -> int:
        out = self.communicate(timeout)[0]
        self._pending = out.splitlines(keepends=True)
        return self.returncode

    def communicate(self, timeout: float = 120) -> tuple[str, str]:
        out = []
        deadline = time.monotonic() + timeout
        while self.returncode is None or self._pending:
            line = self._next(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"worker {self.pid} still running after {timeout} s")
            out.append(line)
        return "".join(out), self.server.stderr()


@pytest.fixture(scope="module")
def forks(tmp_path_factory):
    server = ForkServer(tmp_path_factory.mktemp("forks") / "stderr.txt")
    yield server
    server.close()


def _start(forks: ForkServer, folder: Path, index: Path, mode: str = "write") -> _Forked:
    return forks.start(WORKER, [str(folder), str(index), mode])


def _read_state(proc) -> dict:
    while line := proc.readline():
        if line.startswith("STATE "):
            return json.loads(line[6:])
    proc.wait(timeout=60)
    raise AssertionError(f"the worker died before reporting (rc {proc.returncode}): {proc.communicate()[1]}")


def _check_invariant(state: dict, paragraphs_of: dict[str, int], versions_of: dict[str, set[str]]) -> None:
    """Every article wholly one version it was given, registry and store agreeing on it; nothing half-written,
    nothing stored that the registry does not list; kept copies and the keyword index in step."""
    reg, stored = state["registry"], state["stored"]
    assert set(stored) == set(reg), f"store and registry disagree: {sorted(set(stored) ^ set(reg))}"
    for src, rec in reg.items():
        h = rec["hash"]
        assert h in versions_of.get(src, ()), f"{src}: a version never written"
        assert set(stored[src]) == {h}, f"{src}: paragraphs of two versions mixed"
        assert len(stored[src]) == paragraphs_of[h] == rec["paragraphs"], \
            f"{src}: {len(stored[src])} paragraphs stored, the version has {paragraphs_of[h]}"
        assert state["kept"].get(src) == h, f"{src}: its kept copy is another version"
    assert state["keyword"] == state["count"] == sum(map(len, stored.values()))
    assert state["intents"] == 0, "an interrupted write was left unrecovered"


def test_sigkill_at_random_points_leaves_only_whole_articles(tmp_path, forks):
    rng = random.Random(13)
    folder, index = tmp_path / "articles", tmp_path / "index"
    folder.mkdir()
    version: dict[int, int] = {}
    paragraphs_of: dict[str, int] = {}
    versions_of: dict[str, set[str]] = {}

    def put(i: int) -> None:
        version[i] = version.get(i, 0) + 1
        data = _article(i, version[i], rng.randint(8, 48)).encode()
        (folder / f"report{i:02d}.txt").write_bytes(data)
        h = hashlib.sha256(data).hexdigest()
        paragraphs_of[h] = data.decode().count("\nItem ")
        versions_of.setdefault(f"report{i:02d}.txt", set()).add(h)

    for i in range(4):
        put(i)
    interrupted = killed = 0
    t0 = time.monotonic()
    for point in range(20):
        proc = _start(forks, folder, index)
        state = _read_state(proc)
        _check_invariant(state, paragraphs_of, versions_of)  # what the previous kill left, after recovery
        assert proc.readline().strip() == "WRITING"
        # Change 1-3 articles: new ones, new versions (updates), deletions (removes).
        for i in rng.sample(range(10), rng.randint(1, 3)):
            f = folder / f"report{i:02d}.txt"
            if f.exists() and rng.random() < 0.25:
                f.unlink()
            else:
                put(i)
        if point % 2:
            time.sleep(rng.uniform(0.0, 1.6))  # anywhere: reading, embedding, writing, done
        else:
            # Inside the write itself: the paragraphs are embedded before the intent, so what follows it
            # (delete, add, registry) is short and random times rarely land there; aim at it.
            deadline = time.monotonic() + 5
            while (not list((index / "journal" / "newsdesk").glob("*.json")) and proc.poll() is None
                   and time.monotonic() < deadline):
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.03))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        interrupted += bool(list((index / "journal" / "newsdesk").glob("*.json")))
    # The next start recovers, a full ingest repairs: the index is exactly the folder, every file at its
    # current version.
    proc = _start(forks, folder, index)
    _check_invariant(_read_state(proc), paragraphs_of, versions_of)
    out, err = proc.communicate(timeout=120)
    assert "DONE" in out, err[-3000:]
    final = _read_state(_start(forks, folder, index, "check"))
    _check_invariant(final, paragraphs_of, versions_of)
    assert {s: r["hash"] for s, r in final["registry"].items()} == \
        {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in folder.iterdir()}
    print(f"\n{killed} kills, {interrupted} inside a write (intent left), {time.monotonic() - t0:.0f} s")
    assert killed >= 10 and interrupted >= 5, (killed, interrupted)  # the kills did land inside writes


def test_a_kill_inside_one_long_articles_write_is_finished_at_the_next_start(tmp_path, forks):
    """The issue's reproduction: one long article, killed while its paragraphs were being written (before,
    `sources` showed 0 articles while hundreds of paragraphs were searchable, and `remove` said "not
    indexed"). Then the same for an update of it: wholly the new version, never 512 of 1,500."""
    folder, index = tmp_path / "one", tmp_path / "index"
    folder.mkdir()
    journal = index / "journal" / "newsdesk"
    for version in (1, 2):
        data = _article(7, version, 300).encode()
        (folder / "long.txt").write_bytes(data)
        proc = _start(forks, folder, index)
        _read_state(proc)
        proc.readline()
        deadline = time.monotonic() + 60
        # The paragraphs are embedded before the intent is written, so the write itself (old paragraphs
        # deleted, new ones added, registry) is short: kill as soon as the intent is there.
        while not list(journal.glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(0.05)
        assert proc.poll() is None, "the write ended before the kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert list(journal.glob("*.json")), "the kill did not land inside the write"
        state = _read_state(_start(forks, folder, index, "check"))
        assert any("interrupted" in n and "long.txt" in n for n in state["notices"]), state["notices"]
        h = hashlib.sha256(data).hexdigest()
        _check_invariant(state, {h: 300}, {"long.txt": {h}})
        assert state["registry"]["long.txt"]["hash"] == h  # finished: the version being written


def test_remove_takes_out_paragraphs_the_registry_does_not_list(tmp_path):
    """What a crash left in an index made before writes were journalled: paragraphs stored, no registry
    record. `remove` used to answer "not indexed" and leave them searchable."""
    from assistant import Assistant
    from assistant.ingest import load_article
    from assistant.index import article_nodes

    (tmp_path / "orphan.txt").write_text(_article(1, 1, 5), encoding="utf-8")
    a = Assistant(documents_dir=tmp_path / "none", index_dir=tmp_path / "index")
    art = load_article(tmp_path / "orphan.txt", a.settings)
    nodes = article_nodes(art)
    for n, v in zip(nodes, a.embedder.embed_texts([n.get_content() for n in nodes])):
        n.embedding = v.tolist()
    a.index.store.add(nodes)  # the paragraphs only, as the old write path left them when killed
    assert a.sources() == [] and a.index.has_paragraphs("orphan.txt")
    a.remove("orphan.txt")
    assert not a.index.has_paragraphs("orphan.txt") and a.index.count() == 0


# ------------------------------------------------------------------ index damage (item 3)

DAMAGE_CHECK = textwrap.dedent("""
    import json, sys, warnings
    warnings.simplefilter("ignore")
    from assistant import Assistant

    a = Assistant(documents_dir=sys.argv[1], index_dir=sys.argv[2])
    probes = json.loads(sys.argv[3])
    found = [a.search(text, k=1, mode="dense")[0].source == src for src, text in probes]
    with a.index.lock:
        keyword = a.index.keyword.ensure().size
    print(json.dumps({"notices": a.notices, "sources": sorted(s.source for s in a.sources()),
                      "count": a.index.count(), "keyword": keyword, "dense_found": found}))
""")


# Builds the damage tests' index: `documents_dir index_dir elsewhere [chroma_url]`. Its paragraph
# collection is made with Chroma's HNSW sync threshold at 100 instead of 1,000, so 320 paragraphs put most
# vectors in the HNSW files (what the damage must reach) at a third of the embedding cost of 1,080; the
# rest of the index is made as always (a rebuilt collection gets the default threshold again).
BUILD = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("ignore")
    from assistant import Assistant
    from assistant.index import ParagraphIndex

    def small_sync(open_collections):
        def opened(self):
            real = self.client.get_or_create_collection

            def get_or_create(name, metadata=None, **kw):
                if name == self.settings.collection and metadata:
                    metadata = {**metadata, "hnsw:sync_threshold": 100, "hnsw:batch_size": 100}
                return real(name, metadata=metadata, **kw)

            self.client.get_or_create_collection = get_or_create
            try:
                open_collections(self)
            finally:
                del self.client.get_or_create_collection
        return opened

    ParagraphIndex._open_collections = small_sync(ParagraphIndex._open_collections)
    url = sys.argv[4] if len(sys.argv) > 4 else None
    a = Assistant(documents_dir=sys.argv[1], index_dir=sys.argv[2], chroma_url=url)
    a.ingest([sys.argv[3]])
    print(len(a.sources()), a.index.count(), a.index.paragraphs.metadata.get("hnsw:sync_threshold"))
""")
DOC_PARAGRAPHS, TOTAL = 14, 20 * 14 + 2 * 20


def build_damage_index(root: Path, chroma_url: str | None = None) -> Path:
    """20 articles in root/documents, two more ingested from a folder since deleted (only the index has
    them); returns the documents folder."""
    docs, elsewhere = root / "documents", root / "elsewhere"
    docs.mkdir()
    elsewhere.mkdir()
    for i in range(20):
        (docs / f"doc{i:02d}.txt").write_text(_article(i, 1, DOC_PARAGRAPHS), encoding="utf-8")
    for i in (90, 91):
        (elsewhere / f"upload{i}.txt").write_text(_article(i, 1, 20), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", BUILD, str(docs), str(root / "index"), str(elsewhere),
                          *([chroma_url] if chroma_url else [])], cwd=ROOT,
                         env={**_env(), "ASSISTANT_EMBED_BATCH_SIZE": "32"}, capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.split() == ["22", str(TOTAL), "100"], out.stderr[-3000:]
    shutil.rmtree(elsewhere)
    return docs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An index past Chroma's HNSW sync threshold, so the vectors are on disk in the HNSW files, not only
    in Chroma's log; two of its articles were ingested from a folder since deleted."""
    root = tmp_path_factory.mktemp("built")
    docs = build_damage_index(root)
    probes = [(f"doc{i:02d}.txt", f"Item {j}: " + _article(i, 1, DOC_PARAGRAPHS).split(f"\n\nItem {j}: ")[1]
               .split("\n")[0]) for i, j in ((0, 1), (5, 8), (11, 14), (19, 7))]
    probes += [("upload90.txt", "Item 3: " + _article(90, 1, 20).split("\n\nItem 3: ")[1].split("\n")[0])]
    return root, docs, probes


def _vector_folder(index: Path) -> Path:
    (seg,) = [d for d in (index / "chroma").iterdir() if (d / "index_metadata.pickle").exists()]
    return seg


def _overwrite(path: Path, start: int, length: int, seed: int) -> None:
    data = bytearray(path.read_bytes())
    r = random.Random(seed)
    data[start:start + length] = bytes(r.randrange(256) for _ in range(min(length, len(data) - start)))
    path.write_bytes(bytes(data))


DAMAGE = {
    "sqlite emptied": ("chroma.sqlite3 is empty (0 bytes)",
                       lambda idx: (idx / "chroma/chroma.sqlite3").write_bytes(b"")),
    "sqlite half truncated": ("chroma.sqlite3 is truncated",
                              lambda idx: os.truncate(idx / "chroma/chroma.sqlite3",
                                                      (idx / "chroma/chroma.sqlite3").stat().st_size // 2)),
    "sqlite garbled": ("chroma.sqlite3 is damaged",
                       lambda idx: _overwrite(idx / "chroma/chroma.sqlite3", 4096 * 40, 4096 * 8, 1)),
    "HNSW folder deleted": ("the folder is missing", lambda idx: shutil.rmtree(_vector_folder(idx))),
    "random bytes in data_level0.bin": (
        "data_level0.bin", lambda idx: _overwrite(_vector_folder(idx) / "data_level0.bin", 0, 10 ** 7, 2)),
}


@pytest.fixture(scope="module")
def damaged(built, tmp_path_factory):
    """Each damage on its own copy of the index, each opened in its own process (a segfault kills only
    that one), all five at once: most of each is the model load and the re-embedding, which overlap."""
    root, docs, probes = built
    procs = {}
    for case, (_reason, damage) in DAMAGE.items():
        index = tmp_path_factory.mktemp("damaged") / "index"
        shutil.copytree(root / "index", index)
        damage(index)
        # The rebuild re-embeds every paragraph: normal batches (not the kill tests' batches of 4).
        procs[case] = (index, subprocess.Popen(
            [sys.executable, "-c", DAMAGE_CHECK, str(docs), str(index), json.dumps(probes)], cwd=ROOT,
            env={**_env(), "ASSISTANT_EMBED_BATCH_SIZE": "32"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    results = {}
    for case, (index, proc) in procs.items():
        out, err = proc.communicate(timeout=600)
        results[case] = (index, proc.returncode, out, err)
    return results


@pytest.mark.parametrize("case", list(DAMAGE))
def test_index_damage_is_named_and_rebuilt_with_nothing_lost(damaged, case):
    index, rc, stdout, stderr = damaged[case]
    reason = DAMAGE[case][0]
    assert rc == 0, f"rc {rc} (-11 is the segfault): {stderr[-3000:]}"
    got = json.loads(stdout.strip().splitlines()[-1])
    note = " ".join(got["notices"])
    assert "unreadable" in note and reason in note and "nothing was lost" in note, got["notices"]
    assert list(index.glob("chroma.corrupt-*")), "the damaged store was not kept for inspection"
    assert len(got["sources"]) == 22 and {"upload90.txt", "upload91.txt"} <= set(got["sources"])
    assert got["count"] == got["keyword"] == TOTAL
    assert all(got["dense_found"]), "vectors not reachable by dense search"


def test_an_undamaged_index_opens_without_a_note_and_without_deep_checks(built, tmp_path):
    """The deep checks (sqlite quick_check, the HNSW bytes) run only on files changed since they last
    passed; a normal open reads a few file sizes."""
    root, docs, probes = built
    index = tmp_path / "index"
    shutil.copytree(root / "index", index, copy_function=shutil.copy2)  # keeps the files' times
    out = subprocess.run([sys.executable, "-c", DAMAGE_CHECK, str(docs), str(index), json.dumps(probes)],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["notices"] == [] and len(got["sources"]) == 22 and all(got["dense_found"])
    from assistant.index import _chroma_signature

    checked = json.loads((index / "chroma-checked.json").read_text())
    assert checked == _chroma_signature(index / "chroma")


# ------------------------------------------------------------------ a Chroma server killed and restarted
def _start_chroma(data: Path, port: int) -> subprocess.Popen:
    import socket

    exe = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(exe), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma server did not start")


def test_chroma_server_killed_mid_search_and_mid_ingest_gives_a_clear_error_and_loses_nothing(tmp_path):
    """The server is SIGKILLed while a client searches in a loop, and again while it ingests: every failed
    call is the IndexStateError that names the server (no httpx traceback); after a restart on the same
    data the same client searches again, and re-running the interrupted ingest leaves every article whole."""
    import socket
    import threading

    from assistant import Assistant
    from assistant.errors import IndexStateError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    docs = sorted((ROOT / "documents").glob("*.txt"))
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir(), later.mkdir()
    for p in docs[:3]:
        shutil.copy(p, first / p.name)
    for p in docs[3:]:
        shutil.copy(p, later / p.name)
    server = _start_chroma(tmp_path / "server-data", port)
    try:
        a = Assistant(documents_dir=first, index_dir=tmp_path / "client", chroma_url=url)
        before = sorted(s.source for s in a.sources())
        top = [p.source for p in a.search("Alaska summit")]
        assert len(before) == 3 and top

        # mid-search
        errors, stop = [], threading.Event()

        def searching():
            while not stop.is_set():
                try:
                    a.search("Alaska summit")
                except Exception as e:  # noqa: BLE001 - every failure is inspected below
                    errors.append(e)
                    time.sleep(0.05)

        t = threading.Thread(target=searching)
        t.start()
        time.sleep(0.5)
        server.kill(), server.wait()
        time.sleep(1.0)
        stop.set(), t.join(30)
        assert errors and all(isinstance(e, IndexStateError) and "Chroma server" in str(e) for e in errors), \
            [repr(e) for e in errors[:3]]
        server = _start_chroma(tmp_path / "server-data", port)
        assert [p.source for p in a.search("Alaska summit")] == top
        assert sorted(s.source for s in a.sources()) == before

        # mid-ingest
        result: list = []
        t = threading.Thread(target=lambda: result.append(_call(a.ingest, [later])))
        t.start()
        time.sleep(random.Random(13).uniform(0.3, 1.5))
        server.kill(), server.wait()
        t.join(120)
        assert result and (result[0] is None or isinstance(result[0], IndexStateError)), result
        print(f"\nmid-search: {len(errors)} clear errors; mid-ingest: {result[0]!r:.160}")
        server = _start_chroma(tmp_path / "server-data", port)
        b = Assistant(documents_dir=first, index_dir=tmp_path / "client", chroma_url=url)
        b.ingest([later])
        after = {s.source: s for s in b.sources()}
        assert sorted(after) == sorted(before + [p.name for p in docs[3:]])
        for name in after:  # every article whole: the stored paragraphs are what its registry entry counts
            stored = b.paragraphs(name)
            assert stored and len({p.text for p in stored}) == len(stored)
            n = getattr(after[name], "paragraphs", None)
            assert n is None or n == len(stored), (name, n, len(stored))
    finally:
        server.kill()
        server.wait()


def _call(fn, *args):
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        return e
    return None
