"""`assistant` command line: a thin layer over the Python API (assistant.api.Assistant)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import warnings
from dataclasses import asdict, is_dataclass
from pathlib import Path

from .errors import AssistantError

EPILOG = """examples:
  assistant search "What did Hegseth say about NATO?" -k 5
  assistant ask "Where did Trump and Putin meet?" --outlet "The Straits Times"
  assistant check "The Alaska meeting lasted more than five hours"
  assistant ingest ~/saved-articles/
settings come from ASSISTANT_* environment variables or .env (see README, "Configuration")."""


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("-k", type=int, default=None,
                   help="number of passages, 1 to 100 (default: ASSISTANT_TOP_K=5 for search, ASSISTANT_ANSWER_K=8 "
                        "for ask/chat)")
    p.add_argument("--outlet", action="append",
                   help="only this outlet or wire agency, any case (repeatable)")
    p.add_argument("--source", action="append", help="only this article file name (repeatable)")
    p.add_argument("--date-from", help="only articles dated on/after YYYY[-MM[-DD]] (undated ones are excluded)")
    p.add_argument("--date-to", help="only articles dated on/before YYYY[-MM[-DD]]")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="assistant", description="Newsdesk: cited answers and claim checks over news articles (offline).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents-dir", help="articles folder (default: ASSISTANT_DOCUMENTS_DIR or the project's documents/)")
    ap.add_argument("--index-dir", help="index folder (default: ASSISTANT_INDEX_DIR or the project's indexes/)")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="add files or folders (.txt .md .html) to the index")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--json", action="store_true", help="machine-readable report")

    p = sub.add_parser("search", help="best matching paragraphs (hybrid dense + BM25)")
    p.add_argument("query")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="retriever (default hybrid)")
    _filters(p)

    p = sub.add_parser("ask", help="a cited answer to one question")
    p.add_argument("question")
    p.add_argument("--engine", choices=["extractive", "llm"],
                   help="answer engine (default: llm when ASSISTANT_LLM_PROVIDER is set, else extractive)")
    _filters(p)

    p = sub.add_parser("chat", help="interactive questions with follow-ups (Ctrl-D to quit)")
    _filters(p)

    p = sub.add_parser("check", help="which sources support / contradict / ignore a claim")
    p.add_argument("claim")
    p.add_argument("--outlet", action="append",
                   help="only this outlet or wire agency, any case, as in search (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("sources", help="what is indexed: outlet, title, paragraphs, tokens")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("reindex", help="drop the index and re-add every article: the documents folder and "
                                       "every file ingested from elsewhere that still exists",
                       description="Drop the index and re-add every article: the documents folder and every file "
                                   "ingested from elsewhere that still exists (use it after changing the embedding "
                                   "model or the cleaning rules, or when the index is damaged).")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    p = sub.add_parser("bench", help="run the benchmarks (same as `python -m benchmarks`; try `bench --help`)",
                       add_help=False)
    p.add_argument("bench_args", nargs=argparse.REMAINDER)

    p = sub.add_parser("remove", help="remove one article (by file name) from the index")
    p.add_argument("source")
    return ap


def _jsonable(obj):
    if is_dataclass(obj):
        return _jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _dump(obj) -> None:
    print(json.dumps(_jsonable(obj), ensure_ascii=False, indent=2))


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent, subsequent_indent=indent)


REPORT_NAMES = 20  # names listed per line of the ingest report; `--json` lists every one


def _print_report(report) -> None:
    for label, items in (("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged)):
        if items:
            names = ", ".join(items[:REPORT_NAMES])
            more = f", and {len(items) - REPORT_NAMES:,} more (--json lists them all)" if len(items) > REPORT_NAMES else ""
            print(f"{label}: {len(items):,} ({names}{more})")
    print(f"paragraphs indexed: {report.paragraphs:,}")
    if report.skipped:
        print(f"skipped: {len(report.skipped):,} file(s), each named below with its reason")
    for s in report.skipped:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    for w in report.warnings:
        print(f"warning {w.path}: {w.reason}", file=sys.stderr)


def _clip(text: str, n: int) -> str:
    """`text` on one line, cut to about `n` characters at a space; "…" only when something was cut."""
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[:n].rsplit(" ", 1)[0] if " " in text[:n] else text[:n]
    return cut + "\u2026"


def _print_notices(notices) -> None:
    for n in notices:
        print(f"note: {n}", file=sys.stderr)


def _print_answer(ans) -> None:
    if ans.standalone_question and ans.standalone_question != ans.question:
        print(f"(understood as: {ans.standalone_question})")
    if ans.note:
        print(f"({ans.note})")
    _print_notices(n for n in ans.notices if n != ans.text)
    print(_wrap(ans.text, ""))
    if ans.citations:
        print("\nSources:")
        for c in ans.citations:
            outlets = ", ".join(c.passage.outlets)
            print(f"  [{c.number}] {outlets}, \u201c{c.title}\u201d, paragraph {c.paragraph} ({c.source})")
            print(_wrap(c.quote or c.text, "      "))
    if ans.related:
        print("\nPossibly related (not an answer):")
        for p in ans.related:
            # One wrapped item per paragraph: a heading's line break must not start an unindented line.
            item = f"{p.outlet}, \u201c{p.title}\u201d, paragraph {p.paragraph}: {_clip(p.text, 160)}"
            print("  - " + _wrap(item, "    ")[4:])


def _filter_kwargs(args) -> dict:
    return dict(outlet=args.outlet, source=getattr(args, "source", None), date_from=args.date_from,
                date_to=args.date_to)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # every option after `bench` belongs to the benchmark's own parser
        from benchmarks.__main__ import main as bench_main

        # The benchmark's parser names itself "python -m benchmarks"; here it is `assistant bench`.
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Renamed(out), _Renamed(err)
        try:
            bench_main(argv[1:])
        finally:
            sys.stdout, sys.stderr = out, err
        return 0
    args = build_parser().parse_args(argv)
    try:
        from .api import Assistant, NewsdeskWarning

        warnings.simplefilter("ignore", NewsdeskWarning)  # the CLI prints these itself, as "note: …"

        # A bar only on a terminal: in a log file every update would be another "\r…" line.
        progress = args.progress = not getattr(args, "no_progress", False) and sys.stderr.isatty()
        a = Assistant(documents_dir=args.documents_dir, index_dir=args.index_dir, progress=progress,
                      sync=args.cmd != "reindex")
        for notice in a.notices:
            print(f"note: {notice}", file=sys.stderr)
        return _run(a, args)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `assistant search … | head -1`: the reader left. Point stdout at /dev/null so the interpreter's
        # final flush does not raise again, and end quietly as other Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


# kept here for callers of the CLI module; the index layer owns the disk state
from .index import remove_orphan_segments  # noqa: E402,F401


class _Renamed:
    """A text stream that writes argparse's "usage: python -m benchmarks" / "python -m benchmarks: error"
    as `assistant bench`, and everything else unchanged."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        text = text.replace("usage: python -m benchmarks", "usage: assistant bench")
        text = text.replace("python -m benchmarks: error", "assistant bench: error")
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _run(a, args) -> int:
    if args.cmd == "ingest":
        report = a.ingest(args.paths, progress=args.progress)
        _dump(report) if args.json else _print_report(report)
        return 0 if report.ok else 1
    if args.cmd == "reindex":
        report = a.reindex(progress=args.progress)
        if not a.settings.chroma_url:
            remove_orphan_segments(Path(a.settings.index_dir) / "chroma")
        _print_report(report)
        return 0 if report.ok else 1
    if args.cmd == "remove":
        a.remove(args.source)
        print(f"removed {args.source}")
        return 0
    if args.cmd == "sources":
        rows = a.sources()
        if args.json:
            _dump(rows)
        else:
            print(f"{'outlet':<30} {'paras':>5} {'tokens':>6}  title  (file)")
            for s in rows:
                outlet = s.outlet + (f" ({s.agency})" if s.agency else "")
                print(f"{outlet:<30} {s.paragraphs:>5} {s.tokens:>6}  {s.title}  ({s.source})")
            print(f"{len(rows)} articles, {sum(s.paragraphs for s in rows)} paragraphs")
        return 0
    if args.cmd == "search":
        hits = a.search(args.query, k=args.k, mode=args.mode, **_filter_kwargs(args))
        _print_notices(getattr(hits, "notices", ()))
        if args.json:
            _dump(hits)
            return 0
        if not hits:
            print("No matching paragraphs.")
        for i, p in enumerate(hits, 1):
            print(f"{i}. {', '.join(p.outlets)} \u2014 \u201c{p.title}\u201d \u00b6{p.paragraph} "
                  f"({p.source}) score {p.score:.3f}")
            print(_wrap(p.text))
        return 0
    if args.cmd == "ask":
        ans = a.ask(args.question, k=args.k, engine=args.engine, **_filter_kwargs(args))
        _dump(ans) if args.json else _print_answer(ans)
        return 0
    if args.cmd == "chat":
        return _chat_loop(a, args)
    if args.cmd == "check":
        cc = a.check_claim(args.claim, outlet=args.outlet)
        if args.json:
            _dump(cc)
            return 0
        print(f"Claim: {cc.claim}\n{cc.summary}\n")
        print(f"{'source':<34} {'stance':<14} evidence")
        for v in cc.verdicts:
            who = v.outlet if v.outlet != "unknown" else f"\u201c{_clip(v.title, 28)}\u201d"
            tag = f" [{v.part}]" if v.part and len(cc.parts) > 1 else ""
            if not v.evidence:
                print(f"{who:<34} {v.stance:<14} \u2014{tag}")
                continue
            e = v.evidence[0]
            print(f"{who:<34} {v.stance:<14} paragraph {e.paragraph} ({v.source}), confidence {v.confidence:.2f}{tag}")
            print(_wrap(f"\u201c{e.quote or e.text}\u201d", " " * 50))
        return 0
    raise AssertionError(args.cmd)


def _chat_loop(a, args) -> int:
    from .api import clean_text_input

    session = a.chat(k=args.k, **_filter_kwargs(args))
    if hasattr(sys.stdin, "reconfigure"):  # invalid UTF-8 typed or piped in: decoded, not a traceback
        sys.stdin.reconfigure(errors="surrogateescape")
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask about the indexed articles (Ctrl-D to quit). Follow-ups use the conversation.")
    while True:
        try:
            q = input("> " if interactive else "")
        except EOFError:
            return 0
        q = clean_text_input(q)
        if not q.strip():
            continue
        try:
            ans = session.ask(q)
        except AssistantError as e:
            print(f"error: {e}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(_jsonable(ans), ensure_ascii=False))
        else:
            _print_answer(ans)
            print()


if __name__ == "__main__":
    sys.exit(main())
