"""Newsdesk: cited answers and claim checks over news articles, offline by default."""
from __future__ import annotations

import importlib

# Exports load on first use, so `python -m assistant.config` (and the CLI's --help) do not import the
# whole pipeline first (which made runpy warn that assistant.config was already imported).
_EXPORTS = {"Assistant": "api", "Settings": "config", "Answer": "models", "Citation": "models",
            "ClaimCheck": "models", "IngestReport": "models", "Passage": "models", "SourceInfo": "models",
            "SourceVerdict": "models"}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
