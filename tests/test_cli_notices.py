"""Issue 11.10-11.12 in the CLI and the API, in-process: empty-index and undated-article notices, the
progress bar off a terminal, reindex's leftovers, help texts, "…" and the "possibly related" list."""
from __future__ import annotations

import io
import sqlite3
import warnings
from pathlib import Path

import pytest

from assistant import cli
from assistant.models import Answer, IngestReport, Passage
from tests.conftest import ROOT


# ---- 11.10: an empty index says so

@pytest.fixture(scope="module")
def empty_assistant(tmp_path_factory):
    from assistant import Assistant

    d = tmp_path_factory.mktemp("empty")
    return Assistant(documents_dir=d / "no-docs", index_dir=d / "index")


def test_empty_index_answer_says_so_not_could_not_find(empty_assistant):
    from assistant.api import NewsdeskWarning

    with pytest.warns(NewsdeskWarning, match="index is empty"):
        ans = empty_assistant.ask("What did Hegseth say about NATO?")
    assert not ans.answered and ans.text.startswith("The index is empty")
    assert "could not find" not in ans.text and ans.notices == (ans.text,)
    with pytest.warns(NewsdeskWarning):
        hits = empty_assistant.search("NATO")
    assert hits == [] and hits.notices and "assistant ingest" in hits.notices[0]


def test_empty_index_stream_and_chat_say_so(empty_assistant):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream = empty_assistant.ask_stream("Where did Trump and Putin meet?")
        text = "".join(stream)
        chat_ans = empty_assistant.chat().ask("Where did Trump and Putin meet?")
        chat_stream = empty_assistant.chat().ask_stream("Where did Trump and Putin meet?")
        chunks = list(chat_stream)  # what the chat UI streams
    assert text.startswith("The index is empty") and stream.answer.notices
    assert chunks == [chat_stream.answer.text] and chunks[0].startswith("The index is empty")
    assert chat_ans.text.startswith("The index is empty") and not chat_ans.answered


def test_cli_ask_on_an_empty_index_prints_the_notice(tmp_path, capsys):
    rc = cli.main(["--documents-dir", str(tmp_path / "none"), "--index-dir", str(tmp_path / "idx"),
                   "ask", "What did Hegseth say about NATO?"])
    got = capsys.readouterr()
    assert rc == 0 and "The index is empty" in got.out and "could not find" not in got.out
    assert "NewsdeskWarning" not in got.err  # the CLI says it once, as text, not as a Python warning


# ---- 11.11: undated articles a date filter excluded

def test_date_filter_counts_the_undated_articles_it_excluded(built_assistant):
    from assistant.api import NewsdeskWarning

    n = sum(1 for s in built_assistant.sources() if not s.date)
    assert n  # the bundled articles are undated
    with pytest.warns(NewsdeskWarning, match=f"excluded {n} undated article"):
        hits = built_assistant.search("Alaska summit", date_from="2025-01")
    assert hits.excluded_undated == n and "2025-01" in hits.notices[0]
    with pytest.warns(NewsdeskWarning):
        ans = built_assistant.ask("Where did Trump and Putin meet?", date_from="2025-01")
    assert any(f"{n} undated" in x for x in ans.notices)
    # Without a date filter nothing is said; an outlet narrows the count to that outlet's articles.
    assert built_assistant.search("Alaska summit").notices == ()
    one = built_assistant.search("Alaska summit", date_from="2025-01", outlet="SouthFront")
    assert one.excluded_undated == sum(1 for s in built_assistant.sources()
                                       if s.outlet == "SouthFront" and not s.date)


