"""The chat UI shows an Answer's notices (issue 11.10/11.11): an empty index is the answer itself, said
once; an undated-articles notice is left to the filters line when one is shown."""
from __future__ import annotations

import re

from assistant import ui
from assistant.models import Answer

EMPTY = "The index is empty: no articles are indexed in /x. Put articles in /d, then ask again."
UNDATED = "The date filter (from 2025-01) excluded 5 undated articles: an article without a date never matches."


def _plain(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md).replace("\u2060", "")


def test_empty_index_answer_is_said_once_and_not_could_not_find():
    md = _plain(ui.answer_markdown(Answer("q?", EMPTY, answered=False, notices=(EMPTY,))))
    assert md.count("The index is empty") == 1 and "could not find" not in md


def test_undated_notice_shown_without_a_filters_line_and_not_twice_with_one():
    ans = Answer("q?", "I could not find this in the indexed articles.", answered=False, notices=(UNDATED,))
    assert "excluded 5 undated articles" in _plain(ui.answer_markdown(ans))
    with_line = _plain(ui.answer_markdown(ans, "Filters: from 2025-01 (5 articles left out, 5 undated)"))
    assert "excluded 5 undated" not in with_line and "Filters:" in with_line
