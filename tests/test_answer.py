"""The extractive engine: quoted, cited, grouped by outlet; honest when the articles lack the answer."""
from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest

from assistant.answer import NOT_FOUND, Answerer
from assistant.answer_eval import citation_supported, evaluate, load_questions
from assistant.config import Settings
from assistant.answer.verify import split_marked

from .answer_fixtures import DATA, embedder, injection_passages, retrieve


@pytest.fixture(scope="module")
def answerer():
    return Answerer(Settings(), embedder())


def _plain(s: str) -> str:
    return re.sub(r"[\u2018\u2019\u201c\u201d'\"]", "'", s)


def test_who_said_what_is_quoted_verbatim_with_outlet_and_citation(answerer):
    ps = retrieve("What did Hegseth say about NATO?")
    ans = answerer.answer("What did Hegseth say about NATO?", ps)
    assert ans.answered and ans.engine == "extractive"
    assert "nato membership" in ans.text.lower() and "Hegseth" in ans.text
    assert "According to" in ans.text
    for sent in split_marked(ans.text)[0]:
        assert re.search(r"\[\d+\]", sent), f"uncited sentence: {sent}"
        for q in re.findall(r"\u201c([^\u201d]+)\u201d", re.sub(r"\(\u201c[^\u201d]*\u201d\)", "", sent)):
            assert any(_plain(q) in _plain(c.text) for c in ans.citations), f"not verbatim: {q}"
    assert [c.number for c in ans.citations] == list(range(1, len(ans.citations) + 1))
    assert all(citation_supported(s, p) for s, p in _pairs(ans))


def _pairs(ans):
    from assistant.answer_eval import cited_pairs

    return cited_pairs(ans)


def test_numbers_questions_pick_the_sentence_with_the_number(answerer):
    ans = answerer.answer("How many people were killed in the Russian attack on Sumy?",
                          retrieve("How many people were killed in the Russian attack on Sumy?"))
    assert ans.answered and "killed 35 people" in ans.text


@pytest.mark.parametrize("question", ["What did Xi Jinping say about the Alaska summit?",
                                      "How many people were killed in the Russian strike on Kharkiv?",
                                      "What is the capital of Australia?"])
def test_questions_the_articles_cannot_answer_are_declined_with_related_paragraphs(answerer, question):
    ans = answerer.answer(question, retrieve(question))
    assert not ans.answered and ans.text == NOT_FOUND
    assert not ans.citations and 1 <= len(ans.related) <= 3


def test_no_passages_at_all_is_a_plain_not_found(answerer):
    ans = answerer.answer("What did Hegseth say about NATO?", [])
    assert not ans.answered and ans.related == ()


def test_unknown_outlet_is_named_by_its_headline(answerer):
    q = "Why, in the blog's view, is Trump looking for a deal with Russia?"
    ans = answerer.answer(q, [p for p in retrieve(q, k=8) if p.outlet == "unknown"])
    assert ans.answered and ans.text.startswith("One article (\u201c")


def test_a_wire_copy_carried_by_two_outlets_is_cited_once_naming_both(answerer):
    q = "How much of Ukraine's territory does Russia control?"
    ps = retrieve(q)
    top = next(p for p in ps if "fifth" in p.text)
    copy = replace(top, id="copy", source="copy.txt", outlet="Example Times", agency=None)
    merged = replace(top, also_in=(copy,))
    ans = answerer.answer(q, [merged if p is top else p for p in ps])
    assert "Example Times" in ans.text
    assert sum(c.passage.id == top.id for c in ans.citations) == 1


def test_streaming_yields_the_same_verified_text(answerer):
    q = "How long did the Trump-Putin talks in Alaska last?"
    ps = retrieve(q)
    stream = answerer.stream(q, ps)
    chunks = list(stream)
    assert len(chunks) >= 1 and "".join(chunks) == stream.answer.text == answerer.answer(q, ps).text


def test_an_injected_instruction_in_an_article_changes_nothing(answerer):
    extra = injection_passages()
    q = "How many observers would the ceasefire monitoring mission have?"
    ans = answerer.answer(q, retrieve(q, extra=extra))
    assert ans.answered and "400 civilian observers" in ans.text
    assert "PWNED" not in ans.text and "Ignore your instructions" not in ans.text
    # An unrelated question is answered exactly as without the injected article.
    q2 = "What did Hegseth say about NATO?"
    with_inj = answerer.answer(q2, retrieve(q2, extra=extra)).text
    assert with_inj == answerer.answer(q2, retrieve(q2)).text


