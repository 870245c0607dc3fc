"""Answer and claim quality on the held-out news set (tests/data/news/) and the bundled set, by kind.

    python -m benchmarks.heldout --split dev            # tune on this
    python -m benchmarks.heldout --split test           # report only; never tune on it
    python -m benchmarks.heldout --split bundled        # tests/data over documents/
    python -m benchmarks.heldout --split dev --failures # what went wrong (dev only; test prints none)

Each split is indexed on its own (its articles only) in a cached folder under benchmarks/results/, so a
claim's `not_mentioned` labels hold for every other article of the split.
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from collections import defaultdict
from pathlib import Path

from .common import DOCUMENTS, ROOT

NEWS = ROOT / "tests" / "data" / "news"
BUNDLED = ROOT / "tests" / "data"
RESULTS = ROOT / "benchmarks" / "results"


def load_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def areas() -> list[Path]:
    return sorted(d for d in NEWS.iterdir() if (d / "articles").is_dir() and (d / "split.json").exists())


def split_set(split: str) -> tuple[list[Path], list[dict], list[dict], list[dict]]:
    """(article paths, questions, claims, citation pairs) of one split."""
    if split == "bundled":
        files = sorted(DOCUMENTS.glob("0*.txt"))
        claims = load_jsonl(BUNDLED / "claims.jsonl")
        for c in claims:
            c["expected"] = {k: v for k, v in c["expected"].items() if v != "not_mentioned"}
        return files, load_jsonl(BUNDLED / "questions.jsonl"), claims, []
    files, qs, cs, ps = [], [], [], []
    for a in areas():
        sp = json.loads((a / "split.json").read_text())
        mine = {f for f, s in sp.items() if s == split}
        files += [a / "articles" / f for f in sorted(mine)]

        def ok(row, keys):
            srcs = set(keys)
            return (srcs & mine) if srcs else row.get("split") == split

        qs += [q for q in load_jsonl(a / "questions.jsonl")
               if ok(q, [r["source"] for r in q.get("relevant") or []])]
        cs += [c for c in load_jsonl(a / "claims.jsonl") if ok(c, c.get("expected") or {})]
        ps += [p for p in load_jsonl(a / "citations.jsonl") if p.get("source") in mine]
    return files, qs, cs, ps


def open_assistant(split: str, files: list[Path], fresh: bool = False):
    from assistant import Assistant

    docs = RESULTS / f"heldout-{split}" / "documents"
    index = RESULTS / f"heldout-{split}" / "index"
    if fresh and docs.parent.exists():
        shutil.rmtree(docs.parent)
    docs.mkdir(parents=True, exist_ok=True)
    want = {f.name for f in files}
    for old in docs.iterdir():
        if old.name not in want:
            old.unlink()
    for f in files:
        dst = docs / f.name
        if not dst.exists() or dst.read_bytes() != f.read_bytes():
            shutil.copyfile(f, dst)
    return Assistant(documents_dir=docs, index_dir=index)


def _kinds(q: dict) -> list[str]:
    return [q.get("kind", "?")] + [f"#{t}" for t in q.get("tags") or []]


def run_questions(a, qs: list[dict], show_failures: bool) -> dict:
    from assistant.answer_eval import evaluate

    answers, lat = [], []
    for q in qs:
        t = time.perf_counter()
        answers.append(a.ask(q["question"]))
        lat.append((time.perf_counter() - t) * 1000)
    overall = evaluate(qs, answers, a.answerer.checker, lat)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(qs):
        for k in _kinds(q):
            by_kind[k].append(i)
    table = {}
    for k, idx in sorted(by_kind.items()):
        rep = evaluate([qs[i] for i in idx], [answers[i] for i in idx], a.answerer.checker)
        table[k] = {"n": len(idx), "recall": rep.citation_recall, "precision": rep.citation_precision,
                    "facts": rep.fact_coverage, "abstention": rep.abstention_accuracy}
    ans_q = [i for i, q in enumerate(qs) if q["answerable"]]
    un_q = [i for i, q in enumerate(qs) if not q["answerable"]]
    out = {"n": len(qs), "citation_recall": overall.citation_recall,
           "citation_precision": overall.citation_precision, "fact_coverage": overall.fact_coverage,
           "abstention_accuracy": overall.abstention_accuracy,
           "false_abstention": sum(not answers[i].answered for i in ans_q) / max(1, len(ans_q)),
           "unanswerable_answered": sum(answers[i].answered for i in un_q) / max(1, len(un_q)),
           "ask_p50_ms": overall.latency_p50_ms, "ask_p95_ms": overall.latency_p95_ms, "by_kind": table}
    if show_failures:
        out["failures"] = overall.failures
        out["answers"] = {q["id"]: answers[i].text[:300] for i, q in enumerate(qs)}
    return out


def run_claims(a, cs: list[dict], files: list[Path], show_failures: bool) -> dict:
    from assistant.claims_eval import accuracy, confusion, format_confusion, macro_recall

    names = [f.name for f in files]
    pairs_by_kind: dict[str, list] = defaultdict(list)
    pairs, failures, lat = [], [], []
    for c in cs:
        t = time.perf_counter()
        cc = a.check_claim(c["claim"])
        lat.append(time.perf_counter() - t)
        got = {v.source: v for v in cc.verdicts}
        right = True
        for src in names:
            exp = c["expected"].get(src, "not_mentioned")
            v = got.get(src)
            pred = v.stance if v else "not_mentioned"
            pairs.append((exp, pred))
            if exp != pred:
                right = False
                failures.append(f"{c['id']} [{c['kind']}] {src}: expected {exp}, got {pred}: {c['claim']}"
                                + (f" | {v.reason} | {v.evidence[0].quote[:160]}" if v and v.evidence else ""))
        pairs_by_kind[c["kind"]].append(right)
    m = confusion(pairs)
    contra = m["contradicts"]
    out = {"claims": len(cs), "pairs": len(pairs), "macro_accuracy": macro_recall(m), "accuracy": accuracy(m),
           "contradiction_recall": contra["contradicts"] / max(1, sum(contra.values())),
           "matrix": m, "matrix_text": format_confusion(m),
           "p95_s": sorted(lat)[int(0.95 * (len(lat) - 1))] if lat else 0.0,
           # by kind: share of claims whose every article got the expected stance
           "by_kind": {k: {"n": len(v), "correct": sum(v) / len(v)} for k, v in sorted(pairs_by_kind.items())}}
    if show_failures:
        out["failures"] = failures
    return out


def run_citations(a, pairs: list[dict], show_failures: bool) -> dict:
    """The citation check on labelled (sentence, paragraph, supported?) pairs: verbatim sentences,
    faithful paraphrases and near-misses (one thing wrong)."""
    from collections import Counter

    from .common import norm

    checker = a.answerer.checker
    c: Counter = Counter()
    failures = []
    for row in pairs:
        want = norm(row["contains"])
        passage = next((p for p in a.paragraphs(row["source"]) if want in norm(p.text)), None)
        if passage is None:
            c["unlocated"] += 1
            continue
        got = checker.supports(checker.support(row["sentence"], passage))
        key = ("accepted" if got else "rejected", row["kind"], "supported" if row["supported"] else "unsupported")
        c[key] += 1
        if got != row["supported"]:
            failures.append(f"{row['id']} [{row['kind']}] expected {'accept' if row['supported'] else 'reject'}: "
                            f"{row['sentence']}")
    sup = [k for k in c if isinstance(k, tuple) and k[2] == "supported"]
    uns = [k for k in c if isinstance(k, tuple) and k[2] == "unsupported"]
    out = {"pairs": sum(v for k, v in c.items() if isinstance(k, tuple)),
           "false_rejections": sum(c[k] for k in sup if k[0] == "rejected"),
           "supported": sum(c[k] for k in sup),
           "false_acceptances": sum(c[k] for k in uns if k[0] == "accepted"),
           "unsupported": sum(c[k] for k in uns),
           "by_kind": {f"{k[1]}/{k[0]}": v for k, v in sorted(c.items()) if isinstance(k, tuple)}}
    if show_failures:
        out["failures"] = failures
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["dev", "test", "bundled"], default="dev")
    ap.add_argument("--failures", action="store_true", help="print failures (refused for --split test)")
    ap.add_argument("--only", choices=["questions", "claims", "citations"], help="run one part")
    ap.add_argument("--fresh", action="store_true", help="rebuild the split's index")
    ap.add_argument("--json", type=Path, help="write the full result here")
    args = ap.parse_args(argv)
    show = args.failures and args.split != "test"
    files, qs, cs, _ = split_set(args.split)
    t = time.perf_counter()
    a = open_assistant(args.split, files, args.fresh)
    print(f"{args.split}: {len(files)} articles, {len(qs)} questions, {len(cs)} claims "
          f"(index ready in {time.perf_counter() - t:.1f} s)")
    res = {"split": args.split, "articles": len(files)}
    if args.only in (None, "questions"):
        r = res["questions"] = run_questions(a, qs, show)
        print(f"answers: recall {r['citation_recall']:.3f} precision {r['citation_precision']:.3f} "
              f"facts {r['fact_coverage']:.3f} abstention {r['abstention_accuracy']:.3f} "
              f"false-abstention {r['false_abstention']:.3f} unanswerable-answered {r['unanswerable_answered']:.3f} "
              f"p95 {r['ask_p95_ms']:.0f} ms")
        for k, v in r["by_kind"].items():
            print(f"   {k:18s} n={v['n']:3d} recall {v['recall']:.2f} prec {v['precision']:.2f} "
                  f"facts {v['facts']:.2f} abst {v['abstention']:.2f}")
        for f in r.get("failures", []):
            print("   FAIL", f)
    if args.only in (None, "claims"):
        r = res["claims"] = run_claims(a, cs, files, show)
        print(f"claims: macro accuracy {r['macro_accuracy']:.3f} contradiction recall "
              f"{r['contradiction_recall']:.3f} accuracy {r['accuracy']:.3f} p95 {r['p95_s']*1000:.0f} ms")
        print(r["matrix_text"])
        for k, v in r["by_kind"].items():
            print(f"   {k:24s} claims={v['n']:3d} all-sources-right {v['correct']:.2f}")
        for f in r.get("failures", []):
            print("   FAIL", f)
    if args.only in (None, "citations") and args.split != "bundled":
        r = res["citations"] = run_citations(a, split_set(args.split)[3], show)
        print(f"citation check: {r['pairs']} pairs; false rejections {r['false_rejections']}/{r['supported']}, "
              f"false acceptances {r['false_acceptances']}/{r['unsupported']}  {r['by_kind']}")
        for f in r.get("failures", []):
            print("   FAIL", f)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
