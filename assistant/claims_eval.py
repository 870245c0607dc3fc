"""Metrics for claim checking, shared by the e2e test and the benchmark.

Labels are per (claim, source) stance; the headline number is macro-averaged recall over the three
stances, so the many easy "not_mentioned" pairs cannot hide missed supports and contradictions.
"""
from __future__ import annotations

import json
from pathlib import Path

STANCES = ("supports", "contradicts", "not_mentioned")


def load_claims(path: str | Path) -> list[dict]:
    """claims.jsonl rows: claim, kind, expected {file: stance}, evidence {file: substring}, parts."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("//"):
            rows.append(json.loads(line))
    return rows


def confusion(pairs: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """{expected: {predicted: count}} over (expected, predicted) pairs."""
    m = {e: {p: 0 for p in STANCES} for e in STANCES}
    for exp, pred in pairs:
        m[exp][pred] += 1
    return m


def macro_recall(matrix: dict[str, dict[str, int]]) -> float:
    """Mean over stances that occur in the labels of (correct / labelled with that stance)."""
    recalls = [row[e] / sum(row.values()) for e, row in matrix.items() if sum(row.values())]
    return sum(recalls) / len(recalls) if recalls else 0.0


def accuracy(matrix: dict[str, dict[str, int]]) -> float:
    total = sum(sum(r.values()) for r in matrix.values())
    return sum(matrix[s][s] for s in STANCES) / total if total else 0.0


def format_confusion(matrix: dict[str, dict[str, int]]) -> str:
    head = "expected \\ predicted".ljust(22) + "".join(p.rjust(15) for p in STANCES)
    rows = [e.ljust(22) + "".join(str(matrix[e][p]).rjust(15) for p in STANCES) for e in STANCES]
    return "\n".join([head, *rows])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    i = min(len(v) - 1, max(0, round(q / 100 * (len(v) - 1))))
    return v[i]


def evaluate(checker, rows: list[dict]) -> dict:
    """Run `checker.check` on every labelled claim; returns the matrix, scores, latencies and failures."""
    import time

    pairs: list[tuple[str, str]] = []
    failures: list[dict] = []
    latencies: list[float] = []
    evidence_hits = evidence_total = 0
    for row in rows:
        t0 = time.perf_counter()
        cc = checker.check(row["claim"])
        latencies.append(time.perf_counter() - t0)
        got = {v.source: v for v in cc.verdicts}
        for src, exp in row["expected"].items():
            v = got.get(src)
            pred = v.stance if v else "not_mentioned"
            pairs.append((exp, pred))
            if pred != exp:
                failures.append({"claim": row["claim"], "source": src, "expected": exp, "got": pred,
                                 "reason": v.reason if v else "source not indexed",
                                 "quote": v.evidence[0].quote if v and v.evidence else ""})
            want = (row.get("evidence") or {}).get(src)
            if want and exp != "not_mentioned" and pred == exp:
                evidence_total += 1
                norm = " ".join(want.split()).lower()
                if v and any(norm in " ".join(e.passage.text.split()).lower() for e in v.evidence):
                    evidence_hits += 1
    m = confusion(pairs)
    return {"matrix": m, "macro_recall": macro_recall(m), "accuracy": accuracy(m), "pairs": len(pairs),
            "latency_p50": percentile(latencies, 50), "latency_p95": percentile(latencies, 95),
            "evidence_found": (evidence_hits, evidence_total), "failures": failures}
