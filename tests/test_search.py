"""Hybrid search over the bundled articles, as a user of `Assistant.search` sees it."""
from __future__ import annotations

import pytest

from assistant.errors import QuestionError


def test_hits_carry_everything_needed_to_cite(built_assistant):
    hits = built_assistant.search("What did Hegseth say about NATO?", k=5)
    assert 1 <= len(hits) <= 5
    for p in hits:
        assert p.outlet and p.title and p.source.endswith(".txt")
        assert p.paragraph >= 1 and p.text.strip()
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_quote_whose_speaker_is_named_in_the_previous_paragraph_is_found(built_assistant):
    # The Express quotes Hegseth as "the former Fox News host"; his name is in the paragraph before.
    hits = built_assistant.search("What did Hegseth say about NATO membership for Ukraine?", k=5)
    assert any("does not believe that NATO membership for Ukraine" in p.text for p in hits)


def test_outlet_filter_only_returns_that_outlet(built_assistant):
    hits = built_assistant.search("Hegseth Nato membership", k=5, outlet="The Straits Times")
    assert hits and {p.outlet for p in hits} == {"The Straits Times"}
    both = built_assistant.search("Trump Putin", k=8, outlet=["Daily Express", "SouthFront"])
    assert both and {p.outlet for p in both} <= {"Daily Express", "SouthFront"}


def test_unknown_outlet_is_an_error_that_lists_the_known_ones(built_assistant):
    with pytest.raises(QuestionError, match="Known outlets: .*Daily Express"):
        built_assistant.search("Trump", outlet="The New York Times")


def test_outlet_names_ignore_case_and_an_agency_selects_its_articles(built_assistant):
    hits = built_assistant.search("Hegseth Nato membership", k=5, outlet="straits times")
    assert hits and {p.outlet for p in hits} == {"The Straits Times"}
    wire = built_assistant.search("Hegseth Nato membership", k=5, outlet="reuters")
    assert wire and {p.agency for p in wire} == {"Reuters"}
    assert built_assistant.search("Hegseth", outlet="Reuters", source="000_e00ab10b201d0fb9.txt") == []


def test_malformed_dates_are_an_error_not_ignored(built_assistant):
    with pytest.raises(QuestionError, match="2025-08-15"):
        built_assistant.search("Trump Putin", date_from="yesterday")


def test_date_filter_excludes_undated_articles(built_assistant):
    # No bundled article has a known date, so a date range cannot match any of them.
    assert built_assistant.search("Trump Putin Alaska", date_from="2025-01-01") == []


def test_source_filter(built_assistant):
    hits = built_assistant.search("minerals deal", k=3, source="003_8d4f28670e7e466b.txt")
    assert hits and {p.source for p in hits} == {"003_8d4f28670e7e466b.txt"}


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_retriever_finds_the_alaska_base(built_assistant, mode):
    hits = built_assistant.search("Where in Alaska was the Trump Putin summit held?", k=5, mode=mode)
    assert any("Elmendorf-Richardson" in p.text for p in hits)


def test_empty_and_enormous_questions_are_rejected_with_a_reason(built_assistant):
    with pytest.raises(QuestionError, match="empty"):
        built_assistant.search("   ")
    with pytest.raises(QuestionError, match="limit"):
        built_assistant.search("Nato " * 2000)


def test_sources_lists_the_five_articles(built_assistant):
    rows = built_assistant.sources()
    assert len(rows) == 5
    by_file = {r.source: r for r in rows}
    assert by_file["000_e00ab10b201d0fb9.txt"].outlet == "Daily Express"
    assert by_file["003_8d4f28670e7e466b.txt"].agency == "Reuters"
    assert by_file["002_b5c46e7b5cf3c02d.txt"].outlet == "unknown"
    assert all(r.paragraphs > 3 and r.tokens > 100 for r in rows)
    # Never invented: the corpus states no dates or URLs.
    assert all(r.date is None and r.url is None for r in rows)


def test_paragraphs_of_an_article_come_in_order(built_assistant):
    paras = built_assistant.paragraphs("003_8d4f28670e7e466b.txt")
    numbers = [p.paragraph for p in paras]
    assert numbers == sorted(numbers) and numbers[0] == 1
    assert any("He said US troops would not be part of any security presence" in p.text for p in paras)
