"""The Python API: `Assistant` is the one object the CLI, the chat UI and developers use."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .config import Settings, configure_offline_runtime, get_settings
from .models import Answer, ClaimCheck, IngestReport, Passage, SourceInfo


class Assistant:
    """Opens (or builds on first use) the index and answers questions over it.

    >>> a = Assistant()                       # documents/ -> indexes/, built on first use
    >>> hits = a.search("What did Hegseth say about NATO?", k=5)
    """

    def __init__(self, documents_dir: str | Path | None = None, index_dir: str | Path | None = None,
                 settings: Settings | None = None, progress: bool = True, **overrides):
        configure_offline_runtime()
        base = settings or get_settings()
        upd = {k: v for k, v in dict(documents_dir=documents_dir, index_dir=index_dir, **overrides).items()
               if v is not None}
        self.settings = base.model_copy(update=upd) if upd else base
        raise NotImplementedError  # being written: index + retrieval

    # ---- ingestion
    def ingest(self, paths: Iterable[str | Path], progress: bool | None = None) -> IngestReport: ...
    def reindex(self, progress: bool | None = None) -> IngestReport: ...
    def sources(self) -> list[SourceInfo]: ...

    # ---- retrieval
    def search(self, query: str, k: int | None = None, outlet: str | list[str] | None = None,
               date_from: str | None = None, date_to: str | None = None,
               source: str | list[str] | None = None) -> list[Passage]: ...

    def paragraphs(self, source: str) -> list[Passage]:
        """Every stored paragraph of one article, in order (for context around a citation)."""

    # ---- answers (assistant/answer.py), chat (assistant/chat.py), claims (assistant/claims.py)
    def ask(self, question: str, **filters) -> Answer: ...
    def ask_stream(self, question: str, **filters): ...
    def chat(self, **filters): ...
    def check_claim(self, claim: str, **filters) -> ClaimCheck: ...
