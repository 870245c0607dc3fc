"""Newsdesk: cited answers and claim checks over news articles, offline by default."""
from .api import Assistant
from .config import Settings
from .models import Answer, Citation, ClaimCheck, IngestReport, Passage, SourceInfo, SourceVerdict

__all__ = ["Assistant", "Settings", "Answer", "Citation", "ClaimCheck", "IngestReport", "Passage",
           "SourceInfo", "SourceVerdict"]
