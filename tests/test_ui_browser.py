"""The chat UI as a journalist uses it: the real `chainlit run` app driven by headless Chromium.

One app process and one browser serve the whole module (starting them is most of the cost); each test
opens a fresh chat page. Screenshots go to pytest's tmp dir and are copied to test-output/ui/.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.ui_helpers import ROOT, assistant_message, cited_answer, launch_browser, open_chat, running_app, send

pytestmark = pytest.mark.browser

XSS_ARTICLE = """Zorbland counts its votes

The Zorbland electoral commission said turnout reached 71 percent in the capital <script>window.__xss = "script"</script> on polling day.

Officials in Zorbland confirmed the count <img src=x onerror="window.__xss = 'img'"> was final on Sunday, and observers agreed.

The commission thanked volunteers who staffed more than 400 polling stations across Zorbland.
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    if not Path("/usr/bin/chromium").exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("ui")
    docs = tmp / "documents"
    shutil.copytree(ROOT / "documents", docs)
    (docs / "zorbland_votes.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    env = {"ASSISTANT_DOCUMENTS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(tmp / "index"),
           "ASSISTANT_FEEDBACK_DB": str(tmp / "feedback.sqlite3")}
    started = time.monotonic()
    with running_app(env, tmp / "chainlit.log") as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            yield {"url": url, "browser": browser, "tmp": tmp, "started": started, "env": env}
        finally:
            browser.close()


@pytest.fixture
def page(ui):
    try:
        pg = open_chat(ui["browser"], ui["url"])
    except Exception as e:  # say why: the app's own log is the only witness
        log = (ui["tmp"] / "chainlit.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"the chat did not open: {e}\n--- chainlit.log (tail) ---\n{log}") from e
    yield pg
    pg.close()


def shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    out = ROOT / "test-output" / "ui"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, out / path.name)
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


def test_answer_streams_with_citations_that_open_the_source_paragraph(page, ui, tmp_path, built_assistant):
    # The welcome screen offers starter questions drawn from the indexed articles.
    page.locator("#starters button").first.wait_for(timeout=30_000)
    assert "Check a claim" in page.locator("#starters").inner_text()
    assert page.locator("#starters button").count() >= 3
    shot(page, tmp_path, "01_welcome")

    send(page, "What did Hegseth say about NATO membership for Ukraine?")
    answer = cited_answer(page)
    text = answer.inner_text()
    assert "Sources" in text
    links = answer.locator("a.element-link")
    assert links.count() >= 2  # the marker in the text and again in the sources list
    shot(page, tmp_path, "02_answer")

    # The sources list says which outlet and paragraph [1] is: "- Outlet: “Title” ¶N [1]".
    sources_line = answer.locator("li", has_text="[1]").first.inner_text()
    outlet = sources_line.split(":")[0].strip()
    number = int(re.search(r"¶(\d+)\s*\[1\]", sources_line).group(1))

    links.first.click()
    panel = page.locator("#side-view-content")
    panel.wait_for(timeout=10_000)
    assert page.locator("#side-view-title").inner_text().strip() == "[1]"
    panel_text = panel.inner_text()
    assert outlet in panel_text
    source = re.search(r"Source file: (\S+)", panel_text).group(1)
    cited = panel.locator("blockquote").inner_text()
    assert f"¶{number} · cited" in cited
    # The cited paragraph is exactly that paragraph of that article, as the API stores it.
    paragraphs = {p.paragraph: p.text for p in built_assistant.paragraphs(source)}
    assert flat(paragraphs[number]) in flat(cited)
    # The highlighted sentence is part of the paragraph, and context paragraphs surround it.
    highlighted = panel.locator("blockquote .font-bold").all_inner_texts()
    assert any(h.strip() and flat(h) in flat(paragraphs[number]) for h in highlighted)
    assert f"¶{number + 1} ·" in panel_text or f"¶{number - 1} ·" in panel_text
    shot(page, tmp_path, "03_citation_panel")


def test_article_html_is_rendered_as_text_never_executed(page, ui, tmp_path):
    send(page, "What turnout did the Zorbland electoral commission report?")
    answer = cited_answer(page)
    for i in range(answer.locator("a.element-link").count()):
        answer.locator("a.element-link").nth(i).click()
        if "Zorbland" in page.locator("#side-view-content").inner_text():
            break
    panel_text = page.locator("#side-view-content").inner_text()
    assert "Zorbland" in panel_text
    # The markup is shown literally ...
    assert "<script>" in panel_text or "<img src=x" in panel_text
    # ... and never became DOM or ran.
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#side-view-content script, img[src='x']").count() == 0
    shot(page, tmp_path, "04_xss_as_text")


