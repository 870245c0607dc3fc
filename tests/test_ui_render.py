"""The chat UI's rendering helpers (assistant/ui.py), without a browser: escaping, the offline page, the
welcome and filter lines, the claim table, the starters. tests/test_ui_browser.py checks the same things
on the real page."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant import ui
from assistant.models import Citation, ClaimCheck, Passage, SourceInfo, SourceVerdict

ROOT = Path(__file__).resolve().parent.parent
ASCII_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _unescape(md: str) -> str:
    """What the page shows, less the invisible word joiners that keep URLs from becoming links."""
    return re.sub(r"\\(.)", r"\1", md).replace("\u2060", "")


@pytest.mark.parametrize("text", ["[petition](javascript:alert(1))", "![pixel](http://host/track.png)",
                                  "see x:word and :alert", "a_b*c* `code` <b>x</b> | ~y~ $z$ https://e.org a@b.org"])
def test_article_text_is_escaped_so_every_character_is_literal(text):
    md = ui.md_escape(text)
    assert _unescape(md) == text
    # every ASCII punctuation mark is backslash-escaped: no directive (":alert"), link, image or HTML
    assert md.replace("\u2060", "") == "".join("\\" + c if c in ASCII_PUNCT else c for c in text)
    shown = re.sub(r"\\(.)", r"\1", md)  # joiners kept: GFM links these even when escaped
    assert "://" not in shown and "www." not in shown.lower() and re.search(r"(?<!\u2060)@", shown) is None


def test_streamed_chunks_are_escaped_like_the_final_answer():
    chunk = "The mayor signed ![pixel](http://host/track.png) on Monday [1]."
    md = ui.md_escape_stream(chunk)
    assert "![" not in md and "](" not in md and "http://" not in md
    assert "[1]" in md  # the marker stays readable
    assert _unescape(md.replace("[1]", "")) == chunk.replace("[1]", "")


def test_streaming_a_marker_or_link_split_across_chunks_stays_literal():
    chunks = ["signed ![pix", "el](http://ho", "st/t.png) [", "1] ok"]
    joined = "".join(ui.md_escape_stream(c) for c in chunks)
    assert "![" not in joined and "](" not in joined


def test_zero_width_space_does_not_become_chainlits_streaming_cursor():
    assert "\u200b" not in ui.md_escape("a\u200bb")


def test_the_page_loads_no_web_font_or_katex_from_a_cdn():
    from chainlit.server import build_dir

    html = (Path(build_dir) / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" in html and "cdn.jsdelivr.net" in html  # what Chainlit ships
    cleaned = ui.offline_page(html)
    assert not re.search(r"https?://", re.sub(r'<meta[^>]*>', "", cleaned))
    assert "/assets/index-" in cleaned  # the app itself is still loaded


def test_footer_names_the_engine_and_does_not_warn_about_llms_when_none_is_used():
    extractive = ui.engine_note(SimpleNamespace(uses_llm=False, llm_model="m"))
    assert "Extractive" in extractive and "LLM" in extractive and "mistakes" not in extractive
    llm = ui.engine_note(SimpleNamespace(uses_llm=True, llm_model="llama3.1"))
    assert "llama3.1" in llm


def test_translation_footer_is_replaced():
    from chainlit.config import config

    t = config.load_translation("en-US")
    assert "LLMs can make mistakes" not in t["chat"]["watermark"]


def _info(source, outlet, date=None, agency=None, title="T"):
    return SourceInfo(source=source, outlet=outlet, title=title, paragraphs=3, tokens=90, date=date, agency=agency)


SOURCES = [_info("a.txt", "Daily Planet", "2025-03-04"), _info("b.txt", "Daily Planet"),
           _info("c.txt", "The Bugle"), _info("d.txt", "unknown"), _info("e.txt", "The Bugle", "2025-05-01")]


def test_welcome_says_what_is_indexed_with_the_undated_counted():
    text = ui.collection_summary(ui.corpus_facts(SOURCES))
    assert text.startswith("5 articles from 2 named outlets (Daily Planet, The Bugle), 1 with the outlet unknown")
    assert "published 2025-03-04 to 2025-05-01, 3 of 5 undated" in text
    one = ui.collection_summary(ui.corpus_facts([_info("a", "X", "2025-03-04"), _info("b", "X")]))
    assert "published 2025-03-04, 1 of 2 undated" in one
    assert "no publication dates are known" in ui.collection_summary(ui.corpus_facts(SOURCES[1:4]))


def test_filter_line_names_the_filters_and_what_they_leave_out():
    assert ui.filter_line({"k": 5, "engine": "extractive"}, SOURCES) is None
    line = _unescape(ui.filter_line({"outlet": ["The Bugle"]}, SOURCES))
    assert line == "Filters: only The Bugle — 3 of 5 articles left out."
    line = _unescape(ui.filter_line({"date_from": "2025-03-01", "date_to": "2025-03-31"}, SOURCES))
    assert line == "Filters: published 2025-03-01 to 2025-03-31 — 4 of 5 articles left out (3 undated)."


def _passage(source, text, n=1, outlet="The Bugle", title="Talks end"):
    return Passage(id=f"{source}-{n}", source=source, outlet=outlet, title=title, paragraph=n, text=text)


LONG = ("The meeting, held in a three-on-three format (Russian delegation: three ministers; US delegation: three "
        "secretaries), lasted a record-breaking 2 hours and 45 minutes, longer than any previous summit of the two "
        "countries, observers said.")


def test_claim_table_shows_the_deciding_words_and_groups_silent_articles():
    ev = Citation(1, _passage("a.txt", LONG), LONG)
    verdicts = (SourceVerdict("a.txt", "The Bugle", "Talks end", "contradicts", 0.9, (ev,)),
                SourceVerdict("b.txt", "Daily Planet", "Other news", "not_mentioned", 0.0, (), reason="no sentence"),
                SourceVerdict("c.txt", "unknown", "Third", "not_mentioned", 0.0, (), reason="no sentence"))
    check = ClaimCheck("The meeting lasted more than five hours", ("x",), verdicts, "Contradicted by 1 source")
    md, cits = ui.claim_markdown(check, filters="Filters: only x")
    assert len(cits) == 1
    rows = [line for line in md.splitlines() if line.startswith("| **")]
    assert len(rows) == 1  # one row per source taking a side
    assert "2 hours and 45 minutes" in _unescape(rows[0])
    assert "<br>" not in md  # HTML is off: it would show as text
    assert rows[0].startswith("| **The Bugle** — *Talks end* |")
    assert "Not mentioned by 2 articles: Daily Planet" in _unescape(md)
    assert "Filters: only x" in md


def test_evidence_excerpt_keeps_the_number_of_a_long_quote():
    long = "Observers noted many things about the talks in great detail, " * 4 + LONG
    out = ui.evidence_excerpt(long, "The meeting lasted more than five hours", width=160)
    assert "2 hours and 45 minutes" in out and out.startswith("…") and len(out) <= 165


def test_refusal_panel_does_not_call_a_related_paragraph_cited():
    p = _passage("a.txt", "Something close to the question.")
    panel = ui.citation_panel(Citation(1, p, ""), [p], cited=False)
    assert "cited" not in panel.replace("not cited", "")
    assert "possibly related" in panel
    assert "cited" in ui.citation_panel(Citation(1, p, "Something close"), [p])


def test_sources_list_gives_date_and_link_when_known():
    p = Passage(id="x", source="a.txt", outlet="The Bugle", title="Talks end", paragraph=2, text="t",
                date="2025-03-04", url="https://bugle.example/talks")
    block = ui.sources_block([Citation(1, p, "t")])
    assert "2025\\-03\\-04" in block and "[original](https://bugle.example/talks)" in block
    bad = ui.article_ref("T", None, "javascript:alert(1)")
    assert "javascript" not in bad


def test_starters_made_from_headlines_carry_no_markup():
    title = "![t](http://host/title.png) Zorbland counts its votes after a long night"
    fake = SimpleNamespace(
        sources=lambda: [_info("z.txt", "The Bugle", title=title)],
        ask=lambda q: SimpleNamespace(answered=False, citations=()),
        check_claim=lambda c: SimpleNamespace(  # only the headline's own article supports it
            verdicts=[SimpleNamespace(stance="supports" if "Zorbland" in c else "not_mentioned")]))
    picked = ui._verified_starters(fake)
    assert picked and all("http" not in s["message"] and "![" not in s["message"] and "…" not in s["label"]
                          for s in picked)
    assert picked[0]["message"] == "/check t Zorbland counts its votes after a long night"


def test_curated_starters_are_questions_or_claims_not_cut_headlines():
    import json

    items = json.loads((ROOT / "public" / "starters.json").read_text(encoding="utf-8"))
    assert len(items) >= 4
    for item in items:
        assert not item["label"].endswith("…") and len(item["label"]) <= 45
        assert item["message"].endswith("?") or item["message"].startswith("/check ")


def test_no_emoji_in_the_readme_or_the_ui_strings():
    emoji = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
    for path in (ROOT / "chainlit.md", ROOT / "assistant" / "ui.py", ROOT / "public" / "newsdesk.js"):
        assert not emoji.findall(path.read_text(encoding="utf-8")), path


# ---------------------------------------------------------------- issue 11.6/11.7: copy, tooltips, sign-in
def test_copied_answer_is_plain_text_with_its_sources_as_footnotes():
    from assistant.models import Answer

    p = Passage(id="x", source="a.txt", outlet="The Bugle", title="Talks  end (again)", paragraph=2,
                text="He said (in Kyiv) a cease-fire was off.", date="2025-03-04T10:00:00",
                url="https://bugle.example/talks")
    q = _passage("b.txt", "Another paragraph.", n=7, outlet="unknown", title="Other")
    ans = Answer("q?", "He said (in Kyiv) a cease-fire was off [1]. It was another [2].", answered=True,
                 citations=(Citation(1, p, "He said (in Kyiv) a cease-fire was off."), Citation(2, q, "Another")))
    shown = ui.answer_markdown(ans, ui.filter_line({"outlet": ["The Bugle"]}, SOURCES))
    assert "**Sources**" in shown and "\\(" in shown  # the page: escaped Markdown with the grouped sources
    copied = ui.copy_text(ui.answer_markdown(ans, ui.filter_line({"outlet": ["The Bugle"]}, SOURCES),
                                             sources=False), ans.citations)
    assert copied == ("Filters: only The Bugle — 3 of 5 articles left out.\n\n"
                      "He said (in Kyiv) a cease-fire was off [1]. It was another [2].\n\nSources\n"
                      "[1] The Bugle, “Talks end (again)”, paragraph 2, 2025-03-04, https://bugle.example/talks\n"
                      "[2] Outlet unknown, “Other”, paragraph 7")


def test_marker_tooltips_preview_the_cited_sentence():
    p = _passage("a.txt", "First sentence here. The cited sentence is this one.", n=4)
    tips = ui.previews([Citation(1, p, "The cited sentence is this one.")])
    assert tips == {"1": "The Bugle, ¶4: “The cited sentence is this one.”"}
    related = ui.previews([Citation(1, p, "")], cited=False)  # a refusal: the paragraph, nothing "cited"
    assert related["1"].startswith("The Bugle, ¶4: “First sentence here.")


def test_sign_in_is_the_local_user_on_this_machine_and_a_form_or_header_for_a_newsroom():
    none = SimpleNamespace(auth_password=None, auth_header=None)
    assert ui.auth_mode(none, host="127.0.0.1") == "local"
    assert ui.auth_mode(none, host="0.0.0.0") is None  # no silent shared identity on a network
    assert ui.auth_mode(SimpleNamespace(auth_password="pw", auth_header=None), host="0.0.0.0") == "password"
    assert ui.auth_mode(SimpleNamespace(auth_password=None, auth_header="X-User"), host="0.0.0.0") == "header"
    assert ui.local_user_name()
