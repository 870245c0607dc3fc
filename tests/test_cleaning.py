"""What a reader sees of each bundled article: boilerplate gone, the real sentences kept, in citable paragraphs."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import clean
from assistant.config import Settings
from assistant.ingest import load_article
from assistant.models import UNKNOWN_OUTLET

DOCUMENTS = Path(__file__).resolve().parent.parent / "documents"
FILES = {
    "000": "000_e00ab10b201d0fb9.txt",
    "001": "001_866bced0a86db7d9.txt",
    "002": "002_b5c46e7b5cf3c02d.txt",
    "003": "003_8d4f28670e7e466b.txt",
    "004": "004_cb0023525282eea4.txt",
}


@pytest.fixture(scope="module")
def bundled():
    settings = Settings()
    return {key: load_article(DOCUMENTS / name, settings) for key, name in FILES.items()}


@pytest.fixture(scope="module")
def without_manifest(tmp_path_factory):
    """The bundled files copied to a folder with no manifest.json: only the text can tell the outlet."""
    folder = tmp_path_factory.mktemp("bare")
    settings = Settings()
    out = {}
    for key, name in FILES.items():
        shutil.copy(DOCUMENTS / name, folder / name)
        out[key] = load_article(folder / name, settings)
    return out


def body(article) -> str:
    return "\n\n".join(p.text for p in article.paragraphs)


def paragraph_with(article, sentence: str):
    hits = [p for p in article.paragraphs if sentence in p.text]
    assert hits, f"{sentence!r} not kept in {article.meta.source}"
    return hits[0]


def test_000_express_captions_tags_and_links_gone_quotes_kept(bundled):
    a = bundled["000"]
    text = body(a)
    for junk in ("(Image: Getty)", "Read Entire Article", "2 weeks ago", "Pete Hegseth is the US Secretary of Defence"):
        assert junk not in text
    # tag lines ("Donald Trump" alone above a caption) are not paragraphs
    assert not any(p.text in {"Donald Trump", "Vladimir Putin", "Pete Hegseth"} for p in a.paragraphs)
    paragraph_with(a, "“The United States does not believe that NATO membership for Ukraine is a realistic "
                      "outcome of a negotiated settlement.\"")
    paragraph_with(a, "Donald Trump will soon sit down with Vladimir Putin")
    assert a.meta.title == "5 times Trump has caved to Putin as world waits for Alaska peace talks showdown"
    assert a.meta.outlet == "Daily Express" and a.meta.url is None and a.meta.date is None


def test_000_numbered_section_titles_are_attached_not_paragraphs(bundled):
    a = bundled["000"]
    p = paragraph_with(a, "3. Ruling out Nato membership for Ukraine BEFORE any peace talks")
    assert p.text.startswith("3. Ruling out Nato membership for Ukraine BEFORE any peace talks\nVladimir Putin has tried")
    later = paragraph_with(a, "Putin was granted his wish by US Defence Secretary Pete Hegseth")
    assert later.context == "3. Ruling out Nato membership for Ukraine BEFORE any peace talks"


def test_001_southfront_donations_and_comment_widget_gone(bundled):
    a = bundled["001"]
    text = body(a)
    for junk in ("2,500 $", "0 $", "Support SouthFront", "54 Comments", "JANUARY 2026", "Notify of",
                 "Click to see the full-size image", "MORE ON THE TOPIC", "View all comments", "Inline Feedbacks"):
        assert junk not in text
    paragraph_with(a, "“Multinational coalition forces are ready to act from day one of a ceasefire. "
                      "Military planning is complete,” he stated.")
    paragraph_with(a, "“The best guarantee that Russia won’t renew aggression is a strong Ukraine,”")
    assert a.meta.title.startswith("European Bureaucrats Are In Rush To Sabotage")
    # the last real paragraph survives the widget cut at the end
    assert "Therefore, by these declarations" in a.paragraphs[-1].text


def test_001_image_label_repeating_the_paragraph_above_is_dropped(bundled):
    a = bundled["001"]
    assert not any(p.text.startswith("British Defense Secretary John Healey\n") for p in a.paragraphs)
    assert all(p.context != "British Defense Secretary John Healey" for p in a.paragraphs)
    paragraph_with(a, "British Defense Secretary John Healey announced readiness to deploy British troops")


def test_001_lead_in_stays_with_the_quote_it_introduces(bundled):
    p = paragraph_with(bundled["001"], "He justified this with a power imbalance:")
    assert p.text.endswith("I advise Zelensky to make a deal.”")


def test_001_nbsp_normalised_words_unchanged(bundled):
    text = body(bundled["001"])
    assert "\u00a0" not in text and "  " not in text
    assert "Russian President Vladimir Putin at Elmendorf-Richardson military base" in text


def test_002_single_newline_paragraphs_and_key_points_list(bundled):
    a = bundled["002"]
    assert a.meta.title == "Trump-Putin Call begin talks on Peace in Ukraine"
    assert a.meta.outlet == UNKNOWN_OUTLET
    key_points = paragraph_with(a, "Key Points")
    assert key_points.text.startswith("Key Points\n• Trump’s Peace Talks:")
    assert key_points.text.count("\n• ") == 5
    paragraph_with(a, "Our view is that Trump is pivoting to Asia to face China.")
    # "Diplomatic Dynamics" heading is not a paragraph on its own: it leads the paragraph under it
    section = paragraph_with(a, "Diplomatic Dynamics\nThe potential meeting between Trump and Putin")
    assert section.context == "Diplomatic Dynamics"
    assert len({p.number for p in a.paragraphs}) >= 6


def test_003_straits_times_reuters_credits_gone_sentence_kept(bundled):
    a = bundled["003"]
    text = body(a)
    for junk in ("PHOTO: REUTERS", "Follow topic:", "Get ST's newsletters", "Sign up now"):
        assert junk not in text
    assert not text.rstrip().endswith("REUTERS")
    p = paragraph_with(a, "He said US troops would not be part of any security presence in Ukraine.")
    assert p.text == "He said US troops would not be part of any security presence in Ukraine."
    assert a.paragraphs[-1].text.endswith("I stand with Ukraine,” he posted on X.")
    assert (a.meta.outlet, a.meta.agency) == ("The Straits Times", "Reuters")
    assert len({p.number for p in a.paragraphs}) > 20  # one paragraph per line, not one blob


def test_004_at_a_glance_bullets_are_one_paragraph(bundled):
    a = bundled["004"]
    glance = paragraph_with(a, "At a Glance")
    assert glance.text.splitlines() == [
        "At a Glance",
        "• Putin expresses readiness to compromise with Trump on Ukraine",
        "• Russia controls about a fifth of Ukraine, aims to incorporate four regions",
        "• Trump promises swift conflict resolution, details remain undisclosed",
        "• Putin opposes major territorial concessions, insists Ukraine abandon NATO ambitions",
        "• War has caused significant casualties, displacement, and strained Russia-West relations",
    ]
    assert a.meta.outlet == UNKNOWN_OUTLET
    assert a.meta.title == "Putin Wants to Talk to Trump About Ukraine-What’s His ANGLE?"


def test_titles_are_metadata_not_paragraph_one(bundled):
    for a in bundled.values():
        assert a.paragraphs[0].text != a.meta.title
        assert a.meta.title not in a.paragraphs[0].text.splitlines()


def test_no_short_heading_is_its_own_paragraph(bundled):
    for a in bundled.values():
        for p in a.paragraphs:
            assert not clean._is_heading(p.text), (a.meta.source, p.text)


def test_outlet_and_agency_detected_from_text_without_manifest(without_manifest):
    got = {k: (a.meta.outlet, a.meta.agency) for k, a in without_manifest.items()}
    assert got == {
        "000": ("Daily Express", None),
        "001": ("SouthFront", None),
        "002": (UNKNOWN_OUTLET, None),
        "003": ("The Straits Times", "Reuters"),
        "004": (UNKNOWN_OUTLET, None),
    }


# ---- the rules on their own, on text from other sites


def test_general_rules_drop_widgets_from_any_site():
    text = ("Headline here\n\n3 days ago\n\nSubscribe to our newsletter for daily news\n\nA real paragraph about talks.\n\n"
            "Officials met (Photo: AFP)\n\nIMAGE: AP\n\nSupport BBC\n\nSupport Ukraine\n\n£5\n\nMARCH 12, 2024\n\n"
            "Continue reading\n\nThe last paragraph of the story, long enough to stay.\n\n10 Comments\n\nOldest\n\nJane\n\nok")
    cleaned = clean.strip_boilerplate(text).text
    kept = [line for line in cleaned.split("\n") if line]
    assert kept == ["Headline here", "A real paragraph about talks.", "Support Ukraine",
                    "The last paragraph of the story, long enough to stay."]


def test_signoff_only_at_the_end_and_only_agencies():
    c = clean.strip_boilerplate("Body text here.\n\nThe deal was signed, he said. AFP")
    assert c.agency == "AFP" and c.text.endswith("he said.")
    c = clean.strip_boilerplate("The REUTERS building is big.\n\nIt stands in London.")
    assert c.agency is None and "REUTERS building" in c.text
    assert clean.strip_boilerplate("WASHINGTON (Reuters) - Talks began.").agency == "Reuters"


def test_outlet_not_guessed_when_ambiguous_or_absent():
    assert clean.detect_outlet("An essay on Ukraine. Our view is that it matters.") is None
    assert clean.detect_outlet("Support SouthFront. Get ST's newsletters.") is None  # two outlets: don't pick


def test_blank_line_vs_single_newline_detection():
    prose = "This is a long enough line of prose to count here."
    assert clean.uses_blank_lines(f"{prose}\n\n{prose}\n\n{prose}")
    assert not clean.uses_blank_lines(f"{prose}\n{prose}\n{prose}\n")


def test_hard_wrapped_text_is_rejoined_into_its_paragraphs():
    """PDF extractions and fixed-column wire copy: no blank lines, one printed line per row."""
    from assistant.clean import units

    wrapped = (
        "WASHINGTON - The Treasury announced that it was opening the application process for the\n"
        "program, a new initiative designed to support access to capital in communities that have\n"
        "struggled the most during the crisis. The program will ultimately invest $9 billion in\n"
        "community lenders, supporting their efforts to provide financial products for small and\n"
        "minority-owned businesses.\n"
        "The striker scored twice in the second half as the home side came back from two goals down to\n"
        "win the cup final, the club's first trophy in more than a decade, in front of a record crowd of\n"
        "60,000 at the national stadium on Saturday evening.\n"
        "Researchers at the university said the new telescope would begin observations next year, once the\n"
        "mirror segments have been aligned and tested.\n"
    )
    out = units(wrapped)
    assert len(out) == 3
    assert out[0].endswith("minority-owned businesses.") and "the program, a new" in out[0]
    assert out[1].startswith("The striker") and "60,000 at the national stadium" in out[1]
    # lines that are paragraphs stay paragraphs
    lines = ["Shares rose 5% on Monday after the company beat forecasts.",
             "The central bank left rates unchanged, citing steady inflation.",
             "Analysts expect a cut in the spring, according to a survey.",
             "The index closed at a record high for the third day running.",
             "Oil prices fell for a second week as supplies rose."]
    assert units("\n".join(lines)) == lines
