"""The aligned comparison (claims/compare.py) and the text layer on sentences from several subjects:
what embeddings and word overlap call "the same sentence"."""
from __future__ import annotations

import pytest

from assistant.claims.compare import absent_names, conflicts, missing_amounts
from assistant.text import speaker_of


@pytest.mark.parametrize("claim,source,kind", [
    ("Apple reported revenue of $80 billion.", "Apple reported revenue of $90 billion.", "money"),
    ("The bank agreed to forfeit $50 million.", "The bank agreed to forfeit $500 million to the United States.", "money"),
    ("Sales fell 12% in March.", "Sales rose 12% in March.", "opposite"),
    ("Consumer prices fell two-tenths of a percent.", "Consumer prices rose two-tenths of a percent.", "opposite"),
    ("The forecast ranges were well below the seasonal average.", "These ranges are well above the seasonal average.",
     "opposite"),
    ("Liverpool beat Arsenal 3-1 on Sunday.", "Arsenal beat Liverpool 3-1 on Sunday.", "roles"),
    ("Chelsea won 2-0 against Spurs.", "Chelsea won 3-1 against Spurs.", "score"),
    ("Beijing does not welcome dialogue with Washington.", "China welcomes dialogue with Washington.", "negation"),
    ("The Geneva-based IMF projects three percent growth.", "The Washington-based agency projects three percent growth.",
     "place"),
])
def test_a_changed_part_is_a_conflict(claim, source, kind):
    found = conflicts(claim, source, source)
    assert any(f.startswith(kind) for f in found), found


@pytest.mark.parametrize("claim,source", [
    ("Apple reported revenue of $90 billion.", "Apple reported revenue of $90 billion, up 12%."),
    ("Liverpool beat Arsenal 3-1.", "Liverpool beat Arsenal 3-1 at Anfield."),
    ("The bridge reopened on Tuesday.", "The bridge reopened on Tuesday after repairs."),
    ("The US does not see NATO membership as realistic.", "The US does not see NATO membership for Kyiv as realistic."),
    ("Trump and Putin met in Alaska.", "The summit is taking place in Anchorage, Alaska."),
])
def test_the_same_facts_are_no_conflict(claim, source):
    assert conflicts(claim, source, source) == []


def test_amounts_must_be_stated_but_dates_and_names_need_not():
    assert missing_amounts("About 14,000 firefighters battled 25 wildfires in September 2020.",
                           "About 14,000 firefighters are battling 25 wildfires.") == []
    assert missing_amounts("Novartis agreed to pay $72.5 million.", "Novartis agreed to a settlement.") == ["$72.5 million"]


def test_a_claim_naming_what_the_article_never_mentions_is_about_another_event():
    article = "NOAA predicts an active 2013 Atlantic hurricane season with 13 to 20 named storms."
    assert absent_names("NOAA predicted 17 to 25 named storms for the 2024 season.", article)
    assert not absent_names("NOAA predicted 13 to 20 named storms for the 2013 season.", article)


@pytest.mark.parametrize("sentence,who", [
    ("Revenue rose 8%, said Tim Cook, Apple's chief executive.", "cook"),
    ("\"We will appeal,\" Judge Maria Lopez told the court.", "lopez"),
    ("According to the Labor Department, prices rose 0.1 percent.", "department"),
    ("Officials said the storm weakened overnight.", "official"),
    ("The coach said the team would recover.", "?"),
    ("He was asked about the transfer fee.", None),
])
def test_who_is_speaking_is_read_from_the_parse(sentence, who):
    assert speaker_of(sentence) == who
