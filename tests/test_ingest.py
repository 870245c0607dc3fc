"""Loading files: bad inputs reported one by one, formats, metadata precedence, paragraph numbering."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.ingest import count_tokens, discover, load_article, load_articles, sentence_spans, split_long
from assistant.models import UNKNOWN_OUTLET

DOCUMENTS = Path(__file__).resolve().parent.parent / "documents"
GOOD = "Headline of a good article\n\nThe first real paragraph of the article says something.\n\nA second paragraph follows it.\n"

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Leaders meet in Alaska for peace talks | The Example Herald</title>
<meta property="og:title" content="Leaders meet in Alaska for peace talks">
<meta property="og:site_name" content="The Example Herald">
<meta property="article:published_time" content="2025-08-15T09:30:00Z">
<meta name="author" content="Jane Doe">
<link rel="canonical" href="https://herald.example/world/alaska-talks">
</head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article>
<h1>Leaders meet in Alaska for peace talks</h1>
<p class="byline">By Jane Doe</p>
<p>The two presidents met at a military base in Anchorage on Friday for talks that lasted nearly three hours, officials said.</p>
<p>Neither side announced a ceasefire, but both described the meeting as constructive and said further talks were likely.</p>
<h2>What comes next</h2>
<p>European leaders said they would hold a call on Monday to discuss the outcome, and Kyiv asked to be included.</p>
<p>Analysts cautioned that the absence of a written agreement left the most difficult questions unresolved for now.</p>
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Ten celebrity diets</a></li><li><a href="/b">Weather warning issued</a></li></ul></aside>
<footer><p>© 2025 The Example Herald. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>
"""


@pytest.fixture
def settings():
    return Settings()


def write(folder: Path, name: str, data: str | bytes) -> Path:
    p = folder / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def reasons(skipped) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in skipped}


# ---- bad inputs: each reported with a clear reason, the rest of the batch still loads


def test_bad_files_are_reported_and_the_rest_loads(tmp_path):
    write(tmp_path, "a_good.txt", GOOD)
    write(tmp_path, "b_empty.txt", "  \n\t\n")
    write(tmp_path, "c_binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(tmp_path, "d_huge.txt", "Headline\n\n" + "Words in a sentence. " * 200)
    write(tmp_path, "e_copy.txt", GOOD)  # same bytes as a_good.txt
    write(tmp_path, "f_notes.pdf", b"%PDF-1.4")
    write(tmp_path, "g_headline_only.txt", "(Image: Getty)\n\nRead Entire Article\n")
    write(tmp_path, "z_last_good.md", "# Last one\n\nIt still loads after all the bad files above.\n")
    settings = Settings(max_file_bytes=2000)

    articles, skipped = load_articles([tmp_path, tmp_path / "missing.txt"], settings)

    assert [a.meta.source for a in articles] == ["a_good.txt", "z_last_good.md"]
    got = reasons(skipped)
    assert got["b_empty.txt"] == "empty file"
    assert got["c_binary.txt"] == "binary file"
    assert got["d_huge.txt"].startswith("file too large (") and "> limit 2000" in got["d_huge.txt"]
    assert got["e_copy.txt"] == "duplicate of a_good.txt"
    assert got["f_notes.pdf"].startswith("unsupported file type '.pdf'")
    assert got["g_headline_only.txt"] == "no article text"
    assert got["missing.txt"] == "file not found"


def test_control_character_garbage_is_binary_even_without_nul_bytes(tmp_path, settings):
    p = write(tmp_path, "noise.txt", bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 65, 66]) * 50)
    with pytest.raises(IngestError, match="binary file"):
        load_article(p, settings)


def test_unreadable_file_is_reported(tmp_path, settings, monkeypatch):
    locked = write(tmp_path, "locked.txt", GOOD)
    write(tmp_path, "open.txt", GOOD.replace("second", "other"))
    real_read = Path.read_bytes

    def read_bytes(self):  # chmod 0 does not stop root, so simulate what a normal user gets
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    articles, skipped = load_articles([tmp_path], settings)
    assert reasons(skipped) == {"locked.txt": "cannot read file: permission denied"}
    assert [a.meta.source for a in articles] == ["open.txt"]


def test_named_unsupported_and_missing_files_explained(tmp_path):
    csv = write(tmp_path, "data.csv", "a,b\n")
    files, skipped = discover([csv, tmp_path / "nope.md"])
    assert files == []
    assert reasons(skipped) == {
        "data.csv": "unsupported file type '.csv' (supported: .htm, .html, .markdown, .md, .txt)",
        "nope.md": "file not found",
    }


