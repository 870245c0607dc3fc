"""Shared fixtures. Tests run offline: no hub, no telemetry, tiktoken from LlamaIndex's bundled cache."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# Tests must not pick up a developer's .env or shell settings.
for _k in list(os.environ):
    if _k.startswith("ASSISTANT_"):
        del os.environ[_k]

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ROOT / "documents"


@pytest.fixture(scope="session")
def built_assistant(tmp_path_factory):
    """One Assistant over the bundled articles, in a throwaway index (built once per test session)."""
    from assistant import Assistant

    return Assistant(documents_dir=DOCUMENTS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def postgres():
    """One real PostgreSQL server per test module (binaries from the pgserver wheel, see
    tests/ui_helpers.postgres_server); each test creates a database of its own. Skipped, with the reason,
    only where that server cannot run."""
    from tests.ui_helpers import postgres_server, postgres_unavailable

    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    with postgres_server() as base:
        yield base