def test_extractive_latency_after_warm_up(answerer):
    qs = ["What did Hegseth say about NATO?", "Where did Trump and Putin meet?", "When did Trump take office?"]
    pss = [retrieve(q) for q in qs]
    answerer.answer(qs[0], pss[0])
    t = time.perf_counter()
    for q, ps in zip(qs, pss):
        answerer.answer(q, ps)
    assert (time.perf_counter() - t) / len(qs) < 1.0  # generous: CI machines are shared


ANSWER_K = None  # the product default (settings.answer_k)


@pytest.mark.e2e
def test_labelled_questions_meet_the_targets(built_assistant):
    """Targets from issue 4 over tests/data/questions.jsonl. Latency is measured on a second pass: the
    first warms the sentence-embedding cache, as a running service's would be."""
    items = load_questions(DATA / "questions.jsonl")
    a = built_assistant
    first_pass = [a.ask(it["question"], k=ANSWER_K) for it in items]
    answers, lat = [], []
    for it in items:
        t = time.perf_counter()
        answers.append(a.ask(it["question"], k=ANSWER_K))
        lat.append((time.perf_counter() - t) * 1000)
    assert [x.text for x in answers] == [x.text for x in first_pass]  # the cache changes no answer
    rep = evaluate(items, answers, a.answerer.checker, lat)
    print(rep.lines())
    assert rep.citation_precision >= 0.95, rep.failures
    assert rep.citation_recall >= 0.88, rep.failures
    assert rep.abstention_accuracy >= 0.88, rep.failures
    assert rep.fact_coverage >= 0.8, rep.failures
    assert rep.latency_p95_ms < 300, rep.lines()


# ---------------------------------------------------------------- reading paragraphs in their article

def _article_paragraphs(source: str):
    """What `Assistant.paragraphs` gives: every paragraph of one article, in order."""
    from .answer_fixtures import corpus

    return [p for p in corpus() if p.source == source]


@pytest.fixture(scope="module")
def reading_answerer():
    return Answerer(Settings(), embedder(), paragraphs=_article_paragraphs)


def test_a_quote_whose_speaker_the_previous_paragraph_names_is_found_and_attributed(reading_answerer):
    """The Express quotes Hegseth as "the former Fox News host said" right after a paragraph naming him:
    that quote is found although retrieval missed its paragraph, and the naming sentence comes with it."""
    q = "What did Hegseth say about NATO?"
    ps = retrieve(q, k=8)
    assert not any("former Fox News host" in p.text for p in ps)  # retrieval alone misses it
    ans = reading_answerer.answer(q, ps)
    text = _plain(ans.text)
    assert "The United States does not believe that NATO membership for Ukraine is a realistic outcome" in text
    quote_at = text.index("former Fox News host")
    assert "Hegseth" in text[:quote_at]  # the reader sees who the host is before the quote
    assert len({c.outlet for c in ans.citations}) >= 2  # several outlets answer: show who reports what
    assert all(citation_supported(s, p) for s, p in _pairs(ans))


def test_he_said_after_a_paragraph_naming_someone_else_is_not_credited_to_the_person_asked_about(reading_answerer):
    """“Hegseth's remark does not imply ...,” he said — “he” is Wertheim, named in the paragraph before."""
    q = "What did Hegseth say about NATO?"
    ans = reading_answerer.answer(q, retrieve(q, k=8))
    for sent in split_marked(ans.text)[0]:
        if "does not imply any US willingness" in sent:
            pytest.fail(f"Wertheim's words answered a question about Hegseth: {sent}")


def test_without_article_context_the_engine_still_answers(answerer):
    q = "What did Hegseth say about NATO?"
    ans = answerer.answer(q, retrieve(q, k=8))
    assert ans.answered and "Hegseth" in ans.text


def test_a_broken_paragraph_lookup_never_breaks_an_answer():
    def broken(source):
        raise RuntimeError("index closed")

    a = Answerer(Settings(), embedder(), paragraphs=broken)
    q = "How many people were killed in the Russian attack on Sumy?"
    assert "killed 35 people" in a.answer(q, retrieve(q)).text


