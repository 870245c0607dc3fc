"""Answer quality metrics over a labelled question set (tests/data/questions.jsonl).

Each line: question, answerable, relevant [{source, contains}], facts [lower-case strings]. The
functions take finished `Answer`s, so the e2e test and the benchmark compute the same numbers.

* citation precision: share of citations whose paragraph supports the sentence citing it. A quotation
  in the sentence must occur verbatim in the cited paragraph (or one of its also_in copies); a sentence
  without a quotation is judged by the citation checker's support test.
* citation recall: share of answerable questions (with labelled paragraphs) whose answer cites a
  paragraph containing one of the labelled answer snippets.
* fact coverage: mean share of the expected facts present in the answer text (answerable questions).
* abstention accuracy: share of all questions where answered == answerable.
"""
from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from .models import Answer, Passage
from .answer.verify import CitationChecker, split_marked, strip_markers

_QUOTE = re.compile(r"\u201c([^\u201d]+)\u201d")


def load_questions(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _norm(text: str) -> str:
    text = text.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace('"', "'")
    return re.sub(r"\s+", " ", text).strip().lower()


def _copies(p: Passage) -> list[Passage]:
    return [p, *p.also_in]


def cited_pairs(answer: Answer) -> list[tuple[str, Passage]]:
    """(sentence, cited passage) for every citation marker in the answer text."""
    by_num = {c.number: c.passage for c in answer.citations}
    pairs = []
    for sent in split_marked(answer.text)[0]:
        claim, nums = strip_markers(sent)
        for n in nums:
            if n in by_num:
                pairs.append((claim, by_num[n]))
    return pairs


def citation_supported(sentence: str, passage: Passage, checker: CitationChecker | None = None) -> bool:
    # "(“Headline”)" names the article; it is not quoted evidence.
    quotes = [q.strip(" .,") for q in _QUOTE.findall(re.sub(r"\(\u201c[^\u201d]*\u201d\)", "", sentence))]
    if quotes:
        texts = [_norm(p.text) for p in _copies(passage)]
        return all(any(_norm(q) in t for t in texts) for q in quotes if q)
    if checker is None:
        return False
    return checker.supports(checker.support(sentence, passage))


def cites_relevant(answer: Answer, relevant: list[dict]) -> bool:
    for c in answer.citations:
        for p in _copies(c.passage):
            for r in relevant:
                if p.source == r["source"] and _norm(r["contains"]) in _norm(p.text):
                    return True
    return False


def fact_coverage(answer: Answer, facts: list[str]) -> float:
    if not facts:
        return 1.0
    text = _norm(answer.text + " " + " ".join(_norm(c.outlet) + " " + _norm(c.passage.agency or "")
                                               for c in answer.citations))
    return sum(_norm(f) in text for f in facts) / len(facts)


@dataclass
class Report:
    n: int
    citation_precision: float
    citation_recall: float
    fact_coverage: float
    abstention_accuracy: float
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    failures: list[str] | None = None

    def lines(self) -> str:
        out = (f"questions {self.n}  citation precision {self.citation_precision:.3f}  "
               f"recall {self.citation_recall:.3f}  fact coverage {self.fact_coverage:.3f}  "
               f"abstention accuracy {self.abstention_accuracy:.3f}")
        if self.latency_p50_ms is not None:
            out += f"  latency p50 {self.latency_p50_ms:.0f} ms p95 {self.latency_p95_ms:.0f} ms"
        return out


def percentile(values: list[float], q: float) -> float:
    xs = sorted(values)
    if not xs:
        return 0.0
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def evaluate(items: list[dict], answers: list[Answer], checker: CitationChecker | None = None,
             latencies_ms: list[float] | None = None) -> Report:
    supported = total = 0
    recall_hits = recall_n = 0
    coverages: list[float] = []
    abst_ok = 0
    failures: list[str] = []
    for item, ans in zip(items, answers):
        pairs = cited_pairs(ans) if ans.answered else []
        for sent, p in pairs:
            total += 1
            ok = citation_supported(sent, p, checker)
            supported += ok
            if not ok:
                failures.append(f"{item.get('id')}: unsupported citation: {sent[:90]}")
        if ans.answered == bool(item["answerable"]):
            abst_ok += 1
        else:
            failures.append(f"{item.get('id')}: answered={ans.answered} but answerable={item['answerable']}: "
                            f"{item['question']}")
        if item["answerable"]:
            coverages.append(fact_coverage(ans, item.get("facts", [])) if ans.answered else 0.0)
            if item.get("relevant"):
                recall_n += 1
                hit = ans.answered and cites_relevant(ans, item["relevant"])
                recall_hits += hit
                if ans.answered and not hit:
                    failures.append(f"{item.get('id')}: no relevant paragraph cited: {item['question']}")
    rep = Report(len(items), supported / total if total else 1.0, recall_hits / recall_n if recall_n else 1.0,
                 statistics.fmean(coverages) if coverages else 1.0, abst_ok / len(items) if items else 1.0,
                 failures=failures)
    if latencies_ms:
        rep.latency_p50_ms = percentile(latencies_ms, 0.5)
        rep.latency_p95_ms = percentile(latencies_ms, 0.95)
    return rep