def test_discover_walks_folders_sorted_and_skips_hidden_manifest_readme(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b.txt", "a.md", "sub/c.html", ".hidden.txt", ".git/x.txt", "manifest.json", "README.md"):
        write(tmp_path, name, GOOD)
    files, skipped = discover([tmp_path, tmp_path / "a.md"])  # named twice: loaded once
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.md", "b.txt", "sub/c.html"]
    assert skipped == []
    files, _ = discover([tmp_path / "README.md"])  # explicitly named README is an article
    assert [f.name for f in files] == ["README.md"]


# ---- decoding


def test_cp1252_file_decodes_with_curly_quotes(tmp_path, settings):
    text = "Headline\n\n\u201cWe are ready,\u201d he said \u2013 in Moscow.\n"
    a = load_article(write(tmp_path, "cp.txt", text.encode("cp1252")), settings)
    assert a.paragraphs[0].text == "\u201cWe are ready,\u201d he said \u2013 in Moscow."


def test_latin1_fallback_when_cp1252_cannot_decode(tmp_path, settings):
    # 0x81 is undefined in cp1252, so only latin-1 decodes this; the stray control byte is dropped
    raw = "Headline\n\nThe caf\u00e9 in Z\u00fcrich hosted the talks on the treaty.\x81\n".encode("latin-1")
    a = load_article(write(tmp_path, "l1.txt", raw), settings)
    assert a.paragraphs[0].text == "The caf\u00e9 in Z\u00fcrich hosted the talks on the treaty."


def test_utf8_bom_is_not_part_of_the_title(tmp_path, settings):
    a = load_article(write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + GOOD.encode()), settings)
    assert a.meta.title == "Headline of a good article"


# ---- formats


def test_html_article_body_extracted_without_page_furniture(tmp_path, settings):
    a = load_article(write(tmp_path, "page.html", HTML_PAGE), settings)
    text = "\n".join(p.text for p in a.paragraphs)
    for junk in ("cookies", "Home", "Most read", "celebrity", "All rights reserved", "Privacy policy"):
        assert junk not in text
    assert [p.number for p in a.paragraphs] == [1, 2, 3, 4]
    assert a.paragraphs[0].text.startswith("The two presidents met at a military base in Anchorage")
    assert a.paragraphs[2].text.startswith("What comes next\nEuropean leaders said")
    assert a.meta.title == "Leaders meet in Alaska for peace talks"
    assert (a.meta.outlet, a.meta.author, a.meta.date) == ("The Example Herald", "Jane Doe", "2025-08-15")
    assert a.meta.url == "https://herald.example/world/alaska-talks"


def test_markdown_markup_is_stripped_and_words_kept(tmp_path, settings):
    md = ("# Talks *begin* in Alaska\n\nThe **two leaders** met on _Friday_, see [the report](https://x.example).\n"
          "It was a long day.\n\n![a photo](p.jpg)\n\n## Key Points\n\n- First point\n- Second `point`\n")
    a = load_article(write(tmp_path, "n.md", md), settings)
    assert a.meta.title == "Talks begin in Alaska"
    assert [p.text for p in a.paragraphs] == [
        "The two leaders met on Friday, see the report. It was a long day.",
        "Key Points\n• First point\n• Second point",
    ]


# ---- metadata


def test_front_matter_sets_metadata_and_is_not_text(tmp_path, settings):
    text = ("---\ntitle: Talks: the full story\noutlet: The Test Gazette\nauthor: A. Writer\ndate: 2025-08-16\n"
            "url: https://gazette.example/talks\n---\nTalks: the full story\n\nThe talks ran late into the night.\n")
    a = load_article(write(tmp_path, "fm.txt", text), settings)
    m = a.meta
    assert (m.title, m.outlet, m.author, m.date, m.url) == (
        "Talks: the full story", "The Test Gazette", "A. Writer", "2025-08-16", "https://gazette.example/talks")
    assert [p.text for p in a.paragraphs] == ["The talks ran late into the night."]


def test_manifest_beats_front_matter_beats_detection(tmp_path, settings):
    text = "---\noutlet: Front Matter Outlet\nauthor: FM Author\n---\nHeadline\n\nSupport SouthFront\n\nBody text here.\n"
    write(tmp_path, "x.txt", text)
    assert load_article(tmp_path / "x.txt", settings).meta.outlet == "Front Matter Outlet"
    write(tmp_path, "manifest.json", json.dumps({"x.txt": {"outlet": "Manifest Outlet", "date": None}}))
    m = load_article(tmp_path / "x.txt", settings).meta
    assert (m.outlet, m.author, m.date) == ("Manifest Outlet", "FM Author", None)


def test_unknown_outlet_and_no_invented_fields(tmp_path, settings):
    m = load_article(write(tmp_path, "plain.txt", GOOD), settings).meta
    assert (m.outlet, m.author, m.date, m.url, m.agency) == (UNKNOWN_OUTLET, None, None, None, None)


