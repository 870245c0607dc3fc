"""Property-based tests (hypothesis) for the input edges of issue 13: what any user or any scraped file can
send in - question text, k, bytes of any encoding, dates, front matter, text for the browser, text to split.
Each property is a promise the code states in its docstring; hypothesis looks for a counter-example.
No model is loaded: these are unit tests of pure functions (a few seconds in all)."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assistant.api import MAX_K, check_k, clean_text_input
from assistant.errors import QuestionError
from assistant.ingest import count_tokens, decode, decode_mixed, normalize_date, split_front_matter, split_long
from assistant.errors import IngestError

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# ------------------------------------------------------------------ questions
@SETTINGS
@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_any_question_text_becomes_clean_utf8(text):
    """Lone surrogates, invalid UTF-8 (surrogate-escaped), control characters: never a TypeError later."""
    out = clean_text_input(text)
    assert isinstance(out, str)
    out.encode("utf-8")  # no lone surrogate survives
    assert not CONTROLS.search(out)


@SETTINGS
@given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=200))
def test_ordinary_question_text_is_unchanged(text):
    assert clean_text_input(text) == text


@SETTINGS
@given(st.binary(max_size=300))
def test_question_bytes_are_decoded(raw):
    out = clean_text_input(raw)
    out.encode("utf-8")
    assert not CONTROLS.search(out)


@SETTINGS
@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(), st.text(max_size=5)))
def test_k_is_a_whole_number_in_range_or_a_clear_error(k):
    if k is None:
        assert check_k(k, 7) == 7
    elif isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= MAX_K:
        assert check_k(k, 7) == k
    else:
        with pytest.raises(QuestionError, match="whole number"):
            check_k(k, 7)


# ------------------------------------------------------------------ file bytes
@SETTINGS
@given(st.text(max_size=300))
def test_utf8_text_decodes_to_itself(text):
    assert decode_mixed(text.encode("utf-8")) == text


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), st.text(alphabet="abcé€ü’“” .", max_size=20)), max_size=12))
def test_mixed_utf8_and_cp1252_stretches_keep_every_letter(pieces):
    """A UTF-8 file with pasted cp1252 stretches: each stretch reads as written (no mojibake), as long as
    a cp1252 stretch is not itself valid UTF-8 (then it cannot be told apart, and UTF-8 wins)."""
    raw = b"".join(t.encode("cp1252") if legacy else t.encode("utf-8") for legacy, t in pieces)
    expected = "".join(t for _, t in pieces)
    out = decode_mixed(raw)
    assert len(out) <= len(raw)
    if all(not legacy or not re.search(rb"[\x80-\xff]", t.encode("cp1252")) for legacy, t in pieces):
        assert out == expected


@SETTINGS
@given(st.binary(max_size=500))
def test_any_bytes_decode_or_are_refused_by_name(raw):
    try:
        text, encoding = decode(raw, "x.txt")
    except IngestError as e:
        assert "x.txt" in str(e)
        return
    assert text.strip() and encoding


@SETTINGS
@given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=200)
       .filter(lambda t: t.strip()),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]), st.booleans())
def test_boms_and_crlf_decode_to_the_text(text, codec, crlf):
    body = text.replace("\n", "\r\n") if crlf else text
    decoded, _ = decode(body.encode(codec), "x.txt")
    assert decoded == body


# ------------------------------------------------------------------ metadata
@SETTINGS
@given(st.text(max_size=40))
def test_any_date_string_is_iso_or_dropped_with_a_warning(value):
    warnings: list[str] = []
    out = normalize_date(value, "x.txt", warnings)
    assert out is None or re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", out)
    if out is None and value.strip():
        assert warnings


@SETTINGS
@given(st.dates(min_value=__import__("datetime").date(1900, 1, 1), max_value=__import__("datetime").date(2100, 12, 31)),
       st.sampled_from(["%Y-%m-%d", "%B %d, %Y", "%d %b %Y", "%Y-%m-%dT10:00:00Z"]))
def test_written_dates_are_read(d, fmt):
    assert normalize_date(d.strftime(fmt)) == d.isoformat()


@SETTINGS
@given(st.text(max_size=300))
def test_front_matter_never_loses_text(text):
    meta, rest = split_front_matter(text)
    if not meta:
        assert rest == text
    else:
        assert rest in text


# ------------------------------------------------------------------ splitting
SENTENCE = st.builds(lambda w, end: " ".join(w).capitalize() + end,
                     st.lists(st.sampled_from(["the", "port", "council", "said", "A.", "Mr.", "U.S.", "3.5",
                                               "million", "on", "Friday", "e.g.", "“quoted”"]), min_size=1,
                              max_size=30),
                     st.sampled_from([".", "!", "?", "", "...", ".\n"]))


@SETTINGS
@given(st.lists(SENTENCE, min_size=1, max_size=60), st.integers(min_value=8, max_value=80))
def test_split_long_keeps_every_word_in_order_within_the_budget(sentences, budget):
    text = " ".join(sentences)
    parts = split_long(text, budget)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    for p in parts:
        assert p in text  # exact text, never rewritten
        assert count_tokens(p) <= 4 * budget + 4 or len(p.split()) == 1


# ------------------------------------------------------------------ text for the browser
@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("![]()<>*_`#:/.wh@ ptsx\\\n")), max_size=120))
def test_escaped_article_text_has_no_live_markup(text):
    from assistant.ui import md_escape

    out = md_escape(text)
    unescaped = re.sub(r"\\.", "", out)  # what is left once every escaped character is taken out
    assert not re.search(r"[<>\[\]()!*_`#]", unescaped)
    assert "://" not in out.replace("\u2060", "") or "\u2060" in out
