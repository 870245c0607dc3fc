"""Two first ingests at once into one new index (issue 13, item 4): before the write lock, one process
could read the other's half-created database as corrupt and move it aside, losing articles."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    from assistant import Assistant
    a = Assistant(documents_dir=sys.argv[1], index_dir=sys.argv[2])
    print(len(a.sources()))
""")


def _folder(root: Path, name: str, n: int) -> Path:
    d = root / name
    d.mkdir()
    for i in range(n):
        (d / f"{name}_{i}.txt").write_text(
            f"Report {name} {i}\\n\\nThe {name} council approved budget number {i} on Tuesday, officials said.\\n"
            f"\\nWork on project {i} of the {name} district starts in the spring.\\n", encoding="utf-8")
    return d


@pytest.mark.e2e
@pytest.mark.parametrize("run", range(2))
def test_two_first_ingests_at_once_lose_nothing(tmp_path, run):
    a, b = _folder(tmp_path, "north", 6), _folder(tmp_path, "south", 6)
    index = tmp_path / "index"
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(d), str(index)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for d in (a, b)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    assert not list(tmp_path.glob("index/chroma.corrupt-*")), "a live index was moved aside"
    from assistant import Assistant

    assert len(Assistant(documents_dir=tmp_path / "none", index_dir=index).sources()) == 12