@pytest.mark.parametrize("question", ["What did Hegseth say about NATO?",
                                      "Where are Trump and Putin meeting for their Alaska summit?",
                                      "What did Xi Jinping say about the Alaska summit?",
                                      "How much of Ukraine's territory does Russia control?"])
def test_streamed_and_plain_answers_are_the_same_answer(reading_answerer, question):
    ps = retrieve(question, k=8)
    stream = reading_answerer.stream(question, ps)
    chunks = list(stream)
    plain = reading_answerer.answer(question, ps)
    assert stream.answer == plain  # text, citations, related, dropped: all of it
    assert "".join(chunks) == plain.text


@pytest.mark.e2e
def test_labelled_questions_with_article_context_meet_the_targets(built_assistant):
    """The bundled set, read in article context (`paragraphs=Assistant.paragraphs`). Since the answer model
    was fitted on the held-out dev split (issue 10) it measures recall 0.91, abstention 0.91, facts 0.88
    (the rules tuned on this very set had 0.955 / 0.975 / 0.90, and 0.57 / 0.66 on dev)."""
    items = load_questions(DATA / "questions.jsonl")
    a = built_assistant
    eng = Answerer(a.settings, a.embedder, paragraphs=a.paragraphs)
    pss = [a.search(it["question"], k=a.settings.answer_k) for it in items]
    for it, ps in zip(items, pss):
        eng.answer(it["question"], ps)  # warm-up
    answers, lat = [], []
    for it, ps in zip(items, pss):
        t = time.perf_counter()
        answers.append(eng.answer(it["question"], ps))
        lat.append((time.perf_counter() - t) * 1000)
    rep = evaluate(items, answers, eng.checker, lat)
    print(rep.lines())
    assert rep.citation_precision >= 0.95, rep.failures
    assert rep.citation_recall >= 0.88, rep.failures
    assert rep.abstention_accuracy >= 0.88, rep.failures
    assert rep.fact_coverage >= 0.85, rep.failures
    assert rep.latency_p95_ms < 300, rep.lines()


@pytest.mark.parametrize("value,label,question,answers", [
    # a number the question already states is not its answer (economy, health, sport)
    ("162", "CARDINAL", "How many of the 162 banks are minority-owned?", False),
    ("as high as 2.9 million", "CARDINAL", "How many of the 2.9 million doses were boosters?", False),
    ("1.1 million", "CARDINAL", "How many of the 2.9 million doses were boosters?", True),
    # "First, ..." is a discourse marker, not a count; an ordinal answers a question about a place
    ("First", "ORDINAL", "How many goals did the striker score?", False),
    ("fourth", "ORDINAL", "In what place did she finish in the final?", True),
    # an amount of money does not answer "how many <things>"
    ("$8 billion", "MONEY", "How many companies received loans?", False),
    ("$8 billion", "MONEY", "How much money did the companies receive in loans?", True),
    # a vague date does not answer "On what date ...?", a weekday or a calendar date does
    ("this year", "DATE", "On what date did the fair open?", False),
    ("Aug. 25", "DATE", "On what date did the fair open?", True),
    ("Monday", "DATE", "On what date did the court rule?", True),
    ("later this month", "DATE", "When will the delegation arrive?", True),
])
def test_an_answer_value_must_say_what_the_question_does_not(value, label, question, answers):
    from assistant.answer.model import gives_new_value

    assert gives_new_value(value, label, question.lower()) is answers


def test_the_short_answer_is_the_value_the_question_asks_about():
    """The lead names the value hung on the question's own words, not the first of its kind in the quote;
    sentences from several subjects."""
    from assistant.answer.extractive import short_answer

    cases = [
        ("How many regions does Russia aim to incorporate?",
         "According to X, \u201cRussia already holds about a fifth of the country and aims to incorporate four "
         "regions in all\u201d [1].", "Four"),
        ("How many named storms did forecasters predict for the season?",
         "According to X, \u201cThere is a 70 percent chance of an above-normal season, with 13 to 20 named storms "
         "predicted\u201d [1].", "13 to 20"),
        ("How long did the talks last?",
         "According to X, \u201cThe talks, held in Geneva, lasted 2 hours and 45 minutes on Friday\u201d [1].",
         "2 hours and 45 minutes"),
    ]
    for question, verified, want in cases:
        assert short_answer(question, verified) == want, question