def test_check_command_renders_a_stance_table_with_clickable_evidence(page, ui, tmp_path):
    send(page, "/check Hegseth said NATO membership for Ukraine is unrealistic")
    msg = assistant_message(page, "Claim:")
    table = msg.locator("table")
    table.wait_for(timeout=60_000)
    header = table.locator("th").all_inner_texts()
    assert [h.strip() for h in header][:3] == ["Outlet", "Article", "Stance"]
    assert table.locator("tbody tr").count() >= 1
    assert re.search(r"supports|contradicts|not mentioned", table.inner_text())
    table.locator("a.element-link").first.click()
    assert "cited" in page.locator("#side-view-content blockquote").inner_text()
    shot(page, tmp_path, "05_claim_check")


def test_uploads_add_good_articles_and_refuse_bad_ones_with_a_reason(page, ui, tmp_path):
    bad = tmp_path / "empty_notes.txt"
    bad.write_bytes(b"\x00\x01\x02 \xff\xfe binary junk")
    good = tmp_path / "glimmerton_bridge.md"
    good.write_text("# Glimmerton bridge reopens\n\nThe Glimmerton bridge reopened on Tuesday after "
                    "eighteen months of repairs costing 42 million euros, the city council said.\n\n"
                    "Traffic engineers expect about 30,000 vehicles a day to cross the bridge again.\n",
                    encoding="utf-8")
    page.set_input_files("#upload-button-input", [str(bad), str(good)])
    page.fill("#chat-input", "")
    page.locator("#chat-submit").click()
    msg = assistant_message(page, "Not added")
    text = msg.inner_text()
    assert "empty_notes.txt" in text
    assert "glimmerton_bridge.md" in text and "Added" in text
    shot(page, tmp_path, "06_upload")

    send(page, "How much did the Glimmerton bridge repairs cost?")
    answer = cited_answer(page)
    assert "42 million" in answer.inner_text()


def test_feedback_is_stored_locally(page, ui, tmp_path):
    send(page, "What did Putin want from the talks?")
    answer = cited_answer(page)
    answer.hover()
    answer.locator("button").filter(has=page.locator("svg.lucide-thumbs-down")).first.click()
    page.locator("#submit-feedback").click()
    db = Path(ui["env"]["ASSISTANT_FEEDBACK_DB"])
    deadline = time.monotonic() + 30  # the data layer writes from a background task
    rows = []
    while time.monotonic() < deadline and not (rows and rows[0][1] and rows[0][2]):
        with sqlite3.connect(db) as con:
            rows = con.execute("SELECT value, question, answer FROM feedback_report").fetchall()
        time.sleep(0.2)
    assert rows and rows[0][0] == 0
    assert rows[0][1] == "What did Putin want from the talks?"
    assert rows[0][2]


def test_empty_and_huge_questions_get_a_readable_message(page, ui):
    send(page, "x" * 5000)
    msg = assistant_message(page, "characters long")
    assert "Sorry" in msg.inner_text()
    assert "Traceback" not in msg.inner_text()


def test_starter_shows_live_facts_about_the_collection(page, ui):
    page.locator("#starters button", has_text="What do you know?").click()
    msg = assistant_message(page, "I answer from")
    text = msg.inner_text()
    # The five bundled articles, the test's Zorbland article, and any uploaded by another test.
    assert int(re.search(r"(\d+) articles", text).group(1)) >= 6
    assert "Daily Express" in text and "Zorbland counts its votes" in text


def test_password_login_guards_the_chat(ui, tmp_path):
    """ASSISTANT_AUTH_PASSWORD: the chat asks for it; a wrong password does not get in."""
    env = {**ui["env"], "ASSISTANT_AUTH_PASSWORD": "newsroom-pass",
           "ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_FEEDBACK_DB": str(tmp_path / "fb.sqlite3")}
    with running_app(env, tmp_path / "chainlit-auth.log") as url:
        pg = ui["browser"].new_page(viewport={"width": 1400, "height": 900})
        try:
            pg.goto(url)
            pg.wait_for_selector("#password", timeout=30_000)
            pg.fill("#email", "alice")
            pg.fill("#password", "wrong")
            pg.keyboard.press("Enter")
            pg.wait_for_timeout(1000)
            assert pg.locator("#chat-input").count() == 0
            pg.fill("#password", "newsroom-pass")
            pg.keyboard.press("Enter")
            pg.wait_for_selector("#command-check", timeout=60_000)
            send(pg, "What did Putin want from the talks?")
            assert "Sources" in cited_answer(pg).inner_text()
            shot(pg, tmp_path, "07_signed_in")
        finally:
            pg.close()
