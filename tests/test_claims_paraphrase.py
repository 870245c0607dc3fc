"""Supported claims worded differently from their source are not contradicted (synthetic articles from
several subjects; a false contradiction is the worst error a claim check can make)."""
from __future__ import annotations

import pytest

ARTICLES = {
    "court.txt": "Appeals Court Rules on Zoning Case\n\nThe appeals court upheld the lower court's ruling on "
                 "Monday, rejecting the appeal brought by the developer.\n\nThe developer said it would "
                 "consider its options.\n",
    "fed.txt": "Fed Lifts Rates Again\n\nThe Federal Reserve on Wednesday lifted its benchmark rate by 0.25 "
               "percentage point, its third increase this year.\n\nOfficials said inflation remained too high.\n",
    "senate.txt": "Hearing on Farm Bill\n\nThe senator was absent from Tuesday's hearing on the farm bill, "
                  "aides said.\n\nThe committee will vote on the bill next week.\n",
    "space.txt": "Rover Finds No Sign of Life\n\nThe mission team said the rover did not find any evidence of "
                 "life in the crater samples.\n\nMore samples will be studied next year.\n",
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from assistant import Assistant

    docs = tmp_path_factory.mktemp("docs")
    for name, text in ARTICLES.items():
        (docs / name).write_text(text, encoding="utf-8")
    return Assistant(documents_dir=docs, index_dir=tmp_path_factory.mktemp("index"))


@pytest.mark.e2e
@pytest.mark.parametrize("claim,source", [
    ("The Federal Reserve raised its benchmark rate by a quarter point.", "fed.txt"),
    ("The rover found no evidence of life in the crater samples.", "space.txt"),
    ("The senator did not attend Tuesday's hearing on the farm bill.", "senate.txt"),
])
def test_a_reworded_supported_claim_is_not_contradicted(small, claim, source):
    verdict = {v.source: v for v in small.check_claim(claim).verdicts}[source]
    assert verdict.stance != "contradicts", verdict.reason


@pytest.mark.e2e
def test_the_opposite_claim_is_still_contradicted(small):
    verdict = {v.source: v for v in small.check_claim("The rover found evidence of life in the crater samples.").verdicts}
    assert verdict["space.txt"].stance == "contradicts", verdict["space.txt"].reason