def test_bad_manifest_and_bad_date_cost_only_metadata_with_a_warning(tmp_path, settings):
    # Issue 13 item 10: an unreadable manifest or date is named; the article itself is still indexed.
    write(tmp_path, "a.txt", GOOD)
    write(tmp_path, "manifest.json", "{not json")
    a = load_article(tmp_path / "a.txt", settings)
    assert a.paragraphs and any("invalid manifest.json" in w for w in a.warnings)
    write(tmp_path, "manifest.json", json.dumps({"a.txt": {"date": "sometime in 2025"}}))
    a = load_article(tmp_path / "a.txt", settings)
    assert a.meta.date is None and any("not a date" in w for w in a.warnings)


def test_bundled_manifest_states_only_what_the_corpus_readme_knows():
    manifest = json.loads((DOCUMENTS / "manifest.json").read_text())
    assert sorted(manifest) == sorted(p.name for p in DOCUMENTS.glob("*.txt"))
    for entry in manifest.values():
        assert entry.get("date") is None and entry.get("url") is None
    assert manifest["003_8d4f28670e7e466b.txt"]["agency"] == "Reuters"


# ---- paragraphs


def test_long_paragraph_split_at_sentence_ends_keeps_its_number(tmp_path):
    sentences = [f"Sentence number {i} says that Mr. Smith of the U.S. delegation spoke for a while." for i in range(12)]
    text = "Headline\n\nShort opening paragraph.\n\n" + " ".join(sentences) + "\n\nClosing paragraph.\n"
    a = load_article(write(tmp_path, "long.txt", text), Settings(max_paragraph_tokens=60))
    long_parts = [p for p in a.paragraphs if p.number == 2]
    assert [p.part for p in long_parts] == list(range(1, len(long_parts) + 1)) and len(long_parts) > 1
    assert all(p.tokens <= 60 and p.tokens == count_tokens(p.text) for p in long_parts)
    assert all(p.text.endswith("while.") and p.text.startswith("Sentence number") for p in long_parts)
    assert " ".join(p.text for p in long_parts) == " ".join(sentences)  # nothing lost or changed
    assert [p.number for p in a.paragraphs if p.part == 1] == [1, 2, 3]


def test_sentence_spans_respect_abbreviations_and_quotes():
    text = "Mr. Smith met Dr. Jones in the U.S. on Monday. “Is it over?” he asked. Yes. The U.S. Army left."
    assert [text[s:e].strip() for s, e in sentence_spans(text)] == [
        "Mr. Smith met Dr. Jones in the U.S. on Monday.", "“Is it over?” he asked.", "Yes.", "The U.S. Army left."]
    assert split_long("One. Two.", 100) == ["One. Two."]


def test_bundled_paragraphs_are_numbered_contiguously_with_exact_tokens(settings):
    articles, skipped = load_articles([DOCUMENTS], settings)
    assert skipped == [] and len(articles) == 5
    for a in articles:
        numbers = sorted({p.number for p in a.paragraphs})
        assert numbers == list(range(1, len(numbers) + 1))
        assert all(p.text == p.text.strip() and p.text and p.tokens == count_tokens(p.text) for p in a.paragraphs)
        assert a.meta.source == Path(a.path).name and len(a.content_hash) == 64


def test_all_bundled_articles_load_fast(settings):
    load_articles([DOCUMENTS], settings)  # warm imports and the tokenizer
    start = time.perf_counter()
    load_articles([DOCUMENTS], settings)
    assert time.perf_counter() - start < 0.5


def test_library_prints_nothing(tmp_path, settings, capsys):
    write(tmp_path, "cp.txt", "Headline\n\nCaf\u00e9 talks \u2013 day two.\n".encode("cp1252"))
    load_articles([tmp_path, DOCUMENTS, tmp_path / "missing.txt"], settings)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_windows_line_endings_and_front_matter(tmp_path, settings):
    text = "---\r\noutlet: CRLF Times\r\n---\r\nHeadline\r\n\r\nFirst paragraph here.\r\n\r\nSecond one.\r\n"
    a = load_article(write(tmp_path, "crlf.txt", text), settings)
    assert a.meta.outlet == "CRLF Times" and a.meta.title == "Headline"
    assert [p.text for p in a.paragraphs] == ["First paragraph here.", "Second one."]


def test_one_sentence_txt_is_an_article_not_no_article_text(tmp_path, settings):
    # Issue 11.12: the only line used to become the headline, leaving nothing to index.
    p = write(tmp_path, "brief.txt", "The mayor said the bridge will reopen on Monday.\n")
    art = load_article(p, settings)
    assert [x.text for x in art.paragraphs] == ["The mayor said the bridge will reopen on Monday."]
    assert art.meta.title == "The mayor said the bridge will reopen on Monday."
    # A given title equal to the only paragraph keeps that paragraph too.
    md = write(tmp_path, "brief.md", "---\ntitle: Bridge reopens Monday\n---\nBridge reopens Monday\n")
    assert [x.text for x in load_article(md, settings).paragraphs] == ["Bridge reopens Monday"]
