"""The labelled evaluation data (tests/data/*.jsonl) is well-formed and grounded in the bundled articles.

Labels point at paragraphs by an exact substring of the raw article text (never by paragraph number),
so these checks read the raw files and only normalise whitespace/NBSP, the same way an evaluator must.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
DOCUMENTS = Path(__file__).resolve().parent.parent / "documents"
FILES = sorted(p.name for p in DOCUMENTS.glob("0*.txt"))

QUESTION_KINDS = {"quote", "number", "place", "date", "who", "what", "why", "list"}
CLAIM_KINDS = {"supported", "supported_multi", "contradicted", "unaddressed", "misattributed", "compound"}
STANCES = {"supports", "contradicts", "not_mentioned"}


def norm(text: str) -> str:
    """Collapse NBSP and runs of whitespace (scraped text mixes them) so spans match across line wraps."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def load(name: str) -> list[dict]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {name: norm((DOCUMENTS / name).read_text(encoding="utf-8")) for name in FILES}


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return load("questions.jsonl")


@pytest.fixture(scope="module")
def claims() -> list[dict]:
    return load("claims.jsonl")


def test_the_five_bundled_articles_are_the_ones_labelled():
    assert len(FILES) == 5


def test_ids_are_unique(questions, claims):
    for rows in (questions, claims):
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]


def test_questions_have_the_documented_shape(questions):
    for q in questions:
        assert q["question"].strip().endswith("?"), q["id"]
        assert q["kind"] in QUESTION_KINDS, q["id"]
        assert all(f == f.lower() and f.strip() for f in q["facts"]), q["id"]
        if q["answerable"]:
            # An answerable question is grounded in paragraphs, or (outlet/agency) in article metadata.
            assert q["relevant"] or q.get("metadata"), q["id"]
            assert 1 <= len(q["facts"]) <= 3, q["id"]
        else:
            assert q["relevant"] == [] and q["facts"] == [], q["id"]


def test_every_relevant_span_occurs_in_its_article(questions, texts):
    for q in questions:
        for rel in q["relevant"]:
            assert rel["source"] in texts, (q["id"], rel["source"])
            span = norm(rel["contains"])
            assert len(span.split()) >= 3, (q["id"], span)  # too short a span would match anywhere
            assert texts[rel["source"]].count(span) == 1, (q["id"], span)


def test_each_fact_is_quoted_in_a_relevant_paragraph_source(questions, texts):
    """Facts are verbatim source wording, so an extractive answer that quotes the source contains them."""
    for q in questions:
        if q.get("metadata"):
            continue
        sources = {r["source"] for r in q["relevant"]}
        for fact in q["facts"]:
            assert any(fact in texts[s].lower() for s in sources), (q["id"], fact)


def test_metadata_questions_name_a_real_article(questions):
    manifest = json.loads((DOCUMENTS / "manifest.json").read_text(encoding="utf-8"))
    for q in questions:
        meta = q.get("metadata")
        if meta:
            value = manifest[meta["source"]][meta["field"]]
            assert value and all(f in value.lower() for f in q["facts"]), q["id"]


def test_question_counts_meet_the_minimums(questions):
    answerable = [q for q in questions if q["answerable"]]
    assert len(questions) >= 45
    assert len(answerable) >= 38
    assert len(questions) - len(answerable) >= 7
    per_article = Counter(f for q in answerable for f in {r["source"] for r in q["relevant"]})
    assert all(per_article[f] >= 5 for f in FILES), per_article
    multi = [q for q in answerable if len({r["source"] for r in q["relevant"]}) >= 2]
    assert len(multi) >= 5


def test_every_claim_has_a_stance_for_every_article(claims):
    for c in claims:
        assert c["kind"] in CLAIM_KINDS, c["id"]
        assert set(c["expected"]) == set(FILES), c["id"]
        assert set(c["expected"].values()) <= STANCES, c["id"]


def test_claim_evidence_is_given_exactly_for_decided_stances(claims, texts):
    for c in claims:
        decided = {f for f, s in c["expected"].items() if s != "not_mentioned"}
        assert set(c["evidence"]) == decided, c["id"]
        for f, span in c["evidence"].items():
            assert texts[f].count(norm(span)) == 1, (c["id"], span)


def test_claim_kinds_agree_with_their_stances(claims):
    for c in claims:
        stances = list(c["expected"].values())
        n_sup, n_con = stances.count("supports"), stances.count("contradicts")
        if c["kind"] == "supported":
            assert n_sup == 1 and n_con == 0, c["id"]
        elif c["kind"] == "supported_multi":
            assert n_sup >= 2 and n_con == 0, c["id"]
        elif c["kind"] == "contradicted":
            assert n_con >= 1 and n_sup == 0, c["id"]
        elif c["kind"] == "unaddressed":
            assert n_sup == n_con == 0, c["id"]
        elif c["kind"] == "misattributed":
            assert n_sup == 0, c["id"]


def test_compound_claims_combine_their_parts(claims):
    """Whole-claim stance per article: contradicts if any part does, supports only if every part does."""
    compound = [c for c in claims if c["kind"] == "compound"]
    assert compound
    for c in compound:
        assert len(c["parts"]) >= 2 and len(c["parts_expected"]) == len(c["parts"]), c["id"]
        for f in FILES:
            part_stances = [p[f] for p in c["parts_expected"]]
            combined = ("contradicts" if "contradicts" in part_stances
                        else "supports" if all(s == "supports" for s in part_stances) else "not_mentioned")
            assert c["expected"][f] == combined, (c["id"], f)


def test_claim_counts_meet_the_minimums(claims):
    kinds = Counter(c["kind"] for c in claims)
    assert len(claims) >= 24
    assert all(kinds[k] >= 3 for k in CLAIM_KINDS), kinds


def test_every_labelled_span_lands_inside_one_ingested_paragraph(questions, claims):
    """Ingestion must keep each labelled sentence, whole, inside exactly one citable paragraph;
    otherwise a retriever could never be credited for finding it."""
    ingest = pytest.importorskip("assistant.ingest")
    from assistant.config import configure_offline_runtime, get_settings

    configure_offline_runtime()
    articles, skipped = ingest.load_articles([DOCUMENTS], get_settings())
    assert not skipped
    paragraphs = {a.meta.source: [norm(p.text) for p in a.paragraphs] for a in articles}
    spans = [(q["id"], r["source"], r["contains"]) for q in questions for r in q["relevant"]]
    spans += [(c["id"], f, e) for c in claims for f, e in c["evidence"].items()]
    for label, source, span in spans:
        hits = sum(norm(span) in p for p in paragraphs[source])
        assert hits == 1, (label, source, span, hits)
