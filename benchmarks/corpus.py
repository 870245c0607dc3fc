"""Deterministic generated corpora: sentences of the bundled articles recombined with a seeded RNG.

The generated paragraphs keep the real corpus's vocabulary and paragraph-length distribution (each one
copies a real paragraph's sentence count), which is what BM25 cost and embedding cost depend on.
"""
from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from .common import DOCUMENTS

OUTLETS = ["Daily Ledger", "Evening Wire", "Harbour Times", "North Post", "Capital Review",
           "Metro Herald", "Coastal Courier", "Valley Tribune"]
PARAGRAPHS_PER_ARTICLE = 20  # a typical news article; also sets the number of per-article writes


@lru_cache(maxsize=1)
def real_material() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(every sentence of the bundled articles, every paragraph's sentence count)."""
    from assistant.config import configure_offline_runtime, get_settings
    from assistant.ingest import load_articles, sentence_spans

    configure_offline_runtime()
    articles, _ = load_articles([DOCUMENTS], get_settings(documents_dir=DOCUMENTS))
    sentences, counts = [], []
    for art in articles:
        for p in art.paragraphs:
            spans = [p.text[s:e].strip() for s, e in sentence_spans(p.text)]
            spans = [s for s in spans if len(s.split()) >= 3]
            if spans:
                sentences.extend(spans)
                counts.append(len(spans))
    return tuple(sentences), tuple(counts)


def generated_articles(n_paragraphs: int, seed: int = 0) -> list[dict]:
    """Plain dicts {source, title, outlet, date, paragraphs: [text]} totalling n_paragraphs."""
    sentences, counts = real_material()
    rng = random.Random(seed)
    out = []
    left, i = n_paragraphs, 0
    while left > 0:
        n = min(PARAGRAPHS_PER_ARTICLE, left)
        paras = [" ".join(rng.choice(sentences) for _ in range(rng.choice(counts))) for _ in range(n)]
        title = " ".join(rng.choice(sentences).split()[:12]).rstrip(".,;:")
        date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        out.append({"source": f"gen_{seed}_{i:06d}.txt", "title": title, "outlet": rng.choice(OUTLETS),
                    "date": date, "paragraphs": paras})
        left -= n
        i += 1
    return out


def to_articles(raw: list[dict]):
    """Generated dicts -> assistant.models.Article (what ParagraphIndex.upsert takes), no file I/O."""
    import hashlib

    from assistant.ingest import count_tokens
    from assistant.models import Article, DocumentMeta, Paragraph

    arts = []
    for a in raw:
        paras = tuple(Paragraph(number=j, text=t, tokens=count_tokens(t)) for j, t in enumerate(a["paragraphs"], 1))
        digest = hashlib.sha256("\n\n".join(a["paragraphs"]).encode()).hexdigest()
        meta = DocumentMeta(source=a["source"], title=a["title"], outlet=a["outlet"], date=a["date"])
        arts.append(Article(meta=meta, paragraphs=paras, content_hash=digest, path=a["source"]))
    return arts


def write_files(raw: list[dict], folder: Path) -> None:
    """Generated dicts -> .txt files with front matter, for the real ingest path (read, clean, split)."""
    folder.mkdir(parents=True, exist_ok=True)
    for a in raw:
        head = f"---\ntitle: {a['title']}\noutlet: {a['outlet']}\ndate: {a['date']}\n---\n"
        (folder / a["source"]).write_text(head + a["title"] + "\n\n" + "\n\n".join(a["paragraphs"]) + "\n",
                                          encoding="utf-8")


def queries(n: int, labelled: list[str], seed: int = 7) -> list[str]:
    """n search queries: the labelled questions first, then 6-10-word openings of random real sentences."""
    sentences, _ = real_material()
    rng = random.Random(seed)
    out = list(labelled[:n])
    while len(out) < n:
        words = rng.choice(sentences).split()
        out.append(" ".join(words[: rng.randint(6, 10)]))
    return out