def test_cli_search_prints_how_many_undated_articles_were_excluded(built_assistant, capsys):
    args = cli.build_parser().parse_args(["search", "Alaska summit", "--date-from", "2025-01"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli._run(built_assistant, args) == 0
    got = capsys.readouterr()
    assert "No matching paragraphs." in got.out and "note: The date filter" in got.err


# ---- 11.12: progress bar, reindex, help, "…", "possibly related"

class FakeAssistant:
    instances: list["FakeAssistant"] = []

    def __init__(self, progress=False, **kwargs):
        self.progress, self.calls, self.notices = progress, [], []
        self.settings = type("S", (), {"chroma_url": None, "index_dir": Path("/nonexistent")})()
        FakeAssistant.instances.append(self)

    def ingest(self, paths, progress=None):
        self.calls.append(("ingest", progress))
        return IngestReport(added=("x.txt",), paragraphs=1)

    def reindex(self, progress=None):
        self.calls.append(("reindex", progress))
        return IngestReport(added=("x.txt",), paragraphs=1)


@pytest.mark.parametrize("argv", [["ingest", "x.txt"], ["reindex"]])
def test_no_progress_bar_when_stderr_is_not_a_terminal(monkeypatch, argv, capsys):
    import assistant.api

    monkeypatch.setattr(assistant.api, "Assistant", FakeAssistant)
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a log file, not a terminal
    assert cli.main(argv) == 0
    fake = FakeAssistant.instances[-1]
    assert fake.progress is False and fake.calls == [(argv[0], False)]


def test_reindex_help_says_what_it_does():
    sub = next(a for a in cli.build_parser()._actions if a.dest == "cmd")
    help_text = next(c.help for c in sub._choices_actions if c.dest == "reindex")
    assert "from the documents folder" not in help_text.replace("the documents folder and", "")
    assert "ingested from elsewhere" in help_text


def test_reindex_leaves_no_orphaned_segment_folders(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Bridge\n\nThe mayor said the bridge will reopen on Monday.\n")
    base = ["--documents-dir", str(docs), "--index-dir", str(tmp_path / "idx")]
    assert cli.main([*base, "sources"]) == 0
    chroma = tmp_path / "idx" / "chroma"
    before = sorted(d.name for d in chroma.iterdir() if d.is_dir())
    assert cli.main([*base, "reindex"]) == 0
    after = sorted(d.name for d in chroma.iterdir() if d.is_dir())
    with sqlite3.connect(chroma / "chroma.sqlite3") as con:
        live = {r[0] for r in con.execute("SELECT id FROM segments")}
    assert len(after) == len(before) and set(after) <= live
    assert cli.main([*base, "search", "bridge"]) == 0 and "reopen on Monday" in capsys.readouterr().out


def test_orphan_cleanup_keeps_unknown_folders(tmp_path):
    chroma = tmp_path / "chroma"
    (chroma / "11111111-2222-3333-4444-555555555555").mkdir(parents=True)
    (chroma / "11111111-2222-3333-4444-666666666666").mkdir()
    (chroma / "notes").mkdir()
    with sqlite3.connect(chroma / "chroma.sqlite3") as con:
        con.execute("CREATE TABLE segments (id TEXT)")
        con.execute("INSERT INTO segments VALUES ('11111111-2222-3333-4444-555555555555')")
    assert cli.remove_orphan_segments(chroma) == ["11111111-2222-3333-4444-666666666666"]
    assert sorted(d.name for d in chroma.iterdir() if d.is_dir()) == [
        "11111111-2222-3333-4444-555555555555", "notes"]


def test_bench_help_names_assistant_bench(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: assistant bench") and "usage: python -m benchmarks" not in out


def _passage(text: str, title: str = "A headline") -> Passage:
    return Passage(id="x#1", source="x.txt", outlet="Daily Express", title=title, paragraph=3, text=text)


def test_ellipsis_only_when_text_was_cut():
    assert cli._clip("Short text.", 160) == "Short text."
    assert cli._clip("word " * 50, 20).endswith("\u2026") and len(cli._clip("word " * 50, 20)) <= 21


def test_possibly_related_list_keeps_its_indentation_after_a_heading(capsys):
    ans = Answer("q?", "I could not find this in the indexed articles.", answered=False,
                 related=(_passage("At a Glance\nThe talks ended without a deal."),
                          _passage("The summit lasted less than three hours, officials said. " * 6)))
    cli._print_answer(ans)
    out = capsys.readouterr().out
    items = out.split("Possibly related (not an answer):\n", 1)[1].rstrip("\n").split("\n")
    assert all(line.startswith(("  - ", "    ")) for line in items), items
    assert "At a Glance The talks ended without a deal." in out
    first = next(line for line in items if "At a Glance" in line)
    assert not first.endswith("\u2026")  # not cut, so no "…"
    assert out.count("\u2026") == 1  # the long one was cut


def test_make_help_lists_every_target_and_bench_takes_args():
    makefile = (ROOT / "Makefile").read_text()
    help_block = makefile.split("help:", 1)[1].split("\n\n", 1)[0]
    for target in ("run", "test", "test-fast", "cli", "bench", "setup", "clean-index", "browser"):
        assert f"make {target} " in help_block, target
    assert "python -m benchmarks $(ARGS)" in makefile


# ---- issue 12.3: the report of a 10,000-file ingest stays readable

def test_ingest_report_of_many_files_lists_a_few_names_counts_the_rest_and_names_every_skip(capsys):
    from assistant.models import SkippedFile

    added = tuple(f"story_{i:05d}.txt" for i in range(10_000))
    skipped = tuple(SkippedFile(f"/news/bad_{i}.txt", "empty file") for i in range(3))
    cli._print_report(IngestReport(added=added, unchanged=("old.txt",), skipped=skipped, paragraphs=20_000))
    out, err = capsys.readouterr()
    added_line = next(line for line in out.splitlines() if line.startswith("added:"))
    assert added_line.startswith("added: 10,000 (story_00000.txt, ") and "story_00019.txt" in added_line
    assert "story_00020.txt" not in added_line and "and 9,980 more (--json lists them all)" in added_line
    assert "unchanged: 1 (old.txt)" in out and "paragraphs indexed: 20,000" in out
    assert "skipped: 3 file(s)" in out
    assert [line for line in err.splitlines() if line.startswith("skipped")] == [
        f"skipped /news/bad_{i}.txt: empty file" for i in range(3)]


def test_reading_a_folder_shows_a_progress_bar_per_file(tmp_path, capsys):
    from assistant.config import get_settings
    from assistant.ingest import load_articles

    for i in range(3):
        (tmp_path / f"a{i}.txt").write_text(f"Headline {i}\n\nThe council met on day {i} and voted.\n")
    articles, _ = load_articles([tmp_path], get_settings(documents_dir=tmp_path), progress=True)
    assert len(articles) == 3 and "Reading files" in capsys.readouterr().err
    load_articles([tmp_path], get_settings(documents_dir=tmp_path))
    assert "Reading files" not in capsys.readouterr().err  # off unless asked (the CLI asks only on a terminal)
