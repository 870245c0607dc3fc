"""Every ```python block of README.md runs as written, top to bottom, against a small index (issue 11.10).

The README's snippet used to replace `a` with an empty index on its second line and then "answer"
nothing without a word; now a run must neither fail nor hit an empty index."""
from __future__ import annotations

import re
import shutil
import warnings

import pytest

from tests.conftest import DOCUMENTS, ROOT

pytestmark = pytest.mark.e2e  # builds an index of the bundled articles (~10 s)


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.S | re.M)


def test_readme_has_python_snippets():
    assert python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))


def test_every_readme_python_snippet_runs_and_answers(tmp_path, monkeypatch, capsys):
    from assistant.api import NewsdeskWarning

    shutil.copytree(DOCUMENTS, tmp_path / "documents")
    # The files the snippet names, so "as written" includes its ingest of path/to/article.html.
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "article.html").write_text(
        "<html><head><title>Harbour ferry returns</title></head><body><article><p>The harbour ferry "
        "returned to service on Friday after a month of repairs, the port authority said.</p>"
        "</article></body></html>", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_DOCUMENTS_DIR", str(tmp_path / "documents"))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "indexes"))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))

    ns: dict = {"__name__": "__readme__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for block in python_blocks((ROOT / "README.md").read_text(encoding="utf-8")):
            exec(compile(block, "README.md", "exec"), ns)  # noqa: S102 - the README's own code
    assert not [w for w in caught if issubclass(w.category, NewsdeskWarning)], \
        [str(w.message) for w in caught]
    out = capsys.readouterr().out
    # The snippet asks about the bundled articles through `a`: it must get real answers from them.
    assert ns["report"].added and not ns["report"].skipped
    assert ns["ans"].answered and ns["ans"].citations and "[1]" in ns["ans"].text
    assert ns["final"].answered
    assert any(v.stance != "not_mentioned" for v in ns["cc"].verdicts)
    assert "[1]" in out
