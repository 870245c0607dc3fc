"""Turn the results dict into a terminal table, report.json, report.md and PNG plots."""
from __future__ import annotations

import json
from pathlib import Path


def _f(x, nd=3):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def md_table(head: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_f(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows]
    return "\n".join(lines)


def quality_rows(res: dict) -> list[list]:
    q = res.get("retrieval") or {}
    rows = []
    names = {"bm25": "BM25 alone", "dense": "dense alone", "hybrid": "hybrid (product)",
             "llamaindex_default": "LlamaIndex VectorStoreIndex, default SentenceSplitter",
             "llamaindex_200": "LlamaIndex VectorStoreIndex, SentenceSplitter(200)"}
    for key, label in names.items():
        r = q.get(key)
        if r:
            rows.append([label, r["recall@1"], r["recall@5"], r["mrr@10"], f"{r['tokens@5']:.0f}"])
    return rows


def scale_rows(res: dict) -> list[list]:
    rows = []
    for r in res.get("scale", []):
        if "error" in r:
            rows.append([f"{r['size']:,}", r["mode"], "error: " + r["error"][:60]] + [""] * (len(SCALE_HEAD) - 3))
            continue
        up = (f"{r['upsert_s']:.1f}", f"{r['upsert_paragraphs_per_s']:.0f}") if r.get("upsert_s") else ("–", "–")
        bulk = (f"{r['index_s']:.1f}", f"{r['index_paragraphs_per_s']:.0f}") if r.get("index_s") else ("–", "–")
        rows.append([f"{r['size']:,}", r["mode"], *up, *bulk,
                     f"{r['disk_mb']:.0f}" if r.get("disk_mb") is not None else "–",
                     f"{r['first_search_s'] * 1000:.0f}",
                     f"{r['search_after_write_s'] * 1000:.0f}" if r.get("search_after_write_s") is not None else "–",
                     f"{r['hybrid']['p50_ms']:.0f} / {r['hybrid']['p95_ms']:.0f}",
                     f"{r['dense']['p95_ms']:.0f} / {r['bm25']['p95_ms']:.0f} / {r['query_embedding']['p95_ms']:.0f}",
                     f"{r['hybrid_outlet_filter']['p50_ms']:.0f} / {r['hybrid_outlet_filter']['p95_ms']:.0f}",
                     (f"{r['hybrid_date_filter']['p50_ms']:.0f} / {r['hybrid_date_filter']['p95_ms']:.0f}"
                      if r.get("hybrid_date_filter") else "–"),
                     f"{r['rss_mb']:.0f}",
                     f"{r['fresh_process']['rss_mb']:.0f}" if (r.get("fresh_process") or {}).get("rss_mb") else "–"])
    return rows


SCALE_HEAD = ["paragraphs", "store", "upsert() s", "upsert() para/s", "bulk write s", "bulk para/s", "disk MB", "1st search in process ms",
              "search after 1-article write ms",
              "hybrid p50/p95 ms", "p95 ms: dense / bm25 / query-embed", "outlet-filtered p50/p95 ms",
              "date-filtered p50/p95 ms", "RSS MB (writer)", "RSS MB (fresh searching process)"]
QUALITY_HEAD = ["retriever", "Recall@1", "Recall@5", "MRR@10", "tokens@5"]


def answers_line(a: dict) -> str:
    return (f"answers via ask() (answer_k={a.get('answer_k', '?')}, {a.get('n')} questions): citation precision "
            f"{_f(a.get('citation_precision'))}, citation recall {_f(a.get('citation_recall'))}, fact coverage "
            f"{_f(a.get('fact_coverage'))}, abstention accuracy {_f(a.get('abstention_accuracy'))}, "
            f"p50/p95 {_f(a.get('latency_p50_ms'), 0)}/{_f(a.get('latency_p95_ms'), 0)} ms")


MODEL_HEAD = ["model", "para/s", "load s", "query ms p50", "RSS +model MB", "RSS after embed MB",
              "index bundled s", "BM25 MRR", "dense R@1", "dense R@5", "dense MRR", "hybrid R@1", "hybrid R@5",
              "hybrid MRR"]


def model_rows(res: dict) -> list[list]:
    rows = []
    for name, r in (res.get("models") or {}).items():
        if "error" in r:
            rows.append([name, "error: " + r["error"][:80]] + [""] * (len(MODEL_HEAD) - 2))
            continue
        q = r.get("quality") or {}

        def m(mode, key):
            return f"{q[mode][key]:.3f}" if mode in q else "–"

        rows.append([name, f"{r['paragraphs_per_s']:.0f}", f"{r['load_s']:.2f}", f"{r['query_embedding']['p50_ms']:.0f}",
                     f"{r['rss_model_mb']:.0f}", f"{r['rss_after_embed_mb']:.0f}",
                     f"{q['index_bundled_s']:.1f}" if q else "–", m("bm25", "mrr@10"),
                     m("dense", "recall@1"), m("dense", "recall@5"), m("dense", "mrr@10"),
                     m("hybrid", "recall@1"), m("hybrid", "recall@5"), m("hybrid", "mrr@10")])
    return rows


def terminal(res: dict) -> str:
    """A compact plain-text summary."""
    out = []
    if quality_rows(res):
        out.append(_plain(QUALITY_HEAD, quality_rows(res)))
    sp = res.get("speed", {})
    for key in ("ingest", "ingest_small"):
        if sp.get(key):
            out.append(ingest_line(sp[key]))
    if res.get("answers"):
        out.append(answers_line(res["answers"]))
    if res.get("claims"):
        c = res["claims"]
        out.append(f"claim check: accuracy {c.get('accuracy', 0):.3f}, macro recall {c.get('macro_recall', 0):.3f} "
                   f"on {c.get('pairs')} pairs")
    for name in ("search", "ask"):
        if isinstance(sp.get(name), dict) and "p50_ms" in sp[name]:
            out.append(f"{name} latency p50 {sp[name]['p50_ms']:.0f} ms, p95 {sp[name]['p95_ms']:.0f} ms "
                       f"({sp[name]['n']} queries)")
    if isinstance(sp.get("cold_start"), dict) and "wall_s" in sp["cold_start"]:
        c = sp["cold_start"]
        out.append(f"cold start {c['wall_s']:.1f} s (import {c['import_s']:.1f}, open {c['open_s']:.1f}, "
                   f"first search {c['first_search_s']:.2f})")
    if model_rows(res):
        out.append(_plain(MODEL_HEAD, model_rows(res)))
    if scale_rows(res):
        out.append(_plain(SCALE_HEAD, scale_rows(res)))
    out.append(f"peak RSS {res.get('peak_rss_mb', 0):.0f} MB; total {res.get('total_s', 0):.0f} s")
    return "\n\n".join(out)


def ingest_line(i: dict) -> str:
    """One ingest-vs-floor row in words (older rows without the NLP floor: vs the embedding model)."""
    if "floor_paragraphs_per_s" not in i:
        return (f"ingest of {i['paragraphs']} paragraphs: {i['ingest_paragraphs_per_s']:.0f} para/s vs raw model "
                f"{i['raw_paragraphs_per_s']:.0f} para/s = {i['ingest_share_of_raw']:.0%} of raw")
    shares = ", ".join(f"{x:.0%}" for x in i.get("shares_of_floor", []))
    return (f"ingest of {i['paragraphs']} {i.get('text', 'generated')}-text paragraphs ({i['articles']} articles): "
            f"{i['ingest_paragraphs_per_s']:.0f} para/s; alone on the same paragraphs the embedding model "
            f"{i['raw_paragraphs_per_s']:.0f}/s and the NLP pass {i['nlp_paragraphs_per_s']:.0f}/s, one after the "
            f"other {i['floor_paragraphs_per_s']:.0f}/s = the floor -> ingest at {i['ingest_share_of_floor']:.0%} "
            f"of the floor (median round; rounds {shares}; target >= 85%)"
            + (f"; CPU-seconds of the floor / of ingest: "
               + ", ".join(f"{x:.0%}" for x in i["cpu_shares_of_floor"]) if i.get("cpu_shares_of_floor") else ""))


def _plain(head, rows) -> str:
    cells = [head] + [[_f(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells)


def plots(res: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    scale = [r for r in res.get("scale", []) if "error" not in r]
    if scale:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for mode, marker in (("embedded", "o"), ("server", "s")):
            rows = sorted((r for r in scale if r["mode"] == mode), key=lambda r: r["size"])
            if not rows:
                continue
            xs = [r["size"] for r in rows]
            for key, style in (("hybrid", "-"), ("dense", "--"), ("bm25", ":"), ("hybrid_outlet_filter", "-.")):
                label = f"{key.replace('_', ' ')} p95 ({mode})"
                ax.plot(xs, [r[key]["p95_ms"] for r in rows], style, marker=marker, label=label)
        ax.axhline(50, color="grey", lw=0.8)
        ax.axhline(200, color="grey", lw=0.8)
        ax.text(1000, 52, "target at 10k: 50 ms", fontsize=8, color="grey")
        ax.text(1000, 205, "target at 100k: 200 ms", fontsize=8, color="grey")
        ax.set_yscale("log")
        _by_size(ax, "search latency p95 (ms, incl. query embedding)", "Search latency vs corpus size")
        made.append(_save(fig, out, "latency_vs_size.png"))
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for mode, marker in (("embedded", "o"), ("server", "s")):
            rows = sorted((r for r in scale if r["mode"] == mode), key=lambda r: r["size"])
            if not rows:
                continue
            xs = [r["size"] for r in rows]
            ax.plot(xs, [r["rss_mb"] for r in rows], "-", marker=marker, label=f"process that wrote it ({mode})")
            fresh = [(x, r["fresh_process"]["rss_mb"]) for x, r in zip(xs, rows)
                     if (r.get("fresh_process") or {}).get("rss_mb")]
            if fresh:
                ax.plot(*zip(*fresh), "--", marker=marker, label=f"fresh process that searches ({mode})")
            disk = [(x, r["disk_mb"]) for x, r in zip(xs, rows) if r.get("disk_mb") is not None]
            if disk:
                ax.plot(*zip(*disk), ":", marker=marker, label=f"disk, Chroma + keyword index ({mode})")
        ax.axhline(1024, color="grey", lw=0.8)
        ax.text(1000, 1060, "target at 100k: 1 GB resident", fontsize=8, color="grey")
        _by_size(ax, "MB", "Memory and disk vs corpus size")
        made.append(_save(fig, out, "memory_vs_size.png"))
    ingest = [(k, v) for k, v in (res.get("speed") or {}).items()
              if k.startswith("ingest") and isinstance(v, dict) and "floor_paragraphs_per_s" in v]
    if ingest:
        made.append(_ingest_plot(plt, ingest, out))
    rows = quality_rows(res)
    if rows:
        import numpy as np

        fig, ax = plt.subplots(figsize=(8, 4.5))
        metrics = ["Recall@1", "Recall@5", "MRR@10"]
        x = np.arange(len(rows))
        for j, m in enumerate(metrics):
            ax.bar(x + (j - 1) * 0.25, [r[1 + j] for r in rows], 0.25, label=m)
        ax.set_xticks(x, [r[0].replace("LlamaIndex VectorStoreIndex, ", "LlamaIndex\n").replace(" (product)", "\n(product)")
                          for r in rows], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"Retrieval quality on {res['retrieval']['hybrid']['n']} labelled questions")
        ax.legend()
        made.append(_save(fig, out, "quality_per_retriever.png"))
    return made


def _ingest_plot(plt, rows: list[tuple[str, dict]], out: Path) -> str:
    """Paragraphs/s of each model alone, of the floor (both, one after the other) and of ingest, per
    measured row (a row's `label` names it, e.g. before/after a change); each round's ingest as a dot."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 1.6 + 1.3 * len(rows)))
    bars = [("embedding model alone", "raw_paragraphs_per_s", "#9ecae1"),
            ("NLP pass alone", "nlp_paragraphs_per_s", "#c6dbef"),
            ("floor: both, one after the other", "floor_paragraphs_per_s", "#636363"),
            ("ingest", "ingest_paragraphs_per_s", "#e6550d")]
    h = 0.8 / len(bars)
    y = np.arange(len(rows))[::-1]
    for j, (label, key, colour) in enumerate(bars):
        vals = [r[key] for _, r in rows]
        ax.barh(y + (len(bars) / 2 - j - 0.5) * h, vals, h, label=label, color=colour)
    for yi, (_, r) in zip(y, rows):
        yb = yi + (len(bars) / 2 - 3 - 0.5) * h
        for rd in r.get("rounds", []):
            ax.plot(rd["ingest_paragraphs_per_s"], yb, "k.", ms=4)
        right = max([r["ingest_paragraphs_per_s"]] + [rd["ingest_paragraphs_per_s"] for rd in r.get("rounds", [])])
        ax.text(right * 1.03, yb, f"{r['ingest_share_of_floor']:.0%} of floor",
                va="center", fontsize=8)
    ax.set_yticks(y, [r.get("label") or f"{r['paragraphs']} {r.get('text', '')} paragraphs" for _, r in rows],
                  fontsize=8)
    ax.set_xlabel("paragraphs/s (dots: each round's ingest; median round shown)")
    ax.set_title("Ingest vs the model floor (target: ingest >= 85% of the floor)")
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, out, "ingest_vs_floor.png")


def _by_size(ax, ylabel: str, title: str) -> None:
    """The axes of a plot against corpus size (log scale), with its legend."""
    ax.set_xscale("log")
    ax.set_xlabel("paragraphs in the index")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)


def _save(fig, out: Path, name: str) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name


def markdown(res: dict, pngs: list[str]) -> str:
    m = res["meta"]
    parts = [f"# Newsdesk benchmark report\n\nRun {m['date']} on {m['machine']}; "
             f"command `{m['command']}`; total {res.get('total_s', 0):.0f} s; load average at start "
             f"{m['loadavg_start']}, at end {m.get('loadavg_end', '?')} (other work on the machine inflates latency).\n"]
    for note in res.get("notes", []):
        parts.append(f"- {note}")
    parts.append("")
    if quality_rows(res):
        q = res["retrieval"]
        parts.append(f"## Retrieval quality ({q['hybrid']['n']} answerable labelled questions, top 10)\n")
        parts.append(md_table(QUALITY_HEAD, quality_rows(res)))
        parts.append("\nRecall@k = share of a question's labelled passages in the top k; MRR@10 = 1/rank of the "
                     "first relevant unit; tokens@5 = mean size of a top-5 unit (what a reader or LLM must read "
                     "per hit). No reranker ships offline (no cross-encoder is packaged on PyPI), so there is "
                     "no reranked row.\n")
        if q.get("embed_context"):
            rows = [[v, r["hybrid"]["recall@1"], r["hybrid"]["recall@5"], r["hybrid"]["mrr@10"], r["dense"]["mrr@10"],
                     r["bm25"]["mrr@10"]] for v, r in q["embed_context"].items()]
            parts.append("### embed_context variants\n")
            parts.append(md_table(["embed_context", "hybrid R@1", "hybrid R@5", "hybrid MRR@10", "dense MRR@10",
                                   "BM25 MRR@10"], rows))
        if q.get("fusion"):
            f = q["fusion"]
            rows = [[r.get("mode", "reciprocal_rerank"), _f(r["rrf_k"]), r["dense_weight"], r["bm25_weight"],
                     r["candidate_k"], r["recall@1"], r["recall@5"], r["mrr@10"]] for r in f["rows"][:10]]
            parts.append("\n### Fusion grid (top 10 of %d by MRR@10)\n" % len(f["rows"]))
            parts.append(md_table(["fusion mode", "rrf_k", "dense w", "bm25 w", "candidate_k", "R@1", "R@5", "MRR@10"],
                                  rows))
            cur = f.get("current") or {}
            parts.append(f"\nCurrent defaults MRR@10 {_f(cur.get('mrr@10'))}; best in grid {_f(f['best']['mrr@10'])}; "
                         f"2-fold held-out MRR@10 of the picked setting {_f(f['cv_mrr@10_of_picked'])} "
                         "(what a pick is really worth on unseen questions).\n")
    for key, title in (("answers", "Answer quality"), ("claims", "Claim check")):
        sec = res.get(key)
        if sec:
            parts.append(f"## {title}\n")
            if key == "answers":
                parts.append(answers_line(sec) + "\n")
            parts.append("```\n" + json.dumps({k: v for k, v in sec.items() if k not in ("failures",)}, indent=1,
                                              default=str)[:3000] + "\n```\n")
    sp = res.get("speed", {})
    if sp:
        parts.append("## Speed\n")
        if sp.get("embedding_grid"):
            rows = [[r["threads"], r["batch"], "yes" if r["sorted"] else "no", f"{r['paragraphs_per_s']:.0f}"]
                    for r in sp["embedding_grid"]]
            parts.append(f"Raw embedding model (int8 ONNX all-MiniLM-L6-v2) on {sp['embedding_grid'][0]['texts']} "
                         "generated paragraphs as the index embeds them:\n")
            parts.append(md_table(["threads", "batch", "length-sorted", "paragraphs/s"], rows))
        for key in ("ingest", "ingest_small"):
            if sp.get(key):
                parts.append("\nIngest (files -> clean -> embed + NLP pass -> Chroma, keyword index): "
                             + ingest_line(sp[key]) + ".\n")
        lat = [[n, sp[n]["n"], f"{sp[n]['p50_ms']:.0f}", f"{sp[n]['p95_ms']:.0f}"] for n in ("search", "ask")
               if isinstance(sp.get(n), dict) and "p50_ms" in sp[n]]
        if lat:
            parts.append(md_table(["bundled corpus", "queries", "p50 ms", "p95 ms"], lat))
        if isinstance(sp.get("ask"), str):
            parts.append(f"\nask: {sp['ask']}\n")
        c = sp.get("cold_start") or {}
        if "wall_s" in c:
            parts.append(f"\nCold start (fresh process, median of {c['runs']}): {c['wall_s']:.2f} s wall = import "
                         f"{c['import_s']:.2f} s + open index {c['open_s']:.2f} s + first search "
                         f"{c['first_search_s']:.2f} s + interpreter start.\n")
        parts.append(f"Peak RSS of the main benchmark process: {res.get('peak_rss_mb', 0):.0f} MB.\n")
    if model_rows(res):
        ms = res["models"]
        n = next((r["texts"] for r in ms.values() if "texts" in r), "?")
        parts.append("## Embedding models (both ship offline)\n")
        parts.append(f"Throughput on the same {n} generated paragraphs as the index embeds them (product threads and "
                     "batch size); load = construct + first embedding, in a fresh process; RSS +model = resident "
                     "memory the loaded model adds; RSS after embed includes the runtime's buffers after the batch; "
                     "quality = the product built with each model on the labelled questions (MRR = MRR@10).\n")
        parts.append(md_table(MODEL_HEAD, model_rows(res)))
        parts.append("")
    if scale_rows(res):
        parts.append("## Scale (generated corpus, random unit vectors for paragraphs, real query embeddings)\n")
        parts.append(md_table(SCALE_HEAD, scale_rows(res)))
        bd = [[f"{r['size']:,}", r["mode"], f"{r['first_chroma_query_s']:.2f}", f"{r['bm25_read_all_nodes_s']:.2f}", f"{r['bm25_build_s']:.2f}",
               f"{r['chroma_query_raw']['p50_ms']:.1f} / {r['chroma_query_raw']['p95_ms']:.1f}"]
              for r in res["scale"] if "error" not in r]
        parts.append("\n1st search in process = reads every paragraph back from Chroma for BM25 and indexes it (once per "
                     "process); search after 1-article write = re-ingest one 20-paragraph article in the warm process, "
                     "then search (BM25 re-index only: the index keeps its keyword corpus current).\n")
        parts.append("\nWhere the first search in a process goes, and the bare Chroma query floor:\n")
        parts.append("upsert() = ParagraphIndex.upsert, the product's write path (Chroma delete + add + registry "
                     "upsert per group of ~256 paragraphs), which fills the searched collection; bulk = the same "
                     "LlamaIndex ChromaVectorStore.add with 5,000 paragraphs per call into a side collection, the "
                     "store's floor (measured up to 10k). Latencies include query embedding.\n")
        parts.append(md_table(["paragraphs", "store", "first Chroma query s (HNSW load)", "read all paragraphs s", "bm25s build s",
                               "raw Chroma query p50/p95 ms"], bd))
    for p in pngs:
        parts.append(f"\n![{p}]({p})")
    return "\n".join(parts) + "\n"


def write(res: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    pngs = plots(res, out)
    (out / "report.json").write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    (out / "report.md").write_text(markdown(res, pngs), encoding="utf-8")
