"""Passages built straight from the bundled articles (no index needed), and a tiny retriever over them."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.models import UNKNOWN_OUTLET, Passage

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ROOT / "documents"
DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def embedder():
    from assistant.config import configure_offline_runtime
    from assistant.embeddings import LocalEmbedding

    configure_offline_runtime()
    return LocalEmbedding()


def _split(path: Path, outlet: str, agency: str | None = None) -> list[Passage]:
    text = path.read_text(encoding="utf-8")
    meta = {}
    m = re.match(r"\A---\n(.*?)\n---\n", text, re.S)
    if m:
        meta = dict(re.findall(r"^(\w+):\s*(.+)$", m.group(1), re.M))
        text = text[m.end():]
    text = text.strip()
    paras = [p.strip() for p in re.split(r"\n\s*\n" if "\n\n" in text else r"\n", text) if p.strip()]
    title = meta.get("title", paras[0])
    outlet = meta.get("outlet", outlet)
    body = [p for p in paras if len(p.split()) >= 6 and p != title]
    return [Passage(id=f"{path.name}#{i}", source=path.name, outlet=outlet, title=title, paragraph=i, text=p,
                    agency=agency) for i, p in enumerate(body, 1)]


@lru_cache(maxsize=1)
def corpus() -> tuple[Passage, ...]:
    manifest = json.loads((DOCUMENTS / "manifest.json").read_text())
    out: list[Passage] = []
    for path in sorted(DOCUMENTS.glob("*.txt")):
        m = manifest.get(path.name, {})
        out.extend(_split(path, m.get("outlet") or UNKNOWN_OUTLET, m.get("agency")))
    return tuple(out)


def injection_passages() -> list[Passage]:
    return _split(DATA / "injection.txt", UNKNOWN_OUTLET)


@lru_cache(maxsize=1)
def _vectors() -> np.ndarray:
    return embedder().embed_texts([p.text for p in corpus()])


def retrieve(question: str, k: int = 5, extra: list[Passage] | None = None) -> list[Passage]:
    """Dense top-k over the corpus (plus `extra` passages): enough to feed the answer engines."""
    pool = list(corpus()) + list(extra or [])
    vecs = _vectors()
    if extra:
        vecs = np.vstack([vecs, embedder().embed_texts([p.text for p in extra])])
    sims = vecs @ embedder().embed_texts([question])[0]
    return [pool[i] for i in np.argsort(-sims)[:k]]
