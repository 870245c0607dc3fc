"""Start the real Chainlit app on a free loopback port and drive it with Debian's headless Chromium.

Used by tests/test_ui_browser.py and scripts/ui_load.py.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(env: dict[str, str], log_path: Path, timeout: float = 90.0) -> Iterator[str]:
    """`chainlit run assistant/ui.py --headless` from the project root (so it reads the committed
    .chainlit/config.toml and chainlit.md); yields the base URL once the page answers."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    full_env.update({"ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", **env})
    chainlit = Path(sys.executable).with_name("chainlit")
    log = open(log_path, "wb")
    proc = subprocess.Popen([str(chainlit), "run", "assistant/ui.py", "--headless", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chainlit exited with {proc.returncode}: {log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as r:
                    # Our page, not another server that happened to take the port after free_port().
                    if r.status == 200 and b"<title>Newsdesk</title>" in r.read(4096):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"chainlit did not answer within {timeout}s: {log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def launch_browser(playwright, user_data_dir: Path | None = None):
    args = list(CHROMIUM_ARGS)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args)


DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def guard_network(page) -> dict[str, list[str]]:
    """Record (and block) every request that would leave the machine, and every failed response of the
    app; a test asserts both lists stay empty."""
    seen: dict[str, list[str]] = {"external": [], "failed": []}

    def route(r):
        host = urlparse(r.request.url).hostname or ""
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            seen["external"].append(r.request.url)
            r.abort()

    def failed(resp):
        # Before the local user is signed in, Chainlit's page asks /user and gets 401, then signs in through
        # /auth/header by itself (assistant/ui.py): that 401 is the sign-in, not a failure.
        if resp.status >= 400 and not (resp.status == 401 and urlparse(resp.url).path == "/user"):
            seen["failed"].append(f"{resp.status} {resp.url}")

    page.route("**/*", route)
    page.on("response", failed)
    return seen


def open_chat(browser, url: str, timeout_ms: int = 60_000, viewport: dict | None = None, guard: dict | None = None):
    page = browser.new_page(viewport=viewport or DESKTOP)
    if guard is not None:
        guard.update(guard_network(page))
    page.goto(url)
    page.wait_for_selector("#chat-input", timeout=timeout_ms)
    # The check-command button appears once the socket is up and on_chat_start has finished.
    page.wait_for_selector("#command-check", timeout=timeout_ms)
    return page


def send(page, text: str) -> None:
    page.fill("#chat-input", text)
    page.keyboard.press("Enter")


def upload(page, *paths, timeout_ms: int = 90_000) -> None:
    """Attach files with the paperclip and send them without a message (the chat's "Add to the collection").

    Chainlit's composer ignores files chosen while it is disabled (the paperclip's id is then
    "upload-button-loading": a reply still finishing, the socket reconnecting), and keeps the send button
    disabled until every attachment is uploaded. So: wait for the composer, choose the files, and choose them
    again if no attachment appeared (CI on a clean clone once waited 30 s on a send button that stayed
    disabled with nothing attached). A failed upload still fails the test, saying what the page showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    files = [str(p) for p in paths]
    for attempt in range(2):
        page.wait_for_selector("#upload-button", timeout=timeout_ms)
        page.set_input_files("#upload-button-input", files)
        try:
            page.wait_for_selector("#attachments", timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt:
                raise AssertionError(f"no attachment appeared after choosing {files}; {_composer_state(page)}") from None
    page.fill("#chat-input", "")
    try:
        page.wait_for_selector("#chat-submit:enabled", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"the send button stayed disabled for {timeout_ms} ms after attaching {files}; "
                             f"{_composer_state(page)}") from None
    page.locator("#chat-submit").click()


def _composer_state(page) -> str:
    toasts = page.locator("[data-sonner-toast]")
    return (f"attachments shown: {page.locator('#attachments > *').count()}, "
            f"composer disabled: {page.locator('#upload-button-loading').count() > 0}, "
            f"toasts: {[toasts.nth(i).inner_text() for i in range(toasts.count())]}")


def assistant_message(page, contains: str, timeout_ms: int = 60_000):
    """The newest assistant message containing `contains` (waits for it)."""
    loc = page.locator('[data-step-type="assistant_message"]', has_text=contains).last
    loc.wait_for(timeout=timeout_ms)
    return loc


def cited_answer(page, timeout_ms: int = 60_000):
    """The newest answer once its citation links are attached (they come with the final update)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    loc = page.locator('[data-step-type="assistant_message"]').last
    try:
        loc.locator("a.element-link").first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        shown = loc.inner_text(timeout=1000) if loc.count() else "(no assistant message)"
        raise AssertionError(f"no cited answer within {timeout_ms} ms; the page shows: {shown[:1500]}") from None
    return loc


def open_citation(page, link, timeout_ms: int = 15_000):
    """Click a citation marker and wait until the side panel shows that citation's paragraph. The panel's
    text is fetched after the click (the page shows a loading bar meanwhile, longer on a busy machine and
    for a resumed chat, whose panels come from the chat store), so reading it at once can find it empty."""
    name = link.inner_text().strip()
    link.click()
    page.wait_for_function(
        """name => { const t = document.getElementById('side-view-title');
                     const c = document.getElementById('side-view-content');
                     return !!(t && c && t.innerText.trim() === name && c.querySelector('blockquote')); }""",
        arg=name, timeout=timeout_ms)
    return page.locator("#side-view-content")


# ---------------------------------------------------------------- a real PostgreSQL server (shared deployment)
def postgres_install() -> Path | None:
    """The PostgreSQL 16 build inside the `pgserver` wheel (dev group: bin/, lib/, share/), or None."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")  # not imported: its module state makes files and users
    if spec is None or not spec.submodule_search_locations:
        return None
    install = Path(list(spec.submodule_search_locations)[0]) / "pginstall"
    return install if (install / "bin" / "postgres").is_file() else None


def postgres_unavailable() -> str | None:
    """Why no PostgreSQL server can be started here (a skip reason), or None."""
    install = postgres_install()
    if install is None:
        return "the pgserver wheel (PostgreSQL server binaries, dev group) is not installed: make setup"
    try:
        out = subprocess.run([str(install / "bin" / "postgres"), "--version"], capture_output=True, text=True,
                             timeout=30)
    except OSError as e:
        return f"pgserver's postgres binary does not run here: {e}"
    if out.returncode != 0:
        return f"pgserver's postgres binary does not run here: {(out.stderr or out.stdout).strip()[:300]}"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("nobody")
        except KeyError:
            return "running as root (PostgreSQL refuses to) and there is no 'nobody' user to run it as"
    return None


@contextlib.contextmanager
def postgres_server(timeout: float = 60.0) -> Iterator[str]:
    """Start a throw-away PostgreSQL server on a free loopback port and yield its base URL for the chat
    store, ``postgresql+asyncpg://postgres@127.0.0.1:PORT`` (append ``/dbname``; see `create_database`).

    Everything lives in one temporary folder, removed afterwards, and nothing is downloaded: the binaries
    come from the pgserver wheel. PostgreSQL will not run as root; as root (CI) the server runs as
    'nobody' from a copy of the binaries in that folder, so no folder of the checkout needs opening up and
    no system user is created (pgserver's own launcher would add one)."""
    import shutil
    import tempfile

    install = postgres_install()
    assert install is not None, postgres_unavailable()
    root = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
    run_as: dict = {}
    try:
        if os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            root.chmod(0o755)
            # The wheel's layout: the binaries find their libpq in ../../../pgserver.libs (RPATH).
            copy = root / "site" / "pgserver" / "pginstall"
            for part in ("bin", "lib", "share"):
                shutil.copytree(install / part, copy / part, symlinks=True)
            shutil.copytree(install.parent.parent / "pgserver.libs", root / "site" / "pgserver.libs", symlinks=True)
            bindir = copy / "bin"
            data = root / "data"
            data.mkdir(mode=0o700)
            os.chown(data, nobody.pw_uid, nobody.pw_gid)
            run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        else:
            bindir = install / "bin"
            data = root / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", TZ="UTC")
        init = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                               "--encoding=UTF8", "--no-sync"], capture_output=True, text=True, env=env,
                              cwd=root, timeout=timeout, **run_as)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}): {init.stderr[-2000:]}")
        port = free_port()
        log_path = root / "postgres.log"
        with open(log_path, "wb") as log:
            if run_as:
                os.chown(log_path, run_as["user"], run_as["group"])
            # TCP on loopback only, no Unix socket; durability off: a test database.
            proc = subprocess.Popen([str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                                     "-k", "", "-c", "fsync=off", "-c", "synchronous_commit=off",
                                     "-c", "full_page_writes=off"], stdout=log, stderr=subprocess.STDOUT, env=env,
                                    cwd=root, start_new_session=True, **run_as)
        try:
            deadline = time.monotonic() + timeout
            while subprocess.run([str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)],
                                 env=env).returncode != 0:
                if proc.poll() is not None:
                    raise RuntimeError(f"postgres exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"postgres did not accept connections within {timeout}s: "
                                       f"{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            base = f"postgresql+asyncpg://postgres@127.0.0.1:{port}"
            postgres_server.bindir[base] = bindir  # for create_database
            yield base
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGINT)  # fast shutdown
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


postgres_server.bindir = {}


def create_database(base: str, name: str) -> str:
    """A new, empty database on the `postgres_server` at `base`; returns its SQLAlchemy URL."""
    port = urlparse(base.replace("postgresql+asyncpg", "postgresql")).port
    bindir = postgres_server.bindir[base]
    out = subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"createdb {name} failed: {out.stderr.strip()}")
    return f"{base}/{name}"
