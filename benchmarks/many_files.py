"""`assistant ingest` of a folder of many files (issue 12 item 3): it completes, names every file it
skipped, resumes after a kill, and a second run re-embeds nothing.

    python -m benchmarks.many_files --files 10000 --kill-after 60

Writes `--files` generated articles (`--paragraphs` each, text recycled from the bundled articles as in
every scale run; the embedding is real) into 100 subfolders, plus bad files of six kinds spread among them
(empty, binary, an unsupported extension, over the size limit, a byte-for-byte duplicate, a link out of
the folder). Runs the real CLI in a
subprocess: once killed with SIGKILL after `--kill-after` seconds (0: no kill), then to the end, then
again (all unchanged). Prints one JSON row. Not in the default test run (it embeds for minutes);
`tests/test_bench_smoke.py` runs it at 120 files, without the kill.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT
from .corpus import generated_articles

BAD_KINDS = ("empty", "binary", "unsupported", "too_large", "duplicate", "link_out")


def write_folder(folder: Path, n_files: int, paragraphs: int, bad_every: int) -> dict[str, str]:
    """The articles, and {path: kind} of each planted bad file (one of BAD_KINDS every `bad_every` files)."""
    raw = generated_articles(n_files * paragraphs, seed=n_files)
    paras = [p for a in raw for p in a["paragraphs"]]
    bad: dict[str, str] = {}
    outside = folder.parent / "outside.txt"
    outside.write_text("A file outside the ingested folder.\n", encoding="utf-8")
    for i in range(n_files):
        sub = folder / f"part{i % 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        a = raw[(i * paragraphs) // 20]
        body = "\n\n".join(paras[i * paragraphs:(i + 1) * paragraphs])
        # A unique headline per file: recycled sentences could otherwise make two files identical.
        (sub / f"story_{i:05d}.txt").write_text(
            f"---\noutlet: {a['outlet']}\ndate: {a['date']}\n---\nStory {i:05d}: {a['title']}\n\n{body}\n",
            encoding="utf-8")
        if i % bad_every == 0:
            kind = BAD_KINDS[(i // bad_every) % len(BAD_KINDS)]
            p = sub / f"story_{i:05d}_{kind}.txt"  # sorts after its story: a duplicate names the copy
            if kind == "empty":
                p.write_bytes(b"")
            elif kind == "binary":
                p.write_bytes(bytes(range(256)) * 8)
            elif kind == "unsupported":
                p = p.with_suffix(".docx")
                p.write_bytes(b"PK\x03\x04 not really a document")
            elif kind == "too_large":
                p.write_text("Too large. " * 600_000, encoding="utf-8")  # 6.6 MB > the 5 MB limit
            elif kind == "duplicate":
                shutil.copyfile(sub / f"story_{i:05d}.txt", p)
            else:
                os.symlink(outside, p)
            bad[str(p)] = kind
    return bad


def run_cli(label: str, args: list[str], kill_after: float = 0.0) -> dict:
    """One `assistant` CLI run in its own process: wall time, exit code, stdout/stderr, peak RSS."""
    cmd = [sys.executable, "-m", "assistant.cli", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        out, err = p.communicate(timeout=kill_after or None)
        killed = False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        out, err = p.communicate()
        killed = True
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: a figure only when this run set a new maximum.
    return {"run": label, "wall_s": round(wall, 1), "rc": p.returncode, "killed": killed,
            "peak_rss_mb": round(after / 1024, 1) if after > before else None, "stdout": out, "stderr": err}


def summary(run: dict) -> dict:
    """The counts the report printed ('added: 9,900 (...)' lines) and the files it said it skipped."""
    counts = {m.group(1): int(m.group(2).replace(",", ""))
              for m in re.finditer(r"^(added|updated|unchanged|paragraphs indexed): ([\d,]+)", run["stdout"], re.M)}
    skipped = dict(re.findall(r"^skipped (.+?): (.+)$", run["stderr"], re.M))
    return {**{k: v for k, v in run.items() if k not in ("stdout", "stderr")}, "counts": counts,
            "skipped": skipped}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--paragraphs", type=int, default=2, help="paragraphs per generated article")
    ap.add_argument("--bad-every", type=int, default=100, help="one planted bad file per this many articles")
    ap.add_argument("--kill-after", type=float, default=60.0, help="SIGKILL the first run after this many s (0: none)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-many-files-"))
    try:
        docs, index = work / "docs", work / "index"
        t0 = time.perf_counter()
        bad = write_folder(docs, args.files, args.paragraphs, args.bad_every)
        row: dict = {"files": args.files, "bad_files": len(bad), "paragraphs_per_file": args.paragraphs,
                     "write_folder_s": round(time.perf_counter() - t0, 1)}
        base = ["--index-dir", str(index), "--documents-dir", str(work / "none"), "ingest", str(docs)]
        runs = []
        if args.kill_after:
            runs.append(summary(run_cli("killed", base, kill_after=args.kill_after)))
        runs.append(summary(run_cli("to the end", base)))
        runs.append(summary(run_cli("again", base)))
        srcs = run_cli("sources", ["--index-dir", str(index), "--documents-dir", str(work / "none"), "sources", "--json"])
        indexed = len(json.loads(srcs["stdout"])) if srcs["rc"] == 0 else None
        final, again = runs[-2], runs[-1]
        named = set(final["skipped"])
        row.update(
            runs=[{k: v for k, v in r.items() if k != "skipped"} for r in runs],
            articles_indexed=indexed,
            every_bad_file_named=all(p in named for p in bad),
            skipped_named=len(named), skipped_not_planted=sorted(set(named) - set(bad))[:5],
            skip_reasons={kind: next((final["skipped"][p] for p, k in bad.items() if k == kind and p in named), None)
                          for kind in BAD_KINDS},
            second_run_all_unchanged=again["counts"].get("unchanged") == args.files
            and "added" not in again["counts"] and "updated" not in again["counts"],
        )
        print(json.dumps(row, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
