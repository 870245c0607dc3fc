"""Claim checking: per article, does it support, contradict or say nothing about a claim?

`checker.ClaimChecker` finds each article's evidence sentences; `stance` rules and `compare` (aligned parts read
with spaCy: amounts, direction, roles, places) judge them; an LLM judge is optional.
"""
from .checker import NOT_IN_CORPUS, ClaimChecker

__all__ = ["ClaimChecker", "NOT_IN_CORPUS"]
