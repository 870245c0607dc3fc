"""The benchmark's quick mode runs end to end on the bundled corpus and writes a usable report."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_quick_benchmark_writes_table_json_markdown_and_plots(tmp_path):
    out = tmp_path / "bench"
    p = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "hybrid (product)" in p.stdout and "MRR@10" in p.stdout  # the terminal table
    assert "models" not in json.loads((out / "report.json").read_text())  # quick stays quick

    res = json.loads((out / "report.json").read_text())
    hybrid = res["retrieval"]["hybrid"]
    assert hybrid["n"] > 0 and 0 < hybrid["mrr@10"] <= 1
    # The product must not lose to the plain LlamaIndex index a user would otherwise build.
    assert hybrid["mrr@10"] >= res["retrieval"]["llamaindex_default"]["mrr@10"]
    ingest = res["speed"]["ingest"]
    assert ingest["ingest_paragraphs_per_s"] > 0 and ingest["raw_paragraphs_per_s"] > 0
    assert res["speed"]["search"]["p95_ms"] > 0
    assert res["answers"]["answer_k"] >= 5 and res["answers"]["citation_precision"] > 0.5  # ask() defaults
    (row,) = res["scale"]
    assert "error" not in row, row
    assert row["size"] == 1000 and row["paragraphs"] == 1000 and row["hybrid"]["n"] > 0

    md = (out / "report.md").read_text()
    assert "## Retrieval quality" in md and "## Scale" in md
    for png in ("latency_vs_size.png", "quality_per_retriever.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_model_comparison_measures_both_offline_models_through_the_product(tmp_path):
    out = tmp_path / "bench"
    p = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "models", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    models = json.loads((out / "report.json").read_text())["models"]
    assert set(models) == {"minilm-int8", "e5-small-q4"}
    for name, row in models.items():
        assert "error" not in row, row
        assert row["dimension"] == 384 and row["paragraphs_per_s"] > 0 and row["load_s"] > 0
        assert 0 < row["quality"]["hybrid"]["mrr@10"] <= 1, name
    assert models["minilm-int8"]["model_id"] != models["e5-small-q4"]["model_id"]
    assert "## Embedding models" in (out / "report.md").read_text()


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_load_server_smoke_one_reader_beside_a_writer_on_one_chroma_run(tmp_path):
    """benchmarks.load_server end to end, one step: a real `chroma run`, one reader process searching and
    asking while a writer process ingests; every article written in time is the top hit of the reader's
    first search for it, and nothing fails."""
    out = tmp_path / "load.json"
    p = subprocess.run([sys.executable, "-m", "benchmarks.load_server", "--clients", "1", "--seconds", "5",
                        "--write-every", "1.5", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=170)
    assert p.returncode == 0, p.stderr[-2000:]
    row = json.loads(out.read_text())["clients"]["1"]
    assert row["errors"] == [], row["errors"]
    assert row["articles_written"] >= 1 and row["operations"] >= 1
    assert row["fresh_checked"] >= 1 and row["fresh_seen_first_search"] == row["fresh_checked"], row
    assert "| 1 |" in p.stdout  # the table


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_many_files_ingest_names_every_bad_file_resumes_and_re_embeds_nothing_the_second_time():
    """benchmarks.many_files at 120 files (the issue's run is 10,000, killed once): the real `assistant
    ingest` CLI, to the end, then again. Kills inside an ingest are tests/test_faults.py's."""
    p = subprocess.run([sys.executable, "-m", "benchmarks.many_files", "--files", "120", "--bad-every", "10",
                        "--kill-after", "0"], cwd=ROOT, capture_output=True, text=True, timeout=230)
    assert p.returncode == 0, p.stderr[-2000:]
    row = json.loads(p.stdout)
    assert row["bad_files"] == 12 and row["every_bad_file_named"] and not row["skipped_not_planted"]
    assert all(row["skip_reasons"].values()), row["skip_reasons"]  # each kind of bad file has its reason
    assert row["articles_indexed"] == 120
    full, again = row["runs"]
    assert full["rc"] == 1 and full["counts"]["added"] == 120  # 1: some files were skipped, as documented
    assert row["second_run_all_unchanged"] and again["counts"]["paragraphs indexed"] == 0
