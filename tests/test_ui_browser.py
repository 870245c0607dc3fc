"""The chat UI as a journalist uses it: the real `chainlit run` app driven by headless Chromium.

One app process and one browser serve the whole module (starting them is most of the cost); each test
opens a fresh chat page, at desktop (1440x900) or phone (390x844) size, whose requests are watched: any
request that would leave the machine is blocked and fails the test, and so does any failed response of
the app. Screenshots go to pytest's tmp dir and are copied to test-output/ui/.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.ui_helpers import (DESKTOP, PHONE, ROOT, assistant_message, cited_answer, create_database, launch_browser,
                              open_chat, open_citation, running_app, send,
                              upload)

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
    (docs / "quillby_petition.txt").write_text(MARKUP_ARTICLE, encoding="utf-8")
    env = {"ASSISTANT_DOCUMENTS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(tmp / "index")}
    started = time.monotonic()
    with running_app(env, tmp / "chainlit.log") as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            yield {"url": url, "browser": browser, "tmp": tmp, "started": started, "env": env}
        finally:
            browser.close()


def _open(ui, viewport):
    guard: dict = {}
    try:
        pg = open_chat(ui["browser"], ui["url"], viewport=viewport, guard=guard)
    except Exception as e:  # say why: the app's own log is the only witness
        log = (ui["tmp"] / "chainlit.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"the chat did not open: {e}\n--- chainlit.log (tail) ---\n{log}") from e
    return pg, guard


def _check_guard(pg, guard):
    pg.wait_for_timeout(300)  # late requests (avatars, images) of the last message
    pg.close()
    assert not guard["external"], f"requests left the machine: {guard['external']}"
    assert not guard["failed"], f"failed responses: {guard['failed']}"


@pytest.fixture
def page(ui):
    pg, guard = _open(ui, DESKTOP)
    yield pg
    _check_guard(pg, guard)


@pytest.fixture(params=["desktop", "phone"])
def sized(ui, request):
    """A chat page at desktop and at phone size; `sized.size` says which."""
    pg, guard = _open(ui, DESKTOP if request.param == "desktop" else PHONE)
    pg.size = request.param
    yield pg
    _check_guard(pg, guard)


def shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    out = ROOT / "test-output" / "ui"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, out / path.name)
    return path


def flat(text: str) -> str:
    # U+2060 (invisible) is what keeps a URL in article text from becoming a link
    return " ".join(text.replace("\u2060", "").split())


def test_answer_streams_with_citations_that_open_the_source_paragraph(page, ui, tmp_path, built_assistant):
    # The welcome screen offers starter questions drawn from the indexed articles.
    page.locator("#starters button").first.wait_for(timeout=30_000)
    assert "Check:" in page.locator("#starters").inner_text()
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

    panel = open_citation(page, links.first)
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
        if "Zorbland" in open_citation(page, answer.locator("a.element-link").nth(i)).inner_text():
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
    assert [h.strip() for h in header][:3] == ["Source", "Stance", "Evidence"]
    assert table.locator("tbody tr").count() >= 1
    assert re.search(r"supports|contradicts|not mentioned", table.inner_text())
    assert "cited" in open_citation(page, table.locator("a.element-link").first).locator("blockquote").inner_text()
    shot(page, tmp_path, "05_claim_check")


def test_uploads_add_good_articles_and_refuse_bad_ones_with_a_reason(page, ui, tmp_path):
    bad = tmp_path / "empty_notes.txt"
    bad.write_bytes(b"\x00\x01\x02 \xff\xfe binary junk")
    good = tmp_path / "glimmerton_bridge.md"
    good.write_text("# Glimmerton bridge reopens\n\nThe Glimmerton bridge reopened on Tuesday after "
                    "eighteen months of repairs costing 42 million euros, the city council said.\n\n"
                    "Traffic engineers expect about 30,000 vehicles a day to cross the bridge again.\n",
                    encoding="utf-8")
    upload(page, bad, good)
    msg = assistant_message(page, "Not added")
    text = msg.inner_text()
    assert "empty_notes.txt" in text
    assert "glimmerton_bridge.md" in text and "Added" in text
    shot(page, tmp_path, "06_upload")

    send(page, "How much did the Glimmerton bridge repairs cost?")
    answer = cited_answer(page)
    assert "42 million" in answer.inner_text()


def ratings(ui, ready, timeout: float = 30.0):
    """The ratings report of the app's chat database (Chainlit's data layer), once `ready(rows)`."""
    from assistant.feedback import report

    url = f"sqlite+aiosqlite:///{Path(ui['env']['ASSISTANT_INDEX_DIR']) / 'chat.sqlite3'}"
    deadline, rows = time.monotonic() + timeout, []
    while time.monotonic() < deadline:  # the data layer writes from a background task
        rows = report(url)
        if ready(rows):
            break
        time.sleep(0.3)
    return rows


def test_feedback_is_stored_locally(page, ui, tmp_path):
    send(page, "What did Putin want from the talks?")
    answer = cited_answer(page)
    answer.hover()
    answer.locator("button").filter(has=page.locator("svg.lucide-thumbs-down")).first.click()
    page.locator("#submit-feedback").click()
    rows = ratings(ui, lambda rows: any(r.question == "What did Putin want from the talks?" for r in rows))
    row = next(r for r in rows if r.question == "What did Putin want from the talks?")
    assert row.value == 0
    assert row.answer and "\\" not in row.answer and "\u2060" not in row.answer  # as read, not the page's escapes
    assert "Sources\n[1] " in row.answer  # the footnotes of the copy


def test_empty_and_huge_questions_get_a_readable_message(page, ui):
    send(page, "x" * 5000)
    msg = assistant_message(page, "characters long")
    assert "Sorry" in msg.inner_text()
    assert "Traceback" not in msg.inner_text()


def test_starter_shows_live_facts_about_the_collection(page, ui):
    page.locator("#starters button", has_text="What is indexed?").click()
    msg = assistant_message(page, "I answer from")
    text = msg.inner_text()
    # The five bundled articles, the test's Zorbland article, and any uploaded by another test.
    assert int(re.search(r"(\d+) articles", text).group(1)) >= 6
    assert "Daily Express" in text and "Zorbland counts its votes" in text


# ---------------------------------------------------------------- issue 11 / 13: the chat as a newsroom meets it
MARKUP_ARTICLE = """![t](http://evil.example/title.png) Quillby council weighs the ferry petition

The Quillby council received a [petition](javascript:alert(1)) signed by 2,300 residents asking to keep the night ferry.

The harbour master said the ferry ![pixel](http://evil.example/track.png) carried 410 passengers a night in May.

Councillors will vote on the ferry timetable in June, the clerk said.
"""
TIMINGS = ROOT / "test-output" / "ui" / "timings.txt"


def timed_answer(page, question: str):
    """Send, wait for the complete cited answer; log the time from Enter to the final update."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    messages = page.locator('[data-step-type="assistant_message"]')
    before = messages.count()
    send(page, question)
    t0 = time.monotonic()
    # The new reply, not the previous answer (whose links are already there).
    answer = messages.nth(before)
    try:
        answer.locator("a.element-link").first.wait_for(timeout=60_000)
    except PlaywrightTimeout:
        shown = messages.last.inner_text(timeout=1000) if messages.count() > before else "(no reply)"
        raise AssertionError(f"no cited answer to {question!r} within 60 s; the page shows: {shown[:1500]}") from None
    took = time.monotonic() - t0
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    with TIMINGS.open("a") as f:
        f.write(f"{took:.2f} s  {question}\n")
    return answer


_SIDE_WATCH = """
window.__ndSideShownUnclicked = 0; window.__ndLastClick = 0;
document.addEventListener('click', e => { if (e.target.closest && e.target.closest('a.element-link'))
    window.__ndLastClick = Date.now(); }, true);
new MutationObserver(() => {
  const c = document.getElementById('side-view-content');
  if (c && Date.now() - window.__ndLastClick > 2000) {
    const r = c.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) window.__ndSideShownUnclicked += 1;
  }
}).observe(document, {childList: true, subtree: true});
"""


def test_side_panel_opens_only_from_a_marker_with_that_citation_alone(sized, tmp_path):
    """11.1: no panel after an answer (Chainlit opened one with every citation stacked); a click on [n]
    shows that citation only; the next answer does not bring it back stacked."""
    sized.add_init_script(_SIDE_WATCH)
    sized.reload()
    sized.wait_for_selector("#command-check", timeout=60_000)
    answer = timed_answer(sized, "What did Hegseth say about NATO membership for Ukraine?")
    sized.wait_for_timeout(1200)
    assert sized.locator("#side-view-content").count() == 0
    shot(sized, tmp_path, f"11_1_answer_no_panel_{sized.size}")
    open_citation(sized, answer.locator("a.element-link", has_text="[2]").first)
    assert sized.locator("#side-view-title").inner_text().strip() == "[2]"
    assert sized.locator("#side-view-content blockquote").count() == 1  # one citation, not a stack
    shot(sized, tmp_path, f"11_1_marker_2_clicked_{sized.size}")
    # Close it (phone: the drawer covers the page) and ask again: it stays closed.
    sized.keyboard.press("Escape") if sized.size == "phone" else sized.locator("#side-view-title button").click()
    sized.locator("#side-view-content").wait_for(state="detached", timeout=5_000)
    timed_answer(sized, "How long did the Alaska meeting last?")
    sized.wait_for_timeout(1200)
    assert sized.locator("#side-view-content").count() == 0
    assert sized.evaluate("() => window.__ndSideShownUnclicked") == 0


def test_page_says_it_is_newsdesk_and_what_is_indexed(sized, ui, tmp_path):
    """11.2: name, logo, favicon, a welcome with the collection's facts, real starters, an honest footer."""
    sized.locator("#starters button").first.wait_for(timeout=30_000)
    welcome = sized.locator("#newsdesk-welcome")
    welcome.wait_for(timeout=30_000)
    assert sized.title() == "Newsdesk"
    text = welcome.inner_text()
    assert re.search(r"\d+ articles from \d+ named outlets", text), text
    assert "Daily Express" in text and ("undated" in text or "no publication dates are known" in text)
    logo = sized.locator("#welcome-screen img.logo").get_attribute("src")
    assert "Newsdesk" in sized.request.get(logo if logo.startswith("http") else ui["url"] + logo).text()
    assert sized.evaluate("() => document.querySelector('#welcome-screen img.logo').naturalWidth") > 0
    icon = sized.request.get(ui["url"] + "/favicon")
    assert icon.body() == (ROOT / "public" / "favicon.svg").read_bytes()
    labels = [b.inner_text().strip() for b in sized.locator("#starters button").all()]
    assert len(labels) >= 4 and not any(lab.endswith("…") for lab in labels)
    assert any(lab.endswith("?") for lab in labels) and any(lab.startswith("Check:") for lab in labels)
    assert "Chainlit" not in sized.locator("body").inner_text()
    shot(sized, tmp_path, f"11_2_welcome_{sized.size}")
    # A starter question is answered with citations; the footer under the chat names the engine.
    sized.locator("#starters button", has_text="How long did the Alaska meeting last?").click()
    assert "2 hours and 45 minutes" in cited_answer(sized).inner_text()
    footer = sized.locator(".watermark").inner_text()
    assert "Extractive engine" in footer and "LLMs can make mistakes" not in footer
    shot(sized, tmp_path, f"11_2_starter_answer_footer_{sized.size}")


def _restrict_outlets(page, outlet: str) -> None:
    page.locator("#chat-settings-open-modal").click()
    dialog = page.locator("[role=dialog]")
    dialog.locator("input[cmdk-input]").click()
    page.locator("[role=option]", has_text=outlet).first.click()
    dialog.locator("h2").click()  # close the option list first
    dialog.locator("button", has_text="Confirm").click()
    dialog.wait_for(state="detached", timeout=5_000)
    page.wait_for_timeout(300)


def test_active_filters_are_shown_on_answers_and_checks_and_stored_with_feedback(sized, ui, tmp_path):
    """11.3: after restricting outlets, every answer and /check says so (and what it leaves out), and a
    rating stores that line with the answer."""
    _restrict_outlets(sized, "The Straits Times")
    answer = timed_answer(sized, "What did Hegseth say about NATO membership for Ukraine?")
    text = answer.inner_text()
    assert re.search(r"Filters: only The Straits Times — \d+ of \d+ articles left out", text), text
    assert "Daily Express" not in text.split("Sources")[-1]
    shot(sized, tmp_path, f"11_3_filtered_answer_{sized.size}")
    answer.hover()
    answer.locator("button").filter(has=sized.locator("svg.lucide-thumbs-down")).first.click()
    sized.locator("#submit-feedback").click()
    rows = ratings(ui, lambda rows: any(r.value == 0 and r.filters for r in rows))
    stored = [r for r in rows if r.value == 0 and r.filters]
    assert stored and stored[0].filters.startswith("Filters: only The Straits Times")
    assert stored[0].answer.startswith("Filters: only The Straits Times")  # the plain text as read

    send(sized, "/check Trump called Zelensky a dictator")
    check = assistant_message(sized, "Claim:")
    sized.wait_for_timeout(500)
    assert re.search(r"Filters: only The Straits Times — \d+ of \d+ articles left out", check.inner_text())
    shot(sized, tmp_path, f"11_3_filtered_check_{sized.size}")


def test_claim_table_shows_deciding_words_groups_silent_articles_and_fits_a_phone(sized, tmp_path):
    """11.4: the five-hours claim shows "2 hours and 45 minutes"; silent articles are one line."""
    send(sized, "/check The Alaska meeting lasted more than five hours")
    msg = assistant_message(sized, "Claim:")
    table = msg.locator("table")
    table.wait_for(timeout=60_000)
    text = msg.inner_text()
    assert "2 hours and 45 minutes" in table.inner_text()
    assert "<br>" not in table.inner_text()  # no markup shown as text in a cell
    assert re.search(r"Not mentioned by \d+ articles", text)
    assert table.locator("tbody tr").count() < 4  # the silent ones are not rows
    overflow = sized.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    # The table is inside the screen (measured once it is laid out: it is re-rendered as the reply settles).
    sized.wait_for_function("""() => {
        const m = [...document.querySelectorAll('[data-step-type="assistant_message"]')]
            .filter(e => e.innerText.includes('Claim:')).pop();
        const t = m && m.querySelector('table');
        if (!t) return false;
        const r = t.getBoundingClientRect();
        return r.width > 0 && r.left >= 0 && r.right <= innerWidth + 1; }""", timeout=5_000)
    _scroll_into_view(msg)
    shot(sized, tmp_path, f"11_4_claim_table_{sized.size}")
    # The silent articles: one collapsed line, every name there once opened.
    silent = msg.locator("[data-nd-silent]")
    silent.wait_for(timeout=5_000)
    assert silent.get_attribute("data-nd-silent") == "closed" and silent.get_attribute("aria-expanded") == "false"
    line = sized.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)", silent.element_handle())
    closed = silent.bounding_box()["height"]
    assert closed < 1.8 * line
    assert sized.evaluate("el => el.scrollWidth > el.clientWidth", silent.element_handle())  # names cut off
    silent.click()
    assert silent.get_attribute("data-nd-silent") == "open"
    assert silent.bounding_box()["height"] > 1.8 * line  # the names wrap onto more lines
    assert sized.evaluate("el => el.scrollWidth <= el.clientWidth + 1", silent.element_handle())
    assert sized.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
    _scroll_into_view(silent)
    shot(sized, tmp_path, f"11_4_silent_opened_{sized.size}")


def _scroll_into_view(loc, tries: int = 5) -> None:
    """Scroll a locator into view; the reply may be re-rendered once more as it settles (the element is
    then replaced mid-action), so a detached element is looked up again."""
    from playwright.sync_api import Error as PlaywrightError

    for i in range(tries):
        try:
            loc.scroll_into_view_if_needed(timeout=5_000)
            return
        except PlaywrightError:
            if i == tries - 1:
                raise
            loc.page.wait_for_timeout(300)


def test_article_markup_is_shown_exactly_and_never_fetched(page, ui, tmp_path):
    """11.5 and 13.7: a link with "javascript:alert" keeps every character; an image in an article, a
    headline or a pasted question is never requested, not even while the answer streams."""
    answer = timed_answer(page, "What did the Quillby council receive?")
    for i in range(answer.locator("a.element-link").count()):
        if "petition" in open_citation(page, answer.locator("a.element-link").nth(i)).inner_text():
            break
    panel = page.locator("#side-view-content")
    assert "[petition](javascript:alert(1))" in flat(panel.inner_text())
    assert "![t](http://evil.example/title.png)" in flat(panel.inner_text())  # the headline, as stored
    shot(page, tmp_path, "11_5_exact_markup")
    answer = timed_answer(page, "How many passengers did the Quillby ferry carry a night?")
    shot(page, tmp_path, "13_7_image_in_answer_not_fetched")
    # the streamed answer text carried an article image (the headline's or the paragraph's), as text
    assert re.search(r"!\[(t|pixel)\]\(http://evil\.example/(title|track)\.png\)", flat(answer.inner_text()))
    send(page, "Is ![t](http://evil.example/q.png) **bold** a_b_c true?")
    bubble = page.locator('[data-step-type="user_message"]').last
    bubble.wait_for()
    page.wait_for_timeout(1500)
    assert "![t](http://evil.example/q.png) **bold** a_b_c" in bubble.inner_text()
    assert page.locator("img[src*='evil.example'], a[href*='evil.example']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    # the page fixture fails the test if any request went to evil.example


def test_offline_polish_upload_bubble_sources_refusal(page, ui, tmp_path):
    """11.8: no empty user bubble under an upload and no 400 for the step's avatar (the fixture fails on
    any failed response); /sources is sent by one Enter; a refusal's related paragraphs are not "cited"."""
    good = tmp_path / "harbour_notes.txt"
    good.write_text("Harbour crane returns\n\nThe Vellmar harbour crane returned to service on Friday after "
                    "a new winch was fitted, the port authority said.\n", encoding="utf-8")
    upload(page, good)
    assistant_message(page, "Added")
    bubble = page.locator('[data-step-type="user_message"]').last
    assert "harbour_notes.txt" in bubble.inner_text() and "Add to the collection" in bubble.inner_text()
    shot(page, tmp_path, "11_8_upload")

    page.fill("#chat-input", "/sources")
    page.keyboard.press("Enter")
    assert "I answer from" in assistant_message(page, "I answer from", timeout_ms=10_000).inner_text()

    send(page, "Who won the Vellmar chess championship final in 1987?")
    msg = page.locator('[data-step-type="assistant_message"]', has_text="Possibly related").last
    msg.locator("a.element-link").first.wait_for(timeout=60_000)
    panel = open_citation(page, msg.locator("a.element-link").first).inner_text()
    assert "possibly related, not cited" in panel and "· cited" not in panel
    shot(page, tmp_path, "11_8_refusal_panel")
    emoji = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")
    assert not emoji.findall(page.locator("body").inner_text())


# ---------------------------------------------------------------- issue 11.7/11.6/11.8: kept conversations
RESUMED_QUESTION = "Where did Trump and Putin meet?"


def _open_from_history(page, question: str):
    """The thread named by its first question, from the history in the sidebar."""
    item = page.locator('#thread-history a[href^="/thread/"], a[href^="/thread/"]', has_text=question).first
    item.wait_for(timeout=30_000)
    item.click()
    return cited_answer(page)


def _panel_shows_the_cited_paragraph(page, answer, built_assistant) -> str:
    """Click [1] and check the panel holds exactly that paragraph of that article; returns the panel text."""
    sources_line = answer.locator("li", has_text="[1]").first.inner_text()
    number = int(re.search(r"¶(\d+)\s*\[1\]", sources_line).group(1))
    panel = open_citation(page, answer.locator("a.element-link", has_text="[1]").first)
    assert page.locator("#side-view-title").inner_text().strip() == "[1]"
    text = panel.inner_text()
    source = re.search(r"Source file: (\S+)", text).group(1)
    paragraphs = {p.paragraph: p.text for p in built_assistant.paragraphs(source)}
    assert f"¶{number} · cited" in panel.locator("blockquote").inner_text()
    assert flat(paragraphs[number]) in flat(panel.locator("blockquote").inner_text())
    # Shown, not just in the page: the panel has slid fully into view.
    page.wait_for_function("() => { const r = document.getElementById('side-view-content').getBoundingClientRect();"
                           " return r.width > 200 && r.right <= innerWidth + 1; }", timeout=5_000)
    page.wait_for_timeout(300)
    return text


def test_conversation_survives_a_reload_and_reopens_from_history(page, ui, tmp_path, built_assistant):
    """11.7: ask, reload, open the thread from the history, click a citation: the paragraph is there, and a
    follow-up still uses the conversation."""
    answer = timed_answer(page, RESUMED_QUESTION)
    before = flat(answer.inner_text())
    page.wait_for_timeout(500)  # the data layer writes from background tasks
    page.reload()
    page.wait_for_selector("#command-check", timeout=60_000)
    page.goto(ui["url"])  # a new chat: nothing on screen but the history
    page.wait_for_selector("#command-check", timeout=60_000)
    assert page.locator('[data-step-type="assistant_message"]').count() == 0
    shot(page, tmp_path, "11_7_history_after_reload")
    answer = _open_from_history(page, RESUMED_QUESTION)
    assert flat(answer.inner_text()) == before
    assert page.locator('[data-step-type="user_message"]', has_text=RESUMED_QUESTION).count() == 1
    shot(page, tmp_path, "11_7_resumed_from_history")
    _panel_shows_the_cited_paragraph(page, answer, built_assistant)
    shot(page, tmp_path, "11_7_resumed_citation_panel")
    # The resumed chat knows what was asked: a bare "when?" is rewritten against it.
    page.locator("#side-view-title button").click()
    send(page, "when?")
    follow = assistant_message(page, "Searched for")
    assert "When did Trump and Putin meet?" in flat(follow.inner_text())


def test_marker_tooltip_previews_the_cited_sentence_and_copy_gives_footnotes(page, ui, tmp_path):
    """11.6: hovering [1] shows the cited sentence; 11.7: the copy button copies the answer as read, with
    its sources as footnotes, not the page's escaped Markdown."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui["url"])
    # The data layer stores a reply's metadata from a background task, a moment after the reply is shown
    # (seconds on a busy server): the first ask for it gets what the server answers until then. The
    # tooltip and the copy must still come once it is stored, without another hover.
    asked: list[str] = []

    def not_stored_yet(route):
        asked.append(route.request.url)
        if len(asked) == 1:
            route.fulfill(status=200, content_type="application/json", body='{"plain": null, "previews": {}}')
        else:
            route.fallback()

    page.route("**/newsdesk/message/**", not_stored_yet)
    answer = timed_answer(page, "How long did the Alaska meeting last?")
    marker = answer.locator("a.element-link", has_text="[1]").first
    marker.hover()
    t0 = time.monotonic()
    try:
        page.wait_for_function("el => el.getAttribute('title')", arg=marker.element_handle(), timeout=30_000)
    except PlaywrightTimeout:
        raise AssertionError(f"no tooltip on [1] within 30 s; asked {len(asked)} times: {asked[-1:]}") from None
    with TIMINGS.open("a") as f:
        f.write(f"{time.monotonic() - t0:.2f} s  tooltip of [1] after the hover ({len(asked)} asks)\n")
    title = marker.get_attribute("title")
    assert len(asked) >= 2  # asked again: the first answer was not kept
    open_citation(page, marker)
    cited = page.locator("#side-view-content blockquote .font-bold").all_inner_texts()
    assert cited and flat(cited[0])[:60] in flat(title), (title, cited)
    outlet = page.locator("#side-view-content").inner_text().split("\n")[0].strip()
    assert title.startswith(outlet)
    page.locator("#side-view-title button").click()

    answer.hover()
    answer.locator("button").filter(has=page.locator("svg.lucide-copy")).first.click()
    page.wait_for_timeout(500)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "2 hours and 45 minutes" in copied
    assert "\\" not in copied and "\u2060" not in copied and "**" not in copied
    body, _, notes = copied.partition("\n\nSources\n")
    assert "[1]" in body and re.match(r"\[1\] .+, “.+”, paragraph \d+", notes), copied
    assert len(notes.splitlines()) == len(set(re.findall(r"\[(\d+)\]", body)))
    (tmp_path / "copied.txt").write_text(copied, encoding="utf-8")
    shutil.copy(tmp_path / "copied.txt", ROOT / "test-output" / "ui" / "11_7_copied_answer.txt")


def test_an_upload_closes_the_previous_citation(page, ui, tmp_path):
    """11.8: the panel does not keep showing an earlier answer's citation beside an upload."""
    answer = timed_answer(page, "What did the Quillby council receive?")
    open_citation(page, answer.locator("a.element-link").first)
    page.wait_for_function("() => { const r = document.getElementById('side-view-content').getBoundingClientRect();"
                           " return r.width > 200 && r.right <= innerWidth + 1; }", timeout=5_000)  # slid in
    page.wait_for_timeout(300)
    shot(page, tmp_path, "11_8_panel_before_upload")
    note = tmp_path / "ferry_timetable.txt"
    note.write_text("Quillby ferry timetable\n\nThe Quillby night ferry will leave at 23:40 from June, the harbour "
                    f"office said in notice {time.time_ns()}.\n", encoding="utf-8")
    upload(page, note)
    assistant_message(page, "Added")
    page.wait_for_timeout(800)
    assert page.locator("#side-view-content").count() == 0
    shot(page, tmp_path, "11_8_after_upload_no_stale_panel")


def test_phone_resumes_an_earlier_chat_with_a_clickable_citation(ui, tmp_path, built_assistant):
    """11.7 at phone size (390x844): the history is in the menu drawer; the chat opened from it shows the
    answer as it was, and a citation marker opens its paragraph in the full-screen drawer, which closes
    back onto the answer."""
    question = "What did Putin say he wanted from Ukraine?"
    pg, guard = _open(ui, PHONE)
    before = flat(timed_answer(pg, question).inner_text())
    pg.wait_for_timeout(500)  # the data layer writes from background tasks
    pg.goto(ui["url"])  # a new chat: the earlier one is only in the history
    pg.wait_for_selector("#command-check", timeout=60_000)
    assert pg.locator('[data-step-type="assistant_message"]').count() == 0
    pg.locator("#sidebar-trigger-button").click()
    item = pg.locator('#thread-history a[href^="/thread/"]', has_text=question).first
    item.wait_for(timeout=30_000)
    # In view, not just in the page: the drawer has finished sliding in.
    pg.wait_for_function("el => { const r = el.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth; }",
                         arg=item.element_handle(), timeout=5_000)
    pg.wait_for_timeout(300)
    shot(pg, tmp_path, "11_7_phone_history_drawer")
    item.click()
    answer = cited_answer(pg)
    assert flat(answer.inner_text()) == before
    pg.wait_for_function("() => !document.querySelector('#thread-history') || "
                         "document.querySelector('#thread-history').getBoundingClientRect().right <= 0",
                         timeout=5_000)  # the drawer got out of the way of the chat
    assert pg.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(pg, tmp_path, "11_7_phone_resumed")
    _panel_shows_the_cited_paragraph(pg, answer, built_assistant)
    shot(pg, tmp_path, "11_7_phone_resumed_citation_panel")
    pg.keyboard.press("Escape")
    pg.locator("#side-view-content").wait_for(state="detached", timeout=5_000)
    assert answer.is_visible()
    _check_guard(pg, guard)


def test_history_survives_a_restart_and_a_second_server_leaves_the_first_working(ui, tmp_path, built_assistant):
    """11.7: a second server over the same index and chat database (what a restart finds) lists the
    conversation and opens its citations. When that second server stops, the first one still answers with
    citations and takes uploads (Chainlit's shutdown used to delete the session-file folder both share)."""
    question = "What did Hegseth say about troops in Ukraine?"
    pg, guard = _open(ui, DESKTOP)
    timed_answer(pg, question)
    pg.wait_for_timeout(500)
    _check_guard(pg, guard)
    with running_app(ui["env"], tmp_path / "chainlit-restart.log") as url:
        guard = {}
        pg = open_chat(ui["browser"], url, guard=guard)
        answer = _open_from_history(pg, question)
        _panel_shows_the_cited_paragraph(pg, answer, built_assistant)
        shot(pg, tmp_path, "11_7_after_restart_citation_panel")
        _check_guard(pg, guard)
    pg, guard = _open(ui, DESKTOP)
    answer = timed_answer(pg, "How long did the Alaska meeting last?")
    assert "2 hours and 45 minutes" in answer.inner_text()
    note = tmp_path / "pier_notes.txt"
    note.write_text("Pier lights restored\n\nThe Dunmore pier lights were restored on Monday after a storm, "
                    f"the harbour office said in notice {time.time_ns()}.\n", encoding="utf-8")
    try:
        upload(pg, note)
    except AssertionError as e:  # the first server's own log is the only witness of why
        log = (ui["tmp"] / "chainlit.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"{e}\n--- chainlit.log (tail) ---\n{log}") from e
    assert "pier_notes.txt" in assistant_message(pg, "Added").inner_text()
    _check_guard(pg, guard)


def _rate_down(page, answer, comment: str | None = None) -> None:
    answer.hover()
    down = answer.locator("button").filter(has=page.locator("svg.lucide-thumbs-down")).first
    down.wait_for(timeout=10_000)
    assert down.is_enabled(), "the thumbs-down of the answer is disabled"
    down.click()
    if comment:
        page.locator("#submit-feedback").locator("xpath=../..").locator("textarea").fill(comment)
    page.locator("#submit-feedback").click()


def _thread_names(url: str) -> dict[str, str | None]:
    from assistant.feedback import report  # noqa: F401  (the same engine setup as the report)
    from concurrent.futures import ThreadPoolExecutor

    async def names():
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(text('SELECT "id", "name", "userIdentifier" FROM threads'))).all()
                return {str(r[0]): (r[1], r[2]) for r in rows}
        finally:
            await engine.dispose()

    import asyncio

    with ThreadPoolExecutor(max_workers=1) as ex:  # playwright's sync API runs an event loop of its own
        return ex.submit(asyncio.run, names()).result()


def test_a_chat_begun_with_an_upload_is_named_after_it_and_its_answers_can_be_rated(page, ui, tmp_path):
    """A first message that is only an attachment named the thread "Untitled Conversation" in the history
    (Chainlit names a thread after the first message's text), and the page, told the first interaction
    was "", kept the thumbs of every later answer in that chat disabled."""
    note = tmp_path / "tram_depot.txt"
    note.write_text("Tram depot reopens\n\nThe Orlov Street tram depot reopened on Wednesday after a fire, the "
                    f"transport office said in notice {time.time_ns()}.\n", encoding="utf-8")
    upload(page, note)
    assistant_message(page, "Added")
    name = "Add to the collection: tram_depot.txt"
    thread_id = page.evaluate("() => location.pathname").rpartition("/")[2]
    db = f"sqlite+aiosqlite:///{Path(ui['env']['ASSISTANT_INDEX_DIR']) / 'chat.sqlite3'}"
    deadline = time.monotonic() + 30
    while _thread_names(db).get(thread_id, (None,))[0] != name and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _thread_names(db).get(thread_id, (None,))[0] == name
    # The history lists it by that name, in this page and after a reload.
    page.locator("#thread-history a[href^='/thread/']", has_text=name).first.wait_for(timeout=30_000)
    assert page.locator("#thread-history", has_text="Untitled").count() == 0
    shot(page, tmp_path, "11_8_upload_first_named_in_history")

    answer = timed_answer(page, "When did the Orlov Street tram depot reopen?")
    _rate_down(page, answer)
    rows = ratings(ui, lambda rows: any(r.question == "When did the Orlov Street tram depot reopen?" for r in rows))
    assert any(r.question == "When did the Orlov Street tram depot reopen?" and r.value == 0 for r in rows)
    page.reload()
    page.wait_for_selector("#command-check", timeout=60_000)
    page.locator("#thread-history a[href^='/thread/']", has_text=name).first.wait_for(timeout=30_000)



def test_shared_deployment_keeps_chats_and_ratings_in_postgresql(ui, postgres, tmp_path, built_assistant):
    """ASSISTANT_DATABASE_URL at a real PostgreSQL server and ASSISTANT_CHAT_FILES_DIR at a shared folder
    (the README's shared newsroom deployment): one server stores the conversation, its citation panels and
    a rating there; a second server (another process, running at the same time) lists the thread in the
    history and opens its citation; the ratings report reads the rating from PostgreSQL."""
    from assistant.feedback import report

    url = create_database(postgres, "newsdesk")
    env = {**ui["env"], "ASSISTANT_DATABASE_URL": url, "ASSISTANT_CHAT_FILES_DIR": str(tmp_path / "shared_files")}
    question = "Where did Trump and Putin meet?"
    t0 = time.monotonic()
    with running_app(env, tmp_path / "chainlit-pg-1.log") as first, \
            running_app(env, tmp_path / "chainlit-pg-2.log") as second:
        started = time.monotonic() - t0
        guard: dict = {}
        pg = open_chat(ui["browser"], first, guard=guard)
        answer = timed_answer(pg, question)
        before = flat(answer.inner_text())
        _rate_down(pg, answer, comment="checking the shared store")
        deadline, rows = time.monotonic() + 30, []
        while time.monotonic() < deadline and not any(r.comment == "checking the shared store" for r in rows):
            rows = report(url)
            time.sleep(0.3)
        (row,) = [r for r in rows if r.comment == "checking the shared store"]
        assert (row.value, row.question) == (0, question) and "Sources\n[1] " in row.answer
        threads = _thread_names(url)
        assert [v for v in threads.values() if v[0] == question] == [(question, local_user())]
        assert list((tmp_path / "shared_files").rglob("*")), "no citation panel was stored in the shared folder"
        _check_guard(pg, guard)

        guard = {}
        pg = open_chat(ui["browser"], second, guard=guard)
        resumed = _open_from_history(pg, question)
        assert flat(resumed.inner_text()) == before
        # The reply's stored metadata (marker tooltip, copy) comes from PostgreSQL too.
        marker = resumed.locator("a.element-link", has_text="[1]").first
        marker.hover()
        pg.wait_for_function("el => el.getAttribute('title')", arg=marker.element_handle(), timeout=30_000)
        _panel_shows_the_cited_paragraph(pg, resumed, built_assistant)
        shot(pg, tmp_path, "11_7_postgresql_second_server_citation")
        _check_guard(pg, guard)
    # Nothing went to the default SQLite store beside the index (there only if the fixture's server made it).
    import sqlite3

    db = Path(ui["env"]["ASSISTANT_INDEX_DIR"]) / "chat.sqlite3"
    if db.exists():
        with sqlite3.connect(db) as con:
            if con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'feedbacks'").fetchone()[0]:
                assert con.execute("SELECT count(*) FROM feedbacks WHERE comment = 'checking the shared store'"
                                   ).fetchone() == (0,)
    with TIMINGS.open("a") as f:
        f.write(f"{started:.2f} s  two servers over PostgreSQL up\n")


def local_user() -> str:
    from assistant.ui import local_user_name

    return local_user_name()


def test_password_login_guards_the_chat(ui, tmp_path):
    """ASSISTANT_AUTH_PASSWORD: the chat asks for it; a wrong password does not get in."""
    env = {**ui["env"], "ASSISTANT_AUTH_PASSWORD": "newsroom-pass", "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
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
