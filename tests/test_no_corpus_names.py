"""The engines are general English: their code and lexicons name no person, place or outlet of the
bundled articles (rules tuned to one story do not help on business, sport or science news)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = [*(ROOT / "assistant" / "answer").glob("*.py"), *(ROOT / "assistant" / "claims").glob("*.py"),
          *(ROOT / "assistant" / "text").glob("*.py"), ROOT / "assistant" / "stance.py"]
LEXICONS = sorted((ROOT / "assistant" / "text" / "data").glob("*"))
# The people and outlets of the bundled articles: no lexicon may list them. (Countries and capitals may
# appear in a general gazetteer file: every story names them.)
PEOPLE_AND_OUTLETS = ["trump", "putin", "zelensky", "hegseth", "lavrov", "mcfaul", "leavitt", "bessent",
                      "wertheim", "bruen", "landsbergis", "elmendorf", "anchorage", "southfront", "straits",
                      "express"]
# People, places and outlets of the bundled Trump-Putin articles.
NAMES = ["trump", "putin", "zelensky", "hegseth", "lavrov", "mcfaul", "leavitt", "bessent", "wertheim", "bruen",
         "landsbergis", "alaska", "anchorage", "elmendorf", "helsinki", "kyiv", "crimea", "kremlin", "moscow",
         "southfront", "straits", "express", "ukraine", "russia", "nato"]


def _code(path: Path) -> str:
    """The file without comments and docstrings: examples in prose are fine, rules are not."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        text = re.sub(r'"""[\s\S]*?"""', "", text)
        text = re.sub(r"#[^\n]*", "", text)
    else:
        text = "\n".join(x for x in text.splitlines() if not x.lstrip().startswith("#"))
    return text.lower()


def _hits(paths, names: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        code = _code(path)
        hits = [n for n in names if re.search(rf"\b{n}\b", code)]
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    return found


def test_engine_code_names_nothing_from_the_bundled_articles():
    found = _hits(ENGINE, NAMES)
    assert not found, found


def test_lexicon_files_name_no_person_or_outlet_of_the_bundled_articles():
    found = _hits(LEXICONS, PEOPLE_AND_OUTLETS)
    assert not found, found
