"""Errors a user can act on: each message says what went wrong and how to fix it."""


class AssistantError(Exception):
    """Base class for every error Newsdesk raises on purpose."""


class IngestError(AssistantError):
    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexStateError(AssistantError):
    """The index is missing, corrupt or built with another embedding model."""


class QuestionError(AssistantError, ValueError):
    """A question or its options a caller must change: empty or oversized text, k out of range, an empty
    or unknown outlet, a malformed date. A ValueError too, for callers that catch bad arguments."""


class LLMError(AssistantError):
    """The configured LLM could not be reached or answered badly."""
