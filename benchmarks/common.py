"""Small shared helpers: timing, percentiles, memory, labelled data and the relevance rule."""
from __future__ import annotations

import json
import os
import re
import resource
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ROOT / "documents"
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
CLAIMS = ROOT / "tests" / "data" / "claims.jsonl"
QUERIES_SEED = 7


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: p95 of 200 samples is a real measured sample)."""
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q / 100 * (len(v) - 1))))]


def latency_stats(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "max_ms": max(ms) if ms else None}


@contextmanager
def timer():
    """`with timer() as t: ...; t()` -> seconds elapsed (frozen when the block ends)."""
    start = time.perf_counter()
    end = None

    def elapsed() -> float:
        return (end or time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """This process's high-water mark. VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork + exec,
    so a probe started by a 1.4 GB writer reported the writer's peak as its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size_mb(path: Path) -> float:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, f))
            except OSError:
                pass
    return total / 2**20


def load_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("//"):
            rows.append(json.loads(line))
    return rows


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def norm(text: str) -> str:
    """Whitespace-, quote- and case-insensitive form used by the relevance rule."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip().casefold()


def matches(source: str, text: str, rel: dict) -> bool:
    """A retrieved unit is relevant to a label if its file matches and its text contains the label's
    `contains` substring (a paragraph split into parts counts when any part contains it)."""
    return Path(source).name == Path(rel["source"]).name and norm(rel["contains"]) in norm(text)
