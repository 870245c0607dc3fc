"""Validate the held-out news evaluation set (tests/data/news/<area>/).

Run: python tests/data/news/validate.py [AREA ...]   (no third-party imports; prints problems, exit 1 if any)
The spec is tests/data/news/README.md.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent
STANCES = {"supports", "contradicts", "not_mentioned"}
Q_KINDS = {"quote", "number", "money", "percent", "date", "place", "who", "what", "why", "list", "paraphrase",
           "two_part", "cross_source", "unanswerable"}
C_KINDS = {"supported", "supported_multi", "contradicted_number", "contradicted_amount", "contradicted_direction",
           "contradicted_date", "contradicted_place", "contradicted_roles", "contradicted_negation",
           "contradicted_opposite", "misattributed", "different_event", "not_in_corpus"}
P_KINDS = {"verbatim", "paraphrase", "near_miss"}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def body(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            return text[end + 5:]
    return text


def load_jsonl(path: Path, problems: list[str]) -> list[dict]:
    rows = []
    if not path.exists():
        problems.append(f"{path}: missing")
        return rows
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                problems.append(f"{path.name}:{i}: bad JSON: {e}")
    return rows


def check_span(area: str, texts: dict, lines: dict, src: str, span: str, where: str, problems: list[str]):
    if src not in texts:
        problems.append(f"{where}: unknown source {src!r}")
        return
    n = norm(span)
    if not n:
        problems.append(f"{where}: empty span")
        return
    count = texts[src].count(n)
    if count != 1:
        problems.append(f"{where}: span occurs {count}x in {src}: {span!r}")
    if not any(n in ln for ln in lines[src]):
        problems.append(f"{where}: span crosses a line break in {src}: {span!r}")
    words = len(n.split())
    if not 4 <= words <= 14:
        problems.append(f"{where}: span has {words} words (want 5-12): {span!r}")


def validate(area_dir: Path) -> list[str]:
    problems: list[str] = []
    area = area_dir.name
    arts = sorted((area_dir / "articles").glob("*.txt"))
    if not arts:
        return [f"{area}: no articles/*.txt"]
    texts, lines = {}, {}
    for p in arts:
        raw = p.read_text(encoding="utf-8")
        if not raw.startswith("---\n") or "\noutlet:" not in raw.split("\n---\n", 1)[0]:
            problems.append(f"{p.name}: needs front matter with at least outlet:")
        b = body(raw)
        texts[p.name] = norm(b)
        lines[p.name] = [norm(x) for x in b.splitlines() if x.strip()]
    split = json.loads((area_dir / "split.json").read_text()) if (area_dir / "split.json").exists() else {}
    if set(split) != set(texts) or not set(split.values()) <= {"dev", "test"}:
        problems.append(f"{area}: split.json must map every article to dev/test")
    if not (area_dir / "SOURCES.md").exists():
        problems.append(f"{area}: SOURCES.md missing")
    qs = load_jsonl(area_dir / "questions.jsonl", problems)
    cs = load_jsonl(area_dir / "claims.jsonl", problems)
    ps = load_jsonl(area_dir / "citations.jsonl", problems)
    for rows in (qs, cs, ps):
        dup = [k for k, v in Counter(r.get("id") for r in rows).items() if v > 1]
        if dup:
            problems.append(f"{area}: duplicate ids {dup}")
    for q in qs:
        w = f"{area}/{q.get('id')}"
        if q.get("kind") not in Q_KINDS:
            problems.append(f"{w}: kind {q.get('kind')!r}")
        if not q.get("question"):
            problems.append(f"{w}: no question")
        if q.get("answerable"):
            rel = q.get("relevant") or []
            if not rel:
                problems.append(f"{w}: answerable but no relevant")
            for r in rel:
                check_span(area, texts, lines, r.get("source"), r.get("contains", ""), w, problems)
            srcs = {r.get("source") for r in rel}
            if len({split.get(s) for s in srcs}) > 1:
                problems.append(f"{w}: relevant articles in both splits")
            facts = q.get("facts") or []
            if not facts:
                problems.append(f"{w}: answerable but no facts")
            for f in facts:
                if f != f.lower() or not any(norm(f) in texts[s].lower() for s in srcs if s in texts):
                    problems.append(f"{w}: fact {f!r} not lower-case verbatim in a relevant article")
            if q.get("split") and q["split"] != split.get(next(iter(srcs), None)):
                problems.append(f"{w}: split field disagrees with its articles")
        else:
            if q.get("relevant") or q.get("facts"):
                problems.append(f"{w}: unanswerable must have relevant [] and facts []")
            if q.get("split") not in ("dev", "test"):
                problems.append(f"{w}: unanswerable questions need split dev/test")
    for c in cs:
        w = f"{area}/{c.get('id')}"
        if c.get("kind") not in C_KINDS:
            problems.append(f"{w}: kind {c.get('kind')!r}")
        exp = c.get("expected") or {}
        for src, st in exp.items():
            if st not in ("supports", "contradicts"):
                problems.append(f"{w}: expected lists only supports/contradicts, got {st!r}")
            span = (c.get("evidence") or {}).get(src)
            if not span:
                problems.append(f"{w}: no evidence span for {src}")
            else:
                check_span(area, texts, lines, src, span, w, problems)
        if exp and len({split.get(s) for s in exp}) > 1:
            problems.append(f"{w}: expected articles in both splits")
        if not exp and c.get("split") not in ("dev", "test"):
            problems.append(f"{w}: a claim with no supporting/contradicting article needs split dev/test")
        if c.get("kind") in ("misattributed", "different_event", "not_in_corpus") and \
                any(v == "supports" for v in exp.values()):
            problems.append(f"{w}: {c['kind']} claims cannot be supported")
    for p in ps:
        w = f"{area}/{p.get('id')}"
        if p.get("kind") not in P_KINDS or not isinstance(p.get("supported"), bool) or not p.get("sentence"):
            problems.append(f"{w}: needs sentence, supported (bool), kind in {sorted(P_KINDS)}")
        check_span(area, texts, lines, p.get("source"), p.get("contains", ""), w, problems)
    return problems


def main(argv: list[str]) -> int:
    areas = [ROOT / a for a in argv] if argv else sorted(d for d in ROOT.iterdir() if (d / "articles").is_dir())
    bad = 0
    for a in areas:
        probs = validate(a)
        qs = len(load_jsonl(a / "questions.jsonl", [])) if (a / "questions.jsonl").exists() else 0
        cs = len(load_jsonl(a / "claims.jsonl", [])) if (a / "claims.jsonl").exists() else 0
        n = len(list((a / "articles").glob("*.txt")))
        print(f"{a.name}: {n} articles, {qs} questions, {cs} claims, {len(probs)} problems")
        for p in probs:
            print("  ", p)
        bad += len(probs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
