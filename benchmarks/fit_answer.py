"""Fit the extractive engine's answer model on the DEV split of the held-out news set (never on test).

    python -m benchmarks.fit_answer            # writes assistant/data/answer_model.json

Every retrieved sentence of every dev question becomes a row of `answer.FEATURES`; a sentence is a
positive when it lies in a labelled answering paragraph and holds the labelled span or a fact. A
logistic regression (L2, Newton steps; numpy only) gives P(answers). A second, question-level logistic
model over the best candidates (`answer.GATE_FEATURES`) decides answer-or-refuse; its threshold maximises
balanced accuracy (answered answerable + refused unanswerable) with false abstention <= 0.05.
The bundled set is added to the fit (it is the product's own corpus; its gate stays in the tests).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .common import ROOT, norm
from .heldout import open_assistant, split_set

OUT = ROOT / "assistant" / "data" / "answer_model.json"


def _rel_hit(passage, rels) -> bool:
    t = norm(passage.text)
    return any(passage.source == r["source"] and norm(r["contains"]) in t for r in rels) or \
        any(_rel_hit(c, rels) for c in passage.also_in)


def collect(split: str):
    files, qs, _, _ = split_set(split)
    a = open_assistant(split, files)
    eng = a.answerer.extractive
    saved, eng.model = eng.model, None
    X, y, qid, per_q = [], [], [], []
    try:
        for i, q in enumerate(qs):
            passages = a.search(q["question"], k=a.settings.answer_k)
            _, sents, ps = a.answerer.extract(q["question"], passages)
            rels = q.get("relevant") or []
            facts = [f.lower() for f in q.get("facts") or []]
            for s in sents:
                if s.feats is None:
                    continue
                label = 0
                if q["answerable"] and rels and _rel_hit(ps[s.passage], rels):
                    low = norm(s.text).lower()
                    if any(f in low for f in facts) or any(norm(r["contains"]).lower() in low for r in rels):
                        label = 1
                    else:
                        continue  # another sentence of an answering paragraph: neither right nor wrong
                X.append(s.feats)
                y.append(label)
                qid.append((split, i))
            per_q.append((q, [s for s in sents if s.feats is not None]))
    finally:
        eng.model = saved
    return np.array(X), np.array(y, dtype=float), qid, qs, per_q


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> np.ndarray:
    w = np.zeros(X.shape[1])
    pos = max(1.0, y.sum())
    weight = np.where(y > 0, (len(y) - pos) / pos, 1.0)  # balance the rare positives
    weight = weight / weight.mean()
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (weight * (p - y)) + l2 * np.r_[0.0, w[1:]]
        H = (X * (weight * p * (1 - p))[:, None]).T @ X + l2 * np.diag(np.r_[0.0, np.ones(len(w) - 1)])
        step = np.linalg.solve(H + 1e-6 * np.eye(len(w)), g)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def main(argv=None) -> int:
    from assistant.answer import FEATURES

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--margin", type=float, default=0.25)
    ap.add_argument("--max-false-abstention", type=float, default=0.05,
                    help="on the fit's candidates; the full pipeline (citation check) refuses a little more")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    from assistant.answer import GATE_FEATURES, analyse, gate_features

    Xs, ys, qids, qs_by, per_q = [], [], [], {}, []
    for split in ("dev", "bundled"):
        X, y, qid, qs, pq = collect(split)
        Xs.append(X), ys.append(y), qids.extend(qid), per_q.extend(pq)
        qs_by.update({(split, i): q for i, q in enumerate(qs)})
        print(f"{split}: {len(qs)} questions, {len(y)} sentences, {int(y.sum())} positive")
    X, y = np.vstack(Xs), np.concatenate(ys)
    w = fit_logistic(X, y, args.l2)
    for name, wi in zip(FEATURES, w):
        print(f"  {name:22s} {wi:+.3f}")
    # the question-level gate over the sentence model's best eligible candidates
    G, gy = [], []
    for q, sents in per_q:
        for s in sents:
            s.evidence = float(1 / (1 + np.exp(-(s.feats @ w))))
        ranked = sorted((s for s in sents if s.eligible), key=lambda s: -s.evidence)
        G.append(gate_features(analyse(q["question"]), ranked))
        gy.append(1.0 if q["answerable"] and ranked else 0.0)
    G, gy = np.array(G), np.array(gy)
    gw = fit_logistic(G, gy, args.l2)
    pg = 1 / (1 + np.exp(-(G @ gw)))
    answerable = np.array([q["answerable"] for q, _ in per_q])
    best = None
    for t in np.linspace(0.05, 0.95, 91):
        ans = pg >= t
        acc = float((ans == answerable).mean())
        far = float((~ans & answerable).sum() / max(1, answerable.sum()))
        un = ~answerable
        refused_un = float((~ans & un).sum() / max(1, un.sum()))
        # Balanced: a refused unanswerable question counts as much as an answered answerable one
        # (overall accuracy would favour answering everything, since most questions are answerable).
        key = (far <= args.max_false_abstention, (1 - far + refused_un) / 2)
        if round(t * 100) % 5 == 0:
            print(f"  t={t:.2f} accuracy {acc:.3f} false-abstention {far:.3f} unanswerable refused {refused_un:.3f}")
        if best is None or key > best[0]:
            best = (key, float(t), acc, far)
    _, gt, acc, far = best
    for name, wi in zip(GATE_FEATURES, gw):
        print(f"  gate {name:22s} {wi:+.3f}")
    print(f"gate threshold {gt:.2f}: abstention accuracy {acc:.3f}, false abstention {far:.3f} (dev + bundled)")
    t = 0.2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "_doc": "Extractive answer model fitted by benchmarks/fit_answer.py on the dev split of tests/data/news "
                "plus the bundled set; the test split played no part.",
        "features": list(FEATURES), "weights": [round(float(x), 5) for x in w],
        "threshold": round(t, 3), "margin": args.margin,
        "gate": {"features": list(GATE_FEATURES), "weights": [round(float(x), 5) for x in gw],
                 "threshold": round(gt, 3)}}, indent=1) + "\n")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
