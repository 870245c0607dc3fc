"""The citation check: markers, support, correction, dropping, renumbering, calibration examples."""
from __future__ import annotations

import pytest

from assistant.verify import CitationChecker, render, split_marked, strip_markers, verify

from .answer_fixtures import corpus, embedder


@pytest.fixture(scope="module")
def checker():
    return CitationChecker(embedder())


def find(snippet: str):
    return next(p for p in corpus() if snippet in p.text)


@pytest.fixture(scope="module")
def passages():
    return [find("lasted a record-breaking"),  # [1] SouthFront, Alaska talks
            find("does not believe that NATO membership for Ukraine"),  # [2] Express, Hegseth
            find("Russia occupies around a fifth of Ukraine")]  # [3] Straits Times


def test_markers_are_parsed_and_rendered_before_the_full_stop():
    assert strip_markers("Hegseth ruled it out [2][3].") == ("Hegseth ruled it out.", [2, 3])
    assert strip_markers("Two sources agree. [1, 3]") == ("Two sources agree.", [1, 3])
    assert render("He said “no.”", [1]) == "He said “no.” [1]."
    assert render("Is it over?", [2]) == "Is it over [2]?"


def test_llm_text_splits_into_sentences_with_their_markers():
    text = "Mr. Hegseth spoke in Brussels [1]. He said “No. Never.” [2] Trump backs Ukraine. [3] Next"
    done, rest = split_marked(text, final=False)
    assert done == ["Mr. Hegseth spoke in Brussels [1].", "He said “No. Never.” [2]", "Trump backs Ukraine. [3]"]
    assert rest.strip() == "Next"


def test_supported_sentences_keep_their_citation_and_are_renumbered(checker, passages):
    v = verify("The Alaska talks lasted 2 hours and 45 minutes [1]. Russia occupies about a fifth of "
               "Ukraine [3].", passages, checker)
    assert v.text == ("The Alaska talks lasted 2 hours and 45 minutes [1]. Russia occupies about a fifth of "
                      "Ukraine [2].")
    assert [c.passage for c in v.citations] == [passages[0], passages[2]]
    assert not v.dropped


def test_a_wrong_citation_is_corrected_to_the_supporting_paragraph(checker, passages):
    v = verify("Hegseth said NATO membership for Ukraine is not a realistic outcome of a negotiated settlement [1].",
               passages, checker)
    assert v.citations[0].passage == passages[1]
    assert v.text.endswith("[1].") and v.corrected


def test_invalid_numbers_and_missing_citations_are_fixed_or_dropped(checker, passages):
    v = verify("Russia occupies around a fifth of Ukraine [9]. The summit was held on the Moon [2]. "
               "Putin and Trump met for a record-breaking 2 hours and 45 minutes in Alaska.", passages, checker)
    assert "[9]" not in v.text and "Moon" not in v.text
    assert v.dropped == ["The summit was held on the Moon."]
    assert len(v.sentences) == 2 and all(s.rstrip(".").endswith("]") for s in v.sentences)


def test_a_changed_number_is_not_supported(checker, passages):
    v = verify("The Alaska talks lasted 3 hours and 45 minutes [1].", passages, checker)
    assert not v.sentences and v.dropped


# Calibration: faithful paraphrases must pass; a sentence checked against the most similar paragraph
# that does not state it must fail. (Examples written against the bundled articles.)
PARAPHRASES = [
    ("lasted a record-breaking", "The meeting in Alaska lasted longer than any previous Russia-U.S. summit in recent years."),
    ("does not believe that NATO membership", "The US does not believe NATO membership for Ukraine is a realistic outcome."),
    ("Russia occupies around a fifth", "Russia has demanded that Kyiv cede territory and become permanently neutral."),
    ("Biden handed out money like candy", "Trump criticized financial support for Kyiv under Biden."),
    ("three-quarters of the 193-member", "Three-quarters of the 193-member UN General Assembly voted to denounce the invasion."),
    ("John Healey announced readiness", "John Healey announced that British troops were ready to deploy to Ukraine."),
    ("does not believe that NATO membership", "He spoke before a meeting of the Ukraine Defence Contact Group."),
]
UNSUPPORTED = [
    ("lasted a record-breaking", "Trump and Putin signed a peace deal in Alaska."),
    ("does not believe that NATO membership", "Hegseth said Ukraine would join NATO next year."),
    ("Russia occupies around a fifth", "Ukraine has agreed to give up Crimea."),
    ("John Healey announced readiness", "France pledged 10,000 troops to the Coalition of the Willing."),
    ("Biden handed out money like candy", "Biden said Europe should stop funding Ukraine."),
    ("does not believe that NATO membership", "Hegseth said NATO membership for Ukraine is a realistic outcome."),
    ("Russia occupies around a fifth", "Russia has not demanded that Kyiv cede territory."),
]


@pytest.mark.parametrize("snippet,sentence", PARAPHRASES)
def test_faithful_paraphrases_are_supported(checker, snippet, sentence):
    s = checker.support(sentence, find(snippet))
    assert checker.supports(s), s


@pytest.mark.parametrize("snippet,sentence", UNSUPPORTED)
def test_unsupported_statements_are_rejected(checker, snippet, sentence):
    s = checker.support(sentence, find(snippet))
    assert not checker.supports(s), s
